/**
 * The files of a secure round (docs/federation.md), each a musicrec envelope:
 *
 *   client -> coordinator   'keys'            a fresh P-256 public key and a random client id
 *   coordinator -> client   'roster'          every key of the round, the threshold t, the cohort k
 *   client -> coordinator   'masked-update'   the masked statistics vector, and its shares sealed
 *                                             for each roster member
 *   coordinator -> client   'unmask-request'  who sent a masked update, who is missing, and the
 *                                             sealed shares each survivor must open
 *   client -> coordinator   'unmask-shares'   the opened shares
 *
 * Every file names its federation, round and the global's checksum; later ones also the
 * roster's (and the request's) checksum, so a file from another round is refused. Readers check
 * every field before using it.
 */
import { MusicrecError } from '../../errors';
import { decodeBase64, encodeBase64 } from '../../format/base64';
import {
	decodeEnvelope,
	encodeEnvelope,
	type EnvelopeKind,
	type EnvelopeLimits
} from '../../format/envelope';
import {
	badField,
	CHECKSUM_PATTERN,
	FEDERATION_ID_PATTERN,
	integerField,
	modeField,
	objectField,
	stringField,
	type FederationMode
} from '../fields';
import { envelopeChecksum, MAX_COHORT } from '../global_file';
import { CLIENT_ID_PATTERN } from '../update_file';
import { SEALED_SHARE_BYTES, SHARE_BYTES } from './shares';
import { PUBLIC_KEY_BYTES } from './webcrypto';

/** Federation, round and global every secure file belongs to. */
export interface RoundRef {
	readonly federationId: string;
	readonly round: number;
	/** Checksum of the round's global. */
	readonly baseChecksum: string;
}

export interface KeysMessage extends RoundRef {
	readonly clientId: string;
	/** Raw uncompressed P-256 public key. */
	readonly publicKey: Uint8Array;
}

export interface RosterMember {
	readonly clientId: string;
	readonly publicKey: Uint8Array;
}

export interface Roster extends RoundRef {
	/** t: shares needed to recover any secret; also the fewest unmask answers that finish the round. */
	readonly threshold: number;
	/** k: the fewest masked updates whose sum may be unmasked. */
	readonly minCohort: number;
	/** Sorted by client id, unique. */
	readonly members: readonly RosterMember[];
}

export interface MaskedUpdate extends RoundRef {
	readonly rosterChecksum: string;
	readonly clientId: string;
	readonly mode: FederationMode;
	/** The masked ring vector (2 words per element). */
	readonly masked: Uint32Array;
	/** Sealed share bundles, one per roster member in roster order (members x SEALED_SHARE_BYTES each). */
	readonly bundles: readonly Uint8Array[];
}

export interface UnmaskRequest extends RoundRef {
	readonly rosterChecksum: string;
	/** Clients whose masked update is in the sum (sorted). */
	readonly survivors: readonly string[];
	/** Roster members without a masked update: their pair masks are removed (sorted). */
	readonly dropped: readonly string[];
	/**
	 * For each survivor (survivors order), the sealed shares it must open, in the order of
	 * `requestedShares`.
	 */
	readonly forwarded: readonly Uint8Array[];
}

export interface UnmaskShares extends RoundRef {
	readonly rosterChecksum: string;
	readonly requestChecksum: string;
	readonly clientId: string;
	/** The opened shares, SHARE_BYTES each, in the order of `requestedShares`. */
	readonly shares: Uint8Array;
}

/** A decoded file together with its text's checksum (what later files refer to). */
export interface Checked<T> {
	readonly value: T;
	readonly checksum: string;
}

/** Text limits per kind (characters; a bound on bytes for these ASCII files). */
const SECURE_FILE_LIMITS: Readonly<Record<SecureKind, EnvelopeLimits>> = Object.freeze({
	keys: { maxBytes: 64 * 1024, maxElements: 0 },
	roster: { maxBytes: 4 * 1024 * 1024, maxElements: 0 },
	'masked-update': { maxBytes: 768 * 1024 * 1024, maxElements: 200_000_000 },
	'unmask-request': { maxBytes: 256 * 1024 * 1024, maxElements: 0 },
	'unmask-shares': { maxBytes: 64 * 1024 * 1024, maxElements: 0 }
});

type SecureKind = Extract<
	EnvelopeKind,
	'keys' | 'roster' | 'masked-update' | 'unmask-request' | 'unmask-shares'
>;

const WHAT: Readonly<Record<SecureKind, string>> = {
	keys: 'Public key file',
	roster: 'Roster',
	'masked-update': 'Masked update',
	'unmask-request': 'Unmask request',
	'unmask-shares': 'Unmask shares file'
};

/**
 * One sealed share per (survivor, secret) a survivor must open, in this order: for each
 * survivor u (sorted), u's self-mask share (secret pos(u)), then u's pair-seed share with each
 * dropped member d (secret pos(d), dropped sorted). Both sides compute it from the request.
 */
export function requestedShares(
	roster: Roster,
	survivors: readonly string[],
	dropped: readonly string[]
): { owner: string; secret: number; peer: string | null }[] {
	const position = new Map(roster.members.map((m, j) => [m.clientId, j]));
	const pos = (id: string): number => {
		const j = position.get(id);
		if (j === undefined) {
			throw new MusicrecError('federation/not-in-roster', `client ${id} is not in the roster`, {
				clientId: id
			});
		}
		return j;
	};
	const out: { owner: string; secret: number; peer: string | null }[] = [];
	for (const u of survivors) {
		out.push({ owner: u, secret: pos(u), peer: null });
		for (const d of dropped) out.push({ owner: u, secret: pos(d), peer: d });
	}
	return out;
}

function refMeta(r: RoundRef): Record<string, unknown> {
	return { federationId: r.federationId, round: r.round, baseChecksum: r.baseChecksum };
}

function readRef(what: string, meta: Record<string, unknown>): RoundRef {
	return {
		federationId: stringField(what, meta.federationId, 'meta.federationId', FEDERATION_ID_PATTERN),
		round: integerField(what, meta.round, 'meta.round'),
		baseChecksum: stringField(what, meta.baseChecksum, 'meta.baseChecksum', CHECKSUM_PATTERN)
	};
}

function checksumField(
	what: string,
	meta: Record<string, unknown>,
	name: 'rosterChecksum' | 'requestChecksum'
): string {
	return stringField(what, meta[name], `meta.${name}`, CHECKSUM_PATTERN);
}

function bytesField(what: string, v: unknown, field: string, length?: number): Uint8Array {
	if (typeof v !== 'string') badField(what, field, 'base64 text', v);
	let bytes: Uint8Array;
	try {
		bytes = decodeBase64(v);
	} catch {
		badField(what, field, 'base64 text', v);
	}
	if (length !== undefined && bytes.length !== length) {
		badField(what, field, `${length} bytes of base64`, `${bytes.length} bytes`);
	}
	return bytes;
}

function idList(what: string, v: unknown, field: string, max: number): string[] {
	if (!Array.isArray(v) || v.length > max)
		badField(what, field, `a list of at most ${max} client ids`, v);
	const out: string[] = [];
	v.forEach((id: unknown, k) => {
		const s = stringField(what, id, `${field}[${k}]`, CLIENT_ID_PATTERN);
		if (k > 0 && !(out[k - 1] < s)) badField(what, `${field}[${k}]`, 'sorted and unique', s);
		out.push(s);
	});
	return out;
}

function decode(kind: SecureKind, text: string): Record<string, unknown> & { tensors: unknown } {
	const env = decodeEnvelope(text, { kind, ...SECURE_FILE_LIMITS[kind] });
	const meta = objectField(WHAT[kind], env.meta, 'meta');
	if (kind !== 'masked-update' && Object.keys(env.tensors).length > 0) {
		badField(WHAT[kind], 'tensors', 'empty');
	}
	return { ...meta, tensors: env.tensors };
}

export function encodeKeysFile(m: KeysMessage, options: { createdAt?: string } = {}): string {
	return encodeEnvelope(
		'keys',
		{ ...refMeta(m), clientId: m.clientId, publicKey: encodeBase64(m.publicKey) },
		{},
		options
	);
}

export function decodeKeysFile(text: string): Checked<KeysMessage> {
	const what = WHAT.keys;
	const meta = decode('keys', text);
	return {
		value: {
			...readRef(what, meta),
			clientId: stringField(what, meta.clientId, 'meta.clientId', CLIENT_ID_PATTERN),
			publicKey: bytesField(what, meta.publicKey, 'meta.publicKey', PUBLIC_KEY_BYTES)
		},
		checksum: envelopeChecksum(text)
	};
}

export function encodeRoster(r: Roster, options: { createdAt?: string } = {}): string {
	return encodeEnvelope(
		'roster',
		{
			...refMeta(r),
			threshold: r.threshold,
			minCohort: r.minCohort,
			members: r.members.map((m) => ({
				clientId: m.clientId,
				publicKey: encodeBase64(m.publicKey)
			}))
		},
		{},
		options
	);
}

/**
 * The threshold of a roster of n: a majority, `floor(n / 2) + 1` (at least 2, since one share
 * would be the secret). Up to n - t clients may then vanish after the key phase.
 */
export function thresholdFor(n: number): number {
	return Math.max(2, Math.floor(n / 2) + 1);
}

export function decodeRoster(text: string): Checked<Roster> {
	const what = WHAT.roster;
	const meta = decode('roster', text);
	if (!Array.isArray(meta.members)) badField(what, 'meta.members', 'a list', meta.members);
	const members = meta.members.map((v: unknown, k: number) => {
		const o = objectField(what, v, `meta.members[${k}]`);
		return {
			clientId: stringField(what, o.clientId, `meta.members[${k}].clientId`, CLIENT_ID_PATTERN),
			publicKey: bytesField(what, o.publicKey, `meta.members[${k}].publicKey`, PUBLIC_KEY_BYTES)
		};
	});
	idList(
		what,
		members.map((m) => m.clientId),
		'meta.members',
		MAX_COHORT
	);
	const n = members.length;
	const minCohort = integerField(what, meta.minCohort, 'meta.minCohort', 2);
	if (n < minCohort)
		badField(what, 'meta.members', `at least meta.minCohort (${minCohort}) members`, n);
	const threshold = integerField(what, meta.threshold, 'meta.threshold', 2);
	if (threshold !== thresholdFor(n)) {
		badField(what, 'meta.threshold', `floor(members / 2) + 1 = ${thresholdFor(n)}`, threshold);
	}
	return {
		value: { ...readRef(what, meta), threshold, minCohort, members },
		checksum: envelopeChecksum(text)
	};
}

export function encodeMaskedUpdate(m: MaskedUpdate, options: { createdAt?: string } = {}): string {
	const length = m.masked.length / 2;
	return encodeEnvelope(
		'masked-update',
		{
			...refMeta(m),
			rosterChecksum: m.rosterChecksum,
			clientId: m.clientId,
			mode: m.mode,
			shares: m.bundles.map((b) => encodeBase64(b))
		},
		{
			masked: {
				array: new Int32Array(m.masked.buffer, m.masked.byteOffset, m.masked.length),
				shape: [length, 2]
			}
		},
		options
	);
}

/**
 * Read a masked update. `expected` (the roster's size and the vector length of the round)
 * is checked here so that nothing larger than the round needs is kept.
 */
export function decodeMaskedUpdate(
	text: string,
	expected: { members: number; length: number }
): Checked<MaskedUpdate> {
	const what = WHAT['masked-update'];
	const meta = decode('masked-update', text);
	const tensors = meta.tensors as Record<string, { array: unknown; shape: number[] } | undefined>;
	for (const name of Object.keys(tensors)) {
		if (name !== 'masked') badField(what, `tensors.${name}`, 'absent (only tensors.masked)');
	}
	const t = tensors.masked;
	if (!t || !(t.array instanceof Int32Array) || t.shape.length !== 2 || t.shape[1] !== 2) {
		throw new MusicrecError(
			'federation/bad-shape',
			`${what} tensors.masked must be int32 [length, 2]`,
			{
				field: 'tensors.masked'
			}
		);
	}
	if (t.shape[0] !== expected.length) {
		throw new MusicrecError(
			'federation/bad-shape',
			`${what} holds ${t.shape[0]} values, the round needs ${expected.length} (catalog and factors of the global)`,
			{ field: 'tensors.masked', length: t.shape[0], expected: expected.length }
		);
	}
	const shares = meta.shares;
	if (!Array.isArray(shares) || shares.length !== expected.members) {
		badField(
			what,
			'meta.shares',
			`a list of ${expected.members} sealed bundles (one per roster member)`,
			Array.isArray(shares) ? `${shares.length} bundles` : shares
		);
	}
	const bundles = shares.map((s: unknown, k: number) =>
		bytesField(what, s, `meta.shares[${k}]`, expected.members * SEALED_SHARE_BYTES)
	);
	const a = t.array;
	return {
		value: {
			...readRef(what, meta),
			rosterChecksum: checksumField(what, meta, 'rosterChecksum'),
			clientId: stringField(what, meta.clientId, 'meta.clientId', CLIENT_ID_PATTERN),
			mode: modeField(what, meta.mode, 'meta.mode'),
			masked: new Uint32Array(a.buffer, a.byteOffset, a.length),
			bundles
		},
		checksum: envelopeChecksum(text)
	};
}

export function encodeUnmaskRequest(
	r: UnmaskRequest,
	options: { createdAt?: string } = {}
): string {
	return encodeEnvelope(
		'unmask-request',
		{
			...refMeta(r),
			rosterChecksum: r.rosterChecksum,
			survivors: [...r.survivors],
			dropped: [...r.dropped],
			forwarded: r.forwarded.map((b) => encodeBase64(b))
		},
		{},
		options
	);
}

export function decodeUnmaskRequest(text: string): Checked<UnmaskRequest> {
	const what = WHAT['unmask-request'];
	const meta = decode('unmask-request', text);
	const survivors = idList(what, meta.survivors, 'meta.survivors', MAX_COHORT);
	const dropped = idList(what, meta.dropped, 'meta.dropped', MAX_COHORT);
	const overlap = survivors.find((id) => dropped.includes(id));
	if (overlap !== undefined)
		badField(what, 'meta.dropped', 'disjoint from meta.survivors', overlap);
	const per = survivors.length * (1 + dropped.length) * SEALED_SHARE_BYTES;
	if (!Array.isArray(meta.forwarded) || meta.forwarded.length !== survivors.length) {
		badField(
			what,
			'meta.forwarded',
			`one entry per survivor (${survivors.length})`,
			meta.forwarded
		);
	}
	const forwarded = meta.forwarded.map((v: unknown, k: number) =>
		bytesField(what, v, `meta.forwarded[${k}]`, per)
	);
	return {
		value: {
			...readRef(what, meta),
			rosterChecksum: checksumField(what, meta, 'rosterChecksum'),
			survivors,
			dropped,
			forwarded
		},
		checksum: envelopeChecksum(text)
	};
}

export function encodeUnmaskShares(r: UnmaskShares, options: { createdAt?: string } = {}): string {
	return encodeEnvelope(
		'unmask-shares',
		{
			...refMeta(r),
			rosterChecksum: r.rosterChecksum,
			requestChecksum: r.requestChecksum,
			clientId: r.clientId,
			shares: encodeBase64(r.shares)
		},
		{},
		options
	);
}

export function decodeUnmaskShares(text: string): Checked<UnmaskShares> {
	const what = WHAT['unmask-shares'];
	const meta = decode('unmask-shares', text);
	const shares = bytesField(what, meta.shares, 'meta.shares');
	if (shares.length % SHARE_BYTES !== 0) {
		badField(what, 'meta.shares', `a multiple of ${SHARE_BYTES} bytes`, `${shares.length} bytes`);
	}
	return {
		value: {
			...readRef(what, meta),
			rosterChecksum: checksumField(what, meta, 'rosterChecksum'),
			requestChecksum: checksumField(what, meta, 'requestChecksum'),
			clientId: stringField(what, meta.clientId, 'meta.clientId', CLIENT_ID_PATTERN),
			shares
		},
		checksum: envelopeChecksum(text)
	};
}

/** Check that a file belongs to `ref`'s round; throws the matching 'federation/wrong-*' error. */
export function checkRef(what: string, got: RoundRef, ref: RoundRef): void {
	if (got.federationId !== ref.federationId) {
		throw new MusicrecError(
			'federation/wrong-federation',
			`The ${what} belongs to federation '${got.federationId}', not '${ref.federationId}'`,
			{}
		);
	}
	if (got.round !== ref.round) {
		throw new MusicrecError(
			'federation/wrong-round',
			`The ${what} is for round ${got.round}, but the current round is ${ref.round}`,
			{}
		);
	}
	if (got.baseChecksum !== ref.baseChecksum) {
		throw new MusicrecError(
			'federation/wrong-base',
			`The ${what} was made for a different global (checksum ${got.baseChecksum.slice(0, 19)}..., current ${ref.baseChecksum.slice(0, 19)}...)`,
			{}
		);
	}
}
