/** Bidirectional map between external string ids (msno, song_id, ...) and dense indices. */
export class Vocabulary {
	private readonly toIndex = new Map<string, number>();
	private readonly ids: string[] = [];

	static from(ids: Iterable<string>): Vocabulary {
		const v = new Vocabulary();
		for (const id of ids) v.add(id);
		return v;
	}

	get size(): number {
		return this.ids.length;
	}

	/** Index of `id`, adding it if new. */
	add(id: string): number {
		let i = this.toIndex.get(id);
		if (i === undefined) {
			i = this.ids.length;
			this.ids.push(id);
			this.toIndex.set(id, i);
		}
		return i;
	}

	/** Index of `id`, or undefined when unknown. */
	indexOf(id: string): number | undefined {
		return this.toIndex.get(id);
	}

	idAt(index: number): string {
		const id = this.ids[index];
		if (id === undefined) throw new RangeError(`no id at index ${index}`);
		return id;
	}

	/** The ids in index order (a copy). */
	toArray(): string[] {
		return this.ids.slice();
	}
}
