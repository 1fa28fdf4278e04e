import type { Csr } from '../data/csr';

/** Top-n lists for a batch of users, row-major: user b's list is `items[b*n .. (b+1)*n)`. */
export interface TopN {
	readonly n: number;
	/** Item indices, best first; -1 where fewer than n items were eligible. */
	readonly items: Int32Array;
	readonly scores: Float32Array;
}

/**
 * What evaluation needs from a model: batch top-n and pair scores. ALS and the popularity
 * baseline both implement it, so every model is evaluated by the same code.
 */
export interface Ranker {
	/** Top-n for each user in `users`; items in that user's row of `exclude` are never returned. */
	recommend(users: Int32Array, n: number, exclude?: Csr): Promise<TopN>;
	/** Score of each (users[k], items[k]) pair. */
	scorePairs(users: Int32Array, items: Int32Array): Promise<Float32Array>;
}
