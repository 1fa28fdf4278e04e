/**
 * Hash of the characters `s[start, end)`: FNV-1a over pairs of UTF-16 code units
 * (`h = (h ^ (c0 | c1 << 16)) * 16777619`), then a murmur3-style finaliser so the low bits
 * the table uses depend on every character. Equal spans hash equal whatever string holds them.
 */
export function hashSpan(s: string, start: number, end: number): number {
	let h = 0x811c9dc5 ^ (end - start);
	let k = start;
	for (; k + 1 < end; k += 2) {
		h = Math.imul(h ^ (s.charCodeAt(k) | (s.charCodeAt(k + 1) << 16)), 0x01000193);
	}
	if (k < end) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	return h ^ (h >>> 16);
}

/**
 * String ids to dense indices 0, 1, 2, ... in order of first appearance, looked up by a span
 * of a larger string (a field inside a chunk of text) without cutting it out: an
 * open-addressing table (linear probing, load <= 1/2) of `index + 1` keyed by `hashSpan`.
 * Each id's UTF-16 code units are kept in one flat array (compared against the span without
 * touching string objects) with its full hash (to skip comparing colliding slots). The id
 * string itself is created only when asked for (`idAt`, `toArray`), unless it was given.
 */
export class IdInterner {
	/** Id strings by index; holes until asked for. */
	private readonly ids: (string | undefined)[] = [];
	private count = 0;
	/** Code units of id i are `units[offsets[i], offsets[i + 1])`. */
	private offsets = new Int32Array(64);
	private units = new Uint16Array(1024);
	/**
	 * Four int32 per slot, so one probe reads one cache line: full hash, index + 1 (0 = empty
	 * slot), offset of the id's code units, their count.
	 */
	private table = new Int32Array(4 * 128);
	private mask = 127;
	/** ANDed into every hash: tests force collisions with a narrow mask. */
	private readonly hashMask: number;

	/** `hashMask` narrows the hash (only for testing collision handling; default all bits). */
	constructor(hashMask = -1) {
		this.hashMask = hashMask;
	}

	get size(): number {
		return this.count;
	}

	/** Index of `s[start, end)`, or -1 when unknown. */
	findSpan(s: string, start: number, end: number): number {
		const h = hashSpan(s, start, end) & this.hashMask;
		const slot = this.probe(s, start, end, h);
		return slot < 0 ? -1 - slot : -1;
	}

	/** Index of `s[start, end)`, adding it when new. */
	internSpan(s: string, start: number, end: number): number {
		const h = hashSpan(s, start, end) & this.hashMask;
		const slot = this.probe(s, start, end, h);
		return slot < 0 ? -1 - slot : this.insert(s, start, end, h, slot, undefined);
	}

	/** Index of `id`, adding it when new. */
	intern(id: string): number {
		const h = hashSpan(id, 0, id.length) & this.hashMask;
		const slot = this.probe(id, 0, id.length, h);
		return slot < 0 ? -1 - slot : this.insert(id, 0, id.length, h, slot, id);
	}

	/** Index of `id`, or -1 when unknown. */
	find(id: string): number {
		return this.findSpan(id, 0, id.length);
	}

	/** The id at `index`, or undefined outside [0, size). */
	idAt(index: number): string | undefined {
		if (!(index >= 0 && index < this.count) || !Number.isInteger(index)) return undefined;
		let id = this.ids[index];
		if (id === undefined) {
			id = decode(this.units, this.offsets[index], this.offsets[index + 1]);
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

	/**
	 * The slot holding `s[start, end)` as `-1 - index` (negative), or the empty slot where it
	 * would go (non-negative).
	 */
	private probe(s: string, start: number, end: number, h: number): number {
		const table = this.table;
		const mask = this.mask;
		const len = end - start;
		for (let slot = h & mask; ; slot = (slot + 1) & mask) {
			const t = 4 * slot;
			const e = table[t + 1];
			if (e === 0) return slot;
			if (table[t] !== h || table[t + 3] !== len) continue;
			const o = table[t + 2];
			const units = this.units;
			let k = 0;
			while (k < len && units[o + k] === s.charCodeAt(start + k)) k++;
			if (k === len) return -e;
		}
	}

	private insert(
		s: string,
		start: number,
		end: number,
		h: number,
		slot: number,
		id: string | undefined
	): number {
		const index = this.count++;
		if (index + 1 === this.offsets.length) {
			this.offsets = grown(this.offsets, this.offsets.length * 2);
		}
		const o = this.offsets[index];
		const len = end - start;
		if (o + len > this.units.length) {
			this.units = grown(this.units, Math.max(this.units.length * 2, o + len));
		}
		const units = this.units;
		for (let k = 0; k < len; k++) units[o + k] = s.charCodeAt(start + k);
		this.offsets[index + 1] = o + len;
		this.ids[index] = id;
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
function grown<T extends Int32Array | Uint16Array>(a: T, n: number): T {
	const next = new (a.constructor as new (n: number) => T)(n);
	next.set(a);
	return next;
}

/** The string of code units `units[start, end)`, in pieces to stay under argument limits. */
function decode(units: Uint16Array, start: number, end: number): string {
	let out = '';
	for (let a = start; a < end; a += 4096) {
		const part = units.subarray(a, Math.min(end, a + 4096));
		out += String.fromCharCode.apply(null, part as unknown as number[]);
	}
	return out;
}
