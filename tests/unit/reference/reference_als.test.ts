// The float64 reference the ALS and federation tests compare with, checked against hand
// computations and closed forms so that its own errors cannot hide behind agreement.
import { describe, expect, it } from 'vitest';
import type { Csr } from '../../../src/lib/core/data/csr';
import {
	denseCP,
	denseLoss,
	denseSolveRows,
	exactHalfStep,
	maxAbsDiff,
	referenceAls,
	referenceCholesky,
	referenceCholeskySolve,
	referenceTranspose,
	sparseLoss
} from '../../helpers/reference_als';
import { randomArray, randomCsr } from '../../helpers/random_csr';

/** A CSR matrix from dense rows, zero meaning no entry. */
function csr(rows: number[][]): Csr {
	const indptr = [0];
	const indices: number[] = [];
	const data: number[] = [];
	for (const row of rows) {
		row.forEach((w, j) => {
			if (w !== 0) {
				indices.push(j);
				data.push(w);
			}
		});
		indptr.push(indices.length);
	}
	return {
		rows: rows.length,
		cols: rows[0].length,
		indptr: Int32Array.from(indptr),
		indices: Int32Array.from(indices),
		data: Float32Array.from(data)
	};
}

describe('reference Cholesky', () => {
	// A = L L' with L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]], worked by hand:
	// L11 = sqrt(4) = 2, L21 = 12 / 2 = 6, L31 = -16 / 2 = -8, L22 = sqrt(37 - 36) = 1,
	// L32 = (-43 - (-8)(6)) / 1 = 5, L33 = sqrt(98 - 64 - 25) = 3.
	const a = [4, 12, -16, 12, 37, -43, -16, -43, 98];

	it('factors a 3 x 3 matrix as computed by hand', () => {
		expect(Array.from(referenceCholesky(a, 3))).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
	});

	it('solves A x = b: x = (1, -2, 3) from b = A x = (-68, -191, 364)', () => {
		const x = referenceCholeskySolve(referenceCholesky(a, 3), 3, [-68, -191, 364]);
		expect(maxAbsDiff(x, [1, -2, 3])).toBeLessThan(1e-12);
	});

	it('refuses a matrix that is not positive definite', () => {
		expect(() => referenceCholesky([1, 2, 2, 1], 2)).toThrow(/not positive definite at column 1/);
	});
});

describe('reference transpose', () => {
	it('transposes a 2 x 3 matrix with an empty column', () => {
		const t = referenceTranspose(
			csr([
				[1, 0, 2],
				[3, 0, 4]
			])
		);
		expect(t.rows).toBe(3);
		expect(t.cols).toBe(2);
		expect(Array.from(t.indptr)).toEqual([0, 2, 2, 4]);
		expect(Array.from(t.indices)).toEqual([0, 1, 0, 1]);
		expect(Array.from(t.data)).toEqual([1, 3, 2, 4]);
	});
});

describe('reference half-step', () => {
	// Item factors f_j = d_j q_j with q_j the rows of an orthogonal Q (a Householder
	// reflection I - 2 v v' / v'v), so F'F = sum_j d_j^2 q_j q_j' and the system of a user with
	// observed set O is Q' diag(c~_j d_j^2 + lambda) Q with c~_j = c_j on O and 1 elsewhere;
	// its right side is sum_{j in O} c_j d_j q_j, hence
	// x = sum_{j in O} c_j d_j / (c_j d_j^2 + lambda) q_j.
	const v = [1, 2, 2];
	const vv = 9;
	const q = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? 1 : 0) - (2 * v[i] * v[j]) / vv));
	const d = [0.7, 1.3, 0.4];
	const fixed = Float64Array.from(q.flatMap((row, j) => row.map((e) => d[j] * e)));
	const lambda = 0.3;

	for (const convention of ['hkv', 'implicit'] as const) {
		it(`one user, orthogonal item factors, ${convention}: the closed form; an empty user gets 0`, () => {
			const alpha = 2;
			// User 0 played songs 0 and 2 (weights 1.5 and 3); user 1 nothing.
			const m = csr([
				[1.5, 0, 3],
				[0, 0, 0]
			]);
			const got = exactHalfStep(m, fixed, {
				factors: 3,
				regularization: lambda,
				alpha,
				convention
			});
			const want = [0, 0, 0];
			for (const [j, w] of [
				[0, 1.5],
				[2, 3]
			]) {
				const c = convention === 'hkv' ? 1 + alpha * w : alpha * w;
				const s = (c * d[j]) / (c * d[j] ** 2 + lambda);
				for (let r = 0; r < 3; r++) want[r] += s * q[j][r];
			}
			expect(maxAbsDiff(got.subarray(0, 3), want)).toBeLessThan(1e-12);
			expect(Array.from(got.subarray(3, 6))).toEqual([0, 0, 0]);
		});
	}

	it('equals the dense normal equations solved by Gaussian elimination, both sides', () => {
		const m = randomCsr(14, 11, 0.3, 5, [2], [4]);
		const f = 4;
		const p = { factors: f, regularization: 0.2, alpha: 3, convention: 'implicit' as const };
		const y = randomArray(11 * f, 6);
		const { c, p: pref } = denseCP(m, p.alpha, p.convention);
		const x = exactHalfStep(m, y, p);
		expect(maxAbsDiff(x, denseSolveRows(c, pref, 14, 11, y, f, 0.2))).toBeLessThan(1e-10);
		const y2 = exactHalfStep(referenceTranspose(m), x, p);
		expect(maxAbsDiff(y2, denseSolveRows(c, pref, 11, 14, x, f, 0.2, true))).toBeLessThan(1e-10);
	});
});

describe('reference sweeps and objective', () => {
	const m = randomCsr(20, 16, 0.25, 9);
	const p = { factors: 3, regularization: 0.1, alpha: 2, convention: 'hkv' as const };

	it('the sparse objective equals the dense one', () => {
		const x = randomArray(20 * 3, 1);
		const y = randomArray(16 * 3, 2);
		const dense = denseLoss(m, x, y, 3, 0.1, 2, 'hkv');
		expect(Math.abs(sparseLoss(m, x, y, p) - dense) / dense).toBeLessThan(1e-12);
	});

	it('exact sweeps never raise the objective (each half-step is its exact minimiser)', () => {
		let last = Infinity;
		const y0 = randomArray(16 * 3, 4, 0, 0.1);
		for (let sweeps = 1; sweeps <= 5; sweeps++) {
			const { x, y } = referenceAls(m, y0, sweeps, p, false);
			const loss = sparseLoss(m, x, y, p);
			expect(loss).toBeLessThanOrEqual(last * (1 + 1e-12));
			last = loss;
		}
	});
});
