import { describe, expect, it } from 'vitest';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { auc, evaluateAuc } from '../../../src/lib/core/eval/auc';
import type { Ranker, TopN } from '../../../src/lib/core/eval/ranker';
import { Rng } from '../../../src/lib/core/random';
import { csrFromRows } from '../../helpers/csr_from_rows';
import { pairCountAuc } from '../../helpers/pair_count_auc';

describe('auc: hand cases', () => {
	it('no ties', () => {
		// positives {0.9, 0.3}, negatives {0.8, 0.1}:
		// 0.9>0.8 (1), 0.9>0.1 (1), 0.3<0.8 (0), 0.3>0.1 (1) -> 3/4
		expect(auc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])).toBeCloseTo(0.75, 12);
	});

	it('ties count one half', () => {
		// positives {0.5, 0.7}, negatives {0.5, 0.2}:
		// 0.5=0.5 (1/2), 0.5>0.2 (1), 0.7>0.5 (1), 0.7>0.2 (1) -> 3.5/4 = 0.875
		expect(auc([0.5, 0.5, 0.2, 0.7], [1, 0, 0, 1])).toBeCloseTo(0.875, 12);
		// All scores equal: every pair is a tie -> 1/2.
		expect(auc([3, 3, 3, 3, 3], [1, 0, 1, 0, 0])).toBeCloseTo(0.5, 12);
	});

	it('perfect and reversed orderings', () => {
		expect(auc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
		expect(auc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
		expect(auc([-Infinity, Infinity], [0, 1])).toBe(1);
	});

	it('one class present (or no rows) gives NaN', () => {
		expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
		expect(auc([0.1, 0.2], [0, 0])).toBeNaN();
		expect(auc([], [])).toBeNaN();
	});

	it('rejects NaN scores and length mismatch', () => {
		const code = (f: () => unknown) => {
			try {
				f();
			} catch (e) {
				return isMusicrecError(e, 'eval/bad-input');
			}
			return false;
		};
		expect(code(() => auc([0.1, NaN], [1, 0]))).toBe(true);
		expect(code(() => auc([0.1], [1, 0]))).toBe(true);
	});
});

describe('auc against the O(n^2) pair count', () => {
	it.each([1, 2, 3, 4, 5])('random scores with many ties, seed %i', (seed) => {
		const rng = new Rng(seed);
		const n = 300;
		// Scores in a handful of values so that ties are frequent; labels about 30% positive.
		const scores = Float32Array.from({ length: n }, () => rng.int(6) / 2);
		const labels = Int8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
		expect(auc(scores, labels)).toBeCloseTo(pairCountAuc(scores, labels), 12);
	});

	it('continuous scores', () => {
		const rng = new Rng(9);
		const scores = Array.from({ length: 500 }, () => rng.normal());
		const labels = scores.map((s) => (rng.next() < 1 / (1 + Math.exp(-2 * s)) ? 1 : 0));
		const value = auc(scores, labels);
		expect(value).toBeCloseTo(pairCountAuc(scores, labels), 12);
		expect(value).toBeGreaterThan(0.6); // labels depend on the score
	});
});

/** Scores each pair as 10 * user + item and records the pairs it was asked for. */
class AffineRanker implements Ranker {
	readonly asked: [number, number][] = [];
	async recommend(): Promise<TopN> {
		throw new Error('not used');
	}
	async scorePairs(users: Int32Array, items: Int32Array): Promise<Float32Array> {
		users.forEach((u, k) => this.asked.push([u, items[k]]));
		return Float32Array.from(users, (u, k) => 10 * u + items[k]);
	}
}

describe('evaluateAuc', () => {
	// Test entries in CSR order, with score 10u + i:
	// (0,1)=1 t1, (0,4)=4 t0, (1,2)=12 t0, (1,3)=13 t1, (2,0)=20 t1
	// Global: positives {1, 13, 20}, negatives {4, 12}:
	// 1 beats none (0), 13 beats both (2), 20 beats both (2) -> 4/6.
	// (A mean of per-user AUCs would differ: user 0 -> 0, user 1 -> 1, user 2 undefined.)
	const test = csrFromRows([[1, 4], [2, 3], [0]], 5);
	const target = Int8Array.of(1, 0, 0, 1, 1);

	it('scores every held-out pair and computes the global AUC', async () => {
		const ranker = new AffineRanker();
		const r = await evaluateAuc(ranker, test, target);
		expect(r.auc).toBeCloseTo(4 / 6, 12);
		expect(r).toMatchObject({ rows: 5, positives: 3, negatives: 2 });
		expect(ranker.asked).toEqual([
			[0, 1],
			[0, 4],
			[1, 2],
			[1, 3],
			[2, 0]
		]);
	});

	it('does not depend on the batch size', async () => {
		const small = await evaluateAuc(new AffineRanker(), test, target, { batchSize: 2 });
		const large = await evaluateAuc(new AffineRanker(), test, target, { batchSize: 1000 });
		expect(small).toEqual(large);
	});

	it('one class gives NaN; misaligned target is rejected', async () => {
		const r = await evaluateAuc(new AffineRanker(), test, new Int8Array(5));
		expect(r.auc).toBeNaN();
		await expect(evaluateAuc(new AffineRanker(), test, new Int8Array(4))).rejects.toSatisfy(
			(e: unknown) => isMusicrecError(e, 'eval/bad-input')
		);
	});
});
