import { IdInterner } from './id_interner';

/** Bidirectional map between external string ids (msno, song_id, ...) and dense indices. */
export class Vocabulary {
	private readonly interner: IdInterner;

	/** `hashMask` narrows the id hash (only for testing collision handling). */
	constructor(hashMask?: number) {
		this.interner = new IdInterner(hashMask);
	}

	static from(ids: Iterable<string>): Vocabulary {
		const v = new Vocabulary();
		for (const id of ids) v.add(id);
		return v;
	}

	get size(): number {
		return this.interner.size;
	}

	/** Index of `id`, adding it if new. */
	add(id: string): number {
		return this.interner.intern(id);
	}

	/**
	 * Index of the id whose UTF-8 bytes are `bytes[start, end)`, adding a copy of them if new:
	 * a field inside a chunk of file bytes is looked up without making a string.
	 */
	addBytes(bytes: Uint8Array, start: number, end: number): number {
		return this.interner.internBytes(bytes, start, end);
	}

	/** Whether the id at `index` has the UTF-8 bytes `bytes[start, end)`. */
	bytesEqual(index: number, bytes: Uint8Array, start: number, end: number): boolean {
		return this.interner.bytesEqual(index, bytes, start, end);
	}

	/** Index of `id`, or undefined when unknown. */
	indexOf(id: string): number | undefined {
		const i = this.interner.find(id);
		return i < 0 ? undefined : i;
	}

	idAt(index: number): string {
		const id = this.interner.idAt(index);
		if (id === undefined) throw new RangeError(`no id at index ${index}`);
		return id;
	}

	/** The ids in index order (a copy). */
	toArray(): string[] {
		return this.interner.toArray();
	}
}
