import * as tf from '@tensorflow/tfjs-core';
import type { Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import type { Ranker, TopN } from '../eval/ranker';
import { cholesky, choleskySolve } from './cholesky';
import { confidence, type AlsParams } from './params';
import { excludeCells, topNOfScores } from './top_n';

/** Plain arrays of a model, row-major, for storage and export. */
export interface AlsArrays {
	readonly userFactors: Float32Array;
	readonly itemFactors: Float32Array;
	readonly users: number;
	readonly items: number;
	readonly factors: number;
}

/** Why an item is scored for a user: the score split over the user's own items. */
export interface Explanation {
	/** Per listened item, highest first; the scores sum to `total`. */
	readonly contributions: { item: number; score: number }[];
	/** Score of the item for the user recomputed from `userItems` (the fold-in score). */
	readonly total: number;
}

/** Score matrix cells per recommend batch (users x items float32). */
const SCORE_CELLS_PER_BATCH = 1 << 22;

/**
 * A fitted implicit ALS model: user factors X (users x f) and item factors Y (items x f) as
 * tensors on the current tfjs backend. Scores are `x_u . y_i`. Call `dispose()` (or use
 * `Symbol.dispose`) to free the tensors.
 */
export class AlsModel implements Ranker {
	readonly params: AlsParams;
	readonly users: number;
	readonly items: number;
	readonly factors: number;
	#x: tf.Tensor2D;
	#y: tf.Tensor2D;
	#disposed = false;
	// Lazily derived caches, freed by dispose().
	#yt?: tf.Tensor2D;
	#yNormalized?: tf.Tensor2D;
	#yArray?: Float32Array;
	#gram?: Float64Array;

	/** Takes ownership of both tensors. */
	constructor(userFactors: tf.Tensor2D, itemFactors: tf.Tensor2D, params: AlsParams) {
		if (userFactors.shape[1] !== itemFactors.shape[1]) {
			throw new MusicrecError('als/bad-input', 'user and item factors differ in width', {
				userFactors: userFactors.shape,
				itemFactors: itemFactors.shape
			});
		}
		this.#x = userFactors;
		this.#y = itemFactors;
		this.params = params;
		this.users = userFactors.shape[0];
		this.items = itemFactors.shape[0];
		this.factors = userFactors.shape[1];
	}

	/** Build a model from plain arrays (copies them into tensors). */
	static fromArrays(arrays: AlsArrays, params: AlsParams): AlsModel {
		const { users, items, factors } = arrays;
		if (
			arrays.userFactors.length !== users * factors ||
			arrays.itemFactors.length !== items * factors ||
			factors !== params.factors
		) {
			throw new MusicrecError('als/bad-input', 'factor arrays do not match their shapes', {
				users,
				items,
				factors,
				paramsFactors: params.factors,
				userLength: arrays.userFactors.length,
				itemLength: arrays.itemFactors.length
			});
		}
		return new AlsModel(
			tf.tensor2d(arrays.userFactors.slice(), [users, factors]),
			tf.tensor2d(arrays.itemFactors.slice(), [items, factors]),
			params
		);
	}

	/** User factors X (users x f); owned by the model, do not dispose. */
	get userFactors(): tf.Tensor2D {
		this.#check();
		return this.#x;
	}

	/** Item factors Y (items x f); owned by the model, do not dispose. */
	get itemFactors(): tf.Tensor2D {
		this.#check();
		return this.#y;
	}

	/**
	 * Copies of the factors as Float32Arrays, read asynchronously: the one to use on GPU
	 * backends (tfjs-webgpu's synchronous read goes through a canvas, which in a Chromium
	 * worker leaves the device unusable: the next buffer map fails).
	 */
	async readArrays(): Promise<AlsArrays> {
		this.#check();
		const [x, y] = await Promise.all([this.#x.data(), this.#y.data()]);
		return {
			userFactors: Float32Array.from(x as Float32Array),
			itemFactors: Float32Array.from(y as Float32Array),
			users: this.users,
			items: this.items,
			factors: this.factors
		};
	}

	/** Copies of the factors as Float32Arrays. */
	toArrays(): AlsArrays {
		this.#check();
		return {
			userFactors: this.#x.dataSync().slice() as Float32Array,
			itemFactors: this.#y.dataSync().slice() as Float32Array,
			users: this.users,
			items: this.items,
			factors: this.factors
		};
	}

	/**
	 * Top-n items for each user by `x_u . y_i`, best first; items in the user's row of
	 * `exclude` are skipped; fewer than n eligible items pad with -1.
	 */
	async recommend(users: Int32Array, n: number, exclude?: Csr): Promise<TopN> {
		this.#check();
		this.#checkIndices('users', users, this.users);
		checkN(n);
		if (exclude && exclude.cols !== this.items) {
			throw new MusicrecError('als/bad-input', 'exclude matrix has the wrong number of items', {
				cols: exclude.cols,
				items: this.items
			});
		}
		const out: TopN = {
			n,
			items: new Int32Array(users.length * n),
			scores: new Float32Array(users.length * n)
		};
		const yt = this.#transposedItems();
		const batch = Math.max(1, Math.floor(SCORE_CELLS_PER_BATCH / Math.max(1, this.items)));
		for (let b0 = 0; b0 < users.length; b0 += batch) {
			const ids = users.subarray(b0, Math.min(users.length, b0 + batch));
			const rows: number[] = [];
			const cols: number[] = [];
			if (exclude) {
				ids.forEach((u, r) => {
					if (u >= exclude.rows) return;
					for (let k = exclude.indptr[u]; k < exclude.indptr[u + 1]; k++) {
						rows.push(r);
						cols.push(exclude.indices[k]);
					}
				});
			}
			const scores = tf.tidy(() => {
				const xb = tf.gatherND(this.#x, tf.tensor2d(ids, [ids.length, 1], 'int32'));
				const s = tf.matMul(xb as tf.Tensor2D, yt);
				return excludeCells(s as tf.Tensor2D, Int32Array.from(rows), Int32Array.from(cols));
			});
			try {
				const top = await topNOfScores(scores, n);
				out.items.set(top.items, b0 * n);
				out.scores.set(top.scores, b0 * n);
			} finally {
				scores.dispose();
			}
		}
		return out;
	}

	/** Score `x_u . y_i` of each (users[k], items[k]) pair. */
	async scorePairs(users: Int32Array, items: Int32Array): Promise<Float32Array> {
		this.#check();
		if (users.length !== items.length) {
			throw new MusicrecError('als/bad-input', 'users and items differ in length', {
				users: users.length,
				items: items.length
			});
		}
		this.#checkIndices('users', users, this.users);
		this.#checkIndices('items', items, this.items);
		if (users.length === 0) return new Float32Array(0);
		const s = tf.tidy(() => {
			const xu = tf.gatherND(this.#x, tf.tensor2d(users, [users.length, 1], 'int32'));
			const yi = tf.gatherND(this.#y, tf.tensor2d(items, [items.length, 1], 'int32'));
			return tf.sum(tf.mul(xu, yi), 1);
		});
		try {
			return (await s.data()) as Float32Array;
		} finally {
			s.dispose();
		}
	}

	/**
	 * Factors of a new or changed user from their items and weights, against the fixed Y:
	 * the exact solution of the user step `(Y'Y + Y'(C_u - I)Y + lambda I) x = Y' C_u p_u`,
	 * by a float64 Cholesky factorisation. No items gives zero factors, as in fit.
	 */
	foldIn(items: Int32Array, weights: Float32Array): Float32Array {
		this.#check();
		const sys = this.#userSystem(items, weights);
		if (!sys) return new Float32Array(this.factors);
		return Float32Array.from(choleskySolve(sys.l, this.factors, sys.b));
	}

	/** Top-n items for a factor vector (e.g. from `foldIn`), skipping `excludeItems`. */
	async recommendForFactors(x: Float32Array, n: number, excludeItems?: Int32Array): Promise<TopN> {
		this.#check();
		checkN(n);
		if (x.length !== this.factors) {
			throw new MusicrecError('als/bad-input', 'factor vector has the wrong length', {
				length: x.length,
				factors: this.factors
			});
		}
		const ex = excludeItems ?? new Int32Array(0);
		this.#checkIndices('excludeItems', ex, this.items);
		const yt = this.#transposedItems();
		const scores = tf.tidy(() => {
			const s = tf.matMul(tf.tensor2d(x, [1, this.factors]), yt);
			return excludeCells(s as tf.Tensor2D, new Int32Array(ex.length), ex);
		});
		try {
			return await topNOfScores(scores, n);
		} finally {
			scores.dispose();
		}
	}

	/**
	 * The n items most similar to `item` by cosine of item factors, the item itself excluded;
	 * padded with -1 when fewer exist. Items with zero factors have similarity 0.
	 */
	async similarItems(
		item: number,
		n: number
	): Promise<{ items: Int32Array; scores: Float32Array }> {
		this.#check();
		checkN(n);
		this.#checkIndices('item', Int32Array.of(item), this.items);
		if (!this.#yNormalized) {
			const y = this.#y;
			this.#yNormalized = tf.tidy(() =>
				tf.divNoNan(y, tf.sqrt(tf.sum(tf.square(y), 1, true)))
			) as tf.Tensor2D;
		}
		const yn = this.#yNormalized;
		const scores = tf.tidy(() => {
			const q = tf.slice(yn, [item, 0], [1, -1]);
			const s = tf.reshape(tf.matMul(yn, tf.transpose(q)), [1, this.items]) as tf.Tensor2D;
			return excludeCells(s, Int32Array.of(0), Int32Array.of(item));
		});
		try {
			const top = await topNOfScores(scores, n);
			return { items: top.items, scores: top.scores };
		} finally {
			scores.dispose();
		}
	}

	/**
	 * Split the score of `item` for a user (given by their items and weights) over those items,
	 * as in implicit's explain (Hu, Koren, Volinsky 2008, section 5): with
	 * `W = (Y'C_uY + lambda I)^-1`, the recomputed user is `x = W sum_j c_j y_j`, so
	 * `y_i . x = sum_j c_j (y_i' W y_j)` and item j contributes `c_j (y_i' W y_j)`.
	 */
	explain(userItems: Int32Array, userWeights: Float32Array, item: number): Explanation {
		return this.explainItems(userItems, userWeights, Int32Array.of(item))[0];
	}

	/**
	 * `explain` for several items of one user: the user's system (Cholesky of
	 * `Y'C_uY + lambda I`, O(f^3 + n_u f^2)) is built once and shared, each item then costs
	 * one triangular solve pair and n_u dot products.
	 */
	explainItems(userItems: Int32Array, userWeights: Float32Array, items: Int32Array): Explanation[] {
		this.#check();
		this.#checkIndices('item', items, this.items);
		const sys = this.#userSystem(userItems, userWeights);
		if (!sys) return Array.from(items, () => ({ contributions: [], total: 0 }));
		const f = this.factors;
		const y = this.#itemArray();
		return Array.from(items, (item) => {
			const w = choleskySolve(sys.l, f, y.subarray(item * f, (item + 1) * f));
			let total = 0;
			const contributions = sys.items.map((j, k) => {
				let d = 0;
				for (let a = 0; a < f; a++) d += w[a] * y[j * f + a];
				const score = sys.conf[k] * d;
				total += score;
				return { item: j, score };
			});
			contributions.sort((a, b) => b.score - a.score || a.item - b.item);
			return { contributions, total };
		});
	}

	/** Free every tensor the model holds; later calls throw 'als/disposed'. */
	dispose(): void {
		if (this.#disposed) return;
		this.#disposed = true;
		tf.dispose([this.#x, this.#y]);
		if (this.#yt) this.#yt.dispose();
		if (this.#yNormalized) this.#yNormalized.dispose();
		this.#yt = this.#yNormalized = undefined;
		this.#yArray = this.#gram = undefined;
	}

	#check(): void {
		if (this.#disposed) throw new MusicrecError('als/disposed', 'the model has been disposed');
	}

	#checkIndices(what: string, ids: Int32Array, size: number): void {
		for (let k = 0; k < ids.length; k++) {
			if (!(ids[k] >= 0 && ids[k] < size)) {
				throw new MusicrecError('als/bad-input', `${what} index ${ids[k]} out of [0, ${size})`, {
					what,
					index: ids[k],
					size
				});
			}
		}
	}

	#transposedItems(): tf.Tensor2D {
		// Explicit transpose: matMul with a transpose flag skips XNNPACK on wasm.
		if (!this.#yt) this.#yt = tf.transpose(this.#y);
		return this.#yt;
	}

	#itemArray(): Float32Array {
		if (!this.#yArray) this.#yArray = this.#y.dataSync() as Float32Array;
		return this.#yArray;
	}

	/** Y'Y in float64 (from a float32 matMul). */
	#itemGram(): Float64Array {
		if (!this.#gram) {
			const y = this.#y;
			const g = tf.tidy(() => tf.matMul(tf.transpose(y), y));
			this.#gram = Float64Array.from(g.dataSync());
			g.dispose();
		}
		return this.#gram;
	}

	/**
	 * Cholesky factor of `A = Y'Y + lambda I + sum_j (c_j - 1) y_j y_j'` and `b = sum_j c_j y_j`
	 * for one user; duplicate items have their weights summed. Undefined when there are no items.
	 */
	#userSystem(
		items: Int32Array,
		weights: Float32Array
	): { l: Float64Array; b: Float64Array; items: number[]; conf: number[] } | undefined {
		if (items.length !== weights.length) {
			throw new MusicrecError('als/bad-input', 'items and weights differ in length', {
				items: items.length,
				weights: weights.length
			});
		}
		this.#checkIndices('items', items, this.items);
		const merged = new Map<number, number>();
		items.forEach((i, k) => merged.set(i, (merged.get(i) ?? 0) + weights[k]));
		if (merged.size === 0) return undefined;
		const f = this.factors;
		const y = this.#itemArray();
		const a = Float64Array.from(this.#itemGram());
		for (let d = 0; d < f; d++) a[d * f + d] += this.params.regularization;
		const b = new Float64Array(f);
		const ids: number[] = [];
		const conf: number[] = [];
		for (const [i, w] of merged) {
			const c = confidence(w, this.params);
			ids.push(i);
			conf.push(c);
			const yi = y.subarray(i * f, (i + 1) * f);
			for (let r = 0; r < f; r++) {
				b[r] += c * yi[r];
				const cr = (c - 1) * yi[r];
				for (let s = 0; s < f; s++) a[r * f + s] += cr * yi[s];
			}
		}
		return { l: cholesky(a, f), b, items: ids, conf };
	}
}

// `Symbol.dispose` (explicit resource management) where the runtime has it.
const disposeSymbol = (Symbol as unknown as { dispose?: symbol }).dispose;
if (disposeSymbol) {
	Object.defineProperty(AlsModel.prototype, disposeSymbol, {
		value(this: AlsModel) {
			this.dispose();
		}
	});
}

function checkN(n: number): void {
	if (!Number.isInteger(n) || n < 1) {
		throw new MusicrecError('als/bad-input', `n must be a positive integer (got ${n})`, { n });
	}
}
