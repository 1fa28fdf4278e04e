import { initFactors } from '../als/init';
import { alsParams, DEFAULT_ALS_PARAMS, type AlsParams } from '../als/params';
import { COUNT_WEIGHTINGS, KKBOX_WEIGHTINGS, type Weighting } from '../data/weights';
import { MusicrecError, isMusicrecError } from '../errors';
import { decodeEnvelope, encodeEnvelope, type EnvelopeLimits } from '../format/envelope';
import { checkScaleBits, DEFAULT_SCALE_BITS } from './secure/ring';
import {
	badField,
	CHECKSUM_PATTERN,
	FEDERATION_ID_PATTERN,
	integerField,
	modeField,
	objectField,
	stringField,
	type FederationMode
} from './fields';

const WHAT = 'Global file';

/** Default limits for global files: 512 MiB of text, 100 million values per tensor. */
const GLOBAL_FILE_LIMITS: EnvelopeLimits = Object.freeze({
	maxBytes: 512 * 1024 * 1024,
	maxElements: 100_000_000
});

/**
 * The shared model of one federation round (docs/federation.md): item factors Y over the
 * catalog, and what a client needs to compute an update against it. No user data.
 */
export interface GlobalModel {
	readonly federationId: string;
	readonly round: number;
	readonly mode: FederationMode;
	readonly params: AlsParams;
	/** Song ids; row i of `itemFactors` belongs to `catalog[i]`. */
	readonly catalog: readonly string[];
	/** Checksum of the global this one was aggregated from; null for round 0. */
	readonly previousChecksum: string | null;
	/** Y, [catalog.length, params.factors] row-major float32. */
	readonly itemFactors: Float32Array;
	/**
	 * How plays become weights w_ui (and so c_ui = confidence(w_ui)) on every client; absent =
	 * each client's dataset default (files written before the field existed).
	 */
	readonly weighting?: Weighting;
	/**
	 * Present in a secure federation: updates are masked and only their sum is unmasked
	 * (secure/ in this folder). Absent = plain updates the coordinator reads one by one.
	 */
	readonly secure?: SecureSettings;
}

/** What every client of a secure federation must follow (published in each global). */
export interface SecureSettings {
	/** k: the fewest clients whose sum may be unmasked; clients refuse smaller rounds. */
	readonly minCohort: number;
	/** s: statistics are encoded as round(v 2^s) in Z_{2^64} (see secure/ring.ts). */
	readonly scaleBits: number;
	/**
	 * Each client scales its statistics down to at most `clipPerUser x users` in L2 norm
	 * (`clipStatistics`) before masking; null = no clip.
	 */
	readonly clipPerUser: number | null;
}

/** A global's secure settings; throws 'federation/bad-input' for a plain federation. */
export function secureSettingsOf(global: { readonly model: GlobalModel }): SecureSettings {
	const s = global.model.secure;
	if (!s) {
		throw new MusicrecError(
			'federation/bad-input',
			'This federation does not use secure aggregation',
			{}
		);
	}
	return s;
}

/** Defaults of a new secure federation. */
export const DEFAULT_SECURE_SETTINGS: SecureSettings = Object.freeze({
	minCohort: 3,
	scaleBits: DEFAULT_SCALE_BITS,
	clipPerUser: null
});

/** The most clients one secure round may hold (its overflow bound and share sizes assume it). */
export const MAX_COHORT = 100;

/** A global with its file text and that text's checksum (what updates refer to). */
export interface PublishedGlobal {
	readonly model: GlobalModel;
	readonly text: string;
	/** `sha256:<hex>` of the envelope, as written in it. */
	readonly checksum: string;
}

/**
 * Round-0 global: item factors drawn as `initFactors(0, catalog, f, seed).itemFactors`
 * (uniform [0, 1) x 0.01 from the seeded stream), unless given.
 */
export function createInitialGlobal(options: {
	federationId: string;
	mode: FederationMode;
	params: Partial<AlsParams>;
	catalog: readonly string[];
	itemFactors?: Float32Array;
	weighting?: Weighting;
	secure?: SecureSettings;
}): GlobalModel {
	const params = alsParams(options.params);
	const f = params.factors;
	const n = options.catalog.length;
	const itemFactors = options.itemFactors?.slice() ?? initFactors(0, n, f, params.seed).itemFactors;
	const model: GlobalModel = {
		federationId: options.federationId,
		round: 0,
		mode: options.mode,
		params,
		catalog: [...options.catalog],
		previousChecksum: null,
		itemFactors,
		...(options.weighting === undefined ? {} : { weighting: options.weighting }),
		...(options.secure === undefined ? {} : { secure: { ...options.secure } })
	};
	checkGlobal(model);
	return model;
}

function checkGlobal(m: GlobalModel): void {
	const bad = (message: string, details: Record<string, unknown>): never => {
		throw new MusicrecError('federation/bad-input', message, details);
	};
	if (!FEDERATION_ID_PATTERN.test(m.federationId)) {
		bad(`federation id must match ${String(FEDERATION_ID_PATTERN)}`, {
			federationId: m.federationId
		});
	}
	if (new Set(m.catalog).size !== m.catalog.length) bad('catalog song ids must be unique', {});
	if (m.weighting !== undefined && !isWeighting(m.weighting)) {
		bad(`unknown weighting '${String(m.weighting)}'`, { weighting: m.weighting });
	}
	if (m.secure !== undefined) checkSecureSettings(m.secure, bad);
	if (m.itemFactors.length !== m.catalog.length * m.params.factors) {
		bad('item factors do not match catalog x factors', {
			length: m.itemFactors.length,
			catalog: m.catalog.length,
			factors: m.params.factors
		});
	}
	for (let k = 0; k < m.itemFactors.length; k++) {
		if (!Number.isFinite(m.itemFactors[k])) {
			throw new MusicrecError('federation/not-finite', `item factor ${k} is not finite`, {
				index: k
			});
		}
	}
}

function checkSecureSettings(
	v: SecureSettings,
	bad: (message: string, details: Record<string, unknown>) => never
): void {
	if (!Number.isInteger(v.minCohort) || v.minCohort < 2 || v.minCohort > MAX_COHORT) {
		bad(`the minimum cohort must be an integer from 2 to ${MAX_COHORT}`, {
			minCohort: v.minCohort
		});
	}
	checkScaleBits(v.scaleBits);
	if (v.clipPerUser !== null && !(Number.isFinite(v.clipPerUser) && v.clipPerUser > 0)) {
		bad('the clip bound must be a positive number or null', { clipPerUser: v.clipPerUser });
	}
}

/** Encode a global as a 'global' envelope and return it with its checksum. */
export function publishGlobal(
	model: GlobalModel,
	options: { createdAt?: string } = {}
): PublishedGlobal {
	checkGlobal(model);
	const meta = {
		federationId: model.federationId,
		round: model.round,
		mode: model.mode,
		params: { ...model.params },
		catalog: [...model.catalog],
		previousChecksum: model.previousChecksum,
		// Written only when set, so a global without it encodes exactly as before.
		...(model.weighting === undefined ? {} : { weighting: model.weighting }),
		...(model.secure === undefined ? {} : { secure: { ...model.secure } })
	};
	const text = encodeEnvelope(
		'global',
		meta,
		{
			itemFactors: { array: model.itemFactors, shape: [model.catalog.length, model.params.factors] }
		},
		options
	);
	return { model, text, checksum: envelopeChecksum(text) };
}

/**
 * The top-level `checksum` of an envelope text. encodeEnvelope writes it as the last member,
 * so it is read from the end of the text; other layouts fall back to a full parse.
 * Call only on text that decodeEnvelope accepted.
 */
export function envelopeChecksum(text: string): string {
	const tail = /,"checksum":"(sha256:[0-9a-f]{64})"\}\s*$/.exec(text.slice(-120));
	if (tail) return tail[1];
	const parsed = JSON.parse(text) as { checksum?: unknown };
	if (typeof parsed.checksum !== 'string') {
		throw new MusicrecError('file/bad-field', 'The file has no checksum', { field: 'checksum' });
	}
	return parsed.checksum;
}

function paramsField(v: unknown): AlsParams {
	const o = objectField(WHAT, v, 'meta.params');
	const picked: Record<string, unknown> = {};
	for (const key of Object.keys(DEFAULT_ALS_PARAMS)) {
		if (!(key in o)) badField(WHAT, `meta.params.${key}`, 'present');
		picked[key] = o[key];
	}
	try {
		return alsParams(picked as Partial<AlsParams>);
	} catch (e) {
		if (isMusicrecError(e, 'als/bad-params')) {
			const field = `meta.params.${String(e.details.field)}`;
			throw new MusicrecError('file/bad-field', `${WHAT} field ${field}: ${e.message}`, { field });
		}
		throw e;
	}
}

function isWeighting(v: unknown): v is Weighting {
	return (
		(KKBOX_WEIGHTINGS as readonly unknown[]).includes(v) ||
		(COUNT_WEIGHTINGS as readonly unknown[]).includes(v)
	);
}

function weightingField(v: unknown): Weighting | undefined {
	if (v === undefined) return undefined;
	if (!isWeighting(v)) {
		badField(
			WHAT,
			'meta.weighting',
			`one of ${[...KKBOX_WEIGHTINGS, ...COUNT_WEIGHTINGS].join(', ')}`,
			v
		);
	}
	return v;
}

function secureField(v: unknown): SecureSettings | undefined {
	if (v === undefined) return undefined;
	const o = objectField(WHAT, v, 'meta.secure');
	const minCohort = integerField(WHAT, o.minCohort, 'meta.secure.minCohort', 2);
	if (minCohort > MAX_COHORT) {
		badField(WHAT, 'meta.secure.minCohort', `an integer from 2 to ${MAX_COHORT}`, minCohort);
	}
	const scaleBits = integerField(WHAT, o.scaleBits, 'meta.secure.scaleBits');
	try {
		checkScaleBits(scaleBits);
	} catch (e) {
		if (isMusicrecError(e)) badField(WHAT, 'meta.secure.scaleBits', e.message, scaleBits);
		throw e;
	}
	const clip = o.clipPerUser;
	if (clip !== null && !(typeof clip === 'number' && Number.isFinite(clip) && clip > 0)) {
		badField(WHAT, 'meta.secure.clipPerUser', 'a positive number or null', clip);
	}
	return { minCohort, scaleBits, clipPerUser: clip };
}

function catalogField(v: unknown): string[] {
	if (!Array.isArray(v)) badField(WHAT, 'meta.catalog', 'a list of song ids', v);
	const seen = new Set<string>();
	for (let i = 0; i < v.length; i++) {
		const id: unknown = v[i];
		if (typeof id !== 'string' || id.length === 0) {
			badField(WHAT, `meta.catalog[${i}]`, 'a non-empty string', id);
		}
		if (seen.has(id)) badField(WHAT, `meta.catalog[${i}]`, 'unique', id);
		seen.add(id);
	}
	return v as string[];
}

/**
 * Read a global file: envelope checks (format, version, kind, sizes, checksum), then every
 * meta field, the itemFactors shape [catalog, factors] and finite values, each failure naming
 * its field.
 */
export function readGlobalFile(
	text: string,
	limits: Partial<EnvelopeLimits> = {}
): PublishedGlobal {
	const env = decodeEnvelope(text, { kind: 'global', ...GLOBAL_FILE_LIMITS, ...limits });
	const meta = objectField(WHAT, env.meta, 'meta');
	const federationId = stringField(
		WHAT,
		meta.federationId,
		'meta.federationId',
		FEDERATION_ID_PATTERN
	);
	const round = integerField(WHAT, meta.round, 'meta.round');
	const mode = modeField(WHAT, meta.mode, 'meta.mode');
	const params = paramsField(meta.params);
	const catalog = catalogField(meta.catalog);
	const weighting = weightingField(meta.weighting);
	const secure = secureField(meta.secure);
	let previousChecksum: string | null = null;
	if (meta.previousChecksum !== null) {
		previousChecksum = stringField(
			WHAT,
			meta.previousChecksum,
			'meta.previousChecksum',
			CHECKSUM_PATTERN
		);
	}
	if ((round === 0) !== (previousChecksum === null)) {
		badField(WHAT, 'meta.previousChecksum', 'null exactly in round 0', meta.previousChecksum);
	}
	const t = env.tensors.itemFactors;
	const f = params.factors;
	if (t === undefined) {
		throw new MusicrecError('file/bad-tensor', `${WHAT} has no tensors.itemFactors`, {
			field: 'tensors.itemFactors'
		});
	}
	if (
		!(t.array instanceof Float32Array) ||
		t.shape.length !== 2 ||
		t.shape[0] !== catalog.length ||
		t.shape[1] !== f
	) {
		throw new MusicrecError(
			'file/bad-tensor',
			`${WHAT} tensors.itemFactors must be float32 [${catalog.length}, ${f}] (meta.catalog length, meta.params.factors), got [${t.shape.join(', ')}]`,
			{ field: 'tensors.itemFactors', shape: t.shape }
		);
	}
	const model: GlobalModel = {
		federationId,
		round,
		mode,
		params,
		catalog,
		previousChecksum,
		itemFactors: t.array,
		...(weighting === undefined ? {} : { weighting }),
		...(secure === undefined ? {} : { secure })
	};
	checkGlobal(model);
	return { model, text, checksum: envelopeChecksum(text) };
}
