import type { Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import type { TopN } from './ranker';

/**
 * Ranking metrics at k, each the mean over evaluated users (users with at least one test item).
 * For user u with test set T_u, top-k list L_u (0-based ranks r, -1 padding never hits),
 * hits h_u = |L_u ∩ T_u| and m_u = min(k, |T_u|):
 * - precision = h_u / m_u (implicit's denominator, so a user with fewer than k test items can
 *   reach 1);
 * - recall = h_u / |T_u|;
 * - ndcg = DCG / IDCG, DCG = sum_{hit ranks r} 1/log2(r + 2), IDCG = sum_{r < m_u} 1/log2(r + 2);
 * - map: AP = (sum_{hit ranks r} (hits within ranks 0..r) / (r + 1)) / m_u.
 * `pooledPrecision` = sum_u h_u / sum_u m_u is the number implicit's `ranking_metrics_at_k`
 * reports as "precision" (a ratio of sums, not a mean over users).
 * All metrics are NaN when `users` is 0.
 */
export interface RankingMetrics {
	readonly k: number;
	readonly users: number;
	readonly precision: number;
	readonly recall: number;
	readonly ndcg: number;
	readonly map: number;
	readonly pooledPrecision: number;
}

/** Per-user sums behind `RankingMetrics`, so batches can be accumulated and then averaged. */
export interface RankingSums {
	k: number;
	users: number;
	precision: number;
	recall: number;
	ndcg: number;
	map: number;
	hits: number;
	/** sum_u min(k, |T_u|), the denominator of `pooledPrecision`. */
	possibleHits: number;
}

export function emptyRankingSums(k: number): RankingSums {
	return { k, users: 0, precision: 0, recall: 0, ndcg: 0, map: 0, hits: 0, possibleHits: 0 };
}

/**
 * Add the metrics of one batch to `sums` (in place; also returned). `topN` row b is the list of
 * `users[b]`; only its first k entries count, so `topN.n` must be >= k. Users with no test items
 * are skipped. An item repeated within a list counts as a hit once.
 */
export function accumulateRanking(
	sums: RankingSums,
	topN: TopN,
	users: Int32Array,
	test: Csr
): RankingSums {
	const { k } = sums;
	if (!Number.isInteger(k) || k < 1) {
		throw new MusicrecError('eval/bad-input', 'k must be a positive integer', { k });
	}
	if (topN.n < k) {
		throw new MusicrecError('eval/bad-input', 'top-n list shorter than k', { n: topN.n, k });
	}
	if (topN.items.length !== users.length * topN.n) {
		throw new MusicrecError('eval/bad-input', 'top-n size differs from users * n', {
			items: topN.items.length,
			users: users.length,
			n: topN.n
		});
	}
	// discount[r] = 1/log2(r + 2); ideal[m] = sum_{r < m} discount[r].
	const discount = new Float64Array(k);
	const ideal = new Float64Array(k + 1);
	for (let r = 0; r < k; r++) {
		discount[r] = 1 / Math.log2(r + 2);
		ideal[r + 1] = ideal[r] + discount[r];
	}
	const hitItems = new Int32Array(k);
	for (let b = 0; b < users.length; b++) {
		const u = users[b];
		if (!(u >= 0 && u < test.rows)) {
			throw new MusicrecError('eval/bad-input', 'user index outside the test matrix', {
				user: u,
				rows: test.rows
			});
		}
		const start = test.indptr[u];
		const end = test.indptr[u + 1];
		const size = end - start;
		if (size === 0) continue;
		let hits = 0;
		let dcg = 0;
		let ap = 0;
		const base = b * topN.n;
		for (let r = 0; r < k; r++) {
			const item = topN.items[base + r];
			if (item < 0 || !sortedHas(test.indices, start, end, item)) continue;
			if (hitItems.subarray(0, hits).includes(item)) continue;
			hitItems[hits++] = item;
			dcg += discount[r];
			ap += hits / (r + 1);
		}
		const possible = Math.min(k, size);
		sums.users++;
		sums.hits += hits;
		sums.possibleHits += possible;
		sums.precision += hits / possible;
		sums.recall += hits / size;
		sums.ndcg += dcg / ideal[possible];
		sums.map += ap / possible;
	}
	return sums;
}

/** Whether `a[start..end)`, sorted ascending, contains `x` (binary search). */
function sortedHas(a: Int32Array, start: number, end: number, x: number): boolean {
	let lo = start;
	let hi = end;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (a[mid] < x) lo = mid + 1;
		else hi = mid;
	}
	return lo < end && a[lo] === x;
}

/** Means over evaluated users (NaN when there are none). */
export function finishRanking(sums: RankingSums): RankingMetrics {
	const n = sums.users;
	return {
		k: sums.k,
		users: n,
		precision: n > 0 ? sums.precision / n : NaN,
		recall: n > 0 ? sums.recall / n : NaN,
		ndcg: n > 0 ? sums.ndcg / n : NaN,
		map: n > 0 ? sums.map / n : NaN,
		pooledPrecision: sums.possibleHits > 0 ? sums.hits / sums.possibleHits : NaN
	};
}

/**
 * Precision, recall, NDCG and MAP at k (see `RankingMetrics`) of the lists in `topN` for
 * `users` against the held-out matrix `test`. Pure: no model involved.
 */
export function rankingMetrics(topN: TopN, users: Int32Array, test: Csr, k = 10): RankingMetrics {
	return finishRanking(accumulateRanking(emptyRankingSums(k), topN, users, test));
}
