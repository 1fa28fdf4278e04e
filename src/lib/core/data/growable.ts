/** Typed arrays a `Growable` can hold. */
export type GrowableKind = Int32Array | Float32Array | Float64Array | Int8Array;

interface TypedArrayConstructor<T> {
	new (length: number): T;
}

/**
 * An append-only typed array that doubles its capacity when full, so streaming code never
 * builds JS arrays of numbers or objects.
 */
export class Growable<T extends GrowableKind> {
	private readonly ctor: TypedArrayConstructor<T>;
	private buffer: T;
	private count = 0;

	constructor(ctor: TypedArrayConstructor<T>, capacity = 1024) {
		this.ctor = ctor;
		this.buffer = new ctor(Math.max(1, capacity));
	}

	get length(): number {
		return this.count;
	}

	push(value: number): void {
		if (this.count === this.buffer.length) this.grow();
		this.buffer[this.count++] = value;
	}

	/** The value at `index` (in [0, length)). */
	at(index: number): number {
		return this.buffer[index];
	}

	/** The filled part, sharing memory with this array (valid until the next push). */
	view(): T {
		return this.buffer.subarray(0, this.count) as T;
	}

	/** Drop the storage (the array becomes empty). */
	release(): void {
		this.buffer = new this.ctor(1);
		this.count = 0;
	}

	private grow(): void {
		const next = new this.ctor(this.buffer.length * 2);
		(next as Int32Array).set(this.buffer as Int32Array);
		this.buffer = next;
	}
}
