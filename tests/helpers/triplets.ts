import type { IngestResult } from '../../src/lib/core/data/ingest';

/** Triplets (user, item, weight) of a result, sorted, read back through the vocabularies. */
export function triplets(r: IngestResult): string[] {
	const m = r.interactions.matrix;
	const users = r.interactions.users.toArray();
	const items = r.interactions.items.toArray();
	const out: string[] = [];
	for (let u = 0; u < m.rows; u++) {
		for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
			out.push(`${users[u]}|${items[m.indices[k]]}|${m.data[k]}`);
		}
	}
	return out.sort();
}
