import { csrFromTriplets } from '../data/csr';
import type { Interactions } from '../data/interactions';
import { rankingMetrics } from '../eval/metrics';
import type { TopN } from '../eval/ranker';
import { holdoutSplit } from '../eval/split';
import { computeClientUpdate } from './client_update';
import type { PublishedGlobal } from './global_file';

export interface GlobalEvaluationOptions {
	/** Seed of the per-user holdout; the same seed and data give the same split every round. */
	readonly seed: number;
	/** Fraction of each user's entries held out (holdoutSplit's default 0.2 when absent). */
	readonly testFraction?: number;
	/** Cut-off of the lists. Default 10. */
	readonly k?: number;
}

/** Metrics of a global on a holder's own data (means over the evaluated users). */
export interface GlobalEvaluation {
	readonly k: number;
	readonly ndcg: number;
	readonly precision: number;
	/** Users with at least one catalog song in both their train and their held-out part. */
	readonly users: number;
	/** Held-out entries whose song the catalog lacks (left out: no global can rank them). */
	readonly unknownTestEntries: number;
}

/**
 * Score a global on local data, as a coordinator does with its own validation data: a seeded
 * per-user holdout (`holdoutSplit`) of `data`; each user's factors solved exactly against the
 * global's Y from the train part (the client solve of `computeClientUpdate`); scores
 * `s_ui = y_i . x_u` over the whole catalog minus the user's train songs, top-k with ties
 * broken by the lower catalog index; `rankingMetrics` against the held-out songs mapped to
 * the catalog. Users without a catalog song on both sides are not evaluated.
 */
export function evaluateGlobal(
	global: PublishedGlobal,
	data: Interactions,
	options: GlobalEvaluationOptions
): GlobalEvaluation {
	const k = options.k ?? 10;
	const { model } = global;
	const f = model.params.factors;
	const y = model.itemFactors;
	const n = model.catalog.length;
	const split = holdoutSplit(
		{ matrix: data.matrix },
		options.testFraction === undefined
			? { seed: options.seed }
			: { seed: options.seed, testFraction: options.testFraction }
	);
	const x = computeClientUpdate(
		global,
		{ users: data.users, items: data.items, matrix: split.train },
		{ random: () => 0 }
	).userFactors;

	const position = new Map<string, number>();
	model.catalog.forEach((id, i) => position.set(id, i));
	const toCatalog = new Int32Array(data.items.size);
	for (let j = 0; j < toCatalog.length; j++) {
		toCatalog[j] = position.get(data.items.idAt(j)) ?? -1;
	}

	// Held-out entries in catalog columns; the users to evaluate.
	const { train, test } = split;
	const rows: number[] = [];
	const cols: number[] = [];
	const evaluated: number[] = [];
	let unknownTestEntries = 0;
	for (let u = 0; u < test.rows; u++) {
		let testHits = 0;
		for (let p = test.indptr[u]; p < test.indptr[u + 1]; p++) {
			const i = toCatalog[test.indices[p]];
			if (i < 0) {
				unknownTestEntries++;
				continue;
			}
			rows.push(u);
			cols.push(i);
			testHits++;
		}
		let trainHits = 0;
		for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
			if (toCatalog[train.indices[p]] >= 0) trainHits++;
		}
		if (testHits > 0 && trainHits > 0) evaluated.push(u);
	}
	const testCatalog = csrFromTriplets(
		test.rows,
		n,
		Int32Array.from(rows),
		Int32Array.from(cols),
		new Float32Array(rows.length).fill(1)
	).matrix;

	const users = Int32Array.from(evaluated);
	const items = new Int32Array(users.length * k).fill(-1);
	const scores = new Float32Array(users.length * k);
	const excluded = new Uint8Array(n);
	const bestScore = new Float64Array(k);
	const bestItem = new Int32Array(k);
	for (let b = 0; b < users.length; b++) {
		const u = users[b];
		for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
			const i = toCatalog[train.indices[p]];
			if (i >= 0) excluded[i] = 1;
		}
		// Insertion into a sorted top-k: strictly greater scores move up, so ties keep the
		// lower index first.
		let filled = 0;
		for (let i = 0; i < n; i++) {
			if (excluded[i] === 1) continue;
			let s = 0;
			for (let r = 0; r < f; r++) s += x[u * f + r] * y[i * f + r];
			if (filled === k && s <= bestScore[k - 1]) continue;
			let at = filled < k ? filled++ : k - 1;
			while (at > 0 && s > bestScore[at - 1]) {
				bestScore[at] = bestScore[at - 1];
				bestItem[at] = bestItem[at - 1];
				at--;
			}
			bestScore[at] = s;
			bestItem[at] = i;
		}
		for (let r = 0; r < filled; r++) {
			items[b * k + r] = bestItem[r];
			scores[b * k + r] = bestScore[r];
		}
		for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
			const i = toCatalog[train.indices[p]];
			if (i >= 0) excluded[i] = 0;
		}
	}
	const topN: TopN = { n: k, items, scores };
	const metrics = rankingMetrics(topN, users, testCatalog, k);
	return {
		k,
		ndcg: metrics.ndcg,
		precision: metrics.precision,
		users: metrics.users,
		unknownTestEntries
	};
}
