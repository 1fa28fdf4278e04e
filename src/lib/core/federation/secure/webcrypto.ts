/**
 * The WebCrypto calls secure aggregation makes, typed here because the core compiles without
 * DOM types. `globalThis.crypto` is the same API in browsers, workers and Node 20. Nothing
 * cryptographic is implemented here: key agreement (ECDH P-256), key derivation (HKDF-SHA-256),
 * the mask generator (AES-256-CTR keystream) and share encryption (AES-256-GCM) are the
 * platform's.
 */
import { MusicrecError } from '../../errors';

type Key = object;
interface Subtle {
	generateKey(
		algorithm: { name: 'ECDH'; namedCurve: 'P-256' },
		extractable: boolean,
		usages: string[]
	): Promise<{ privateKey: Key; publicKey: Key }>;
	exportKey(format: 'raw' | 'pkcs8', key: Key): Promise<ArrayBuffer>;
	importKey(
		format: 'raw' | 'pkcs8',
		data: Uint8Array,
		algorithm: { name: string; namedCurve?: string; length?: number },
		extractable: boolean,
		usages: string[]
	): Promise<Key>;
	deriveBits(algorithm: Record<string, unknown>, key: Key, length: number): Promise<ArrayBuffer>;
	encrypt(algorithm: Record<string, unknown>, key: Key, data: Uint8Array): Promise<ArrayBuffer>;
	decrypt(algorithm: Record<string, unknown>, key: Key, data: Uint8Array): Promise<ArrayBuffer>;
	digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer>;
}
interface WebCrypto {
	readonly subtle: Subtle;
	getRandomValues<T extends Uint8Array>(array: T): T;
}

function webCrypto(): WebCrypto {
	const c = (globalThis as unknown as { crypto?: WebCrypto }).crypto;
	if (!c?.subtle) {
		throw new MusicrecError(
			'federation/no-crypto',
			'Secure aggregation needs the Web Cryptography API, which this context lacks (pages must be served over https or from localhost)',
			{}
		);
	}
	return c;
}

/** Length in bytes of an uncompressed P-256 public key (0x04 || X || Y). */
export const PUBLIC_KEY_BYTES = 65;
/** Bytes of every seed and symmetric key: 256 bits. */
export const SEED_BYTES = 32;
/** AES-GCM nonce and tag sizes. */
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** `n` bytes from the platform's cryptographic generator. */
export function randomBytes(n: number): Uint8Array {
	const out = new Uint8Array(n);
	// getRandomValues fills at most 65,536 bytes per call.
	for (let o = 0; o < n; o += 65_536) webCrypto().getRandomValues(out.subarray(o, o + 65_536));
	return out;
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
	return new Uint8Array(await webCrypto().subtle.digest('SHA-256', data));
}

export interface KeyPairBytes {
	/** PKCS #8 private key; stays in the browser that made it. */
	readonly privateKey: Uint8Array;
	/** Raw uncompressed public key, PUBLIC_KEY_BYTES long. */
	readonly publicKey: Uint8Array;
}

/** A fresh ECDH P-256 key pair. */
export async function generateKeyPair(): Promise<KeyPairBytes> {
	const s = webCrypto().subtle;
	const pair = await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
	return {
		privateKey: new Uint8Array(await s.exportKey('pkcs8', pair.privateKey)),
		publicKey: new Uint8Array(await s.exportKey('raw', pair.publicKey))
	};
}

/**
 * Import a peer's raw public key; WebCrypto checks the point is on the curve. Throws
 * 'federation/bad-key' otherwise.
 */
async function importPublicKey(raw: Uint8Array): Promise<Key> {
	if (raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 4) {
		throw new MusicrecError(
			'federation/bad-key',
			'A public key is not an uncompressed P-256 point',
			{}
		);
	}
	try {
		return await webCrypto().subtle.importKey(
			'raw',
			raw,
			{ name: 'ECDH', namedCurve: 'P-256' },
			true,
			[]
		);
	} catch (e) {
		throw new MusicrecError('federation/bad-key', 'A public key is not a valid P-256 point', {
			cause: String(e)
		});
	}
}

/** A private key's handle, imported once and reused for every peer. */
export async function importPrivateKey(pkcs8: Uint8Array): Promise<Key> {
	try {
		return await webCrypto().subtle.importKey(
			'pkcs8',
			pkcs8,
			{ name: 'ECDH', namedCurve: 'P-256' },
			false,
			['deriveBits']
		);
	} catch (e) {
		throw new MusicrecError('federation/bad-key', 'The stored private key cannot be read', {
			cause: String(e)
		});
	}
}

/** The ECDH shared secret (the x coordinate, 32 bytes) of our private key and a peer's public key. */
export async function sharedSecret(privateKey: Key, peerPublic: Uint8Array): Promise<Uint8Array> {
	const pub = await importPublicKey(peerPublic);
	const bits = await webCrypto().subtle.deriveBits(
		{ name: 'ECDH', public: pub },
		privateKey,
		8 * SEED_BYTES
	);
	return new Uint8Array(bits);
}

/** HKDF-SHA-256(ikm, salt, info) -> `length` bytes. */
export async function hkdf(
	ikm: Uint8Array,
	salt: Uint8Array,
	info: Uint8Array,
	length = SEED_BYTES
): Promise<Uint8Array> {
	const s = webCrypto().subtle;
	const key = await s.importKey('raw', ikm, { name: 'HKDF' }, false, ['deriveBits']);
	const bits = await s.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, 8 * length);
	return new Uint8Array(bits);
}

async function aesKey(
	raw: Uint8Array,
	name: 'AES-CTR' | 'AES-GCM',
	usages: string[]
): Promise<Key> {
	if (raw.length !== SEED_BYTES) throw new RangeError('AES-256 keys are 32 bytes');
	return webCrypto().subtle.importKey('raw', raw, { name, length: 256 }, false, usages);
}

/** Bytes of keystream generated per WebCrypto call (bounded memory for long masks). */
const KEYSTREAM_CHUNK = 1 << 22;

/**
 * The AES-256-CTR keystream of `seed`, from byte `start` (a multiple of 16) for `length` bytes,
 * delivered chunk by chunk to `sink(offset, bytes)`. The counter block is the 128-bit
 * big-endian block index, so any range of the stream can be produced on its own.
 */
export async function keystream(
	seed: Uint8Array,
	start: number,
	length: number,
	sink: (offset: number, bytes: Uint8Array) => void
): Promise<void> {
	if (start % 16 !== 0) throw new RangeError('keystream ranges start on a 16-byte block');
	const key = await aesKey(seed, 'AES-CTR', ['encrypt']);
	const zeros = new Uint8Array(Math.min(KEYSTREAM_CHUNK, length));
	for (let o = 0; o < length; o += KEYSTREAM_CHUNK) {
		const n = Math.min(KEYSTREAM_CHUNK, length - o);
		const block = (start + o) / 16;
		const counter = new Uint8Array(16);
		// Block indices stay below 2^53: write them big-endian into the last 8 bytes.
		const hi = Math.floor(block / 2 ** 32);
		const lo = block >>> 0;
		new DataView(counter.buffer).setUint32(8, hi);
		new DataView(counter.buffer).setUint32(12, lo);
		const out = await webCrypto().subtle.encrypt(
			{ name: 'AES-CTR', counter, length: 64 },
			key,
			n === zeros.length ? zeros : zeros.subarray(0, n)
		);
		sink(start + o, new Uint8Array(out));
	}
}

/** AES-256-GCM encryption; the result is ciphertext || 16-byte tag. */
export async function sealBytes(
	key: Uint8Array,
	nonce: Uint8Array,
	plaintext: Uint8Array,
	aad: Uint8Array
): Promise<Uint8Array> {
	const k = await aesKey(key, 'AES-GCM', ['encrypt']);
	return new Uint8Array(
		await webCrypto().subtle.encrypt(
			{ name: 'AES-GCM', iv: nonce, additionalData: aad },
			k,
			plaintext
		)
	);
}

/** AES-256-GCM decryption; throws 'federation/bad-share' when the tag does not verify. */
export async function openBytes(
	key: Uint8Array,
	nonce: Uint8Array,
	sealed: Uint8Array,
	aad: Uint8Array
): Promise<Uint8Array> {
	const k = await aesKey(key, 'AES-GCM', ['decrypt']);
	try {
		return new Uint8Array(
			await webCrypto().subtle.decrypt(
				{ name: 'AES-GCM', iv: nonce, additionalData: aad },
				k,
				sealed
			)
		);
	} catch {
		throw new MusicrecError(
			'federation/bad-share',
			"An encrypted share does not decrypt with this browser's key (it was altered, or is meant for another client)",
			{}
		);
	}
}
