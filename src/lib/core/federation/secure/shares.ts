/**
 * Threshold shares of a client's round secrets, and their encryption for the peers that hold
 * them. Secret sharing is the audited `shamir-secret-sharing` package (GF(2^8), byte-wise,
 * t-of-n: any t shares give the secret, t - 1 give nothing); encryption is AES-256-GCM.
 *
 * Secrets of client u in a roster of n members (sorted by client id), indexed by roster
 * position j: secret j is u's self-mask seed b_u when roster[j] = u, else the pair's mask seed
 * s_{u, roster[j]}. Each secret is split into n shares, share m for roster member m. The
 * bundle u sends member m is the n ciphertexts of its shares, in secret order, each
 * `AES-GCM(K_{u->m}, nonce = j, share, aad)`; the coordinator can only forward them.
 */
import { combine, split } from 'shamir-secret-sharing';
import { MusicrecError } from '../../errors';
import { utf8 } from '../../format/sha256';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, openBytes, sealBytes, SEED_BYTES } from './webcrypto';

/** A share: the secret's bytes evaluated at one point, plus that point (the last byte). */
export const SHARE_BYTES = SEED_BYTES + 1;
/** A sealed share: ciphertext plus the GCM tag. */
export const SEALED_SHARE_BYTES = SHARE_BYTES + GCM_TAG_BYTES;

/** Split each secret into `holders` shares, any `threshold` of which recover it. */
export async function splitSecrets(
	secrets: readonly Uint8Array[],
	holders: number,
	threshold: number
): Promise<Uint8Array[][]> {
	return Promise.all(secrets.map((s) => split(Uint8Array.from(s), holders, threshold)));
}

/**
 * Recover a secret from `threshold` or more distinct shares. Throws 'federation/too-few-shares'
 * with fewer. (Shares carry no integrity check: under the honest-but-curious model they are
 * what the protocol produced.)
 */
export async function combineShares(
	shares: readonly Uint8Array[],
	threshold: number,
	what: string
): Promise<Uint8Array> {
	const distinct = new Map<number, Uint8Array>();
	for (const s of shares) {
		if (s.length !== SHARE_BYTES) throw new RangeError('share of the wrong length');
		distinct.set(s[SHARE_BYTES - 1], s);
	}
	if (distinct.size < threshold) {
		throw new MusicrecError(
			'federation/too-few-shares',
			`Only ${distinct.size} share(s) of ${what}, ${threshold} are needed`,
			{ shares: distinct.size, threshold }
		);
	}
	return combine([...distinct.values()].slice(0, threshold).map((s) => Uint8Array.from(s)));
}

/** The GCM nonce of secret j: j as a 96-bit big-endian integer (unique per key). */
function nonceOf(j: number): Uint8Array {
	const n = new Uint8Array(GCM_NONCE_BYTES);
	new DataView(n.buffer).setUint32(GCM_NONCE_BYTES - 4, j);
	return n;
}

const aadOf = (from: string, to: string, j: number): Uint8Array =>
	utf8(`share\0${from}\0${to}\0${j}`);

/** Encrypt `shares[j]` (secret j's share for `to`) for j = 0..n-1, concatenated. */
export async function sealBundle(
	key: Uint8Array,
	from: string,
	to: string,
	shares: readonly Uint8Array[]
): Promise<Uint8Array> {
	const out = new Uint8Array(shares.length * SEALED_SHARE_BYTES);
	const sealed = await Promise.all(
		shares.map((s, j) => sealBytes(key, nonceOf(j), s, aadOf(from, to, j)))
	);
	sealed.forEach((c, j) => out.set(c, j * SEALED_SHARE_BYTES));
	return out;
}

/** Sealed share j of a bundle (a view). */
export function sealedShareAt(bundle: Uint8Array, j: number): Uint8Array {
	return bundle.subarray(j * SEALED_SHARE_BYTES, (j + 1) * SEALED_SHARE_BYTES);
}

/** Decrypt one sealed share that `from` sent `to` as secret j. */
export function openShare(
	key: Uint8Array,
	from: string,
	to: string,
	j: number,
	sealed: Uint8Array
): Promise<Uint8Array> {
	return openBytes(key, nonceOf(j), sealed, aadOf(from, to, j));
}
