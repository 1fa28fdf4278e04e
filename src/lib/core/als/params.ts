import { MusicrecError } from '../errors';

/**
 * How observed weights `w` become confidences `c` (preference p = 1 for observed pairs,
 * c = 1 and p = 0 for the rest):
 * - `hkv` (Hu, Koren, Volinsky 2008): c = 1 + alpha * w, always >= 1.
 * - `implicit` (benfred/implicit): c = alpha * w, which may be below 1.
 */
export type ConfidenceConvention = 'hkv' | 'implicit';

export interface AlsParams {
	/** Latent dimension f. */
	readonly factors: number;
	/** Sweeps (a user step then an item step). */
	readonly iterations: number;
	/** lambda in `lambda (|X|^2 + |Y|^2)`. */
	readonly regularization: number;
	readonly alpha: number;
	/** Conjugate-gradient steps per row and half-sweep (warm-started). */
	readonly cgSteps: number;
	readonly convention: ConfidenceConvention;
	/** Seed of the factor initialisation. */
	readonly seed: number;
}

/** One numeric ALS parameter: what `alsParams` accepts, its default, and how forms show it. */
export interface NumberParamSpec {
	readonly integer: boolean;
	readonly default: number;
	readonly min: number;
	/** The minimum itself is refused (alpha > 0). */
	readonly minExclusive?: boolean;
	readonly max: number;
	/** Step of a form's number input ('any' for real numbers). */
	readonly step: number | 'any';
	readonly label: string;
	readonly help: string;
}

type NumericParam = Exclude<keyof AlsParams, 'convention'>;

/**
 * Every ALS parameter in one place: `alsParams` checks against it and fills its defaults, and
 * the forms (Models, federation coordinator, simulation) and the bench read their
 * bounds, labels and defaults from it. Contexts that start elsewhere say why (see
 * `APP_TRAINING_PARAMS`, `FEDERATION_PARAMS`).
 */
export const ALS_PARAM_SPEC: Readonly<Record<NumericParam, NumberParamSpec>> = Object.freeze({
	factors: {
		integer: true,
		default: 64,
		min: 1,
		max: 1024,
		step: 1,
		label: 'Factors',
		help: 'latent dimension f of every user and song vector'
	},
	iterations: {
		integer: true,
		default: 15,
		min: 0,
		max: 10_000,
		step: 1,
		label: 'Iterations',
		help: 'sweeps: all users solved, then all songs'
	},
	regularization: {
		integer: false,
		default: 0.05,
		min: 0,
		max: Number.MAX_VALUE,
		step: 'any',
		label: 'Regularization λ',
		help: 'λ in λ(|X|² + |Y|²)'
	},
	alpha: {
		integer: false,
		default: 1,
		min: 0,
		minExclusive: true,
		max: Number.MAX_VALUE,
		step: 'any',
		label: 'Alpha α',
		help: 'confidence per unit of weight'
	},
	cgSteps: {
		integer: true,
		default: 3,
		min: 1,
		max: 10_000,
		step: 1,
		label: 'CG steps',
		help: 'conjugate-gradient steps per row and half-sweep, warm-started'
	},
	seed: {
		integer: true,
		default: 42,
		min: 0,
		max: 0xffffffff,
		step: 1,
		label: 'Seed',
		help: 'seed of the initial factors'
	}
});

/** The confidence conventions with their form labels. */
export const CONVENTIONS: readonly {
	readonly value: ConfidenceConvention;
	readonly label: string;
}[] = [
	{ value: 'hkv', label: 'hkv: c = 1 + α·w' },
	{ value: 'implicit', label: 'implicit: c = α·w' }
];

export const DEFAULT_ALS_PARAMS: AlsParams = Object.freeze({
	factors: ALS_PARAM_SPEC.factors.default,
	iterations: ALS_PARAM_SPEC.iterations.default,
	regularization: ALS_PARAM_SPEC.regularization.default,
	alpha: ALS_PARAM_SPEC.alpha.default,
	cgSteps: ALS_PARAM_SPEC.cgSteps.default,
	convention: 'hkv',
	seed: ALS_PARAM_SPEC.seed.default
});

/**
 * Where the Models page starts: a first model in a few seconds on a laptop's CPU (the KKBox
 * demo in well under a second in Chromium), which the person can raise.
 */
export const APP_TRAINING_PARAMS: Partial<AlsParams> = Object.freeze({
	factors: 32,
	iterations: 10
});

/**
 * Where a new federation starts: a secure exact update is dense over the catalog, with
 * f(f+1)/2 + f numbers a song (f = 16: 9.4 MB per client on the KKBox demo; f = 64: 16x that).
 */
export const FEDERATION_PARAMS: Partial<AlsParams> = Object.freeze({ factors: 16 });

function bad(field: string, range: string, value: unknown): never {
	throw new MusicrecError(
		'als/bad-params',
		`ALS parameter '${field}' must be ${range} (got ${String(value)})`,
		{ field, range, value }
	);
}

/** The range of a parameter in words, as errors and form help say it. */
export function paramRange(name: NumericParam): string {
	const s = ALS_PARAM_SPEC[name];
	if (s.integer) return `an integer in [${s.min}, ${s.max}]`;
	return `a finite number ${s.minExclusive ? '>' : '>='} ${s.min}`;
}

function checkNumber(name: NumericParam, v: unknown): void {
	const s = ALS_PARAM_SPEC[name];
	const ok =
		typeof v === 'number' &&
		Number.isFinite(v) &&
		(s.integer ? Number.isInteger(v) : true) &&
		(s.minExclusive ? v > s.min : v >= s.min) &&
		v <= s.max;
	if (!ok) bad(name, paramRange(name), v);
}

/** Defaults filled in and every field checked; throws 'als/bad-params' naming the field. */
export function alsParams(partial: Partial<AlsParams> = {}): AlsParams {
	const p: AlsParams = { ...DEFAULT_ALS_PARAMS, ...partial };
	for (const name of Object.keys(ALS_PARAM_SPEC) as NumericParam[]) checkNumber(name, p[name]);
	if (!CONVENTIONS.some((c) => c.value === p.convention)) {
		bad('convention', "'hkv' or 'implicit'", p.convention);
	}
	return Object.freeze(p);
}

/** Confidence of an observed entry of weight w: `1 + alpha w` (hkv) or `alpha w` (implicit). */
export function confidence(w: number, params: Pick<AlsParams, 'alpha' | 'convention'>): number {
	return params.convention === 'hkv' ? 1 + params.alpha * w : params.alpha * w;
}
