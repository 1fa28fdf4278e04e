import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fit } from '../../../src/lib/core/als/fit';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { onBackend, TF_BACKENDS } from '../../helpers/tf_node';

const CYCLES = 10;

/** Live tensors and bytes on the current backend. */
function snapshot(): { numTensors: number; numBytes: number } {
	const { numTensors, numBytes } = tf.memory();
	return { numTensors, numBytes };
}

describe.each(TF_BACKENDS)('tensor leaks on %s', (backend) => {
	onBackend(backend);

	const data = syntheticZipf({ users: 60, items: 90, nnz: 700, seed: 11 });
	const m = data.matrix;
	const params = { factors: 6, iterations: 2, regularization: 0.05, alpha: 2, cgSteps: 3, seed: 3 };
	const users = Int32Array.from({ length: m.rows }, (_, u) => u);

	/** One train/recommend cycle; returns the live tensors while the model existed. */
	async function cycle(): Promise<number> {
		const model = await fit(m, params);
		try {
			const top = await model.recommend(users, 10, m);
			expect(top.items).toHaveLength(m.rows * 10);
			// User 0's own items, folded in, then scored against the catalogue.
			const own = m.indices.slice(m.indptr[0], m.indptr[1]);
			const weights = m.data.slice(m.indptr[0], m.indptr[1]);
			const x = model.foldIn(own, weights);
			const forX = await model.recommendForFactors(x, 10, own);
			expect(forX.items[0]).toBeGreaterThanOrEqual(0);
			const similar = await model.similarItems(own[0], 5);
			expect(similar.items[0]).not.toBe(own[0]);
			const why = model.explain(own, weights, forX.items[0]);
			expect(why.contributions.length).toBe(new Set(own).size);
			return tf.memory().numTensors;
		} finally {
			model.dispose();
		}
	}

	it(`numTensors and numBytes are flat across ${CYCLES} fit/recommend/dispose cycles`, async () => {
		const before = snapshot();
		const during = await cycle();
		// The model's factors (and its caches) were live: the counter does see them.
		expect(during).toBeGreaterThan(before.numTensors);
		// No warm-up is needed: neither backend keeps a tensor across the first cycle.
		expect(snapshot()).toEqual(before);
		for (let c = 1; c < CYCLES; c++) {
			await cycle();
			expect(snapshot(), `after cycle ${c + 1}`).toEqual(before);
		}
	});

	it('the check catches a leak of one factor-sized tensor', async () => {
		const before = snapshot();
		const model = await fit(m, params);
		const leaked = tf.clone(model.itemFactors);
		model.dispose();
		const after = snapshot();
		leaked.dispose();
		expect(after.numTensors).toBe(before.numTensors + 1);
		expect(after.numBytes).toBe(before.numBytes + m.cols * params.factors * 4);
		expect(snapshot()).toEqual(before);
	});
});
