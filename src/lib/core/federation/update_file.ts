import { MusicrecError } from '../errors';
import {
	decodeEnvelope,
	encodeEnvelope,
	type DecodedTensor,
	type EnvelopeLimits,
	type TensorInput
} from '../format/envelope';
import {
	badField,
	CHECKSUM_PATTERN,
	FEDERATION_ID_PATTERN,
	integerField,
	modeField,
	numberField,
	objectField,
	stringField,
	type FederationMode
} from './fields';
import { packedSize } from './packed_symmetric';

const WHAT = 'Update file';

/** Default limits for update files: 256 MiB of text, 50 million values per tensor. */
const UPDATE_FILE_LIMITS: EnvelopeLimits = Object.freeze({
	maxBytes: 256 * 1024 * 1024,
	maxElements: 50_000_000
});

/** Client ids: 16 lowercase hex digits. */
export const CLIENT_ID_PATTERN = /^[0-9a-f]{16}$/;

/** Aggregate counts a client reports; never per-user data. */
export interface UpdateCounts {
	/** Users with at least one catalog song. */
	readonly users: number;
	/** Interactions with catalog songs. */
	readonly interactions: number;
	/** Distinct catalog songs touched. */
	readonly touchedItems: number;
	/**
	 * exact mode: `C = sum_{u, i} c_ui` over the interactions with catalog songs, the bound of
	 * robust screening's energy check (robust.ts). Absent in compact updates and in files
	 * written before it was reported.
	 */
	readonly confidence?: number;
}

/**
 * exact mode (docs/federation.md): `G = sum_u x_u x_u'`, and for each touched catalog item i
 * (ascending indices) `A_i = sum_{u observed i} (c_ui - 1) x_u x_u'` (packed upper triangle)
 * and `b_i = sum_{u observed i} c_ui x_u`.
 */
export interface ExactPayload {
	readonly mode: 'exact';
	/** G, [f, f] row-major. */
	readonly gram: Float32Array;
	/** Catalog indices, strictly ascending. */
	readonly touched: Int32Array;
	/** A, [touched, f(f+1)/2]. */
	readonly itemGrams: Float32Array;
	/** b, [touched, f]. */
	readonly itemTargets: Float32Array;
}

/**
 * compact mode: G and `g_i = sum_{u observed i} ((c_ui - 1)(x_u.y_i) - c_ui) x_u` for every
 * catalog item (zero rows for untouched items).
 */
interface CompactPayload {
	readonly mode: 'compact';
	/** G, [f, f] row-major. */
	readonly gram: Float32Array;
	/** g, [catalog, f]. */
	readonly gradient: Float32Array;
}

export type UpdatePayload = ExactPayload | CompactPayload;

/**
 * Songs a client has that the catalog lacks, with the statistics of a touched item computed
 * from its users' factors: `A_j = sum_{u observed j} (c_uj - 1) x_u x_u'` (packed upper
 * triangle) and `b_j = sum_{u observed j} c_uj x_u`. Song ids only; never user ids.
 */
export interface SongProposals {
	/** Distinct song ids, none in the catalog. */
	readonly songIds: readonly string[];
	/** A, [songIds, f(f+1)/2]. */
	readonly itemGrams: Float32Array;
	/** b, [songIds, f]. */
	readonly itemTargets: Float32Array;
}

/** Longest song id a proposal may carry. */
const MAX_SONG_ID_LENGTH = 256;

/** One client's contribution to a round. Carries no user ids, user factors or rows. */
export interface ClientUpdate {
	readonly federationId: string;
	readonly round: number;
	/** Checksum of the global the update was computed against. */
	readonly baseChecksum: string;
	readonly clientId: string;
	readonly counts: UpdateCounts;
	/** f, the factor count (from G's shape). */
	readonly factors: number;
	readonly payload: UpdatePayload;
	/** New songs proposed for the catalog (absent when there are none). */
	readonly proposals?: SongProposals;
}

/** A fresh client id: 16 hex digits drawn from `random` (uniform in [0, 1)). */
export function randomClientId(random: () => number): string {
	let s = '';
	for (let k = 0; k < 16; k++) s += Math.floor(random() * 16).toString(16);
	if (!CLIENT_ID_PATTERN.test(s)) {
		throw new MusicrecError('federation/bad-input', 'random() must return numbers in [0, 1)', {});
	}
	return s;
}

/** Write an update as an 'update' envelope (tensors G, touched, A, b or G, g). */
export function encodeUpdateFile(
	update: ClientUpdate,
	options: { createdAt?: string } = {}
): string {
	const f = update.factors;
	const p = update.payload;
	const tensors: Record<string, TensorInput> = { G: { array: p.gram, shape: [f, f] } };
	if (p.mode === 'exact') {
		const t = p.touched.length;
		tensors.touched = { array: p.touched, shape: [t] };
		tensors.A = { array: p.itemGrams, shape: [t, packedSize(f)] };
		tensors.b = { array: p.itemTargets, shape: [t, f] };
	} else {
		tensors.g = { array: p.gradient, shape: [p.gradient.length / f, f] };
	}
	const meta: Record<string, unknown> = {
		federationId: update.federationId,
		round: update.round,
		baseChecksum: update.baseChecksum,
		clientId: update.clientId,
		counts: { ...update.counts },
		mode: p.mode
	};
	const q = update.proposals;
	if (q !== undefined && q.songIds.length > 0) {
		const n = q.songIds.length;
		meta.proposals = [...q.songIds];
		tensors.proposalA = { array: q.itemGrams, shape: [n, packedSize(f)] };
		tensors.proposalB = { array: q.itemTargets, shape: [n, f] };
	}
	return encodeEnvelope('update', meta, tensors, options);
}

function shapeError(message: string, field: string, details: Record<string, unknown> = {}): never {
	throw new MusicrecError('federation/bad-shape', `${WHAT} ${field}: ${message}`, {
		field,
		...details
	});
}

function tensor(
	tensors: Readonly<Record<string, DecodedTensor>>,
	name: string,
	dtype: 'float32' | 'int32',
	rank: number
): DecodedTensor {
	const t = tensors[name];
	const field = `tensors.${name}`;
	if (t === undefined) shapeError('is missing', field);
	const ok = dtype === 'float32' ? t.array instanceof Float32Array : t.array instanceof Int32Array;
	if (!ok) shapeError(`must be ${dtype}`, field);
	if (t.shape.length !== rank) {
		shapeError(`must have ${rank} dimension(s), has shape [${t.shape.join(', ')}]`, field, {
			shape: t.shape
		});
	}
	return t;
}

/** Throw 'federation/not-finite' naming the tensor, row and column of the first NaN/Infinity. */
function checkFinite(array: Float32Array, cols: number, field: string): void {
	for (let k = 0; k < array.length; k++) {
		if (!Number.isFinite(array[k])) {
			const row = Math.floor(k / cols);
			throw new MusicrecError(
				'federation/not-finite',
				`${WHAT} ${field} holds a value that is not finite (${array[k]}) at row ${row}, column ${k % cols}`,
				{ field, row, column: k % cols }
			);
		}
	}
}

/**
 * Read an update file and check it is self-consistent: envelope (format, version, kind, size,
 * checksum), meta fields ('file/bad-field'), the tensors of its mode with consistent shapes
 * (G square; A [touched, f(f+1)/2]; b [touched, f]; touched strictly ascending and >= 0; g
 * [n, f]) ('federation/bad-shape'), and finite values ('federation/not-finite'). Whether it
 * fits a given global (round, checksum, catalog size) is validate.ts's job.
 */
export function decodeUpdateFile(text: string, limits: Partial<EnvelopeLimits> = {}): ClientUpdate {
	const env = decodeEnvelope(text, { kind: 'update', ...UPDATE_FILE_LIMITS, ...limits });
	const meta = objectField(WHAT, env.meta, 'meta');
	const federationId = stringField(
		WHAT,
		meta.federationId,
		'meta.federationId',
		FEDERATION_ID_PATTERN
	);
	const round = integerField(WHAT, meta.round, 'meta.round');
	const baseChecksum = stringField(WHAT, meta.baseChecksum, 'meta.baseChecksum', CHECKSUM_PATTERN);
	const clientId = stringField(WHAT, meta.clientId, 'meta.clientId', CLIENT_ID_PATTERN);
	const c = objectField(WHAT, meta.counts, 'meta.counts');
	const counts: UpdateCounts = {
		users: integerField(WHAT, c.users, 'meta.counts.users'),
		interactions: integerField(WHAT, c.interactions, 'meta.counts.interactions'),
		touchedItems: integerField(WHAT, c.touchedItems, 'meta.counts.touchedItems'),
		...(c.confidence !== undefined
			? { confidence: numberField(WHAT, c.confidence, 'meta.counts.confidence') }
			: {})
	};
	const mode: FederationMode = modeField(WHAT, meta.mode, 'meta.mode');
	const hasProposals = meta.proposals !== undefined;
	const allowed = [
		...(mode === 'exact' ? ['G', 'touched', 'A', 'b'] : ['G', 'g']),
		...(hasProposals ? ['proposalA', 'proposalB'] : [])
	];
	for (const name of Object.keys(env.tensors)) {
		if (!allowed.includes(name)) {
			shapeError(
				`is not part of a ${mode} update (expected ${allowed.join(', ')})`,
				`tensors.${name}`
			);
		}
	}
	const g = tensor(env.tensors, 'G', 'float32', 2);
	const f = g.shape[0];
	if (f < 1 || g.shape[1] !== f)
		shapeError(`must be square [f, f], has [${g.shape.join(', ')}]`, 'tensors.G');
	const gram = g.array as Float32Array;
	checkFinite(gram, f, 'tensors.G');
	const proposals = hasProposals ? decodeProposals(meta.proposals, env.tensors, f) : undefined;
	const base = {
		federationId,
		round,
		baseChecksum,
		clientId,
		counts,
		factors: f,
		...(proposals ? { proposals } : {})
	};
	if (mode === 'compact') {
		const grad = tensor(env.tensors, 'g', 'float32', 2);
		if (grad.shape[1] !== f)
			shapeError(`must be [catalog, ${f}], has [${grad.shape.join(', ')}]`, 'tensors.g');
		const gradient = grad.array as Float32Array;
		checkFinite(gradient, f, 'tensors.g');
		return { ...base, payload: { mode, gram, gradient } };
	}
	const t = tensor(env.tensors, 'touched', 'int32', 1);
	const touched = t.array as Int32Array;
	for (let k = 0; k < touched.length; k++) {
		if (touched[k] < 0 || (k > 0 && touched[k] <= touched[k - 1])) {
			shapeError(
				`indices must be >= 0, unique and ascending (entry ${k} is ${touched[k]}${k > 0 ? ` after ${touched[k - 1]}` : ''})`,
				'tensors.touched',
				{ entry: k }
			);
		}
	}
	const n = touched.length;
	const a = tensor(env.tensors, 'A', 'float32', 2);
	const ps = packedSize(f);
	if (a.shape[0] !== n || a.shape[1] !== ps) {
		shapeError(
			`must be [${n}, ${ps}] (touched, f(f+1)/2), has [${a.shape.join(', ')}]`,
			'tensors.A'
		);
	}
	const b = tensor(env.tensors, 'b', 'float32', 2);
	if (b.shape[0] !== n || b.shape[1] !== f) {
		shapeError(`must be [${n}, ${f}] (touched, f), has [${b.shape.join(', ')}]`, 'tensors.b');
	}
	checkFinite(a.array as Float32Array, ps, 'tensors.A');
	checkFinite(b.array as Float32Array, f, 'tensors.b');
	if (counts.touchedItems !== n) {
		throw new MusicrecError(
			'file/bad-field',
			`${WHAT} field meta.counts.touchedItems must equal the length of tensors.touched (${n}), got ${counts.touchedItems}`,
			{ field: 'meta.counts.touchedItems' }
		);
	}
	return {
		...base,
		payload: {
			mode,
			gram,
			touched,
			itemGrams: a.array as Float32Array,
			itemTargets: b.array as Float32Array
		}
	};
}

/**
 * meta.proposals (a non-empty list of distinct non-empty song ids of at most
 * MAX_SONG_ID_LENGTH characters) with tensors proposalA [n, f(f+1)/2] and proposalB [n, f],
 * finite.
 */
function decodeProposals(
	v: unknown,
	tensors: Readonly<Record<string, DecodedTensor>>,
	f: number
): SongProposals {
	if (!Array.isArray(v) || v.length === 0) {
		badField(WHAT, 'meta.proposals', 'a non-empty list of song ids', v);
	}
	const seen = new Set<string>();
	v.forEach((id: unknown, k) => {
		if (typeof id !== 'string' || id.length === 0 || id.length > MAX_SONG_ID_LENGTH) {
			badField(
				WHAT,
				`meta.proposals[${k}]`,
				`a song id of 1 to ${MAX_SONG_ID_LENGTH} characters`,
				id
			);
		}
		if (seen.has(id)) badField(WHAT, `meta.proposals[${k}]`, 'unique', id);
		seen.add(id);
	});
	const n = v.length;
	const ps = packedSize(f);
	const a = tensor(tensors, 'proposalA', 'float32', 2);
	if (a.shape[0] !== n || a.shape[1] !== ps) {
		shapeError(
			`must be [${n}, ${ps}] (proposals, f(f+1)/2), has [${a.shape.join(', ')}]`,
			'tensors.proposalA'
		);
	}
	const b = tensor(tensors, 'proposalB', 'float32', 2);
	if (b.shape[0] !== n || b.shape[1] !== f) {
		shapeError(
			`must be [${n}, ${f}] (proposals, f), has [${b.shape.join(', ')}]`,
			'tensors.proposalB'
		);
	}
	checkFinite(a.array as Float32Array, ps, 'tensors.proposalA');
	checkFinite(b.array as Float32Array, f, 'tensors.proposalB');
	return {
		songIds: v as string[],
		itemGrams: a.array as Float32Array,
		itemTargets: b.array as Float32Array
	};
}

/** Floats the proposals of an update carry: `proposals (f(f+1)/2 + f)`. */
export function proposalFloats(f: number, proposals: number): number {
	return proposals * (packedSize(f) + f);
}

/** Floats an exact update carries: `f^2 + touched (f(f+1)/2 + f)`, plus `touched` int32 indices. */
export function exactPayloadFloats(f: number, touched: number): number {
	return f * f + touched * (packedSize(f) + f);
}
