import { describe, expect, it } from 'vitest';
import { nnz } from '../../../src/lib/core/data/csr';
import type { Csr } from '../../../src/lib/core/data/csr';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { isMusicrecError } from '../../../src/lib/core/errors';

function checkRowsDistinctSorted(m: Csr): void {
	for (let r = 0; r < m.rows; r++) {
		for (let k = m.indptr[r] + 1; k < m.indptr[r + 1]; k++) {
			if (!(m.indices[k] > m.indices[k - 1])) throw new Error(`row ${r} not strictly increasing`);
		}
	}
}

/** Share of all entries held by the `fraction` most popular columns. */
function topShare(m: Csr, fraction: number): number {
	const counts = new Int32Array(m.cols);
	for (let k = 0; k < nnz(m); k++) counts[m.indices[k]]++;
	const sorted = Array.from(counts).sort((a, b) => b - a);
	const top = sorted.slice(0, Math.max(1, Math.round(m.cols * fraction)));
	return top.reduce((a, b) => a + b, 0) / nnz(m);
}

describe('syntheticZipf', () => {
	const opts = { users: 1000, items: 2000, nnz: 30_000, seed: 42 };

	it('is deterministic for a seed and differs across seeds', () => {
		const a = syntheticZipf(opts);
		const b = syntheticZipf(opts);
		expect(Array.from(a.matrix.indptr)).toEqual(Array.from(b.matrix.indptr));
		expect(Array.from(a.matrix.indices)).toEqual(Array.from(b.matrix.indices));
		expect(Array.from(a.matrix.data)).toEqual(Array.from(b.matrix.data));
		const c = syntheticZipf({ ...opts, seed: 43 });
		expect(Array.from(c.matrix.indices)).not.toEqual(Array.from(a.matrix.indices));
	});

	it('has distinct pairs, every user active, nnz close to the target', () => {
		const s = syntheticZipf(opts);
		const m = s.matrix;
		expect(m.rows).toBe(1000);
		expect(m.cols).toBe(2000);
		expect(m.indices.length).toBe(nnz(m));
		expect(m.data.length).toBe(nnz(m));
		checkRowsDistinctSorted(m);
		for (let u = 0; u < m.rows; u++) expect(m.indptr[u + 1] - m.indptr[u]).toBeGreaterThan(0);
		expect(Math.abs(nnz(m) - opts.nnz) / opts.nnz).toBeLessThan(0.03);
		for (const w of m.data) {
			expect(Number.isInteger(w)).toBe(true);
			expect(w).toBeGreaterThanOrEqual(1);
		}
		expect(s.users.idAt(7)).toBe('u7');
		expect(s.items.indexOf('i456')).toBe(456);
		expect(s.items.size).toBe(2000);
	});

	it('is heavy-tailed on items and on users', () => {
		const m = syntheticZipf(opts).matrix;
		// Uniform popularity would give the top 1% about 1% of entries.
		expect(topShare(m, 0.01)).toBeGreaterThan(0.15);
		const degrees = Array.from({ length: m.rows }, (_, u) => m.indptr[u + 1] - m.indptr[u]);
		degrees.sort((a, b) => b - a);
		const top = degrees.slice(0, 10).reduce((a, b) => a + b, 0);
		expect(top / nnz(m)).toBeGreaterThan(0.05);
		expect(degrees[degrees.length - 1]).toBeLessThan(degrees[0] / 20);
	});

	it('flattens with exponent 0', () => {
		const flat = syntheticZipf({ ...opts, exponent: 0 }).matrix;
		expect(topShare(flat, 0.01)).toBeLessThan(0.05);
	});

	it('handles 50k users x 100k items x 3M pairs', () => {
		const s = syntheticZipf({ users: 50_000, items: 100_000, nnz: 3_000_000, seed: 1 });
		const got = nnz(s.matrix);
		expect(Math.abs(got - 3_000_000) / 3_000_000).toBeLessThan(0.03);
		checkRowsDistinctSorted(s.matrix);
	});

	it('rejects bad sizes', () => {
		let err: unknown;
		try {
			syntheticZipf({ users: 0, items: 10, nnz: 5, seed: 1 });
		} catch (e) {
			err = e;
		}
		expect(isMusicrecError(err, 'data/bad-options')).toBe(true);
	});
});
