import type { Csr } from '../../src/lib/core/data/csr';
import type { TopN } from '../../src/lib/core/eval/ranker';

/**
 * Reference top-n by full sort: every item not in the user's row of `exclude` is scored by
 * `score(user, item)`, sorted by decreasing score (ties: lower item index first), and the
 * first n kept; rows are padded with -1 / -Infinity.
 */
export function bruteTopN(
	users: ArrayLike<number>,
	n: number,
	cols: number,
	score: (user: number, item: number) => number,
	exclude?: Csr
): TopN {
	const items = new Int32Array(users.length * n).fill(-1);
	const scores = new Float32Array(users.length * n).fill(-Infinity);
	for (let b = 0; b < users.length; b++) {
		const u = users[b];
		const skip = new Set<number>();
		if (exclude) {
			for (let e = exclude.indptr[u]; e < exclude.indptr[u + 1]; e++) skip.add(exclude.indices[e]);
		}
		const ranked: { item: number; s: number }[] = [];
		for (let i = 0; i < cols; i++) if (!skip.has(i)) ranked.push({ item: i, s: score(u, i) });
		ranked.sort((x, y) => y.s - x.s || x.item - y.item);
		for (let t = 0; t < Math.min(n, ranked.length); t++) {
			items[b * n + t] = ranked[t].item;
			scores[b * n + t] = ranked[t].s;
		}
	}
	return { n, items, scores };
}
