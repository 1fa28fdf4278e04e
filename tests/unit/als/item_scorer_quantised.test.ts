import { describe, expect, it } from 'vitest';
import { ItemScorer } from '../../../src/lib/core/als/kernel/item_scorer';
import type { TopN } from '../../../src/lib/core/eval/ranker';
import { Rng } from '../../../src/lib/core/random';
import { randomArray } from '../../helpers/random_csr';

/**
 * The int8 candidate pass with exact rescoring (`topN`) against the full float32 pass
 * (`topNExact`, itself tested against AlsModel in item_scorer.test.ts): the same songs in the
 * same order with bit-identical scores.
 */
function expectSame(got: TopN, want: TopN): void {
	expect(Array.from(got.items)).toEqual(Array.from(want.items));
	expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
}

const row = (f: number, fill: (k: number) => number) =>
	Array.from({ length: f }, (_, k) => fill(k));

/** Top n by the quantised pass, how many songs it rescored, then the same by the exact pass. */
function bothPasses(scorer: ItemScorer, x: Float32Array, n: number, exclude?: Int32Array) {
	const quantised = scorer.topN(x, n, exclude);
	const rescored = scorer.lastRescored;
	return { quantised, rescored, exact: scorer.topNExact(x, n, exclude) };
}

describe('ItemScorer quantised candidates: identical to the exact pass', () => {
	it.each([
		[4, 3000, 1],
		[13, 3000, 10],
		[64, 4000, 10],
		[100, 2000, 50],
		[130, 1500, 10]
	])('random factors, f = %i, %i songs, top %i, with exclusions', async (f, items, n) => {
		const scorer = await ItemScorer.create(randomArray(items * f, f * 3 + 1), f);
		expect(scorer.quantised).toBe(true);
		const rng = new Rng(f);
		for (let u = 0; u < 8; u++) {
			const x = randomArray(f, 100 * f + u, -2, 2);
			const exclude = Int32Array.from({ length: 25 }, () => rng.int(items));
			// the exact best few are excluded too, so that the exclusions matter
			const exact = scorer.topNExact(x, n, exclude);
			const moreExcluded = Int32Array.from([...exclude, ...exact.items.subarray(0, 3)]);
			for (const ex of [new Int32Array(0), exclude, moreExcluded]) {
				const want = scorer.topNExact(x, n, ex);
				const got = scorer.topN(x, n, ex);
				expectSame(got, want);
				// the candidate pass ran and pruned: far fewer songs rescored than there are
				expect(scorer.lastRescored).toBeGreaterThanOrEqual(n);
				expect(scorer.lastRescored).toBeLessThan(items / 4);
			}
		}
	});

	it('exact ties across the top-n boundary go to the lower index', async () => {
		const f = 24;
		const protos = [0, 1, 2, 3, 4].map((p) => randomArray(f, 500 + p));
		const items = 2000;
		const data = new Float32Array(items * f);
		for (let i = 0; i < items; i++) data.set(protos[(i * 7) % 5], i * f);
		const scorer = await ItemScorer.create(data, f);
		for (let u = 0; u < 5; u++) {
			const x = randomArray(f, 600 + u);
			for (const n of [1, 10, 399, 401]) {
				const got = scorer.topN(x, n, Int32Array.of(0, 3, 5));
				expectSame(got, scorer.topNExact(x, n, Int32Array.of(0, 3, 5)));
				// every song of the best group ties, and they come in index order
				const ties = Array.from(got.items).filter((_, k) => got.scores[k] === got.scores[0]);
				expect(ties).toEqual([...ties].sort((a, b) => a - b));
				// 400 songs per prototype, 398 in the one that lost songs 0 and 5 to the exclusions
				expect(ties.length).toBeGreaterThanOrEqual(Math.min(n, 398));
			}
		}
	});

	it('near-ties below the int8 resolution: scores one or a few ulps apart', async () => {
		const f = 32;
		const items = 1200;
		const base = randomArray(f, 700);
		const dir = randomArray(f, 701);
		const rng = new Rng(702);
		const data = new Float32Array(items * f);
		for (let i = 0; i < items; i++) {
			// the same int8 row for every song; the float32 rows differ in the last bits
			const eta = (rng.next() - 0.5) * 2 ** -16;
			for (let k = 0; k < f; k++) data[i * f + k] = base[k] + eta * dir[k];
		}
		const scorer = await ItemScorer.create(data, f);
		let distinct = 0;
		for (let u = 0; u < 5; u++) {
			const x = randomArray(f, 710 + u);
			const want = scorer.topNExact(x, 10);
			distinct = Math.max(distinct, new Set(want.scores).size);
			expectSame(scorer.topN(x, 10), want);
			expectSame(
				scorer.topN(x, 10, want.items.subarray(0, 4)),
				scorer.topNExact(x, 10, want.items.subarray(0, 4))
			);
		}
		// the top tens hold exact ties and scores a few ulps apart
		expect(distinct).toBeGreaterThan(2);
	});

	it('rounding errors aligned against the order: the bound is reached', async () => {
		// Rows [127, v_1, ..., v_16] have scale 1 and int8 row [127, round(v_k)] (ties to even).
		// With x = [1/64, 1 x 16] the approximation errs by sum_k (v_k - round(v_k)), |.| <= 8:
		//   A = [127, 2.5 x 16]:             approx 127/64 + 32, exact 127/64 + 40 (error +8)
		//   D = [127, 3.5 x 8, 1.5 x 8]:     approx 127/64 + 48, exact 127/64 + 40 (error -8)
		//   C = [127, 1 x 16]:               approx = exact = 127/64 + 16
		// A and D tie exactly and the ten A rows come first, so they are the top 10. The twenty
		// D rows set the 10th lower bound to approx_D - c; an A row is rescored only if
		// approx_A + c >= approx_D - c, that is c >= 8: the largest error itself.
		const f = 17;
		const items = 3000;
		const a = Array.from({ length: 10 }, (_, k) => 100 * (k + 1));
		const d = Array.from({ length: 20 }, (_, k) => 1100 + 50 * k);
		const kind = (i: number) => (a.includes(i) ? 'A' : d.includes(i) ? 'D' : 'C');
		const values = { A: () => 2.5, D: (k: number) => (k <= 8 ? 3.5 : 1.5), C: () => 1 };
		const data = new Float32Array(items * f);
		for (let i = 0; i < items; i++) {
			data.set(
				row(f, (k) => (k === 0 ? 127 : values[kind(i)](k))),
				i * f
			);
		}
		const x = Float32Array.from({ length: f }, (_, k) => (k === 0 ? 1 / 64 : 1));
		const scorer = await ItemScorer.create(data, f);
		const top10 = bothPasses(scorer, x, 10);
		expect(Array.from(top10.exact.items)).toEqual(a);
		expect(Array.from(top10.exact.scores)).toEqual(a.map(() => 127 / 64 + 40));
		expectSame(top10.quantised, top10.exact);
		// the A and D rows were rescored, the C rows pruned
		expect(top10.rescored).toBe(30);
		const top24 = bothPasses(scorer, x, 24);
		expect(Array.from(top24.exact.items)).toEqual([...a, ...d].slice(0, 24));
		expectSame(top24.quantised, top24.exact);
		const without = bothPasses(scorer, x, 10, Int32Array.of(100, 1100));
		expect(Array.from(without.exact.items)).toEqual([...a.slice(1), ...d.slice(1, 2)]);
		expectSame(without.quantised, without.exact);
		// signs flipped on every other factor, in the rows and in x: the same products
		const flipped = Float32Array.from(data, (v, j) => ((j % f) % 2 ? -v : v));
		const y = Float32Array.from(x, (v, k) => (k % 2 ? -v : v));
		const again = bothPasses(await ItemScorer.create(flipped, f), y, 10);
		expect(again.rescored).toBe(30);
		expectSame(again.quantised, top10.exact);
		expectSame(again.exact, top10.exact);
	});

	it('n beyond the eligible songs: padded like the exact pass', async () => {
		const f = 8;
		const items = 40;
		const scorer = await ItemScorer.create(randomArray(items * f, 800), f);
		const x = randomArray(f, 801);
		const exclude = Int32Array.from({ length: 15 }, (_, k) => k * 2);
		for (const n of [20, 25, 30, 39, 40, 60]) {
			const got = scorer.topN(x, n, exclude);
			expectSame(got, scorer.topNExact(x, n, exclude));
			expect(Array.from(got.items).filter((i) => i >= 0)).toHaveLength(Math.min(n, 25));
		}
		const all = Int32Array.from({ length: items }, (_, i) => i);
		const none = scorer.topN(x, 3, all);
		expect(Array.from(none.items)).toEqual([-1, -1, -1]);
		expect(Array.from(none.scores)).toEqual([-Infinity, -Infinity, -Infinity]);
	});

	it('large and small magnitudes inside the safe range keep the candidate pass', async () => {
		const f = 20;
		const items = 3000;
		const data = randomArray(items * f, 900);
		for (let i = 0; i < data.length; i++) data[i] *= i % 3 === 0 ? 1e6 : 1e-3;
		const scorer = await ItemScorer.create(data, f);
		expect(scorer.quantised).toBe(true);
		for (const scale of [1e-6, 1, 1e5]) {
			const x = Float32Array.from(randomArray(f, 901), (v) => v * scale);
			const both = bothPasses(scorer, x, 10, Int32Array.of(7, 8));
			expectSame(both.quantised, both.exact);
			expect(both.rescored).toBeLessThan(items / 10);
		}
	});

	it('factors outside the safe range or not finite: the exact pass', async () => {
		const f = 8;
		const items = 500;
		const tiny = Float32Array.from(randomArray(items * f, 1000), (v, i) => (i < f ? v * 1e-20 : v));
		const withNaN = randomArray(items * f, 1001);
		withNaN[5 * f + 2] = NaN;
		for (const data of [tiny, withNaN]) {
			const scorer = await ItemScorer.create(data, f);
			expect(scorer.quantised).toBe(false);
			const x = randomArray(f, 1002);
			const got = scorer.topN(x, 10);
			expect(scorer.lastRescored).toBe(items);
			expectSame(got, scorer.topNExact(x, 10));
			// the song with a NaN factor scores NaN and is never picked
			if (data === withNaN) expect(Array.from(got.items)).not.toContain(5);
		}
		// a factor vector out of range or zero
		const scorer = await ItemScorer.create(randomArray(items * f, 1003), f);
		expect(scorer.quantised).toBe(true);
		for (const x of [
			new Float32Array(f),
			new Float32Array(f).fill(1e-13),
			Float32Array.of(1, 2, Infinity, 0, 0, 0, 0, 0)
		]) {
			const got = scorer.topN(x, 10);
			expect(scorer.lastRescored).toBe(items);
			expectSame(got, scorer.topNExact(x, 10));
		}
	});

	it('rejects n that is not a positive integer', async () => {
		const scorer = await ItemScorer.create(randomArray(40, 1100), 4);
		expect(() => scorer.topN(new Float32Array(4), 0)).toThrow(/positive integer/);
		expect(() => scorer.topN(new Float32Array(4), 2.5)).toThrow(/positive integer/);
	});
});
