/**
 * What two clients of a secure round derive from one ECDH agreement (Bonawitz et al. 2017,
 * section 4): with `k = ECDH(sk_u, pk_v) = ECDH(sk_v, pk_u)` and a salt that binds the round,
 * - the pair's mask seed `s_uv = HKDF(k, salt, "mask" | min(u, v) | max(u, v))`, the same for
 *   both, expanded by AES-256-CTR into the pairwise mask that u adds and v subtracts;
 * - one share key per direction, `K_{u->v} = HKDF(k, salt, "share" | u | v)`, the AES-256-GCM key
 *   of the shares u sends v through the coordinator (so no key ever encrypts under the same
 *   nonce in both directions).
 * HKDF outputs for different labels are independent, so revealing a mask seed to the
 * coordinator (when one of the pair drops out) tells it nothing about the share keys.
 */
import { utf8 } from '../../format/sha256';
import { hkdf, sha256, sharedSecret } from './webcrypto';

const PROTOCOL = 'musicrec secure aggregation v1';

/** The round a secure exchange belongs to; every derived key is bound to it. */
export interface RoundContext {
	readonly federationId: string;
	readonly round: number;
	/** Checksum of the round's global. */
	readonly baseChecksum: string;
}

/** `SHA-256(PROTOCOL \0 federation \0 round \0 global checksum)`: the HKDF salt of a round. */
export async function roundSalt(ctx: RoundContext): Promise<Uint8Array> {
	return sha256(utf8(`${PROTOCOL}\0${ctx.federationId}\0${ctx.round}\0${ctx.baseChecksum}`));
}

/** Keys one client holds towards one peer (the peer may be itself: its self-share key). */
export interface PairKeys {
	/** s_uv, the same for u and v. */
	readonly maskSeed: Uint8Array;
	/** K_{self->peer}: encrypts the shares this client sends the peer. */
	readonly sendKey: Uint8Array;
	/** K_{peer->self}: decrypts the shares the peer sent this client. */
	readonly receiveKey: Uint8Array;
}

/** Derive the pair keys of `self` towards `peer` from self's private key and peer's public key. */
export async function pairKeys(
	privateKey: object,
	self: string,
	peer: string,
	peerPublicKey: Uint8Array,
	salt: Uint8Array
): Promise<PairKeys> {
	const k = await sharedSecret(privateKey, peerPublicKey);
	const [a, b] = self < peer ? [self, peer] : [peer, self];
	const [maskSeed, sendKey, receiveKey] = await Promise.all([
		hkdf(k, salt, utf8(`mask\0${a}\0${b}`)),
		hkdf(k, salt, utf8(`share\0${self}\0${peer}`)),
		hkdf(k, salt, utf8(`share\0${peer}\0${self}`))
	]);
	return { maskSeed, sendKey, receiveKey };
}

/** +1 when u adds the pair's mask (u sorts before v), -1 when it subtracts it. */
export function maskSign(u: string, v: string): 1 | -1 {
	return u < v ? 1 : -1;
}
