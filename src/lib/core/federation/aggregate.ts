import { cholesky, choleskySolve } from '../als/cholesky';
import { MusicrecError } from '../errors';
import type { GlobalModel, PublishedGlobal } from './global_file';
import { addPackedToFull, packedSize } from './packed_symmetric';
import type { ClientUpdate } from './update_file';

export interface AggregateOptions {
	/**
	 * compact mode step size eta in `Y_new = Y - eta (1/2) grad (G + lambda I)^-1`; default 1,
	 * which gives `Y_new = -g (G + lambda I)^-1` (see `aggregate`).
	 */
	readonly compactStep?: number;
	/**
	 * Distinct accepted clients that must propose a new song before it joins the catalog;
	 * default DEFAULT_MIN_SUPPORT.
	 */
	readonly minSupport?: number;
	/**
	 * compact mode: the coordinator's memory between rounds (create one with
	 * `createCompactState()` and pass the same object every round). With it, each item takes its
	 * own step eta_i (see `secantStep`) instead of `compactStep`; without it the step is fixed.
	 */
	readonly compactState?: CompactState;
}

/** What the compact-mode coordinator keeps from the previous round, per catalog item. */
export interface CompactState {
	/** Y the previous round's gradient was taken at, [n, f]. */
	itemFactors?: Float64Array;
	/** h = (G + lambda I) Y + g of the previous round, [n, f]. */
	halfGradient?: Float64Array;
	/** eta_i of the previous round, [n]. */
	steps?: Float64Array;
}

/** Empty compact-mode state for round 0. */
export function createCompactState(): CompactState {
	return {};
}

/**
 * Per-item step for compact mode, a scalar secant (Barzilai-Borwein) estimate with the
 * preconditioner P = G + lambda I: the item's Hessian is `H_i = P + A_i` (A_i unknown to the
 * coordinator, PSD when c >= 1), so along the last change `s = y_i - y_i'` with
 * `r = h_i - h_i' ~ H_i s`, `eta_i = s'Ps / s'r` (<= 1 when H_i >= P) scales the preconditioned
 * step `P^-1 h_i` to the curvature actually seen. Clamped to [0.02, fallback]; the previous
 * eta_i (or `fallback` in the first round) when there is no usable secant (s'r <= 0).
 */
function secantStep(
	state: CompactState,
	i: number,
	y: Float32Array,
	h: Float64Array,
	p: Float64Array,
	f: number,
	fallback: number
): number {
	const py = state.itemFactors;
	const ph = state.halfGradient;
	const previous = state.steps && i < state.steps.length ? state.steps[i] : fallback;
	if (!py || !ph || (i + 1) * f > py.length) return fallback;
	const o = i * f;
	let sps = 0;
	let sr = 0;
	for (let r = 0; r < f; r++) {
		const sr_ = y[o + r] - py[o + r];
		let ps = 0;
		for (let c = 0; c < f; c++) ps += p[r * f + c] * (y[o + c] - py[o + c]);
		sps += sr_ * ps;
		sr += sr_ * (h[o + r] - ph[o + r]);
	}
	if (!(sps > 0) || !(sr > 0)) return previous;
	return Math.min(fallback, Math.max(0.02, sps / sr));
}

/** Default support a proposed song needs: two clients. */
const DEFAULT_MIN_SUPPORT = 2;

/**
 * The summed statistics of a round's clients (float64): `G = sum_k G_k`, and by mode
 * `A_i = sum_k A_ki`, `b_i = sum_k b_ki` with the items any client touched (exact), or
 * `g = sum_k g_k` (compact). Plain rounds sum the accepted updates (`sumUpdates`); secure
 * rounds unmask exactly this sum and nothing else (secure/coordinator.ts).
 */
export interface StatisticSums {
	/** G, [f, f] row-major. */
	readonly gram: Float64Array;
	readonly payload:
		| {
				readonly mode: 'exact';
				/** A, [catalog, f(f+1)/2]. */
				readonly itemGrams: Float64Array;
				/** b, [catalog, f]. */
				readonly itemTargets: Float64Array;
				/** 1 for catalog items some client touched. */
				readonly touched: Uint8Array;
		  }
		| {
				readonly mode: 'compact';
				/** g, [catalog, f]. */
				readonly gradient: Float64Array;
		  };
}

function checkFits(model: GlobalModel, updates: readonly ClientUpdate[]): void {
	const f = model.params.factors;
	if (updates.length === 0) {
		throw new MusicrecError(
			'federation/no-updates',
			'No accepted updates to aggregate this round',
			{
				round: model.round
			}
		);
	}
	for (const u of updates) {
		if (u.payload.mode !== model.mode || u.factors !== f) {
			throw new MusicrecError(
				'federation/bad-input',
				`update ${u.clientId} does not fit this global`,
				{
					clientId: u.clientId
				}
			);
		}
	}
}

/** The sums of the accepted plain updates of a round (validate them first). */
function sumUpdates(model: GlobalModel, updates: readonly ClientUpdate[]): StatisticSums {
	checkFits(model, updates);
	const f = model.params.factors;
	const n = model.catalog.length;
	const gram = new Float64Array(f * f);
	for (const u of updates) for (let k = 0; k < f * f; k++) gram[k] += u.payload.gram[k];
	if (model.mode === 'exact') {
		const ps = packedSize(f);
		const a = new Float64Array(n * ps);
		const b = new Float64Array(n * f);
		const touched = new Uint8Array(n);
		for (const u of updates) {
			const p = u.payload;
			if (p.mode !== 'exact') continue;
			for (let t = 0; t < p.touched.length; t++) {
				const i = p.touched[t];
				if (!(i >= 0 && i < n)) {
					throw new MusicrecError(
						'federation/bad-input',
						`update ${u.clientId} touches item ${i} outside the catalog`,
						{
							clientId: u.clientId,
							item: i
						}
					);
				}
				touched[i] = 1;
				for (let k = 0; k < ps; k++) a[i * ps + k] += p.itemGrams[t * ps + k];
				for (let r = 0; r < f; r++) b[i * f + r] += p.itemTargets[t * f + r];
			}
		}
		return { gram, payload: { mode: 'exact', itemGrams: a, itemTargets: b, touched } };
	}
	const g = new Float64Array(n * f);
	for (const u of updates) {
		const p = u.payload;
		if (p.mode !== 'compact' || p.gradient.length !== n * f) {
			throw new MusicrecError(
				'federation/bad-input',
				`update ${u.clientId} gradient is not [catalog, f]`,
				{
					clientId: u.clientId
				}
			);
		}
		for (let k = 0; k < n * f; k++) g[k] += p.gradient[k];
	}
	return { gram, payload: { mode: 'compact', gradient: g } };
}

/**
 * The next global from the accepted updates of a round (validate them first: this only
 * re-checks mode, width and index ranges): `aggregateSums` of their sums, then the songs they
 * propose. New songs (both modes): a song proposed by at least `minSupport` distinct clients
 * (by client id) is appended to the catalog, in ascending id order, with
 * `(G + sum_k A_kj + lambda I) y_j = sum_k b_kj` summed over the clients that proposed it,
 * the exact item step for it; existing catalog indices do not move.
 */
export function aggregate(
	current: PublishedGlobal,
	updates: readonly ClientUpdate[],
	options: AggregateOptions = {}
): GlobalModel {
	const model = current.model;
	const f = model.params.factors;
	const n = model.catalog.length;
	const sums = sumUpdates(model, updates);
	const next = aggregateSums(current, sums, options);
	const base = Float64Array.from(sums.gram);
	for (let r = 0; r < f; r++) base[r * f + r] += model.params.regularization;
	const added = solveProposals(updates, base, f, options.minSupport ?? DEFAULT_MIN_SUPPORT, model);
	if (added.songIds.length === 0) return next;
	const grown = new Float32Array((n + added.songIds.length) * f);
	grown.set(next.itemFactors);
	grown.set(added.factors, n * f);
	return {
		...next,
		catalog: [...model.catalog, ...added.songIds],
		itemFactors: grown
	};
}

/**
 * The next global from a round's summed statistics. With `G` the summed gram:
 * - exact: every touched catalog item is solved exactly (float64 Cholesky) from
 *   `(G + A_i + lambda I) y_i = b_i`. That is the centralized ALS item step; an item no client
 *   touched has A_i = 0, b_i = 0, hence y_i = 0, as centralized.
 * - compact: the gradient of the loss in Y is `2 (Y G + g + lambda Y)`
 *   (row i: `2((G + lambda I) y_i + g_i)`, since `g_i = A_i y_i - b_i`). Preconditioning by
 *   `(G + lambda I)^-1` and stepping eta/2 gives
 *   `y_i <- (1 - eta) y_i - eta (G + lambda I)^-1 g_i`; at eta = 1 that is
 *   `(G + lambda I)^-1 (b_i - A_i y_i)`, one fixed-point (block Jacobi) step towards the exact
 *   item solution, and untouched items go to 0 as in exact mode.
 * Returns round + 1 with previousChecksum = the current global's checksum.
 */
export function aggregateSums(
	current: PublishedGlobal,
	sums: StatisticSums,
	options: AggregateOptions = {}
): GlobalModel {
	const model = current.model;
	const f = model.params.factors;
	const n = model.catalog.length;
	const lambda = model.params.regularization;
	if (sums.payload.mode !== model.mode || sums.gram.length !== f * f) {
		throw new MusicrecError('federation/bad-input', 'the sums do not fit this global', {
			mode: sums.payload.mode
		});
	}
	// G + lambda I, float64.
	const base = Float64Array.from(sums.gram);
	for (let r = 0; r < f; r++) base[r * f + r] += lambda;
	const next = new Float32Array(n * f);

	if (sums.payload.mode === 'exact') {
		const ps = packedSize(f);
		const { itemGrams: a, itemTargets: b, touched } = sums.payload;
		const system = new Float64Array(f * f);
		for (let i = 0; i < n; i++) {
			if (!touched[i]) continue; // b_i = 0 gives y_i = 0
			system.set(base);
			addPackedToFull(system, a, i * ps, f);
			const y = choleskySolve(cholesky(system, f), f, b.subarray(i * f, (i + 1) * f));
			for (let r = 0; r < f; r++) next[i * f + r] = y[r];
		}
	} else {
		const eta = options.compactStep ?? 1;
		if (!(eta > 0 && eta <= 2)) {
			throw new MusicrecError('federation/bad-input', 'compactStep must be in (0, 2]', {
				compactStep: eta
			});
		}
		const g = sums.payload.gradient;
		const l = cholesky(base, f);
		const y = model.itemFactors;
		const state = options.compactState;
		// h_i = (G + lambda I) y_i + g_i, half the gradient row (kept for the secant step).
		const h = state ? new Float64Array(n * f) : undefined;
		const etas = state ? new Float64Array(n) : undefined;
		for (let i = 0; i < n; i++) {
			const o = i * f;
			const step = choleskySolve(l, f, g.subarray(o, o + f));
			let etaI = eta;
			if (state && h && etas) {
				for (let r = 0; r < f; r++) {
					let v = g[o + r];
					for (let c = 0; c < f; c++) v += base[r * f + c] * y[o + c];
					h[o + r] = v;
				}
				etaI = secantStep(state, i, y, h, base, f, eta);
				etas[i] = etaI;
			}
			for (let r = 0; r < f; r++) next[o + r] = (1 - etaI) * y[o + r] - etaI * step[r];
		}
		if (state && h && etas) {
			state.itemFactors = Float64Array.from(y);
			state.halfGradient = h;
			state.steps = etas;
		}
	}
	return {
		...model,
		round: model.round + 1,
		previousChecksum: current.checksum,
		itemFactors: next
	};
}

/**
 * The proposed songs with support >= minSupport, ascending by id, and their factors solved
 * from `base` = G + lambda I plus the summed proposal statistics.
 */
function solveProposals(
	updates: readonly ClientUpdate[],
	base: Float64Array,
	f: number,
	minSupport: number,
	model: GlobalModel
): { songIds: string[]; factors: Float32Array } {
	if (!(Number.isInteger(minSupport) && minSupport >= 1)) {
		throw new MusicrecError('federation/bad-input', 'minSupport must be an integer >= 1', {
			minSupport
		});
	}
	const catalog = new Set(model.catalog);
	const supporters = new Map<string, Set<string>>();
	for (const u of updates) {
		for (const id of u.proposals?.songIds ?? []) {
			if (catalog.has(id)) {
				throw new MusicrecError(
					'federation/bad-input',
					`update ${u.clientId} proposes a song the catalog has`,
					{ clientId: u.clientId }
				);
			}
			const set = supporters.get(id) ?? new Set<string>();
			set.add(u.clientId);
			supporters.set(id, set);
		}
	}
	const songIds = [...supporters.entries()]
		.filter(([, set]) => set.size >= minSupport)
		.map(([id]) => id)
		.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	const ps = packedSize(f);
	const slot = new Map(songIds.map((id, k) => [id, k]));
	const a = new Float64Array(songIds.length * ps);
	const b = new Float64Array(songIds.length * f);
	for (const u of updates) {
		const q = u.proposals;
		if (!q) continue;
		q.songIds.forEach((id, t) => {
			const k = slot.get(id);
			if (k === undefined) return;
			for (let e = 0; e < ps; e++) a[k * ps + e] += q.itemGrams[t * ps + e];
			for (let r = 0; r < f; r++) b[k * f + r] += q.itemTargets[t * f + r];
		});
	}
	const factors = new Float32Array(songIds.length * f);
	const system = new Float64Array(f * f);
	for (let k = 0; k < songIds.length; k++) {
		system.set(base);
		addPackedToFull(system, a, k * ps, f);
		factors.set(choleskySolve(cholesky(system, f), f, b.subarray(k * f, (k + 1) * f)), k * f);
	}
	return { songIds, factors };
}
