import { describe, expect, it } from 'vitest';
import { alsParams, type AlsParams } from '../../../src/lib/core/als/params';
import { csrFromTriplets } from '../../../src/lib/core/data/csr';
import type { Interactions } from '../../../src/lib/core/data/interactions';
import { Vocabulary } from '../../../src/lib/core/data/vocabulary';
import { holdoutSplit } from '../../../src/lib/core/eval/split';
import { Rng } from '../../../src/lib/core/random';
import { evaluateGlobal } from '../../../src/lib/core/federation/global_eval';
import { createInitialGlobal, publishGlobal } from '../../../src/lib/core/federation/global_file';
import { exactHalfStep } from '../../helpers/reference_als';

const params = alsParams({ factors: 4, regularization: 0.2, alpha: 3, seed: 5 });
const f = params.factors;

/** 30 users over 40 local songs ('t0'..'t39'), 6 to 14 distinct songs each, weights 1..3. */
function localData(): Interactions {
	const rng = new Rng(11);
	const users = new Vocabulary();
	const items = new Vocabulary();
	for (let j = 0; j < 40; j++) items.add(`t${j}`);
	const r: number[] = [];
	const c: number[] = [];
	const w: number[] = [];
	for (let u = 0; u < 30; u++) {
		users.add(`user${u}`);
		const picked = new Set<number>();
		const n = 6 + Math.floor(rng.next() * 9);
		while (picked.size < n) picked.add(Math.floor(rng.next() * 40));
		for (const j of picked) {
			r.push(u);
			c.push(j);
			w.push(1 + Math.floor(rng.next() * 3));
		}
	}
	const { matrix } = csrFromTriplets(
		30,
		40,
		Int32Array.from(r),
		Int32Array.from(c),
		Float32Array.from(w)
	);
	return { users, items, matrix };
}

/**
 * Independent NDCG@k / P@k (default k = 10): catalog columns built here, users solved by the
 * reference half-step, every candidate scored and fully sorted, metrics by their textbook
 * formulas.
 */
function bruteForce(
	data: Interactions,
	catalog: readonly string[],
	y: Float32Array,
	seed: number,
	k = 10,
	p: AlsParams = params
) {
	const f = p.factors;
	const split = holdoutSplit({ matrix: data.matrix }, { seed });
	const col = (j: number) => catalog.indexOf(data.items.idAt(j));
	const tr: number[][] = [];
	const te: number[][] = [];
	const rows: number[] = [];
	const cols: number[] = [];
	const vals: number[] = [];
	for (let u = 0; u < data.users.size; u++) {
		tr.push([]);
		te.push([]);
		for (let p = split.train.indptr[u]; p < split.train.indptr[u + 1]; p++) {
			const i = col(split.train.indices[p]);
			if (i < 0) continue;
			tr[u].push(i);
			rows.push(u);
			cols.push(i);
			vals.push(split.train.data[p]);
		}
		for (let p = split.test.indptr[u]; p < split.test.indptr[u + 1]; p++) {
			const i = col(split.test.indices[p]);
			if (i >= 0) te[u].push(i);
		}
	}
	const train = csrFromTriplets(
		data.users.size,
		catalog.length,
		Int32Array.from(rows),
		Int32Array.from(cols),
		Float32Array.from(vals)
	).matrix;
	const x = exactHalfStep(train, Float64Array.from(y), p);
	let ndcg = 0;
	let precision = 0;
	let users = 0;
	/** NDCG of each evaluated user, in user order. */
	const perUser: number[] = [];
	for (let u = 0; u < data.users.size; u++) {
		if (tr[u].length === 0 || te[u].length === 0) continue;
		users++;
		const candidates = catalog.map((_, i) => i).filter((i) => !tr[u].includes(i));
		const score = (i: number) => {
			let s = 0;
			for (let r = 0; r < f; r++) s += x[u * f + r] * y[i * f + r];
			return s;
		};
		candidates.sort((a, b) => score(b) - score(a) || a - b);
		const top = candidates.slice(0, k);
		let dcg = 0;
		let hits = 0;
		top.forEach((i, r) => {
			if (te[u].includes(i)) {
				dcg += 1 / Math.log2(r + 2);
				hits++;
			}
		});
		const m = Math.min(k, te[u].length);
		let idcg = 0;
		for (let r = 0; r < m; r++) idcg += 1 / Math.log2(r + 2);
		ndcg += dcg / idcg;
		perUser.push(dcg / idcg);
		precision += hits / m;
	}
	return { ndcg: ndcg / users, precision: precision / users, users, perUser };
}

describe('evaluateGlobal (metrics of a global on the coordinator data)', () => {
	// Catalog: 36 of the 40 local songs in another order, plus 5 songs the data lacks.
	const catalog = [
		...Array.from({ length: 36 }, (_, j) => `t${(j * 7) % 40}`),
		...Array.from({ length: 5 }, (_, j) => `extra${j}`)
	];
	const missing = Array.from({ length: 40 }, (_, j) => `t${j}`).filter(
		(id) => !catalog.includes(id)
	);

	it('matches a brute-force NDCG@10 and P@10', () => {
		expect(new Set(catalog).size).toBe(41);
		expect(missing.length).toBe(4);
		const data = localData();
		const global = publishGlobal(
			createInitialGlobal({
				federationId: 'eval',
				mode: 'exact',
				params,
				catalog,
				// Spread-out factors so that rankings have no near-ties.
				itemFactors: Float32Array.from({ length: catalog.length * f }, (_, i) =>
					Math.sin(i * 1.7 + 0.3)
				)
			})
		);
		const got = evaluateGlobal(global, data, { seed: 9 });
		const want = bruteForce(data, catalog, global.model.itemFactors, 9);
		expect(got.users).toBe(want.users);
		expect(got.users).toBeGreaterThan(20);
		expect(got.ndcg).toBeCloseTo(want.ndcg, 9);
		expect(got.precision).toBeCloseTo(want.precision, 9);
		// A non-trivial case: neither zero nor perfect.
		expect(got.ndcg).toBeGreaterThan(0);
		expect(got.ndcg).toBeLessThan(1);
		// Held-out entries of the 4 uncatalogued songs are counted, not evaluated.
		const split = holdoutSplit({ matrix: data.matrix }, { seed: 9 });
		let unknown = 0;
		for (let p = 0; p < split.test.indptr[split.test.rows]; p++) {
			if (missing.includes(data.items.idAt(split.test.indices[p]))) unknown++;
		}
		expect(got.unknownTestEntries).toBe(unknown);
	});

	it("never lists a user's train songs: with k = 2 the two other songs fill the list", () => {
		// Two users over three songs; each holds two, so one is held out and one stays in train.
		const users = new Vocabulary();
		const items = new Vocabulary();
		['a', 'b'].forEach((u) => users.add(u));
		['s0', 's1', 's2'].forEach((s) => items.add(s));
		const { matrix } = csrFromTriplets(
			2,
			3,
			Int32Array.from([0, 0, 1, 1]),
			Int32Array.from([0, 1, 1, 2]),
			Float32Array.from([1, 1, 1, 1])
		);
		const global = publishGlobal(
			createInitialGlobal({
				federationId: 'tiny',
				mode: 'exact',
				params: { factors: 2 },
				catalog: ['s0', 's1', 's2']
			})
		);
		const data = { users, items, matrix };
		const got = evaluateGlobal(global, data, { seed: 1, k: 1 });
		// Catalog minus the train song leaves 2 candidates: NDCG@1 is 1 or 0 per user; P = NDCG.
		expect(got.users).toBe(2);
		expect(got.precision).toBe(got.ndcg);
		const small = global.model.params;
		const want1 = bruteForce(data, global.model.catalog, global.model.itemFactors, 1, 1, small);
		expect(got.ndcg).toBe(want1.ndcg);
		const loose = evaluateGlobal(global, data, { seed: 1, k: 2 });
		// With k = 2 both remaining songs are listed, so each user's held-out song is hit, at
		// rank 1 (gain 1) or rank 2 (gain 1 / log2 3).
		expect(loose.precision).toBe(1);
		const want2 = bruteForce(data, global.model.catalog, global.model.itemFactors, 1, 2, small);
		expect(loose.ndcg).toBeCloseTo(want2.ndcg, 12);
		const perUser = [0, 1].map((u) => (want1.perUser[u] === 1 ? 1 : 1 / Math.log2(3)));
		expect(loose.ndcg).toBeCloseTo((perUser[0] + perUser[1]) / 2, 12);
	});
});
