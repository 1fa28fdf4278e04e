import { csrFromTriplets, type Csr } from '../../src/lib/core/data/csr';

/** Build a small CSR from per-row item lists (weight 1 unless `weights` gives one per entry). */
export function csrFromRows(rows: number[][], cols: number, weights?: number[][]): Csr {
	const r: number[] = [];
	const c: number[] = [];
	const v: number[] = [];
	rows.forEach((items, u) =>
		items.forEach((item, j) => {
			r.push(u);
			c.push(item);
			v.push(weights ? weights[u][j] : 1);
		})
	);
	return csrFromTriplets(
		rows.length,
		cols,
		Int32Array.from(r),
		Int32Array.from(c),
		Float32Array.from(v)
	).matrix;
}

/** Items of row `u`, as a plain array. */
export function rowItems(m: Csr, u: number): number[] {
	return Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
}
