import { MusicrecError } from '../errors';
import { Rng } from '../random';
import type { Interactions } from './interactions';
import { Vocabulary } from './vocabulary';

export interface SyntheticOptions {
	users: number;
	items: number;
	/** Target number of distinct (user, item) pairs; see `syntheticZipf` for how close. */
	nnz: number;
	seed: number;
	/** Item popularity exponent s: `P(item of rank r) ∝ r^-s`. Default 1. */
	exponent?: number;
	/** User activity exponent: user of rank r gets about `scale * r^-a` items. Default 0.8. */
	userExponent?: number;
	/** Largest share of the catalogue one user may hold. Default 0.5. */
	maxUserShare?: number;
}

/** Index of the first entry of increasing `cdf` greater than `x` (inverse-CDF sampling). */
function searchCdf(cdf: Float64Array, x: number): number {
	let lo = 0;
	let hi = cdf.length - 1;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (cdf[mid] > x) hi = mid;
		else lo = mid + 1;
	}
	return lo;
}

/** A random permutation of 0..n-1 (so popular items/users are not simply the first ids). */
function permutation(n: number, rng: Rng): Int32Array {
	const p = new Int32Array(n);
	for (let k = 0; k < n; k++) p[k] = k;
	return rng.shuffle(p);
}

function checkCount(name: string, v: number, min: number): void {
	if (!Number.isInteger(v) || v < min) {
		throw new MusicrecError('data/bad-options', `${name} must be an integer >= ${min}, got ${v}`, {
			[name]: v
		});
	}
}

/**
 * Per-user item counts `k_u = clamp(round(scale * rank_u^-a), 1, cap)` with `scale` found by
 * bisection so that `sum k_u` is as close to `nnz` as the clamps allow.
 */
function userCounts(
	users: number,
	nnz: number,
	cap: number,
	exponent: number,
	rng: Rng
): Int32Array {
	const weight = new Float64Array(users);
	const order = permutation(users, rng);
	for (let r = 0; r < users; r++) weight[order[r]] = (r + 1) ** -exponent;
	const total = (scale: number): number => {
		let s = 0;
		for (let u = 0; u < users; u++) s += Math.min(cap, Math.max(1, Math.round(scale * weight[u])));
		return s;
	};
	let lo = 0;
	let hi = 1;
	while (total(hi) < nnz && hi < 1e15) hi *= 2;
	for (let it = 0; it < 60; it++) {
		const mid = (lo + hi) / 2;
		if (total(mid) < nnz) lo = mid;
		else hi = mid;
	}
	const counts = new Int32Array(users);
	for (let u = 0; u < users; u++) {
		counts[u] = Math.min(cap, Math.max(1, Math.round(hi * weight[u])));
	}
	return counts;
}

/**
 * Seeded synthetic implicit-feedback data with heavy tails on both sides. Item popularity is
 * Zipf: an item of popularity rank r is drawn with probability `r^-s / H(n, s)` (inverse CDF
 * by binary search on the cumulative weights); user activity is Zipf-like too (every user
 * has at least one item, at most `maxUserShare * items`). Each user's items are distinct
 * (duplicates are redrawn, with a bounded number of attempts); weights are `1 + plays`,
 * plays geometric with mean 1. The distinct-pair count is `nnz` up to rounding of the
 * per-user counts and the clamps: typically within 1-2%, never above
 * `users * maxUserShare * items`. Ids are `u0..`, `i0..`; the same options give the same data.
 */
export function syntheticZipf(options: SyntheticOptions): Interactions {
	const { users, items, nnz, seed } = options;
	const exponent = options.exponent ?? 1.0;
	const userExponent = options.userExponent ?? 0.8;
	const maxUserShare = options.maxUserShare ?? 0.5;
	checkCount('users', users, 1);
	checkCount('items', items, 1);
	checkCount('nnz', nnz, 0);
	if (!(exponent >= 0) || !(userExponent >= 0) || !(maxUserShare > 0 && maxUserShare <= 1)) {
		throw new MusicrecError(
			'data/bad-options',
			'exponent and userExponent must be >= 0 and maxUserShare in (0, 1]',
			{ exponent, userExponent, maxUserShare }
		);
	}
	const rng = new Rng(seed);

	// Item popularity: rank r (0-based) has weight (r+1)^-s; rankToItem spreads the ranks.
	const rankToItem = permutation(items, rng);
	const cdf = new Float64Array(items);
	let acc = 0;
	for (let r = 0; r < items; r++) {
		acc += (r + 1) ** -exponent;
		cdf[r] = acc;
	}
	const cap = Math.max(1, Math.floor(items * maxUserShare));
	const counts = userCounts(users, nnz, cap, userExponent, rng);

	let total = 0;
	for (let u = 0; u < users; u++) total += counts[u];
	const indptr = new Int32Array(users + 1);
	const indices = new Int32Array(total);
	const data = new Float32Array(total);
	const seenBy = new Int32Array(items); // user + 1 that last drew each item
	let w = 0;
	for (let u = 0; u < users; u++) {
		const k = counts[u];
		const start = w;
		const maxAttempts = 20 * k + 100;
		for (let a = 0; a < maxAttempts && w - start < k; a++) {
			const item = rankToItem[searchCdf(cdf, rng.next() * acc)];
			if (seenBy[item] === u + 1) continue;
			seenBy[item] = u + 1;
			indices[w++] = item;
		}
		indices.subarray(start, w).sort();
		for (let j = start; j < w; j++) {
			let plays = 0;
			while (plays < 30 && rng.next() < 0.5) plays++;
			data[j] = 1 + plays;
		}
		indptr[u + 1] = w;
	}

	const userIds: string[] = [];
	for (let u = 0; u < users; u++) userIds.push(`u${u}`);
	const itemIds: string[] = [];
	for (let i = 0; i < items; i++) itemIds.push(`i${i}`);
	return {
		users: Vocabulary.from(userIds),
		items: Vocabulary.from(itemIds),
		matrix: {
			rows: users,
			cols: items,
			indptr,
			indices: w === total ? indices : indices.slice(0, w),
			data: w === total ? data : data.slice(0, w)
		}
	};
}
