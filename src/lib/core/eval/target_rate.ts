import type { Csr } from '../data/csr';

/**
 * Top-k rate of one song: the fraction of `users` (that do not have `item` in `train`) for
 * whom `item` is among the k highest scores x_u.y_i over the songs not in their `train` row.
 * The song's rank is the number of other unplayed songs that score strictly higher, so ties
 * count in its favour. What a targeted poisoning attack tries to raise.
 */
export function topKRate(
	userFactors: ArrayLike<number>,
	itemFactors: ArrayLike<number>,
	factors: number,
	train: Csr,
	users: ArrayLike<number>,
	item: number,
	k = 10
): { rate: number; users: number } {
	const f = factors;
	const n = train.cols;
	const played = new Uint8Array(n);
	let counted = 0;
	let hits = 0;
	for (let j = 0; j < users.length; j++) {
		const u = users[j];
		const start = train.indptr[u];
		const end = train.indptr[u + 1];
		let has = false;
		for (let e = start; e < end; e++) {
			played[train.indices[e]] = 1;
			if (train.indices[e] === item) has = true;
		}
		if (!has) {
			counted++;
			const xo = u * f;
			let target = 0;
			for (let r = 0; r < f; r++) target += userFactors[xo + r] * itemFactors[item * f + r];
			let above = 0;
			for (let i = 0; i < n && above < k; i++) {
				if (i === item || played[i]) continue;
				let s = 0;
				const yo = i * f;
				for (let r = 0; r < f; r++) s += userFactors[xo + r] * itemFactors[yo + r];
				if (s > target) above++;
			}
			if (above < k) hits++;
		}
		for (let e = start; e < end; e++) played[train.indices[e]] = 0;
	}
	return { rate: counted === 0 ? 0 : hits / counted, users: counted };
}
