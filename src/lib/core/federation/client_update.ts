import { cholesky, choleskySolve } from '../als/cholesky';
import { confidence } from '../als/params';
import type { Interactions } from '../data/interactions';
import { MusicrecError } from '../errors';
import type { GlobalModel, PublishedGlobal } from './global_file';
import { addScaledOuterPacked, packedSize } from './packed_symmetric';
import {
	randomClientId,
	type ClientUpdate,
	type SongProposals,
	type UpdatePayload
} from './update_file';

export interface ClientUpdateOptions {
	/** Source of the random client id (uniform in [0, 1)); e.g. crypto-backed in the browser. */
	readonly random: () => number;
	/**
	 * Also send statistics for local songs the catalog lacks (`update.proposals`), so the
	 * coordinator may add them. Off by default: then no uncatalogued song id leaves.
	 */
	readonly proposeNewSongs?: boolean;
}

/**
 * Per-item statistics by mode, float64: exact `A_i` (packed) and `b_i` for the touched catalog
 * items (ascending); compact `g_i` for every catalog item.
 */
type StatisticsPayload =
	| {
			readonly mode: 'exact';
			readonly touched: Int32Array;
			/** A, [touched, f(f+1)/2]. */
			readonly itemGrams: Float64Array;
			/** b, [touched, f]. */
			readonly itemTargets: Float64Array;
	  }
	| {
			readonly mode: 'compact';
			/** g, [catalog, f]. */
			readonly gradient: Float64Array;
	  };

/** A client's statistics of one round, before they are written to a file (plain or masked). */
export interface ClientStatistics {
	readonly factors: number;
	readonly catalogSize: number;
	/** Users with at least one catalog song. */
	readonly users: number;
	/** Interactions with catalog songs. */
	readonly interactions: number;
	/** Distinct catalog songs touched. */
	readonly touchedItems: number;
	/** C = sum c_ui over the interactions with catalog songs (robust.ts, energy check). */
	readonly confidence: number;
	/** G = sum_u x_u x_u', [f, f] row-major. */
	readonly gram: Float64Array;
	readonly payload: StatisticsPayload;
	/** The client's users' factors X, [local users, f]; never exported. */
	readonly userFactors: Float64Array;
	/** Local interactions whose song is not in the catalog. */
	readonly unknownSongEntries: number;
	/** Statistics of uncatalogued local songs (only with `proposeNewSongs`). */
	readonly proposals?: {
		readonly songIds: readonly string[];
		readonly itemGrams: Float64Array;
		readonly itemTargets: Float64Array;
	};
}

/** What a client computes: the update to send, and what stays local. */
export interface ClientRound {
	readonly update: ClientUpdate;
	/** The client's users' factors X, [local users, f] float64; never exported. */
	readonly userFactors: Float64Array;
	/** Local interactions whose song is not in the catalog (ignored). */
	readonly unknownSongEntries: number;
}

/** Local item index -> catalog index, or -1 for songs the catalog lacks. */
function catalogIndexOfLocal(global: PublishedGlobal, local: Interactions): Int32Array {
	const position = new Map<string, number>();
	global.model.catalog.forEach((id, i) => position.set(id, i));
	const out = new Int32Array(local.items.size);
	for (let j = 0; j < out.length; j++) out[j] = position.get(local.items.idAt(j)) ?? -1;
	return out;
}

/** `P = Y'Y + lambda I` of a global (float64, f x f row-major): the screens' common metric. */
export function regularizedGram(model: GlobalModel): Float64Array {
	const f = model.params.factors;
	const p = gramOf(model.itemFactors, model.catalog.length, f);
	for (let r = 0; r < f; r++) p[r * f + r] += model.params.regularization;
	return p;
}

/** `Y'Y` in float64, f x f row-major. */
function gramOf(rows: ArrayLike<number>, count: number, f: number): Float64Array {
	const g = new Float64Array(f * f);
	for (let i = 0; i < count; i++) {
		const o = i * f;
		for (let r = 0; r < f; r++) {
			const v = rows[o + r];
			if (v === 0) continue;
			for (let c = r; c < f; c++) g[r * f + c] += v * rows[o + c];
		}
	}
	for (let r = 0; r < f; r++) for (let c = 0; c < r; c++) g[r * f + c] = g[c * f + r];
	return g;
}

/**
 * A client's statistics for one round (docs/federation.md), in float64. Every local user is solved exactly against the
 * global's Y, in float64 by Cholesky (not CG):
 * `(Y'Y + sum_{i in u} (c_ui - 1) y_i y_i' + lambda I) x_u = sum_{i in u} c_ui y_i`,
 * with c from the global's params (`confidence()`); users with no catalog song get x_u = 0.
 * Then `G = sum_u x_u x_u'` and, by mode:
 * - exact: per touched item `A_i = sum_{u observed i} (c_ui - 1) x_u x_u'` (packed upper),
 *   `b_i = sum_{u observed i} c_ui x_u`;
 * - compact: per catalog item `g_i = sum_{u observed i} ((c_ui - 1)(x_u.y_i) - c_ui) x_u`.
 * Local songs missing from the catalog do not enter the user solves (counted in
 * `unknownSongEntries`); with `proposeNewSongs` they travel as `proposals` with the same
 * statistics as touched items, `A_j` (packed) and `b_j`, from the users' factors above.
 */
export function clientStatistics(
	global: PublishedGlobal,
	local: Interactions,
	options: { readonly proposeNewSongs?: boolean } = {}
): ClientStatistics {
	const { model } = global;
	const { params } = model;
	const f = params.factors;
	const y = model.itemFactors;
	const m = local.matrix;
	if (m.cols !== local.items.size || m.rows !== local.users.size) {
		throw new MusicrecError(
			'federation/bad-input',
			'local matrix does not match its vocabularies',
			{
				rows: m.rows,
				cols: m.cols,
				users: local.users.size,
				items: local.items.size
			}
		);
	}
	const toCatalog = catalogIndexOfLocal(global, local);
	const yty = gramOf(y, model.catalog.length, f);
	const lambda = params.regularization;

	// Touched catalog items (ascending) and each one's slot.
	const slot = new Int32Array(model.catalog.length).fill(-1);
	let unknownSongEntries = 0;
	let interactions = 0;
	for (let k = 0; k < m.indptr[m.rows]; k++) {
		const i = toCatalog[m.indices[k]];
		if (i < 0) unknownSongEntries++;
		else {
			interactions++;
			slot[i] = 0;
		}
	}
	let touchedCount = 0;
	for (let i = 0; i < slot.length; i++) if (slot[i] === 0) touchedCount++;
	const touched = new Int32Array(touchedCount);
	for (let i = 0, t = 0; i < slot.length; i++) {
		if (slot[i] === 0) {
			touched[t] = i;
			slot[i] = t++;
		}
	}

	// Uncatalogued local songs (local order) and each one's slot.
	const propose = options.proposeNewSongs === true;
	const newSlot = new Int32Array(m.cols).fill(-1);
	const songIds: string[] = [];
	if (propose) {
		for (let j = 0; j < m.cols; j++) {
			if (toCatalog[j] < 0) {
				newSlot[j] = songIds.length;
				songIds.push(local.items.idAt(j));
			}
		}
	}

	const ps = packedSize(f);
	const proposalGrams = new Float64Array(songIds.length * ps);
	const proposalTargets = new Float64Array(songIds.length * f);
	const userFactors = new Float64Array(m.rows * f);
	const gram = new Float64Array(f * f);
	const itemGrams = new Float64Array(touchedCount * ps);
	const itemTargets = new Float64Array(touchedCount * f);
	const system = new Float64Array(f * f);
	const rhs = new Float64Array(f);
	let users = 0;
	let confidenceSum = 0;
	for (let u = 0; u < m.rows; u++) {
		// Assemble (Y'Y + lambda I + sum (c - 1) y y') and sum c y over the user's catalog songs.
		system.set(yty);
		for (let r = 0; r < f; r++) system[r * f + r] += lambda;
		rhs.fill(0);
		let seen = 0;
		for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
			const i = toCatalog[m.indices[k]];
			if (i < 0) continue;
			seen++;
			const c = confidence(m.data[k], params);
			confidenceSum += c;
			const o = i * f;
			for (let r = 0; r < f; r++) {
				const v = (c - 1) * y[o + r];
				rhs[r] += c * y[o + r];
				for (let s = 0; s < f; s++) system[r * f + s] += v * y[o + s];
			}
		}
		if (seen === 0) continue;
		users++;
		const x = choleskySolve(cholesky(system, f), f, rhs);
		userFactors.set(x, u * f);
		// G += x x'
		for (let r = 0; r < f; r++) for (let s = 0; s < f; s++) gram[r * f + s] += x[r] * x[s];
		if (propose) {
			for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
				const t = newSlot[m.indices[k]];
				if (t < 0) continue;
				const c = confidence(m.data[k], params);
				addScaledOuterPacked(proposalGrams, t * ps, x, c - 1, f);
				for (let r = 0; r < f; r++) proposalTargets[t * f + r] += c * x[r];
			}
		}
		if (model.mode === 'exact') {
			for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
				const i = toCatalog[m.indices[k]];
				if (i < 0) continue;
				const c = confidence(m.data[k], params);
				const t = slot[i];
				addScaledOuterPacked(itemGrams, t * ps, x, c - 1, f);
				for (let r = 0; r < f; r++) itemTargets[t * f + r] += c * x[r];
			}
		}
	}

	let payload: StatisticsPayload;
	if (model.mode === 'exact') {
		payload = { mode: 'exact', touched, itemGrams, itemTargets };
	} else {
		const gradient = new Float64Array(model.catalog.length * f);
		for (let u = 0; u < m.rows; u++) {
			const xo = u * f;
			for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
				const i = toCatalog[m.indices[k]];
				if (i < 0) continue;
				const c = confidence(m.data[k], params);
				let dot = 0;
				for (let r = 0; r < f; r++) dot += userFactors[xo + r] * y[i * f + r];
				const s = (c - 1) * dot - c;
				for (let r = 0; r < f; r++) gradient[i * f + r] += s * userFactors[xo + r];
			}
		}
		payload = { mode: 'compact', gradient };
	}
	return {
		factors: f,
		catalogSize: model.catalog.length,
		users,
		interactions,
		touchedItems: touchedCount,
		confidence: confidenceSum,
		gram,
		payload,
		userFactors,
		unknownSongEntries,
		...(songIds.length > 0
			? { proposals: { songIds, itemGrams: proposalGrams, itemTargets: proposalTargets } }
			: {})
	};
}

/**
 * The L2 norm of the statistics a client contributes: G's packed upper triangle (each
 * off-diagonal entry once), then A and b (exact) or g (compact). Proposals are not included.
 */
export function statisticsNorm(stats: ClientStatistics): number {
	const f = stats.factors;
	let s = 0;
	for (let r = 0; r < f; r++) for (let c = r; c < f; c++) s += stats.gram[r * f + c] ** 2;
	const p = stats.payload;
	const parts = p.mode === 'exact' ? [p.itemGrams, p.itemTargets] : [p.gradient];
	for (const a of parts) for (let k = 0; k < a.length; k++) s += a[k] * a[k];
	return Math.sqrt(s);
}

/**
 * Clip a client's contribution to `bound` per user: when `|stats| > bound x users`
 * (statisticsNorm), G, A and b (or g) and the proposals are scaled in place by
 * `bound x users / |stats|`. Returns the factor applied (1 when within the bound).
 */
export function clipStatistics(stats: ClientStatistics, bound: number): number {
	if (!(bound > 0)) {
		throw new MusicrecError('federation/bad-input', 'the clip bound must be positive', { bound });
	}
	const norm = statisticsNorm(stats);
	const limit = bound * stats.users;
	if (!(norm > limit)) return 1;
	const factor = limit / norm;
	const p = stats.payload;
	const parts = [
		stats.gram,
		...(p.mode === 'exact' ? [p.itemGrams, p.itemTargets] : [p.gradient]),
		...(stats.proposals ? [stats.proposals.itemGrams, stats.proposals.itemTargets] : [])
	];
	for (const a of parts) for (let k = 0; k < a.length; k++) a[k] *= factor;
	return factor;
}

/**
 * A plain update file's content from a client's statistics: float32 payload, counts, and the
 * given client id (16 hex digits).
 */
export function updateFromStatistics(
	global: PublishedGlobal,
	stats: ClientStatistics,
	clientId: string
): ClientUpdate {
	const p = stats.payload;
	const payload: UpdatePayload =
		p.mode === 'exact'
			? {
					mode: 'exact',
					gram: Float32Array.from(stats.gram),
					touched: p.touched,
					itemGrams: Float32Array.from(p.itemGrams),
					itemTargets: Float32Array.from(p.itemTargets)
				}
			: {
					mode: 'compact',
					gram: Float32Array.from(stats.gram),
					gradient: Float32Array.from(p.gradient)
				};
	const update: ClientUpdate = {
		federationId: global.model.federationId,
		round: global.model.round,
		baseChecksum: global.checksum,
		clientId,
		counts: {
			users: stats.users,
			interactions: stats.interactions,
			touchedItems: stats.touchedItems,
			// The energy bound of robust screening (exact only: compact has no A and b to bound,
			// and a one-person client's total would be one more figure the coordinator learns).
			...(p.mode === 'exact' ? { confidence: stats.confidence } : {})
		},
		factors: stats.factors,
		payload
	};
	const q = stats.proposals;
	if (!q) return update;
	const proposals: SongProposals = {
		songIds: q.songIds,
		itemGrams: Float32Array.from(q.itemGrams),
		itemTargets: Float32Array.from(q.itemTargets)
	};
	return { ...update, proposals };
}

/**
 * A client's plain round (docs/federation.md): its statistics (`clientStatistics`) as an
 * update file's float32 payload, with a fresh random client id.
 */
export function computeClientUpdate(
	global: PublishedGlobal,
	local: Interactions,
	options: ClientUpdateOptions
): ClientRound {
	const stats = clientStatistics(global, local, options);
	return {
		update: updateFromStatistics(global, stats, randomClientId(options.random)),
		userFactors: stats.userFactors,
		unknownSongEntries: stats.unknownSongEntries
	};
}
