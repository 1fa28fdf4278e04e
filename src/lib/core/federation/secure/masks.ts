/**
 * Masks: the AES-256-CTR keystream of a 32-byte seed read as ring elements (8 bytes each,
 * little-endian: low word, then high word), added to or subtracted from a ring vector modulo
 * 2^64. A uniformly random mask makes the masked vector uniform, whatever it hides.
 */
import { addWordsAt } from './ring';
import { keystream } from './webcrypto';

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function words(bytes: Uint8Array): Uint32Array {
	if (!littleEndian) {
		for (let i = 0; i < bytes.length; i += 4) {
			const a = bytes[i];
			const b = bytes[i + 1];
			bytes[i] = bytes[i + 3];
			bytes[i + 1] = bytes[i + 2];
			bytes[i + 2] = b;
			bytes[i + 3] = a;
		}
	}
	return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** `vector (+/-)= mask(seed)` over the whole ring vector (length in elements = vector.length / 2). */
export async function applyMask(
	vector: Uint32Array,
	seed: Uint8Array,
	sign: 1 | -1
): Promise<void> {
	await keystream(seed, 0, vector.length * 4, (offset, bytes) => {
		addWordsAt(vector, offset / 4, words(bytes), sign);
	});
}

/** The mask of `seed` for `length` ring elements, on its own (tests and the adversary). */
export async function maskOf(seed: Uint8Array, length: number): Promise<Uint32Array> {
	const v = new Uint32Array(2 * length);
	await applyMask(v, seed, 1);
	return v;
}
