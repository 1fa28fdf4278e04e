/**
 * Base64 (RFC 4648, standard alphabet, padded) for binary tensor data in JSON files. Written
 * here because atob/btoa are not part of the core's platform-free runtime, and because the
 * decoder must report the decoded size before allocating (a hostile file may claim anything).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(bytes: Uint8Array): string {
	const parts: string[] = [];
	const CHUNK = 3 * 4096;
	for (let start = 0; start < bytes.length; start += CHUNK) {
		const end = Math.min(bytes.length, start + CHUNK);
		let s = '';
		let i = start;
		for (; i + 2 < end; i += 3) {
			const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
			s +=
				ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
		}
		if (i < end) {
			const n = (bytes[i] << 16) | (i + 1 < end ? bytes[i + 1] << 8 : 0);
			s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
			s += i + 1 < end ? ALPHABET[(n >> 6) & 63] + '=' : '==';
		}
		parts.push(s);
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
