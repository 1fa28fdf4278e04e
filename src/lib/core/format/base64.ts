/**
 * Base64 (RFC 4648, standard alphabet, padded) for binary tensor data in JSON files. Written
 * here because atob/btoa are not part of the core's platform-free runtime, and because the
 * decoder must report the decoded size before allocating (a hostile file may claim anything).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** The alphabet's character codes, for writing base64 as bytes. */
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** Characters turned into a string per String.fromCharCode call (below engines' argument limits). */
const STRING_CHUNK = 8192;

export function encodeBase64(bytes: Uint8Array): string {
	// Write the characters' codes into a byte buffer, then make strings of 8,192 characters at a
	// time: no per-character string concatenation (which made big tensors slow to write).
	const length = Math.ceil(bytes.length / 3) * 4;
	const out = new Uint8Array(length);
	let o = 0;
	let i = 0;
	for (; i + 2 < bytes.length; i += 3) {
		const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
		out[o++] = CODES[n >> 18];
		out[o++] = CODES[(n >> 12) & 63];
		out[o++] = CODES[(n >> 6) & 63];
		out[o++] = CODES[n & 63];
	}
	if (i < bytes.length) {
		const n = (bytes[i] << 16) | (i + 1 < bytes.length ? bytes[i + 1] << 8 : 0);
		out[o++] = CODES[n >> 18];
		out[o++] = CODES[(n >> 12) & 63];
		out[o++] = i + 1 < bytes.length ? CODES[(n >> 6) & 63] : 61;
		out[o] = 61; // '='
	}
	const parts: string[] = [];
	for (let start = 0; start < length; start += STRING_CHUNK) {
		parts.push(
			String.fromCharCode.apply(
				null,
				out.subarray(start, Math.min(length, start + STRING_CHUNK)) as unknown as number[]
			)
		);
	}
	return parts.join('');
}

/** Number of bytes `text` decodes to, or undefined when it is not well-formed base64. */
export function decodedBase64Length(text: string): number | undefined {
	if (text.length % 4 !== 0) return undefined;
	let pad = 0;
	if (text.endsWith('==')) pad = 2;
	else if (text.endsWith('=')) pad = 1;
	return (text.length / 4) * 3 - pad;
}

/** Decode, throwing a RangeError that names the offending position on any bad character. */
export function decodeBase64(text: string): Uint8Array {
	const length = decodedBase64Length(text);
	if (length === undefined) throw new RangeError('base64 length is not a multiple of 4');
	const out = new Uint8Array(length);
	let o = 0;
	for (let i = 0; i < text.length; i += 4) {
		const last = i + 4 === text.length;
		let n = 0;
		for (let j = 0; j < 4; j++) {
			const code = text.charCodeAt(i + j);
			if (last && code === 61 /* = */ && j >= 2) {
				if (j === 2 && text.charCodeAt(i + 3) !== 61) {
					throw new RangeError(`base64: misplaced padding at ${i + j}`);
				}
				n <<= 6;
				continue;
			}
			const v = code < 128 ? DECODE[code] : -1;
			if (v < 0) throw new RangeError(`base64: invalid character at ${i + j}`);
			n = (n << 6) | v;
		}
		out[o++] = n >> 16;
		if (o < length) out[o++] = (n >> 8) & 255;
		if (o < length) out[o++] = n & 255;
	}
	return out;
}
