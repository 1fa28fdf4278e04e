import { describe, expect, it } from 'vitest';
import { AlsModel } from '../../../src/lib/core/als/model';
import { alsParams } from '../../../src/lib/core/als/params';
import { ItemScorer } from '../../../src/lib/core/als/kernel/item_scorer';
import { randomArray } from '../../helpers/random_csr';
import { onBackend } from '../../helpers/tf_node';

describe('ItemScorer (resident item factors, one SIMD pass) against AlsModel on wasm', () => {
	onBackend('wasm');

	it.each([
		[10, 700, 10],
		[64, 5000, 10],
		[13, 40, 50]
	])(
		'f = %i, %i songs, top %i: same songs and scores, exclusions and padding',
		async (f, items, n) => {
			const users = 5;
			const userFactors = randomArray(users * f, f, -1, 1);
			const itemFactors = randomArray(items * f, f + 1, -1, 1);
			const model = AlsModel.fromArrays(
				{ userFactors, itemFactors, users, items, factors: f },
				alsParams({ factors: f })
			);
			const scorer = await ItemScorer.create(itemFactors, f);
			try {
				for (let u = 0; u < users; u++) {
					const x = userFactors.slice(u * f, (u + 1) * f);
					const exclude = Int32Array.from({ length: 7 }, (_, k) => (u * 37 + k * 11) % items);
					const want = await model.recommendForFactors(x, n, exclude);
					const got = scorer.topN(x, n, exclude);
					expect(Array.from(got.items)).toEqual(Array.from(want.items));
					for (let k = 0; k < n; k++) {
						if (want.items[k] < 0) expect(got.scores[k]).toBe(-Infinity);
						else expect(Math.abs(got.scores[k] - want.scores[k])).toBeLessThan(1e-4);
					}
					for (const e of exclude) expect(Array.from(got.items)).not.toContain(e);
				}
			} finally {
				model.dispose();
			}
		}
	);

	it('ties go to the lower index; all excluded gives -1 padding', async () => {
		const f = 4;
		const itemFactors = new Float32Array(6 * f).fill(1);
		const scorer = await ItemScorer.create(itemFactors, f);
		expect(Array.from(scorer.topN(new Float32Array([1, 0, 0, 0]), 3).items)).toEqual([0, 1, 2]);
		const all = Int32Array.from([0, 1, 2, 3, 4, 5]);
		const none = scorer.topN(new Float32Array([1, 0, 0, 0]), 2, all);
		expect(Array.from(none.items)).toEqual([-1, -1]);
		expect(Array.from(none.scores)).toEqual([-Infinity, -Infinity]);
	});
});
