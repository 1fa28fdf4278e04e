/**
 * A stored model opened for recommendations, together with the dataset it is used on: maps
 * the dataset's string ids onto the model's indices and wraps recommend, fold-in, similar items
 * and explain in id-level calls. Also the 2-D PCA map of the item factors.
 */
import { ItemScorer } from '$lib/core/als/kernel/item_scorer';
import { AlsModel } from '$lib/core/als/model';
import type { Csr } from '$lib/core/data/csr';
import { ingest } from '$lib/core/data/ingest';
import type { SchemaKind } from '$lib/core/data/schema';
import {
	COUNT_WEIGHTINGS,
	defaultWeighting,
	playsWeight,
	weightingApplies,
	type Weighting
} from '$lib/core/data/weights';
import { MusicrecError } from '$lib/core/errors';
import type { ModelRecord } from '$lib/core/model_record';
import { blobByteChunks } from './file_chunks';

/** One recommended song. */
export interface Recommendation {
	readonly itemId: string;
	/** The song's (or artist's) name when the model has names. */
	readonly name?: string;
	readonly score: number;
	/** Up to three of the user's songs that contribute most to the score (explain). */
	readonly because: readonly {
		readonly itemId: string;
		readonly name?: string;
		readonly score: number;
	}[];
}

/** A user's listening history in the model's item index space. */
export interface History {
	readonly items: Int32Array;
	readonly weights: Float32Array;
}

/** How many of a set of songs (a dataset's, or one listener's) the model knows. */
export interface Overlap {
	readonly matched: number;
	readonly total: number;
}

/** Builds the WebAssembly top-n scorer; a test passes one that fails. */
export type ScorerFactory = (itemFactors: Float32Array, factors: number) => Promise<ItemScorer>;

/** The user x item weights of a dataset file, by string id. */
export interface DatasetView {
	readonly userIds: readonly string[];
	readonly itemIds: readonly string[];
	readonly matrix: Csr;
	/** Set when the file could not be read with the model's own weighting. */
	readonly weightingNote?: string;
}

/**
 * Read a dataset file (streamed) into its interaction matrix under the model's `weighting`, or
 * under the file's default when that weighting does not apply to its schema (a model trained
 * on play counts used on a KKBox file); `weightingNote` then says so.
 */
export async function readDataset(
	file: Blob,
	weighting: Weighting,
	schema: SchemaKind
): Promise<DatasetView> {
	const applies = weightingApplies(schema, weighting);
	const used = applies ? weighting : defaultWeighting(schema);
	const data = await ingest(blobByteChunks(file), { weighting: used, badLines: 'skip' });
	const { users, items, matrix } = data.interactions;
	return {
		userIds: users.toArray(),
		itemIds: items.toArray(),
		matrix,
		...(applies
			? {}
			: {
					weightingNote: `the model was trained with weighting '${weighting}', which does not apply to a ${schema} file; its histories are read with '${used}'`
				})
	};
}

/**
 * Name of the performance measure (User Timing) of each `recommendForUser` call: the browser
 * bench reads these entries to time the Recommend page's own code path.
 */
const RECOMMEND_USER_MEASURE = 'musicrec:recommend-user';

/**
 * The Recommend page's measure from the submit of "For a user" until the list is in the
 * document (the call above, then the page's update), recorded after each call's measure.
 */
export const RECOMMEND_SHOWN_MEASURE = 'musicrec:recommend-shown';

export class ModelSession {
	readonly record: ModelRecord;
	readonly model: AlsModel;
	readonly dataset: DatasetView;
	readonly #userIndex: Map<string, number>;
	readonly #itemIndex: Map<string, number>;
	readonly #datasetUserIndex: Map<string, number>;
	/** Top-n by the WebAssembly scorer (item factors resident); undefined: tfjs ops. */
	#scorer: Promise<ItemScorer | undefined>;
	/** The scorer once built: used without an await, so a call does not yield before it scores. */
	#scorerReady: ItemScorer | undefined;
	/** Why top-n runs on tfjs ops instead of the WebAssembly scorer (undefined: no problem). */
	scorerProblem: string | undefined;
	/** The dataset's songs that the model knows (0 of n: a model trained on other data). */
	readonly overlap: Overlap;

	/** Builds the model's tensors on the current tfjs backend. */
	constructor(
		record: ModelRecord,
		dataset: DatasetView,
		createScorer: ScorerFactory = (y, f) => ItemScorer.create(y, f)
	) {
		this.record = record;
		this.dataset = dataset;
		const f = record.meta.params.factors;
		this.model = AlsModel.fromArrays(
			{
				userFactors: record.userFactors,
				itemFactors: record.itemFactors,
				users: record.userIds.length,
				items: record.itemIds.length,
				factors: f
			},
			record.meta.params
		);
		this.#userIndex = new Map(record.userIds.map((id, i) => [id, i]));
		this.#itemIndex = new Map(record.itemIds.map((id, i) => [id, i]));
		this.#datasetUserIndex = new Map(dataset.userIds.map((id, i) => [id, i]));
		let matched = 0;
		for (const id of dataset.itemIds) if (this.#itemIndex.has(id)) matched++;
		this.overlap = { matched, total: dataset.itemIds.length };
		this.#scorer = createScorer(record.itemFactors, f).then(
			(scorer) => (this.#scorerReady = scorer),
			(e: unknown) => {
				this.scorerProblem = `the WebAssembly scorer did not start (${e instanceof Error ? e.message : String(e)}); scoring with tfjs ops instead`;
				console.warn(`musicrec: ${this.scorerProblem}`);
				return undefined;
			}
		);
	}

	/** Resolves once the scorer is built or has failed (then `scorerProblem` says why). */
	async scorerSettled(): Promise<void> {
		await this.#scorer;
	}

	/** How many of the listener's songs in the dataset the model knows. */
	listenerOverlap(userId: string): Overlap {
		const u = this.#datasetUserIndex.get(userId);
		if (u === undefined) return { matched: 0, total: 0 };
		const m = this.dataset.matrix;
		let matched = 0;
		for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
			if (this.#itemIndex.has(this.dataset.itemIds[m.indices[k]])) matched++;
		}
		return { matched, total: m.indptr[u + 1] - m.indptr[u] };
	}

	/**
	 * Up to `limit` songs whose id or name holds `query` (case-insensitive), in catalogue order;
	 * names that start with it come first.
	 */
	findItems(query: string, limit = 8): { itemId: string; name?: string }[] {
		const q = query.trim().toLowerCase();
		if (q === '') return [];
		const ids = this.record.itemIds;
		const names = this.record.itemNames;
		const starts: number[] = [];
		const holds: number[] = [];
		for (let i = 0; i < ids.length && starts.length < limit; i++) {
			const name = names?.[i]?.toLowerCase() ?? '';
			if (name.startsWith(q)) starts.push(i);
			else if (holds.length < limit && (name.includes(q) || ids[i].toLowerCase().includes(q)))
				holds.push(i);
		}
		return [...starts, ...holds]
			.slice(0, limit)
			.map((i) => ({ itemId: ids[i], ...named(names, i) }));
	}

	/** The song id `text` is (an id, or a name written in any case), or undefined. */
	resolveItem(text: string): string | undefined {
		const t = text.trim();
		if (this.#itemIndex.has(t)) return t;
		const names = this.record.itemNames;
		if (!names) return undefined;
		const lower = t.toLowerCase();
		const i = names.findIndex((n) => n.toLowerCase() === lower);
		return i === -1 ? undefined : this.record.itemIds[i];
	}

	/** The name of a song id, when the model has one for it. */
	itemName(itemId: string): string | undefined {
		const i = this.#itemIndex.get(itemId);
		const name = i === undefined ? undefined : this.record.itemNames?.[i];
		return name === '' ? undefined : name;
	}

	/**
	 * Top-n songs for a person outside the dataset from the catalogue items they played and how
	 * often (a personal history matched by name), played items left out, each with "because
	 * you played". Plays are first put on the scale of the training data: with a count
	 * weighting and a known training median m, plays p become p * m / median(p) (a year of one
	 * person's Spotify is not on the scale of all-time Last.fm counts); then the model's
	 * weighting (playsWeight) gives w, and x is folded in exactly.
	 */
	async recommendForPlays(
		played: readonly { readonly item: number; readonly plays: number }[],
		n: number
	): Promise<Recommendation[]> {
		if (played.length === 0) {
			throw new MusicrecError('model/no-overlap', 'This model knows none of the played items', {
				matched: 0
			});
		}
		const { weighting, dataset } = this.record.meta;
		const counts = (COUNT_WEIGHTINGS as readonly string[]).includes(weighting);
		const scale = counts
			? playScale(
					dataset.medianPlays,
					played.map((p) => p.plays)
				)
			: 1;
		const history: History = {
			items: Int32Array.from(played, (p) => p.item),
			weights: Float32Array.from(played, (p) => playsWeight(weighting, p.plays * scale))
		};
		const x = this.model.foldIn(history.items, history.weights);
		return this.#recommend(x, n, history, true);
	}

	/** Model index of a song id, undefined when the model does not know it. */
	itemIndex(itemId: string): number | undefined {
		return this.#itemIndex.get(itemId);
	}

	/**
	 * A listener of the dataset, drawn uniformly among those who played at least one song the
	 * model knows (`random` in [0, 1)); undefined when there is none.
	 */
	randomListener(random: () => number = Math.random): string | undefined {
		const ids = this.dataset.userIds;
		const known = (id: string) => this.history(id).items.length > 0;
		// Rejection sampling is uniform over the eligible listeners and quick when most are; a
		// scan from a random start settles the rare case where few are.
		for (let tries = 0; tries < 64 && ids.length > 0; tries++) {
			const id = ids[Math.floor(random() * ids.length)];
			if (known(id)) return id;
		}
		const eligible = ids.filter(known);
		return eligible.length > 0 ? eligible[Math.floor(random() * eligible.length)] : undefined;
	}

	/** Songs of `userId` in the dataset that the model knows, with their weights. */
	history(userId: string): History {
		const u = this.#datasetUserIndex.get(userId);
		const items: number[] = [];
		const weights: number[] = [];
		if (u !== undefined) {
			const m = this.dataset.matrix;
			for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
				const i = this.#itemIndex.get(this.dataset.itemIds[m.indices[k]]);
				if (i === undefined) continue;
				items.push(i);
				weights.push(m.data[k]);
			}
		}
		return { items: Int32Array.from(items), weights: Float32Array.from(weights) };
	}

	/**
	 * Top-n songs for a dataset user: the stored factors x_u when the model knows the user,
	 * else x_u folded in from the history. Listened songs are skipped when `excludeListened`.
	 * A listener the model does not know and none of whose songs it knows has no factor to
	 * fold in (x_u would be 0, every score 0): that is a `model/no-overlap` error, not a list.
	 */
	async recommendForUser(
		userId: string,
		n: number,
		excludeListened = true
	): Promise<Recommendation[]> {
		const start = performance.now();
		try {
			const history = this.history(userId);
			const u = this.#userIndex.get(userId);
			if (u === undefined && history.items.length === 0) {
				const { matched, total } = this.listenerOverlap(userId);
				throw new MusicrecError(
					'model/no-overlap',
					`This model knows none of this listener's songs (${matched} of ${total} matched), so it cannot recommend for them`,
					{ userId, matched, total }
				);
			}
			const f = this.model.factors;
			const x =
				u !== undefined
					? this.record.userFactors.slice(u * f, (u + 1) * f)
					: this.model.foldIn(history.items, history.weights);
			return await this.#recommend(x, n, history, excludeListened);
		} finally {
			performance.measure(RECOMMEND_USER_MEASURE, { start });
		}
	}

	/** Top-n songs for a new user who picked `itemIds` (weight 1 each), by fold-in. */
	async recommendForNewUser(itemIds: readonly string[], n: number): Promise<Recommendation[]> {
		const items = itemIds
			.map((id) => this.#itemIndex.get(id))
			.filter((i): i is number => i !== undefined);
		if (items.length === 0) {
			throw new MusicrecError(
				'model/no-overlap',
				`This model knows none of the picked songs (0 of ${itemIds.length} matched)`,
				{ matched: 0, total: itemIds.length }
			);
		}
		const history: History = {
			items: Int32Array.from(items),
			weights: new Float32Array(items.length).fill(1)
		};
		const x = this.model.foldIn(history.items, history.weights);
		return this.#recommend(x, n, history, true);
	}

	/** The n songs closest to `itemId` by cosine of item factors. */
	async similarSongs(
		itemId: string,
		n: number
	): Promise<{ itemId: string; name?: string; score: number }[]> {
		const i = this.#itemIndex.get(itemId);
		if (i === undefined) return [];
		const top = await this.model.similarItems(i, n);
		return pairs(top.items, top.scores, this.record.itemIds, this.record.itemNames);
	}

	async #recommend(
		x: Float32Array,
		n: number,
		history: History,
		exclude: boolean
	): Promise<Recommendation[]> {
		const excluded = exclude ? history.items : undefined;
		const scorer = this.#scorerReady ?? (await this.#scorer);
		const top = scorer
			? scorer.topN(x, n, excluded)
			: await this.model.recommendForFactors(x, n, excluded);
		const names = this.record.itemNames;
		const found = pairs(top.items, top.scores, this.record.itemIds, names);
		// One user system for all the explanations (top.items is -1-padded at the end).
		const explanations = this.model.explainItems(
			history.items,
			history.weights,
			top.items.subarray(0, found.length)
		);
		return found.map((p, k) => ({
			...p,
			because: explanations[k].contributions.slice(0, 3).map((c) => ({
				itemId: this.record.itemIds[c.item],
				...named(names, c.item),
				score: c.score
			}))
		}));
	}

	dispose(): void {
		this.#scorer = Promise.resolve(undefined);
		this.#scorerReady = undefined;
		this.model.dispose();
	}
}

/** m / median(plays), or 1 when the training median m is unknown. */
function playScale(trainingMedian: number | undefined, plays: readonly number[]): number {
	if (trainingMedian === undefined || plays.length === 0) return 1;
	const sorted = [...plays].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
	return median > 0 ? trainingMedian / median : 1;
}

/** `{ name }` of item `i` when `names` has one, else nothing. */
function named(names: readonly string[] | undefined, i: number): { name?: string } {
	const name = names?.[i];
	return name ? { name } : {};
}

function pairs(
	items: Int32Array,
	scores: Float32Array,
	ids: readonly string[],
	names?: readonly string[]
): { itemId: string; name?: string; score: number }[] {
	const out: { itemId: string; name?: string; score: number }[] = [];
	items.forEach((i, k) => {
		if (i >= 0) out.push({ itemId: ids[i], ...named(names, i), score: scores[k] });
	});
	return out;
}
