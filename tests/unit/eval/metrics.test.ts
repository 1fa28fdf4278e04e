import { describe, expect, it } from 'vitest';
import type { Csr } from '../../../src/lib/core/data/csr';
import { isMusicrecError } from '../../../src/lib/core/errors';
import {
	accumulateRanking,
	emptyRankingSums,
	finishRanking,
	rankingMetrics
} from '../../../src/lib/core/eval/metrics';
import type { TopN } from '../../../src/lib/core/eval/ranker';
import { Rng } from '../../../src/lib/core/random';
import { csrFromRows } from '../../helpers/csr_from_rows';

/** A TopN from plain lists, each padded to n with -1. */
function topNOf(lists: number[][], n: number): TopN {
	const items = new Int32Array(lists.length * n).fill(-1);
	lists.forEach((l, b) => items.set(l.slice(0, n), b * n));
	return { n, items, scores: new Float32Array(lists.length * n) };
}

const log2of3 = Math.log2(3);

describe('rankingMetrics: hand-computed single users', () => {
	it('one hit at rank 1, |test| < k', () => {
		// list [0,1,2], test {1,3}, k = 3: one hit at rank r = 1.
		// precision = 1/min(3,2) = 0.5; recall = 1/2
		// DCG = 1/log2(1+2); IDCG = 1/log2 2 + 1/log2 3 = 1 + 1/log2 3
		// AP = (hits 1 / rank 2) / min(3,2) = (1/2)/2 = 0.25
		const test = csrFromRows([[1, 3]], 4);
		const m = rankingMetrics(topNOf([[0, 1, 2]], 3), Int32Array.of(0), test, 3);
		expect(m.users).toBe(1);
		expect(m.k).toBe(3);
		expect(m.precision).toBeCloseTo(0.5, 12);
		expect(m.recall).toBeCloseTo(0.5, 12);
		expect(m.ndcg).toBeCloseTo(1 / log2of3 / (1 + 1 / log2of3), 12);
		expect(m.map).toBeCloseTo(0.25, 12);
		expect(m.pooledPrecision).toBeCloseTo(0.5, 12);
	});

	it('two hits at ranks 0 and 2', () => {
		// list [0,1,2,3], test {0,2,7}, k = 4: hits at r = 0, 2.
		// precision = 2/min(4,3) = 2/3; recall = 2/3
		// DCG = 1/log2 2 + 1/log2 4 = 1.5; IDCG = 1 + 1/log2 3 + 1/log2 4 = 1.5 + 1/log2 3
		// AP = (1/1 + 2/3) / 3 = 5/9
		const test = csrFromRows([[0, 2, 7]], 8);
		const m = rankingMetrics(topNOf([[0, 1, 2, 3]], 4), Int32Array.of(0), test, 4);
		expect(m.precision).toBeCloseTo(2 / 3, 12);
		expect(m.recall).toBeCloseTo(2 / 3, 12);
		expect(m.ndcg).toBeCloseTo(1.5 / (1.5 + 1 / log2of3), 12);
		expect(m.map).toBeCloseTo(5 / 9, 12);
	});

	it('a perfect list of a user with a single test item scores 1 everywhere', () => {
		// list [4,0,5], test {4}: precision 1/min(3,1) = 1, recall 1, NDCG 1/1, AP (1/1)/1 = 1.
		const test = csrFromRows([[4]], 6);
		const m = rankingMetrics(topNOf([[4, 0, 5]], 3), Int32Array.of(0), test, 3);
		expect([m.precision, m.recall, m.ndcg, m.map]).toEqual([1, 1, 1, 1]);
	});

	it('no hits gives zeros', () => {
		const test = csrFromRows([[5, 6, 7, 8]], 9);
		const m = rankingMetrics(topNOf([[0, 1, 2]], 3), Int32Array.of(0), test, 3);
		expect([m.precision, m.recall, m.ndcg, m.map]).toEqual([0, 0, 0, 0]);
		expect(m.users).toBe(1);
	});

	it('a -1 padded list: padding never hits', () => {
		// list [3,-1,-1], test {3,9}, k = 3: hit at r = 0.
		// precision = 1/min(3,2) = 0.5; recall 0.5; NDCG = 1/(1 + 1/log2 3); AP = (1/1)/2 = 0.5
		const test = csrFromRows([[3, 9]], 10);
		const m = rankingMetrics(topNOf([[3]], 3), Int32Array.of(0), test, 3);
		expect(m.precision).toBeCloseTo(0.5, 12);
		expect(m.recall).toBeCloseTo(0.5, 12);
		expect(m.ndcg).toBeCloseTo(1 / (1 + 1 / log2of3), 12);
		expect(m.map).toBeCloseTo(0.5, 12);
	});

	it('only the first k of a longer list count', () => {
		// n = 4, k = 2: the hit at rank 3 is beyond k.
		const test = csrFromRows([[3]], 4);
		const m = rankingMetrics(topNOf([[0, 1, 2, 3]], 4), Int32Array.of(0), test, 2);
		expect(m.precision).toBe(0);
		const m4 = rankingMetrics(topNOf([[0, 1, 2, 3]], 4), Int32Array.of(0), test, 4);
		expect(m4.precision).toBe(1);
	});

	it('an item repeated in a list counts once', () => {
		// list [2,2,0], test {2,5}: one hit (rank 0); precision 1/2, AP (1/1)/2.
		const test = csrFromRows([[2, 5]], 6);
		const m = rankingMetrics(topNOf([[2, 2, 0]], 3), Int32Array.of(0), test, 3);
		expect(m.precision).toBeCloseTo(0.5, 12);
		expect(m.map).toBeCloseTo(0.5, 12);
	});
});

describe('rankingMetrics: averaging', () => {
	it('averages over users with test items and skips the rest', () => {
		// user 0: list [0,1,2], test {1,3}  -> p 0.5, r 0.5, ndcg (1/l3)/(1+1/l3), ap 0.25
		// user 1: no test items             -> skipped even though its list is given
		// user 2: list [5,6,7], test {8}    -> zeros
		// user 3: list [4,0,9], test {4}    -> ones
		const test = csrFromRows([[1, 3], [], [8], [4]], 10);
		const lists = [
			[0, 1, 2],
			[1, 3, 5],
			[5, 6, 7],
			[4, 0, 9]
		];
		const m = rankingMetrics(topNOf(lists, 3), Int32Array.of(0, 1, 2, 3), test, 3);
		expect(m.users).toBe(3);
		expect(m.precision).toBeCloseTo((0.5 + 0 + 1) / 3, 12);
		expect(m.recall).toBeCloseTo((0.5 + 0 + 1) / 3, 12);
		expect(m.ndcg).toBeCloseTo((1 / log2of3 / (1 + 1 / log2of3) + 0 + 1) / 3, 12);
		expect(m.map).toBeCloseTo((0.25 + 0 + 1) / 3, 12);
		// pooled (implicit's "precision"): hits (1 + 0 + 1) / min(k,|T|) sums (2 + 1 + 1) = 0.5
		expect(m.pooledPrecision).toBeCloseTo(0.5, 12);
	});

	it('accumulating two batches equals one call over all users', () => {
		const test = csrFromRows([[1, 3], [8], [4]], 10);
		const lists = [
			[0, 1, 2],
			[5, 6, 7],
			[4, 0, 9]
		];
		const whole = rankingMetrics(topNOf(lists, 3), Int32Array.of(0, 1, 2), test, 3);
		const sums = emptyRankingSums(3);
		accumulateRanking(sums, topNOf(lists.slice(0, 1), 3), Int32Array.of(0), test);
		accumulateRanking(sums, topNOf(lists.slice(1), 3), Int32Array.of(1, 2), test);
		expect(finishRanking(sums)).toEqual(whole);
	});

	it('no evaluated users gives NaN', () => {
		const test = csrFromRows([[]], 3);
		const m = rankingMetrics(topNOf([[0]], 1), Int32Array.of(0), test, 1);
		expect(m.users).toBe(0);
		expect(m.precision).toBeNaN();
		expect(m.ndcg).toBeNaN();
	});

	it('rejects lists shorter than k, misaligned lists and unknown users', () => {
		const test = csrFromRows([[0]], 3);
		const bad = (f: () => unknown) => {
			try {
				f();
			} catch (e) {
				return isMusicrecError(e, 'eval/bad-input');
			}
			return false;
		};
		expect(bad(() => rankingMetrics(topNOf([[0]], 1), Int32Array.of(0), test, 2))).toBe(true);
		expect(bad(() => rankingMetrics(topNOf([[0]], 1), Int32Array.of(0, 0), test, 1))).toBe(true);
		expect(bad(() => rankingMetrics(topNOf([[0]], 1), Int32Array.of(5), test, 1))).toBe(true);
	});
});

/**
 * A port of the scoring loop of implicit's `ranking_metrics_at_k` (evaluation.pyx), kept
 * literal: per-user AP and NDCG means, and precision as relevant / pr_div.
 */
function implicitLoop(lists: number[][], test: Csr, k: number) {
	const cg = Array.from({ length: k }, (_, i) => 1 / Math.log2(i + 2));
	const cgSum = cg.map((_, i) => cg.slice(0, i + 1).reduce((a, b) => a + b, 0));
	let relevant = 0;
	let prDiv = 0;
	let meanAp = 0;
	let ndcg = 0;
	let total = 0;
	for (let u = 0; u < test.rows; u++) {
		if (test.indptr[u] === test.indptr[u + 1]) continue;
		const likes = new Set(test.indices.subarray(test.indptr[u], test.indptr[u + 1]));
		const ids = Array.from({ length: k }, (_, i) => lists[u][i] ?? -1);
		prDiv += Math.min(k, likes.size);
		let ap = 0;
		let hit = 0;
		const idcg = cgSum[Math.min(k, likes.size) - 1];
		for (let i = 0; i < k; i++) {
			if (likes.has(ids[i])) {
				relevant++;
				hit++;
				ap += hit / (i + 1);
				ndcg += cg[i] / idcg;
			}
		}
		meanAp += ap / Math.min(k, likes.size);
		total++;
	}
	return { precision: relevant / prDiv, map: meanAp / total, ndcg: ndcg / total };
}

describe('rankingMetrics against a port of implicit on random data', () => {
	it.each([1, 2, 3])('seed %i', (seed) => {
		const rng = new Rng(seed);
		const users = 60;
		const cols = 30;
		const k = 7;
		const rows: number[][] = [];
		const lists: number[][] = [];
		for (let u = 0; u < users; u++) {
			const perm = rng.shuffle(Array.from({ length: cols }, (_, i) => i));
			rows.push(perm.slice(0, rng.int(12)));
			const list = rng.shuffle(Array.from({ length: cols }, (_, i) => i)).slice(0, 1 + rng.int(k));
			lists.push(list); // some lists shorter than k: padded with -1 below
		}
		const test = csrFromRows(rows, cols);
		const m = rankingMetrics(topNOf(lists, k), Int32Array.from(lists.keys()), test, k);
		const ref = implicitLoop(lists, test, k);
		expect(m.pooledPrecision).toBeCloseTo(ref.precision, 12);
		expect(m.map).toBeCloseTo(ref.map, 12);
		expect(m.ndcg).toBeCloseTo(ref.ndcg, 12);
		// Per-user means of precision and recall, computed plainly.
		let p = 0;
		let r = 0;
		let n = 0;
		rows.forEach((t, u) => {
			if (t.length === 0) return;
			const hits = lists[u].slice(0, k).filter((i) => t.includes(i)).length;
			p += hits / Math.min(k, t.length);
			r += hits / t.length;
			n++;
		});
		expect(m.users).toBe(n);
		expect(m.precision).toBeCloseTo(p / n, 12);
		expect(m.recall).toBeCloseTo(r / n, 12);
	});
});
