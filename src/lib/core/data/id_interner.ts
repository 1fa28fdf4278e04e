import { decodeWtf8, encodeWtf8, wtf8MaxBytes } from './wtf8';

/** Little-endian 32-bit reads of one byte array (DataView reads need no alignment). */
let viewedBytes: Uint8Array | undefined;
let viewOfBytes: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** A DataView over `b`, reused while the same array is passed (one chunk, many fields). */
function viewOf(b: Uint8Array): DataView<ArrayBufferLike> {
	if (b !== viewedBytes) {
		viewedBytes = b;
		viewOfBytes = new DataView(b.buffer, b.byteOffset, b.byteLength);
	}
	return viewOfBytes;
}

/**
 * Hash of the bytes `b[start, end)`: MurmurHash3 (x86, 32-bit) over little-endian words,
 * seeded with the length. Equal byte spans hash equal wherever they sit.
 */
export function hashBytes(b: Uint8Array, start: number, end: number): number {
	const v = viewOf(b);
	let h = end - start;
	let k = start;
	for (; k + 3 < end; k += 4) {
		let w = Math.imul(v.getInt32(k, true), 0xcc9e2d51);
		w = Math.imul((w << 15) | (w >>> 17), 0x1b873593);
		h ^= w;
		h = (h << 13) | (h >>> 19);
		h = (Math.imul(h, 5) + 0xe6546b64) | 0;
	}
	let w = 0;
	for (let s = 0; k < end; k++, s += 8) w |= b[k] << s;
	w = Math.imul(w, 0xcc9e2d51);
	h ^= Math.imul((w << 15) | (w >>> 17), 0x1b873593);
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	return h ^ (h >>> 16);
}

/**
 * String ids to dense indices 0, 1, 2, ... in order of first appearance, keyed by their bytes
 * (WTF-8, see wtf8.ts): a field inside a chunk of file bytes is looked up in place, without
 * making a string. An open-addressing table (linear probing, load <= 1/2) of `index + 1`
 * keyed by `hashBytes`; each id's bytes are kept in one flat array (compared against the span
 * four bytes at a time) with its full hash (to skip comparing colliding slots). The id string
 * is made only when asked for (`idAt`, `toArray`).
 */
export class IdInterner {
	/** Id strings by index; holes until asked for. */
	private readonly ids: (string | undefined)[] = [];
	private count = 0;
	/** Bytes of id i are `bytes[offsets[i], offsets[i + 1])`. */
	private offsets = new Int32Array(64);
	private bytes = new Uint8Array(1024);
	private bytesView = new DataView(this.bytes.buffer);
	/**
	 * Four int32 per slot, so one probe reads one cache line: full hash, index + 1 (0 = empty
	 * slot), offset of the id's bytes, their count.
	 */
	private table = new Int32Array(4 * 128);
	private mask = 127;
	/** ANDed into every hash: tests force collisions with a narrow mask. */
	private readonly hashMask: number;
	/** Where string ids are encoded for lookup. */
	private scratch = new Uint8Array(256);

	/** `hashMask` narrows the hash (only for testing collision handling; default all bits). */
	constructor(hashMask = -1) {
		this.hashMask = hashMask;
	}

	get size(): number {
		return this.count;
	}

	/** Index of the id whose bytes are `b[start, end)`, or -1 when unknown. */
	findBytes(b: Uint8Array, start: number, end: number): number {
		const h = hashBytes(b, start, end) & this.hashMask;
		const slot = this.probe(b, start, end, h);
		return slot < 0 ? -1 - slot : -1;
	}

	/** Index of the id whose bytes are `b[start, end)`, adding it when new. */
	internBytes(b: Uint8Array, start: number, end: number): number {
		const h = hashBytes(b, start, end) & this.hashMask;
		const slot = this.probe(b, start, end, h);
		return slot < 0 ? -1 - slot : this.insert(b, start, end, h, slot);
	}

	/** Whether the id at `index` has the bytes `b[start, end)` (false outside [0, size)). */
	bytesEqual(index: number, b: Uint8Array, start: number, end: number): boolean {
		if (!(index >= 0 && index < this.count)) return false;
		const o = this.offsets[index];
		return this.offsets[index + 1] - o === end - start && this.equalBytes(o, b, start, end - start);
	}

	/** Index of `id`, adding it when new. */
	intern(id: string): number {
		const end = this.encode(id);
		return this.internBytes(this.scratch, 0, end);
	}

	/** Index of `id`, or -1 when unknown. */
	find(id: string): number {
		const end = this.encode(id);
		return this.findBytes(this.scratch, 0, end);
	}

	/** The id at `index`, or undefined outside [0, size). */
	idAt(index: number): string | undefined {
		if (!(index >= 0 && index < this.count) || !Number.isInteger(index)) return undefined;
		let id = this.ids[index];
		if (id === undefined) {
			id = decodeWtf8(this.bytes, this.offsets[index], this.offsets[index + 1]);
			this.ids[index] = id;
		}
		return id;
	}

	/** The ids in index order (a copy). */
	toArray(): string[] {
		const out: string[] = new Array<string>(this.count);
		for (let i = 0; i < this.count; i++) out[i] = this.idAt(i)!;
		return out;
	}

	/** `id` into `scratch`; returns its byte count. */
	private encode(id: string): number {
		const need = wtf8MaxBytes(id);
		if (need > this.scratch.length)
			this.scratch = new Uint8Array(Math.max(need, 2 * this.scratch.length));
		return encodeWtf8(id, this.scratch, 0);
	}

	/**
	 * The slot holding `b[start, end)` as `-1 - index` (negative), or the empty slot where it
	 * would go (non-negative).
	 */
	private probe(b: Uint8Array, start: number, end: number, h: number): number {
		const table = this.table;
		const mask = this.mask;
		const len = end - start;
		for (let slot = h & mask; ; slot = (slot + 1) & mask) {
			const t = 4 * slot;
			const e = table[t + 1];
			if (e === 0) return slot;
			if (table[t] !== h || table[t + 3] !== len) continue;
			if (this.equalBytes(table[t + 2], b, start, len)) return -e;
		}
	}

	/** Whether the stored bytes from `o` equal `b[start, start + len)`. */
	private equalBytes(o: number, b: Uint8Array, start: number, len: number): boolean {
		const mine = this.bytesView;
		const theirs = viewOf(b);
		let k = 0;
		for (; k + 3 < len; k += 4) {
			if (mine.getInt32(o + k, true) !== theirs.getInt32(start + k, true)) return false;
		}
		const stored = this.bytes;
		for (; k < len; k++) if (stored[o + k] !== b[start + k]) return false;
		return true;
	}

	private insert(b: Uint8Array, start: number, end: number, h: number, slot: number): number {
		const index = this.count++;
		if (index + 1 === this.offsets.length) {
			this.offsets = grown(this.offsets, this.offsets.length * 2);
		}
		const o = this.offsets[index];
		const len = end - start;
		if (o + len > this.bytes.length) {
			this.bytes = grown(this.bytes, Math.max(this.bytes.length * 2, o + len));
			this.bytesView = new DataView(this.bytes.buffer);
		}
		this.bytes.set(b.subarray(start, end), o);
		this.offsets[index + 1] = o + len;
		const t = 4 * slot;
		this.table[t] = h;
		this.table[t + 1] = index + 1;
		this.table[t + 2] = o;
		this.table[t + 3] = len;
		if (2 * this.count > this.mask) this.rehash();
		return index;
	}

	/** Double the table and re-place every entry by its stored hash. */
	private rehash(): void {
		const old = this.table;
		const size = (this.mask + 1) * 2;
		const mask = size - 1;
		const table = new Int32Array(4 * size);
		for (let t = 0; t < old.length; t += 4) {
			if (old[t + 1] === 0) continue;
			let slot = old[t] & mask;
			while (table[4 * slot + 1] !== 0) slot = (slot + 1) & mask;
			const u = 4 * slot;
			table[u] = old[t];
			table[u + 1] = old[t + 1];
			table[u + 2] = old[t + 2];
			table[u + 3] = old[t + 3];
		}
		this.table = table;
		this.mask = mask;
	}
}

/** A copy of `a` with length `n >= a.length`. */
function grown<T extends Int32Array | Uint8Array>(a: T, n: number): T {
	const next = new (a.constructor as new (n: number) => T)(n);
	next.set(a);
	return next;
}
