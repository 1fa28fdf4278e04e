import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoDataFile } from '../../helpers/data_files';
import { csrFromTriplets, type Csr } from '../../../src/lib/core/data/csr';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { auc, evaluateAuc } from '../../../src/lib/core/eval/auc';
import {
	evaluateRanker,
	evaluateWithBaseline,
	usersWithTestItems
} from '../../../src/lib/core/eval/evaluate';
import { PopularityRanker } from '../../../src/lib/core/eval/popularity';
import type { Ranker, TopN } from '../../../src/lib/core/eval/ranker';
import { holdoutSplit } from '../../../src/lib/core/eval/split';
import { Rng } from '../../../src/lib/core/random';
import { csrFromRows, rowItems } from '../../helpers/csr_from_rows';
import { pairCountAuc } from '../../helpers/pair_count_auc';

/** Returns fixed lists per user (padded with -1) and records every call. */
class FixedRanker implements Ranker {
	readonly calls: { users: number[]; n: number; exclude?: Csr }[] = [];
	constructor(private readonly lists: Map<number, number[]>) {}
	async recommend(users: Int32Array, n: number, exclude?: Csr): Promise<TopN> {
		this.calls.push({ users: Array.from(users), n, exclude });
		const items = new Int32Array(users.length * n).fill(-1);
		users.forEach((u, b) => items.set((this.lists.get(u) ?? []).slice(0, n), b * n));
		return { n, items, scores: new Float32Array(users.length * n) };
	}
	async scorePairs(users: Int32Array): Promise<Float32Array> {
		return new Float32Array(users.length);
	}
}

/** Knows the test set: lists each user's test items first, then nothing. */
class OracleRanker implements Ranker {
	constructor(private readonly test: Csr) {}
	async recommend(users: Int32Array, n: number): Promise<TopN> {
		const items = new Int32Array(users.length * n).fill(-1);
		users.forEach((u, b) => items.set(rowItems(this.test, u).slice(0, n), b * n));
		return { n, items, scores: new Float32Array(users.length * n) };
	}
	async scorePairs(users: Int32Array): Promise<Float32Array> {
		return new Float32Array(users.length);
	}
}

/** k distinct uniformly random items outside the user's exclude row. */
class RandomRanker implements Ranker {
	private readonly rng = new Rng(11);
	constructor(private readonly cols: number) {}
	async recommend(users: Int32Array, n: number, exclude?: Csr): Promise<TopN> {
		const items = new Int32Array(users.length * n).fill(-1);
		users.forEach((u, b) => {
			const taken = new Set(exclude ? rowItems(exclude, u) : []);
			for (let t = 0; t < n; t++) {
				let i = this.rng.int(this.cols);
				while (taken.has(i)) i = this.rng.int(this.cols);
				taken.add(i);
				items[b * n + t] = i;
			}
		});
		return { n, items, scores: new Float32Array(users.length * n) };
	}
	async scorePairs(users: Int32Array): Promise<Float32Array> {
		return Float32Array.from(users, () => this.rng.next());
	}
}

describe('evaluateRanker with known recommendations', () => {
	// test:  user 0 {1,3}, user 1 {}, user 2 {8}, user 3 {4}
	// lists: user 0 [0,1,2] -> p 1/2, r 1/2, ndcg (1/log2 3)/(1 + 1/log2 3), ap (1/2)/2
	//        user 2 [5,6,7] -> all 0
	//        user 3 [4,0,9] -> all 1
	const test = csrFromRows([[1, 3], [], [8], [4]], 10);
	const train = csrFromRows([[0, 5], [1], [2], [3]], 10);
	const lists = new Map([
		[0, [0, 1, 2]],
		[1, [1, 3, 5]],
		[2, [5, 6, 7]],
		[3, [4, 0, 9]]
	]);
	const l3 = Math.log2(3);

	it('gives the hand-computed means', async () => {
		const m = await evaluateRanker(new FixedRanker(lists), train, test, { k: 3 });
		expect(m.k).toBe(3);
		expect(m.users).toBe(3);
		expect(m.precision).toBeCloseTo((0.5 + 0 + 1) / 3, 12);
		expect(m.recall).toBeCloseTo((0.5 + 0 + 1) / 3, 12);
		expect(m.ndcg).toBeCloseTo((1 / l3 / (1 + 1 / l3) + 1) / 3, 12);
		expect(m.map).toBeCloseTo((0.25 + 1) / 3, 12);
	});

	it('asks only users with test items, for k items, excluding train', async () => {
		const ranker = new FixedRanker(lists);
		await evaluateRanker(ranker, train, test, { k: 3 });
		expect(ranker.calls).toHaveLength(1);
		expect(ranker.calls[0].users).toEqual([0, 2, 3]);
		expect(ranker.calls[0].n).toBe(3);
		expect(ranker.calls[0].exclude).toBe(train);
		expect(Array.from(usersWithTestItems(test))).toEqual([0, 2, 3]);
	});

	it('batch size changes the calls, not the result', async () => {
		const one = new FixedRanker(lists);
		const progress: [number, number][] = [];
		const a = await evaluateRanker(one, train, test, {
			k: 3,
			batchSize: 1,
			onProgress: (done, total) => progress.push([done, total])
		});
		const b = await evaluateRanker(new FixedRanker(lists), train, test, { k: 3, batchSize: 1000 });
		expect(a).toEqual(b);
		expect(one.calls.map((c) => c.users)).toEqual([[0], [2], [3]]);
		expect(progress).toEqual([
			[1, 3],
			[2, 3],
			[3, 3]
		]);
	});

	it('rejects train and test of different shapes', async () => {
		await expect(
			evaluateRanker(new FixedRanker(lists), csrFromRows([[0]], 10), test)
		).rejects.toSatisfy((e: unknown) => isMusicrecError(e, 'eval/bad-input'));
	});
});

/** A random user x item matrix with 0/1 targets, users active in proportion to a taste. */
function randomData(seed: number, users = 150, cols = 60) {
	const rng = new Rng(seed);
	const r: number[] = [];
	const c: number[] = [];
	const t: number[] = [];
	for (let u = 0; u < users; u++) {
		const n = 1 + rng.int(25);
		for (let j = 0; j < n; j++) {
			// Skewed item choice: low indices are popular.
			const i = Math.floor(cols * rng.next() ** 2);
			r.push(u);
			c.push(i);
			t.push(rng.next() < 0.5 ? 1 : 0);
		}
	}
	const { matrix, extra } = csrFromTriplets(
		users,
		cols,
		Int32Array.from(r),
		Int32Array.from(c),
		new Float32Array(r.length).fill(1),
		Int8Array.from(t)
	);
	return { matrix, target: extra as Int8Array };
}

describe('evaluateRanker on random splits', () => {
	const data = randomData(4);
	const split = holdoutSplit(data, { seed: 1 });

	it('popularity: batch size 1 and 1000 agree', async () => {
		const pop = new PopularityRanker(split.train);
		const a = await evaluateRanker(pop, split.train, split.test, { batchSize: 1 });
		const b = await evaluateRanker(pop, split.train, split.test, { batchSize: 1000 });
		expect(a).toEqual(b);
		expect(a.users).toBe(usersWithTestItems(split.test).length);
	});

	it('an oracle ranker scores 1, recall min(k,|T|)/|T|', async () => {
		const k = 3;
		const m = await evaluateRanker(new OracleRanker(split.test), split.train, split.test, { k });
		expect(m.precision).toBe(1);
		expect(m.ndcg).toBeCloseTo(1, 12);
		expect(m.map).toBe(1);
		let recall = 0;
		const users = usersWithTestItems(split.test);
		for (const u of users) {
			const size = split.test.indptr[u + 1] - split.test.indptr[u];
			recall += Math.min(k, size) / size;
		}
		expect(m.recall).toBeCloseTo(recall / users.length, 12);
		expect(m.recall).toBeLessThan(1); // some users hold out more than k items
	});

	it('evaluateWithBaseline reports the model and the popularity baseline with AUC', async () => {
		const model = new OracleRanker(split.test);
		const r = await evaluateWithBaseline(model, split);
		expect(r.model.ranking).toEqual(await evaluateRanker(model, split.train, split.test));
		const pop = new PopularityRanker(split.train);
		expect(r.popularity.ranking).toEqual(await evaluateRanker(pop, split.train, split.test));
		expect(r.popularity.auc).toEqual(await evaluateAuc(pop, split.test, split.testTarget!));
		expect(r.popularity.auc!.rows).toBe(split.test.indices.length);
		// No target, no AUC.
		const noTarget = await evaluateWithBaseline(model, { train: split.train, test: split.test });
		expect(noTarget.model.auc).toBeUndefined();
	});
});

/** Build a CSR from string id pairs (duplicates summed, targets max). */
function fromPairs(pairs: [string, string, number, number][]) {
	const users = new Map<string, number>();
	const items = new Map<string, number>();
	const idx = (m: Map<string, number>, k: string) => {
		let i = m.get(k);
		if (i === undefined) m.set(k, (i = m.size));
		return i;
	};
	const r = Int32Array.from(pairs, (p) => idx(users, p[0]));
	const c = Int32Array.from(pairs, (p) => idx(items, p[1]));
	const { matrix, extra } = csrFromTriplets(
		users.size,
		items.size,
		r,
		c,
		Float32Array.from(pairs, (p) => p[2]),
		Int8Array.from(pairs, (p) => p[3])
	);
	return { matrix, target: extra as Int8Array };
}

const lastfmPath = demoDataFile('lastfm_hetrec2011_user_artists.dat');
const kkboxPath = demoDataFile('kkbox_train_10k.csv');

describe('real data', () => {
	it('Last.fm: popularity beats random ranking', async () => {
		const lines = readFileSync(lastfmPath, 'utf8').trim().split('\n').slice(1);
		const pairs = lines.map((l): [string, string, number, number] => {
			const [u, a, w] = l.split('\t');
			return [u, a, Number(w), 0];
		});
		const data = fromPairs(pairs);
		const split = holdoutSplit(data, { seed: 1 });
		const pop = await evaluateRanker(new PopularityRanker(split.train), split.train, split.test);
		const rnd = await evaluateRanker(new RandomRanker(data.matrix.cols), split.train, split.test);
		expect(pop.users).toBeGreaterThan(1800);
		expect(pop.precision).toBeGreaterThan(5 * rnd.precision);
		expect(pop.ndcg).toBeGreaterThan(5 * rnd.ndcg);
	});

	it('KKBox: global AUC equals the pair count', async () => {
		const lines = readFileSync(kkboxPath, 'utf8').trim().split('\n').slice(1);
		const pairs = lines.map((l): [string, string, number, number] => {
			const f = l.split(',');
			const target = Number(f[6]);
			return [f[1], f[2], 1 + target, target];
		});
		const split = holdoutSplit(fromPairs(pairs), { seed: 1 });
		const r = await evaluateWithBaseline(new PopularityRanker(split.train), split);
		const a = r.popularity.auc!;
		expect(a.positives).toBeGreaterThan(0);
		expect(a.negatives).toBeGreaterThan(0);
		const scores = await new PopularityRanker(split.train).scorePairs(
			Int32Array.from(split.test.indices, (_, e) => rowOf(split.test, e)),
			split.test.indices
		);
		expect(a.auc).toBeCloseTo(pairCountAuc(scores, split.testTarget!), 10);
		expect(a.auc).toBeCloseTo(auc(scores, split.testTarget!), 12);
	});
});

function rowOf(m: Csr, e: number): number {
	let u = 0;
	while (m.indptr[u + 1] <= e) u++;
	return u;
}
