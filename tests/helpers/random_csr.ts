import { csrFromTriplets, type Csr } from '../../src/lib/core/data/csr';
import { Rng } from '../../src/lib/core/random';

/**
 * Seeded random weight matrix: each cell is observed with probability `density`, weight
 * uniform in [0.5, 3). Rows listed in `emptyRows` and columns in `emptyCols` stay empty.
 */
export function randomCsr(
	rows: number,
	cols: number,
	density: number,
	seed: number,
	emptyRows: number[] = [],
	emptyCols: number[] = []
): Csr {
	const rng = new Rng(seed);
	const r: number[] = [];
	const c: number[] = [];
	const w: number[] = [];
	for (let u = 0; u < rows; u++) {
		for (let i = 0; i < cols; i++) {
			if (rng.next() >= density || emptyRows.includes(u) || emptyCols.includes(i)) continue;
			r.push(u);
			c.push(i);
			w.push(0.5 + 2.5 * rng.next());
		}
	}
	return csrFromTriplets(rows, cols, Int32Array.from(r), Int32Array.from(c), Float32Array.from(w))
		.matrix;
}

/** Seeded array of uniform values in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
	const rng = new Rng(seed);
	const out = new Float32Array(n);
	for (let k = 0; k < n; k++) out[k] = lo + (hi - lo) * rng.next();
	return out;
}
