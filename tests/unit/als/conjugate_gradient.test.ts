import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	blockResiduals,
	gramPlusRidge,
	solveBlock
} from '../../../src/lib/core/als/conjugate_gradient';
import type { ConfidenceConvention } from '../../../src/lib/core/als/params';
import {
	buildRowBlocks,
	disposeRowBlock,
	type RowBlock
} from '../../../src/lib/core/als/row_blocks';
import type { Csr } from '../../../src/lib/core/data/csr';
import { denseSolve } from '../../helpers/reference_als';
import { randomArray, randomCsr } from '../../helpers/random_csr';
import { onBackend, TF_BACKENDS } from '../../helpers/tf_node';

const F = 8;
const ITEMS = 40;
const USERS = 12;
const LAMBDA = 0.1;
const ALPHA = 2;

/** The user system of row u written out in float64: A = Y'Y + lambda I + sum (c-1) y y', b = sum c y. */
function system(m: Csr, y: Float32Array, u: number, convention: ConfidenceConvention) {
	const a = new Float64Array(F * F);
	const b = new Float64Array(F);
	for (let i = 0; i < ITEMS; i++) {
		for (let s = 0; s < F; s++)
			for (let t = 0; t < F; t++) a[s * F + t] += y[i * F + s] * y[i * F + t];
	}
	for (let d = 0; d < F; d++) a[d * F + d] += LAMBDA;
	for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
		const i = m.indices[k];
		const c = convention === 'hkv' ? 1 + ALPHA * m.data[k] : ALPHA * m.data[k];
		for (let s = 0; s < F; s++) {
			b[s] += c * y[i * F + s];
			for (let t = 0; t < F; t++) a[s * F + t] += (c - 1) * y[i * F + s] * y[i * F + t];
		}
	}
	return { a, b };
}

/** CG minimises E(x) = x'Ax/2 - b'x; it decreases at every step (A-norm error). */
function energy(a: Float64Array, b: Float64Array, x: ArrayLike<number>): number {
	let e = 0;
	for (let s = 0; s < F; s++) {
		let ax = 0;
		for (let t = 0; t < F; t++) ax += a[s * F + t] * x[t];
		e += 0.5 * x[s] * ax - b[s] * x[s];
	}
	return e;
}

describe.each(TF_BACKENDS)('batched conjugate gradient on %s', (backend) => {
	onBackend(backend);

	describe.each(['hkv', 'implicit'] as const)('convention %s', (convention) => {
		const m = randomCsr(USERS, ITEMS, 0.25, 7, [3, 11]);
		const yArr = randomArray(ITEMS * F, 8);
		const x0Arr = randomArray(USERS * F, 9, -0.5, 0.5);
		let blocks: RowBlock[];
		let y: tf.Tensor2D, x0: tf.Tensor2D, gram: tf.Tensor2D;

		beforeAll(() => {
			blocks = buildRowBlocks(m, { alpha: ALPHA, convention, factors: F }, 1 << 30);
			y = tf.tensor2d(yArr, [ITEMS, F]);
			x0 = tf.tensor2d(x0Arr, [USERS, F]);
			gram = gramPlusRidge(y, LAMBDA);
		});
		afterAll(() => {
			blocks.forEach(disposeRowBlock);
			tf.dispose([y, x0, gram]);
		});

		it('with 3f steps equals a float64 solve of every row; empty rows get zeros', () => {
			expect(blocks).toHaveLength(1);
			const x = solveBlock(blocks[0], gram, y, x0, 3 * F);
			const got = x.dataSync();
			x.dispose();
			let worst = 0;
			for (let u = 0; u < USERS; u++) {
				const row = got.subarray(u * F, (u + 1) * F);
				if (m.indptr[u] === m.indptr[u + 1]) {
					expect(Array.from(row)).toEqual(new Array(F).fill(0));
					continue;
				}
				const { a, b } = system(m, yArr, u, convention);
				const want = denseSolve(a, b, F);
				const scale = Math.max(...want.map(Math.abs));
				for (let d = 0; d < F; d++) worst = Math.max(worst, Math.abs(row[d] - want[d]) / scale);
			}
			expect(worst).toBeLessThan(1e-4);
		});

		it('3 warm-started steps lower every row energy and shrink the residual', () => {
			const res0 = blockResiduals(blocks[0], gram, y, x0);
			const x3 = solveBlock(blocks[0], gram, y, x0, 3);
			const x6 = solveBlock(blocks[0], gram, y, x3, 3);
			const res6 = blockResiduals(blocks[0], gram, y, x6);
			const [r0, r6, a3, a6] = [res0.dataSync(), res6.dataSync(), x3.dataSync(), x6.dataSync()];
			tf.dispose([res0, res6, x3, x6]);
			let before = 0;
			let after = 0;
			for (let u = 0; u < USERS; u++) {
				if (m.indptr[u] === m.indptr[u + 1]) continue;
				before += r0[u];
				after += r6[u];
				const { a, b } = system(m, yArr, u, convention);
				const e0 = energy(a, b, x0Arr.subarray(u * F, (u + 1) * F));
				const e3 = energy(a, b, a3.subarray(u * F, (u + 1) * F));
				const e6 = energy(a, b, a6.subarray(u * F, (u + 1) * F));
				expect(e3).toBeLessThan(e0);
				expect(e6).toBeLessThanOrEqual(e3 + 1e-6 * Math.abs(e3));
			}
			expect(after).toBeLessThan(0.1 * before);
		});
	});
});
