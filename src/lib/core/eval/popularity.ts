import type { Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import type { Ranker, TopN } from './ranker';

/**
 * Popularity baseline: an item's score is the number of train users who have it (the count
 * of stored entries in its column, ignoring weights, so a few heavy listeners cannot make an
 * item "popular"). Every user gets the same ranking, most popular first, ties broken by the
 * lower item index, minus the items of the user's row in `exclude`.
 */
export class PopularityRanker implements Ranker {
	/** Score per item: number of train users with the item. */
	readonly popularity: Float32Array;
	/** Item indices by decreasing popularity (ties: ascending index). */
	readonly order: Int32Array;

	constructor(train: Csr) {
		const counts = new Float32Array(train.cols);
		const n = train.indptr[train.rows];
		for (let e = 0; e < n; e++) counts[train.indices[e]]++;
		const order = new Int32Array(train.cols);
		for (let i = 0; i < order.length; i++) order[i] = i;
		order.sort((a, b) => counts[b] - counts[a] || a - b);
		this.popularity = counts;
		this.order = order;
	}

	/**
	 * Top-n by popularity for each user, skipping the items in the user's row of `exclude`;
	 * rows are padded with item -1 and score -Infinity when fewer than n items are eligible.
	 * Cost per user: O(n + |excluded row|).
	 */
	async recommend(users: Int32Array, n: number, exclude?: Csr): Promise<TopN> {
		if (!Number.isInteger(n) || n < 0) {
			throw new MusicrecError('eval/bad-input', 'n must be a non-negative integer', { n });
		}
		const cols = this.popularity.length;
		if (exclude && exclude.cols !== cols) {
			throw new MusicrecError('eval/bad-input', 'exclude matrix has a different item count', {
				items: cols,
				excludeCols: exclude.cols
			});
		}
		const items = new Int32Array(users.length * n).fill(-1);
		const scores = new Float32Array(users.length * n).fill(-Infinity);
		// excluded[item] === stamp marks the current user's excluded items.
		const excluded = new Int32Array(cols);
		for (let b = 0; b < users.length; b++) {
			const stamp = b + 1;
			if (exclude) {
				const u = users[b];
				if (!(u >= 0 && u < exclude.rows)) {
					throw new MusicrecError('eval/bad-input', 'user index outside the exclude matrix', {
						user: u,
						rows: exclude.rows
					});
				}
				for (let e = exclude.indptr[u]; e < exclude.indptr[u + 1]; e++) {
					excluded[exclude.indices[e]] = stamp;
				}
			}
			let filled = 0;
			const base = b * n;
			for (let t = 0; t < cols && filled < n; t++) {
				const item = this.order[t];
				if (excluded[item] === stamp) continue;
				items[base + filled] = item;
				scores[base + filled] = this.popularity[item];
				filled++;
			}
		}
		return { n, items, scores };
	}

	/** Popularity of each item (the user is ignored). */
	async scorePairs(users: Int32Array, items: Int32Array): Promise<Float32Array> {
		if (users.length !== items.length) {
			throw new MusicrecError('eval/bad-input', 'users and items differ in length', {
				users: users.length,
				items: items.length
			});
		}
		const cols = this.popularity.length;
		const out = new Float32Array(items.length);
		for (let k = 0; k < items.length; k++) {
			const i = items[k];
			if (!(i >= 0 && i < cols)) {
				throw new MusicrecError('eval/bad-input', 'item index out of range', { item: i, cols });
			}
			out[k] = this.popularity[i];
		}
		return out;
	}
}
