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

export const DEFAULT_ALS_PARAMS: AlsParams = Object.freeze({
	factors: 64,
	iterations: 15,
	regularization: 0.05,
	alpha: 1,
	cgSteps: 3,
	convention: 'hkv',
	seed: 42
});

function bad(field: string, range: string, value: unknown): never {
	throw new MusicrecError(
		'als/bad-params',
		`ALS parameter '${field}' must be ${range} (got ${String(value)})`,
		{ field, range, value }
	);
}

function integerIn(field: string, v: unknown, min: number, max: number): void {
	if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
		bad(field, `an integer in [${min}, ${max}]`, v);
	}
}

/** Defaults filled in and every field checked; throws 'als/bad-params' naming the field. */
export function alsParams(partial: Partial<AlsParams> = {}): AlsParams {
	const p: AlsParams = { ...DEFAULT_ALS_PARAMS, ...partial };
	integerIn('factors', p.factors, 1, 1024);
	integerIn('iterations', p.iterations, 0, 10_000);
	integerIn('cgSteps', p.cgSteps, 1, 10_000);
	integerIn('seed', p.seed, 0, 0xffffffff);
	if (
		typeof p.regularization !== 'number' ||
		!(p.regularization >= 0) ||
		!isFinite(p.regularization)
	) {
		bad('regularization', 'a finite number >= 0', p.regularization);
	}
	if (typeof p.alpha !== 'number' || !(p.alpha > 0) || !isFinite(p.alpha)) {
		bad('alpha', 'a finite number > 0', p.alpha);
	}
	if (p.convention !== 'hkv' && p.convention !== 'implicit') {
		bad('convention', "'hkv' or 'implicit'", p.convention);
	}
	return Object.freeze(p);
}

/** Confidence of an observed entry of weight w: `1 + alpha w` (hkv) or `alpha w` (implicit). */
export function confidence(w: number, params: Pick<AlsParams, 'alpha' | 'convention'>): number {
	return params.convention === 'hkv' ? 1 + params.alpha * w : params.alpha * w;
}
