/**
 * Strings as bytes for id lookup: UTF-8, extended to lone surrogates (WTF-8), so any JS string
 * has exactly one byte form and comes back unchanged. For well-formed text the bytes are those
 * of UTF-8, so an id read from a file's bytes and the same id given as a string look up alike.
 */

/** Bytes `s` takes at most (3 per UTF-16 code unit). */
export function wtf8MaxBytes(s: string): number {
	return 3 * s.length;
}

/**
 * Write `s[from, to)` into `out` from `at` (room for 3 bytes per code unit); returns the end.
 * A surrogate pair cut by `from` or `to` is written as two lone surrogates.
 */
export function encodeWtf8(
	s: string,
	out: Uint8Array,
	at: number,
	from = 0,
	to = s.length
): number {
	let p = at;
	const n = to;
	for (let i = from; i < n; i++) {
		let c = s.charCodeAt(i);
		if (c < 0x80) {
			out[p++] = c;
			continue;
		}
		if (c < 0x800) {
			out[p++] = 0xc0 | (c >> 6);
			out[p++] = 0x80 | (c & 63);
			continue;
		}
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
			const d = s.charCodeAt(i + 1);
			if (d >= 0xdc00 && d < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
				i++;
				out[p++] = 0xf0 | (c >> 18);
				out[p++] = 0x80 | ((c >> 12) & 63);
				out[p++] = 0x80 | ((c >> 6) & 63);
				out[p++] = 0x80 | (c & 63);
				continue;
			}
		}
		// Three bytes: the rest of the basic plane, lone surrogates included.
		out[p++] = 0xe0 | (c >> 12);
		out[p++] = 0x80 | ((c >> 6) & 63);
		out[p++] = 0x80 | (c & 63);
	}
	return p;
}

/** The string of the bytes `b[start, end)` as written by `encodeWtf8` (or plain UTF-8). */
export function decodeWtf8(b: Uint8Array, start: number, end: number): string {
	const units: number[] = [];
	let out = '';
	let i = start;
	while (i < end) {
		const c = b[i];
		let u: number;
		if (c < 0x80) {
			u = c;
			i += 1;
		} else if (c < 0xe0) {
			u = ((c & 31) << 6) | (b[i + 1] & 63);
			i += 2;
		} else if (c < 0xf0) {
			u = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
			i += 3;
		} else {
			const cp =
				(((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63)) -
				0x10000;
			units.push(0xd800 + (cp >> 10));
			u = 0xdc00 + (cp & 1023);
			i += 4;
		}
		units.push(u);
		if (units.length >= 4096) {
			out += String.fromCharCode.apply(null, units);
			units.length = 0;
		}
	}
	return units.length > 0 ? out + String.fromCharCode.apply(null, units) : out;
}
