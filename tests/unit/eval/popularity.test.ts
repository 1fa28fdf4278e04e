import { describe, expect, it } from 'vitest';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { PopularityRanker } from '../../../src/lib/core/eval/popularity';
import { Rng } from '../../../src/lib/core/random';
import { bruteTopN } from '../../helpers/brute_top_n';
import { csrFromRows } from '../../helpers/csr_from_rows';

describe('PopularityRanker', () => {
	// 4 users, 6 items. Users per item: 0 -> 1, 1 -> 3, 2 -> 2, 3 -> 3, 4 -> 0, 5 -> 1.
	// User 2 listens to item 5 with weight 100: popularity counts users, not weight.
	// Order by count, ties by lower index: 1 (3), 3 (3), 2 (2), 0 (1), 5 (1), 4 (0).
	const train = csrFromRows(
		[
			[1, 3],
			[1, 2, 3],
			[0, 1, 5],
			[2, 3]
		],
		6,
		[
			[1, 1],
			[1, 1, 1],
			[1, 1, 100],
			[1, 1]
		]
	);
	const ranker = new PopularityRanker(train);

	it('counts users per item and orders by count, ties by index', () => {
		expect(Array.from(ranker.popularity)).toEqual([1, 3, 2, 3, 0, 1]);
		expect(Array.from(ranker.order)).toEqual([1, 3, 2, 0, 5, 4]);
	});

	it('recommends the most popular items minus the user’s own, with scores', async () => {
		const top = await ranker.recommend(Int32Array.of(0, 1, 2, 3), 3, train);
		// user 0 has {1,3}: 2, 0, 5;  user 1 has {1,2,3}: 0, 5, 4
		// user 2 has {0,1,5}: 3, 2, 4; user 3 has {2,3}: 1, 0, 5
		expect(Array.from(top.items)).toEqual([2, 0, 5, 0, 5, 4, 3, 2, 4, 1, 0, 5]);
		expect(Array.from(top.scores)).toEqual([2, 1, 1, 1, 1, 0, 3, 2, 0, 3, 1, 1]);
		expect(top.n).toBe(3);
	});

	it('pads with -1 and -Infinity when too few items are eligible', async () => {
		// User 1 has 3 of the 6 items: only 3 remain for n = 5.
		const top = await ranker.recommend(Int32Array.of(1), 5, train);
		expect(Array.from(top.items)).toEqual([0, 5, 4, -1, -1]);
		expect(Array.from(top.scores)).toEqual([1, 1, 0, -Infinity, -Infinity]);
	});

	it('without exclusion every user gets the global order', async () => {
		const top = await ranker.recommend(Int32Array.of(0, 3), 2);
		expect(Array.from(top.items)).toEqual([1, 3, 1, 3]);
	});

	it('scorePairs returns the item popularity', async () => {
		const s = await ranker.scorePairs(Int32Array.of(0, 1, 2), Int32Array.of(4, 1, 2));
		expect(Array.from(s)).toEqual([0, 3, 2]);
	});

	it('rejects an exclude matrix of another catalog and out-of-range input', async () => {
		const isBad = (e: unknown) => isMusicrecError(e, 'eval/bad-input');
		await expect(ranker.recommend(Int32Array.of(0), 2, csrFromRows([[0]], 5))).rejects.toSatisfy(
			isBad
		);
		await expect(ranker.recommend(Int32Array.of(9), 2, train)).rejects.toSatisfy(isBad);
		await expect(ranker.scorePairs(Int32Array.of(0), Int32Array.of(6))).rejects.toSatisfy(isBad);
	});

	it('equals a brute-force sort on random data', async () => {
		const rng = new Rng(3);
		const cols = 50;
		const rows = Array.from({ length: 40 }, () =>
			rng.shuffle(Array.from({ length: cols }, (_, i) => i)).slice(0, rng.int(48))
		);
		const m = csrFromRows(rows, cols);
		const pop = new PopularityRanker(m);
		const counts = new Array<number>(cols).fill(0);
		rows.forEach((r) => r.forEach((i) => counts[i]++));
		const users = Int32Array.from(rows.keys());
		for (const n of [1, 10, 30]) {
			const got = await pop.recommend(users, n, m);
			const want = bruteTopN(users, n, cols, (_u, i) => counts[i], m);
			expect(Array.from(got.items)).toEqual(Array.from(want.items));
			expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
		}
	});
});
