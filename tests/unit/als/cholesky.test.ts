import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve, spdInverse } from '../../../src/lib/core/als/cholesky';
import { randomArray } from '../../helpers/random_csr';

/** B'B + n I for a random n x n B: symmetric positive definite. */
function spd(n: number, seed: number): Float64Array {
	const b = randomArray(n * n, seed, -1, 1);
	const a = new Float64Array(n * n);
	for (let i = 0; i < n; i++)
		for (let j = 0; j < n; j++) {
			for (let k = 0; k < n; k++) a[i * n + j] += b[k * n + i] * b[k * n + j];
			if (i === j) a[i * n + j] += 0.01 * n;
		}
	return a;
}

describe('Cholesky', () => {
	it.each([1, 3, 12, 64])("L L' = A, solves and inverts at n = %i", (n) => {
		const a = spd(n, n);
		const l = cholesky(a, n);
		for (let i = 0; i < n; i++)
			for (let j = 0; j < n; j++) {
				let s = 0;
				for (let k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
				expect(s).toBeCloseTo(a[i * n + j], 9);
			}
		const b = Array.from({ length: n }, (_, i) => i - n / 2);
		const x = choleskySolve(l, n, b);
		const inv = spdInverse(a, n);
		for (let i = 0; i < n; i++) {
			let ax = 0;
			for (let k = 0; k < n; k++) ax += a[i * n + k] * x[k];
			expect(ax).toBeCloseTo(b[i], 8);
			for (let j = 0; j < n; j++) {
				let s = 0;
				for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
				expect(s).toBeCloseTo(i === j ? 1 : 0, 8);
				// exactly symmetric
				expect(inv[i * n + j]).toBe(inv[j * n + i]);
			}
		}
	});

	it('refuses a matrix that is not positive definite', () => {
		const a = Float64Array.from([1, 2, 2, 1]);
		expect(() => spdInverse(a, 2)).toThrow(/not positive definite/);
	});
});
