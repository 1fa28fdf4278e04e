import { describe, expect, it } from 'vitest';
import { AlsModel } from '../../../src/lib/core/als/model';
import { alsParams } from '../../../src/lib/core/als/params';
import { Rng } from '../../../src/lib/core/random';
import { onBackend, TF_BACKENDS } from '../../helpers/tf_node';

const USERS = 4;
const ITEMS = 40;
const F = 6;

function randomModel(seed: number): { model: AlsModel; y: Float32Array } {
	const rng = new Rng(seed);
	const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
	const y = random(ITEMS * F);
	const model = AlsModel.fromArrays(
		{ userFactors: random(USERS * F), itemFactors: y, users: USERS, items: ITEMS, factors: F },
		alsParams({ factors: F, regularization: 0.1, alpha: 2, convention: 'implicit' })
	);
	return { model, y };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
	let s = 0;
	for (let k = 0; k < a.length; k++) s += a[k] * b[k];
	return s;
};

describe.each(TF_BACKENDS)('AlsModel.explainItems on %s', (backend) => {
	onBackend(backend);

	it('splits each item score of the folded-in user over the history, one system for all', () => {
		const { model, y } = randomModel(11);
		try {
			// A duplicate (item 3 twice): its weights are summed, it appears once.
			const items = Int32Array.of(3, 9, 3, 21, 30);
			const weights = Float32Array.of(1, 2, 0.5, 4, 1);
			const x = model.foldIn(items, weights);
			const targets = Int32Array.of(0, 9, 17, 39);
			const out = model.explainItems(items, weights, targets);
			expect(out).toHaveLength(targets.length);
			targets.forEach((item, k) => {
				const ex = out[k];
				expect(ex.contributions.map((c) => c.item).sort((a, b) => a - b)).toEqual([3, 9, 21, 30]);
				const sum = ex.contributions.reduce((s, c) => s + c.score, 0);
				expect(sum).toBeCloseTo(ex.total, 10);
				// Reference: the fold-in score y_i . x_u.
				expect(ex.total).toBeCloseTo(dot(y.subarray(item * F, (item + 1) * F), x), 4);
				for (let j = 1; j < ex.contributions.length; j++) {
					expect(ex.contributions[j].score).toBeLessThanOrEqual(ex.contributions[j - 1].score);
				}
				// The single-item call gives the same split.
				expect(model.explain(items, weights, item)).toEqual(ex);
			});
		} finally {
			model.dispose();
		}
	});

	it('returns empty explanations for an empty history and rejects bad items', () => {
		const { model } = randomModel(12);
		try {
			const none = model.explainItems(new Int32Array(0), new Float32Array(0), Int32Array.of(1, 2));
			expect(none).toEqual([
				{ contributions: [], total: 0 },
				{ contributions: [], total: 0 }
			]);
			expect(model.explainItems(Int32Array.of(1), Float32Array.of(1), new Int32Array(0))).toEqual(
				[]
			);
			expect(() =>
				model.explainItems(Int32Array.of(1), Float32Array.of(1), Int32Array.of(ITEMS))
			).toThrow(expect.objectContaining({ code: 'als/bad-input' }));
		} finally {
			model.dispose();
		}
	});

	it('readArrays gives the same copies as toArrays', async () => {
		const { model, y } = randomModel(13);
		try {
			const read = await model.readArrays();
			expect(read).toEqual(model.toArrays());
			expect(Array.from(read.itemFactors)).toEqual(Array.from(y));
			// Copies: writing to them leaves the model alone.
			read.itemFactors[0] = 123;
			expect(model.toArrays().itemFactors[0]).toBe(y[0]);
		} finally {
			model.dispose();
		}
	});
});
