/**
 * SHA-256 (FIPS 180-4) in plain TypeScript: synchronous, and the same in Node, workers and
 * pages, so a file's checksum never depends on which platform wrote it.
 */
const K = new Uint32Array([
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]);

/** Bytes of text hashed per update by `updateText`. */
const TEXT_CHUNK = 1 << 16;

export class Sha256 {
	private readonly h = new Uint32Array([
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	]);
	private readonly block = new Uint8Array(64);
	private readonly w = new Int32Array(64);
	private textBuffer: Uint8Array | undefined;
	private blockLength = 0;
	private totalBytes = 0;
	private finished = false;

	update(bytes: Uint8Array): this {
		if (this.finished) throw new Error('Sha256: update after digest');
		let k = 0;
		this.totalBytes += bytes.length;
		while (k < bytes.length) {
			if (this.blockLength === 0 && bytes.length - k >= 64) {
				// Whole blocks straight from the input, without copying.
				this.compress(bytes, k);
				k += 64;
				continue;
			}
			const take = Math.min(64 - this.blockLength, bytes.length - k);
			this.block.set(bytes.subarray(k, k + take), this.blockLength);
			this.blockLength += take;
			k += take;
			if (this.blockLength === 64) {
				this.compress(this.block, 0);
				this.blockLength = 0;
			}
		}
		return this;
	}

	/**
	 * Hash of a string's UTF-8 bytes, encoded into a reused buffer as it goes (no UTF-8 copy of
	 * the whole text). Lone surrogates become U+FFFD, as in `utf8`.
	 */
	updateText(text: string): this {
		const buffer = (this.textBuffer ??= new Uint8Array(TEXT_CHUNK));
		for (let i = 0; i < text.length;) {
			const { next, written } = encodeUtf8Into(text, i, buffer);
			this.update(buffer.subarray(0, written));
			i = next;
		}
		return this;
	}

	digest(): Uint8Array {
		if (this.finished) throw new Error('Sha256: digest twice');
		const bits = this.totalBytes * 8;
		this.block[this.blockLength++] = 0x80;
		if (this.blockLength > 56) {
			this.block.fill(0, this.blockLength);
			this.compress(this.block, 0);
			this.blockLength = 0;
		}
		this.block.fill(0, this.blockLength, 56);
		// 64-bit big-endian length; lengths below 2^53 bits are exact in a double.
		const high = Math.floor(bits / 0x100000000);
		const view = new DataView(this.block.buffer);
		view.setUint32(56, high);
		view.setUint32(60, bits >>> 0);
		this.compress(this.block, 0);
		this.finished = true;
		const out = new Uint8Array(32);
		const outView = new DataView(out.buffer);
		for (let i = 0; i < 8; i++) outView.setUint32(i * 4, this.h[i]);
		return out;
	}

	hex(): string {
		return Array.from(this.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
	}

	/** One 64-byte block `b[o, o + 64)`. */
	private compress(b: Uint8Array, o: number): void {
		const w = this.w;
		for (let i = 0; i < 16; i++) {
			const j = o + i * 4;
			w[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
		}
		for (let i = 16; i < 64; i++) {
			const x = w[i - 15];
			const y = w[i - 2];
			const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
			const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
			w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
		}
		const H = this.h;
		let a = H[0] | 0;
		let bb = H[1] | 0;
		let c = H[2] | 0;
		let d = H[3] | 0;
		let e = H[4] | 0;
		let f = H[5] | 0;
		let g = H[6] | 0;
		let h = H[7] | 0;
		for (let i = 0; i < 64; i++) {
			const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
			const ch = (e & f) ^ (~e & g);
			const t1 = (h + S1 + ch + K[i] + w[i]) | 0;
			const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
			const maj = (a & bb) ^ (a & c) ^ (bb & c);
			const t2 = (S0 + maj) | 0;
			h = g;
			g = f;
			f = e;
			e = (d + t1) | 0;
			d = c;
			c = bb;
			bb = a;
			a = (t1 + t2) | 0;
		}
		H[0] += a;
		H[1] += bb;
		H[2] += c;
		H[3] += d;
		H[4] += e;
		H[5] += f;
		H[6] += g;
		H[7] += h;
	}
}

export function sha256Hex(data: Uint8Array | string): string {
	const h = new Sha256();
	return (typeof data === 'string' ? h.updateText(data) : h.update(data)).hex();
}

/**
 * Encode `text` from position `from` into `out` as UTF-8 until `out` has less than 4 bytes of
 * room or the text ends; returns the next position and the bytes written. Lone surrogates
 * become U+FFFD. (TextEncoder is absent from the core's ES2022 lib.)
 */
function encodeUtf8Into(
	text: string,
	from: number,
	out: Uint8Array
): { next: number; written: number } {
	const limit = out.length - 4;
	let n = 0;
	let i = from;
	for (; i < text.length && n <= limit; i++) {
		let c = text.charCodeAt(i);
		if (c < 0x80) {
			out[n++] = c;
			continue;
		}
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
			const d = text.charCodeAt(i + 1);
			if (d >= 0xdc00 && d < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
				i++;
			}
		}
		if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate
		if (c < 0x800) {
			out[n++] = 0xc0 | (c >> 6);
			out[n++] = 0x80 | (c & 63);
		} else if (c < 0x10000) {
			out[n++] = 0xe0 | (c >> 12);
			out[n++] = 0x80 | ((c >> 6) & 63);
			out[n++] = 0x80 | (c & 63);
		} else {
			out[n++] = 0xf0 | (c >> 18);
			out[n++] = 0x80 | ((c >> 12) & 63);
			out[n++] = 0x80 | ((c >> 6) & 63);
			out[n++] = 0x80 | (c & 63);
		}
	}
	return { next: i, written: n };
}

/** UTF-8 encoding without TextEncoder (absent from the core's ES2022 lib). */
export function utf8(text: string): Uint8Array {
	const out = new Uint8Array(text.length * 3 + 4);
	return out.slice(0, encodeUtf8Into(text, 0, out).written);
}
