import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fit } from '../../../src/lib/core/als/fit';
import { initFactors } from '../../../src/lib/core/als/init';
import { planBlocks } from '../../../src/lib/core/als/row_blocks';
import type { Csr } from '../../../src/lib/core/data/csr';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { denseLoss, denseSweep, maxAbsDiff, referenceAls } from '../../helpers/reference_als';
import { kkboxDemoPath, readKkboxDemo } from '../../helpers/kkbox_local';
import { randomArray, randomCsr } from '../../helpers/random_csr';
import { onBackend, TF_BACKENDS } from '../../helpers/tf_node';

async function fitArrays(
	m: Csr,
	params: Parameters<typeof fit>[1],
	options?: Parameters<typeof fit>[2]
) {
	const model = await fit(m, params, options);
	try {
		return model.toArrays();
	} finally {
		model.dispose();
	}
}

const kkboxPath = kkboxDemoPath();

describe.each(TF_BACKENDS)('fit on %s', (backend) => {
	onBackend(backend);

	// 7 users x 9 items, user 4 and item 6 empty.
	const tiny = randomCsr(7, 9, 0.4, 3, [4], [6]);

	describe.each(['hkv', 'implicit'] as const)('convention %s', (convention) => {
		const params = {
			factors: 3,
			iterations: 1,
			regularization: 0.05,
			alpha: 2,
			cgSteps: 12,
			convention,
			seed: 5
		};

		it('one exact sweep equals the dense float64 ALS equations', async () => {
			const got = await fitArrays(tiny, params);
			const init = initFactors(7, 9, 3, 5);
			const want = denseSweep(tiny, init.userFactors, init.itemFactors, 3, 0.05, 2, convention);
			const scale = Math.max(...want.y.map(Math.abs), ...want.x.map(Math.abs));
			expect(maxAbsDiff(got.userFactors, want.x) / scale).toBeLessThan(1e-4);
			expect(maxAbsDiff(got.itemFactors, want.y) / scale).toBeLessThan(1e-4);
			expect(Array.from(got.userFactors.subarray(12, 15))).toEqual([0, 0, 0]);
			expect(Array.from(got.itemFactors.subarray(18, 21))).toEqual([0, 0, 0]);
		});

		it('reports the full dense loss', async () => {
			const losses: number[] = [];
			const got = await fitArrays(
				tiny,
				{ ...params, iterations: 3 },
				{ onSweep: (s) => losses.push(s.loss) }
			);
			const want = denseLoss(tiny, got.userFactors, got.itemFactors, 3, 0.05, 2, convention);
			expect(losses).toHaveLength(3);
			expect(Math.abs(losses[2] - want) / want).toBeLessThan(1e-5);
		});
	});

	it('loss never increases with exact solves on the KKBox demo', async () => {
		const m = readKkboxDemo(kkboxPath);
		expect(m.rows).toBe(1622);
		const losses: number[] = [];
		const got = await fitArrays(
			m,
			{ factors: 8, iterations: 8, cgSteps: 16, regularization: 0.05, alpha: 1 },
			{ onSweep: (s) => losses.push(s.loss) }
		);
		for (let k = 1; k < losses.length; k++) {
			expect(losses[k]).toBeLessThanOrEqual(losses[k - 1] * (1 + 1e-6));
		}
		expect(losses.at(-1)!).toBeLessThan(losses[0]);
		// The reported value is the objective itself.
		const dense = denseLoss(m, got.userFactors, got.itemFactors, 8, 0.05, 1, 'hkv');
		expect(Math.abs(losses.at(-1)! - dense) / dense).toBeLessThan(1e-4);
	});

	it('loss never increases with 3 warm-started CG steps on the KKBox demo', async () => {
		// Each CG step is an exact line search on the row's convex quadratic
		// q(x) = x'Ax/2 - b'x, started from the previous factors, so a half-step cannot raise the
		// objective even when it stops short of the solve (measured: every sweep lowers it by at
		// least 4e-4 relative, far above the 1e-6 allowed for float32 sums).
		const m = readKkboxDemo(kkboxPath);
		const losses: number[] = [];
		await fitArrays(m, { factors: 16, iterations: 10 }, { onSweep: (s) => losses.push(s.loss) });
		expect(losses).toHaveLength(10);
		for (let k = 1; k < losses.length; k++) {
			expect(losses[k]).toBeLessThanOrEqual(losses[k - 1] * (1 + 1e-6));
		}
		expect(losses.at(-1)!).toBeLessThan(losses[0]);
	});

	describe('initialFactors', () => {
		const m = randomCsr(25, 30, 0.2, 8, [3], [7]);
		const params = { factors: 4, iterations: 3, cgSteps: 8, regularization: 0.1, alpha: 2 };

		it('the drawn init passed explicitly gives the same factors as no init', async () => {
			const init = initFactors(25, 30, 4, 42);
			const drawn = await fitArrays(m, { ...params, seed: 42 });
			const given = await fitArrays(m, { ...params, seed: 7 }, { initialFactors: init });
			expect(given.userFactors).toEqual(drawn.userFactors);
			expect(given.itemFactors).toEqual(drawn.itemFactors);
		});

		it('from item factors Y0: the independent exact sweeps from Y0, and chained fits continue one fit', async () => {
			const y0 = randomArray(30 * 4, 3, 0, 0.5);
			const got = await fitArrays(m, params, { initialFactors: { itemFactors: y0 } });
			// 8 CG steps on 4 x 4 systems: the exact solves up to float32 rounding.
			const want = referenceAls(m, y0, 3, { ...params, convention: 'hkv' }, false);
			const scale = want.y.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
			expect(maxAbsDiff(got.itemFactors, want.y) / scale).toBeLessThan(1e-4);
			expect(maxAbsDiff(got.userFactors, want.x) / scale).toBeLessThan(1e-4);
			// Not met by the drawn init: Y0 was used.
			const drawn = await fitArrays(m, params);
			expect(maxAbsDiff(drawn.itemFactors, want.y) / scale).toBeGreaterThan(1e-2);
			// Three one-sweep fits, each from the last one's factors, equal the three-sweep fit.
			let start = { userFactors: initFactors(25, 30, 4, 42).userFactors, itemFactors: y0 };
			for (let sweep = 0; sweep < 3; sweep++) {
				const next = await fitArrays(m, { ...params, iterations: 1 }, { initialFactors: start });
				start = { userFactors: next.userFactors, itemFactors: next.itemFactors };
			}
			expect(start.userFactors).toEqual(got.userFactors);
			expect(start.itemFactors).toEqual(got.itemFactors);
		});

		it('rejects factors of the wrong length or not finite, naming the field', async () => {
			await expect(
				fit(m, params, { initialFactors: { itemFactors: new Float32Array(30 * 4 - 1) } })
			).rejects.toMatchObject({
				code: 'als/bad-params',
				details: { field: 'initialFactors.itemFactors' }
			});
			const nan = new Float32Array(25 * 4);
			nan[5] = NaN;
			await expect(fit(m, params, { initialFactors: { userFactors: nan } })).rejects.toMatchObject({
				code: 'als/bad-params',
				details: { field: 'initialFactors.userFactors' }
			});
		});
	});

	it('loss never increases with exact solves on a synthetic matrix', async () => {
		const m = randomCsr(60, 80, 0.08, 11);
		const losses: number[] = [];
		await fitArrays(
			m,
			{ factors: 6, iterations: 8, cgSteps: 12, convention: 'implicit', alpha: 3 },
			{ onSweep: (s) => losses.push(s.loss) }
		);
		for (let k = 1; k < losses.length; k++) {
			expect(losses[k]).toBeLessThanOrEqual(losses[k - 1] * (1 + 1e-6));
		}
	});

	it('is deterministic for a seed and differs across seeds', async () => {
		const m = randomCsr(30, 40, 0.15, 2);
		const a = await fitArrays(m, { factors: 5, iterations: 3, seed: 1 });
		const b = await fitArrays(m, { factors: 5, iterations: 3, seed: 1 });
		const c = await fitArrays(m, { factors: 5, iterations: 3, seed: 2 });
		expect(b.userFactors).toEqual(a.userFactors);
		expect(b.itemFactors).toEqual(a.itemFactors);
		expect(maxAbsDiff(a.itemFactors, c.itemFactors)).toBeGreaterThan(1e-3);
	});

	it('gives the same factors when a tiny memory budget forces many blocks', async () => {
		const m = randomCsr(40, 50, 0.15, 4, [0, 39], [49]);
		const params = { factors: 4, iterations: 3, cgSteps: 3 };
		const budget = 4 * 4 * 6 * 5; // about five entries a block
		expect(planBlocks(m.indptr, 4, budget).length).toBeGreaterThan(20);
		const one = await fitArrays(m, params);
		const many = await fitArrays(m, params, { memoryBudgetBytes: budget });
		const scale = Math.max(...one.userFactors.map(Math.abs));
		expect(maxAbsDiff(one.userFactors, many.userFactors) / scale).toBeLessThan(1e-5);
		expect(maxAbsDiff(one.itemFactors, many.itemFactors) / scale).toBeLessThan(1e-5);
	});

	it('cancels after a sweep with als/cancelled and leaks no tensor', async () => {
		const m = randomCsr(30, 40, 0.15, 2);
		const before = tf.memory().numTensors;
		const signal = { aborted: false };
		let sweeps = 0;
		const err = await fit(
			m,
			{ factors: 4, iterations: 10 },
			{
				signal,
				onSweep: () => {
					sweeps++;
					signal.aborted = true;
				}
			}
		).catch((e: unknown) => e);
		expect(isMusicrecError(err, 'als/cancelled')).toBe(true);
		expect(sweeps).toBe(1);
		expect(tf.memory().numTensors).toBe(before);
	});

	it('throws als/not-finite for a non-finite result and leaks nothing', async () => {
		// Huge confidences with no regularization overflow float32.
		const m = randomCsr(10, 12, 0.3, 6);
		const before = tf.memory().numTensors;
		// with the loss, and without it (then |X|^2 is the check: the kernel's own sums, or ops)
		for (const options of [
			{},
			{ computeLoss: false },
			{ computeLoss: false, solver: 'ops' as const }
		]) {
			const err = await fit(
				m,
				{ factors: 4, iterations: 3, alpha: 1e38, regularization: 0 },
				options
			).catch((e: unknown) => e);
			expect(isMusicrecError(err, 'als/not-finite')).toBe(true);
			expect((err as Error).message).toMatch(/increase regularization/);
			expect(tf.memory().numTensors).toBe(before);
		}
	});

	it('rejects negative weights and bad params before allocating', async () => {
		const m = randomCsr(5, 5, 0.5, 1);
		const neg = { ...m, data: m.data.map((v, k) => (k === 0 ? -1 : v)) };
		const before = tf.memory().numTensors;
		await expect(fit(neg, { factors: 2 })).rejects.toMatchObject({ code: 'als/bad-input' });
		await expect(fit(m, { factors: -2 })).rejects.toMatchObject({
			code: 'als/bad-params',
			details: { field: 'factors' }
		});
		expect(tf.memory().numTensors).toBe(before);
	});
});
