import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fit, halfSweep } from '../../../src/lib/core/als/fit';
import { AlsModel } from '../../../src/lib/core/als/model';
import { alsParams } from '../../../src/lib/core/als/params';
import { buildRowBlocks, disposeRowBlock } from '../../../src/lib/core/als/row_blocks';
import { csrFromTriplets, type Csr } from '../../../src/lib/core/data/csr';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { maxAbsDiff } from '../../helpers/reference_als';
import { randomCsr } from '../../helpers/random_csr';
import { onBackend, TF_BACKENDS } from '../../helpers/tf_node';

/** implicit's fixture: user u likes item i when u + i is even, except the diagonal i = u. */
function checkerboard(n: number): Csr {
	const r: number[] = [];
	const c: number[] = [];
	for (let u = 0; u < n; u++) {
		for (let i = u % 2; i < n; i += 2) {
			if (i === u) continue;
			r.push(u);
			c.push(i);
		}
	}
	return csrFromTriplets(
		n,
		n,
		Int32Array.from(r),
		Int32Array.from(c),
		new Float32Array(r.length).fill(1)
	).matrix;
}

function rowOf(m: Csr, u: number): { items: Int32Array; weights: Float32Array } {
	return {
		items: m.indices.slice(m.indptr[u], m.indptr[u + 1]),
		weights: m.data.slice(m.indptr[u], m.indptr[u + 1])
	};
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let s = 0;
	for (let k = 0; k < a.length; k++) s += a[k] * b[k];
	return s;
}

describe.each(TF_BACKENDS)('AlsModel on %s', (backend) => {
	onBackend(backend);

	const F = 6;
	const m = randomCsr(25, 30, 0.2, 21, [7]);
	let model: AlsModel;
	let x: Float32Array;
	let y: Float32Array;
	const yRow = (i: number) => y.subarray(i * F, (i + 1) * F);

	beforeAll(async () => {
		model = await fit(m, { factors: F, iterations: 20, cgSteps: 2 * F, regularization: 0.1 });
		({ userFactors: x, itemFactors: y } = model.toArrays());
	});
	afterAll(() => model.dispose());

	it('ranks the withheld checkerboard item first for every user', async () => {
		const board = checkerboard(50);
		const cm = await fit(board, { factors: 4, iterations: 15, cgSteps: 8, regularization: 0.01 });
		try {
			const users = Int32Array.from({ length: 50 }, (_, u) => u);
			const top = await cm.recommend(users, 1, board);
			expect(Array.from(top.items)).toEqual(Array.from(users));
		} finally {
			cm.dispose();
		}
	});

	it('recommend excludes listened items and scores by x.y, best first', async () => {
		const users = Int32Array.from({ length: 25 }, (_, u) => u);
		const top = await model.recommend(users, 5, m);
		expect(top.n).toBe(5);
		for (let u = 0; u < 25; u++) {
			const seen = new Set(rowOf(m, u).items);
			const items = Array.from(top.items.subarray(u * 5, u * 5 + 5));
			const scores = Array.from(top.scores.subarray(u * 5, u * 5 + 5));
			items.forEach((i, j) => {
				expect(seen.has(i)).toBe(false);
				expect(scores[j]).toBeCloseTo(dot(x.subarray(u * F, (u + 1) * F), yRow(i)), 5);
			});
			// The best unseen item by a plain scan.
			let best = -1;
			let bestScore = -Infinity;
			for (let i = 0; i < 30; i++) {
				const s = dot(x.subarray(u * F, (u + 1) * F), yRow(i));
				if (!seen.has(i) && s > bestScore) [best, bestScore] = [i, s];
			}
			expect(scores[0]).toBeCloseTo(bestScore, 5);
			if (u !== 7) expect(items[0]).toBe(best);
			for (let j = 1; j < 5; j++) expect(scores[j]).toBeLessThanOrEqual(scores[j - 1]);
		}
	});

	it('batch recommend equals per-user recommend', async () => {
		const users = Int32Array.of(3, 0, 24, 3, 11);
		const batch = await model.recommend(users, 4, m);
		for (let b = 0; b < users.length; b++) {
			const one = await model.recommend(users.subarray(b, b + 1), 4, m);
			expect(Array.from(batch.items.subarray(b * 4, b * 4 + 4))).toEqual(Array.from(one.items));
		}
	});

	it('pads with -1 when fewer than n items are eligible', async () => {
		const all = Array.from({ length: 28 }, (_, i) => i); // user 0 has seen 28 of 30 items
		const ex = csrFromTriplets(
			1,
			30,
			new Int32Array(28),
			Int32Array.from(all),
			new Float32Array(28).fill(1)
		).matrix;
		const top = await model.recommend(Int32Array.of(0), 5, ex);
		expect(new Set(Array.from(top.items.subarray(0, 2)))).toEqual(new Set([28, 29]));
		expect(Array.from(top.items.subarray(2))).toEqual([-1, -1, -1]);
		expect(Array.from(top.scores.subarray(2))).toEqual([-Infinity, -Infinity, -Infinity]);
		const wide = await model.recommend(Int32Array.of(1), 40);
		expect(Array.from(wide.items.subarray(30))).toEqual(new Array(10).fill(-1));
		expect(new Set(Array.from(wide.items.subarray(0, 30))).size).toBe(30);
	});

	it('scorePairs equals the dot products', async () => {
		const us = Int32Array.of(0, 5, 24, 9);
		const is = Int32Array.of(1, 29, 0, 9);
		const s = await model.scorePairs(us, is);
		us.forEach((u, k) =>
			expect(s[k]).toBeCloseTo(dot(x.subarray(u * F, (u + 1) * F), yRow(is[k])), 5)
		);
	});

	it('similarItems is cosine top-n without the item itself', async () => {
		const norm = (i: number) => Math.sqrt(dot(yRow(i), yRow(i)));
		for (const item of [0, 13, 29]) {
			const sim = await model.similarItems(item, 4);
			const want = Array.from({ length: 30 }, (_, i) => i)
				.filter((i) => i !== item)
				.map((i) => ({ i, s: dot(yRow(i), yRow(item)) / (norm(i) * norm(item)) }))
				.sort((a, b) => b.s - a.s)
				.slice(0, 4);
			expect(Array.from(sim.items)).not.toContain(item);
			want.forEach((w, j) => expect(sim.scores[j]).toBeCloseTo(w.s, 5));
			expect(sim.items[0]).toBe(want[0].i);
		}
	});

	it('foldIn of a user equals an exact user step against the fitted items', async () => {
		const exact = tf.tidy(() => {
			const blocks = buildRowBlocks(m, alsParams({ factors: F }), 1 << 30);
			try {
				return halfSweep(blocks, model.userFactors, model.itemFactors, {
					regularization: 0.1,
					cgSteps: 3 * F
				});
			} finally {
				blocks.forEach(disposeRowBlock);
			}
		});
		const want = exact.dataSync();
		exact.dispose();
		for (const u of [0, 4, 12, 24]) {
			const { items, weights } = rowOf(m, u);
			const got = model.foldIn(items, weights);
			const w = want.subarray(u * F, (u + 1) * F);
			expect(maxAbsDiff(got, w) / Math.max(...Array.from(w, Math.abs))).toBeLessThan(1e-4);
			// After 20 exact sweeps the stored factors are close to that solution too.
			const stored = x.subarray(u * F, (u + 1) * F);
			expect(maxAbsDiff(got, stored) / Math.max(...Array.from(stored, Math.abs))).toBeLessThan(
				0.05
			);
		}
		expect(Array.from(model.foldIn(new Int32Array(0), new Float32Array(0)))).toEqual(
			new Array(F).fill(0)
		);
	});

	it('recommendForFactors of a folded-in user matches recommend', async () => {
		const { items, weights } = rowOf(m, 2);
		const xf = model.foldIn(items, weights);
		const viaFactors = await model.recommendForFactors(xf, 5, items);
		const viaModel = await model.recommend(Int32Array.of(2), 5, m);
		expect(Array.from(viaFactors.items)).toEqual(Array.from(viaModel.items));
	});

	it('explain contributions sum to the fold-in score', () => {
		const { items, weights } = rowOf(m, 5);
		for (const item of [0, 17, 29]) {
			const ex = model.explain(items, weights, item);
			const score = dot(model.foldIn(items, weights), yRow(item));
			const sum = ex.contributions.reduce((s, c) => s + c.score, 0);
			expect(ex.contributions.map((c) => c.item).sort((a, b) => a - b)).toEqual(
				Array.from(items).sort((a, b) => a - b)
			);
			expect(sum).toBeCloseTo(ex.total, 10);
			expect(ex.total).toBeCloseTo(score, 5);
			for (let k = 1; k < ex.contributions.length; k++) {
				expect(ex.contributions[k].score).toBeLessThanOrEqual(ex.contributions[k - 1].score);
			}
		}
	});

	it('round-trips through toArrays / fromArrays', async () => {
		const copy = AlsModel.fromArrays(model.toArrays(), model.params);
		try {
			const a = await copy.recommend(Int32Array.of(0, 1), 3);
			const b = await model.recommend(Int32Array.of(0, 1), 3);
			expect(a).toEqual(b);
		} finally {
			copy.dispose();
		}
	});

	it('rejects out-of-range users with als/bad-input', async () => {
		await expect(model.recommend(Int32Array.of(25), 1)).rejects.toMatchObject({
			code: 'als/bad-input'
		});
		expect(() => model.foldIn(Int32Array.of(30), Float32Array.of(1))).toThrow(/out of/);
	});

	it('leaks no tensor over fit, recommend, similarItems, explain and dispose', async () => {
		const before = tf.memory().numTensors;
		const mm = await fit(m, { factors: 4, iterations: 2 });
		await mm.recommend(Int32Array.of(0, 1, 2), 3, m);
		await mm.similarItems(3, 5);
		await mm.scorePairs(Int32Array.of(0), Int32Array.of(1));
		const { items, weights } = rowOf(m, 0);
		await mm.recommendForFactors(mm.foldIn(items, weights), 3, items);
		mm.explain(items, weights, 2);
		mm.toArrays();
		(mm as unknown as Disposable)[Symbol.dispose]();
		expect(tf.memory().numTensors).toBe(before);
		const err = await mm.recommend(Int32Array.of(0), 1).catch((e: unknown) => e);
		expect(isMusicrecError(err, 'als/disposed')).toBe(true);
	});
});
