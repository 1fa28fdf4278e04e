import { cholesky, choleskySolve } from '../als/cholesky';
import type { StatisticSums } from './aggregate';
import { regularizedGram } from './client_update';
import type { PublishedGlobal } from './global_file';
import { packedSize } from './packed_symmetric';
import type { ClientUpdate } from './update_file';
import { fmt, medianSpread } from './round_statistics';

/**
 * Robust aggregation: screen a round's validated updates before `aggregate`, so that one
 * poisoned client cannot steer the shared model. Summed sufficient statistics are not averages,
 * so norm medians alone (validate.ts) miss a client whose statistics are 10x too large, flipped,
 * or random with honest norms. Four checks, each with a reason:
 *
 * 1. consistency (per client, against the global it was computed for): an honest client solves
 *    `(Y'Y + sum_{i in u} (c_ui - 1) y_i y_i' + lambda I) x_u = sum_{i in u} c_ui y_i`, so
 *    `x_u' (...) x_u = sum_{i in u} c_ui x_u.y_i`; summed over its users this is exactly
 *      exact:   sum_i y_i.b_i = tr(G (Y'Y + lambda I)) + sum_i y_i' A_i y_i
 *      compact: sum_i y_i.g_i = -tr(G (Y'Y + lambda I))      (g_i = A_i y_i - b_i)
 *    up to float32 rounding. Flipped or random b / g break it; a diagonal entry of G below 0
 *    (G is a sum of outer products) is flagged too. It holds for scaled statistics.
 * 2. scale (against the other clients): `tr(G_k (Y'Y + lambda I)) / interactions_k`, the
 *    client's `sum_u x_u'(Y'Y + lambda I) x_u` per interaction, which does not grow with its
 *    number of users; a client far from the round's median (in log,
 *    median/MAD, never within `scaleFloor` of it) is flagged. Catches scaling.
 * 3. direction (against the other clients): the weighted mean cosine between a client's rows
 *    (b_ki, or g_ki) and the sum of the other clients' rows for the same items,
 *    `sum_i b_ki.B_{-k,i} / sum_i |b_ki| |B_{-k,i}|`; flagged when far below the median.
 *
 * 4. energy (per client, exact mode, a bound no honest client can exceed): with
 *    `M_i = A_i + G` a client's statistics for song i satisfy
 *      b_i' M_i^-1 b_i <= sum_{u played i} c_ui,     summed:  E = sum_i b_i' M_i^-1 b_i <= C,
 *    C the client's reported confidence total. Proof: G >= sum_{u played i} x_u x_u', so
 *    M_i >= X' C_i X (X the song's listeners' factors, C_i their confidences), and with
 *    b_i = X' C_i 1, b_i'(X' C_i X)^+ b_i is the squared length of the projection of C_i^(1/2) 1
 *    onto the column space of C_i^(1/2) X, at most |C_i^(1/2) 1|^2 = sum c_ui (Cauchy-Schwarz).
 *    It needs no other client and holds for a one-person client, where it is tight. Noise added
 *    to b in directions its users' factors do not span (the orthogonal attack) makes E exceed C
 *    by 50-90x on the KKBox demo. A client with no confidence total (older files) is flagged.
 *    Scaling b, A, G and C together keeps the bound (as it must: that is a client with
 *    duplicated users); check 2 then compares the mean confidence per interaction, C /
 *    interactions, with the round's median (same floor).
 *
 * Checks 2 and 3 need at least `minClients` updates (the median of fewer is not trusted).
 * When nobody is flagged the updates pass through unchanged, so the aggregate is exactly the
 * non-robust one. Counts are taken as reported: a client that scales its counts with its
 * statistics looks like a client with duplicated users and is not caught here; the weight cap
 * of influence_caps.ts bounds it.
 */
export interface RobustOptions {
	/** Relative tolerance of check 1; default 1e-3 (honest updates: ~1e-9). */
	readonly consistencyTolerance?: number;
	/** Robust z-score (|v - median| / (1.4826 MAD)) above which checks 2 and 3 flag. Default 5. */
	readonly zLimit?: number;
	/** Check 2 never flags within this factor of the median (either way). Default 3. */
	readonly scaleFloor?: number;
	/** Check 3 never flags within this distance below the median cosine. Default 0.3. */
	readonly directionFloor?: number;
	/** Fewest updates for checks 2 and 3. Default 4. */
	readonly minClients?: number;
	/** Relative slack of check 4 (E <= C (1 + tolerance)); default 1e-3. */
	readonly energyTolerance?: number;
}

export type RobustCheck = 'consistency' | 'scale' | 'direction' | 'energy';

export interface RobustFlag {
	/** Position in the input list. */
	readonly index: number;
	readonly clientId: string;
	readonly check: RobustCheck;
	/** A sentence for people. */
	readonly reason: string;
}

/** Per-client scores (input order), for reports and plots. */
interface RobustScores {
	/** |lhs - rhs| / (|lhs| + |rhs|) of check 1. */
	readonly consistency: number[];
	/** tr(G_k (Y'Y + lambda I)) / interactions_k. */
	readonly scale: number[];
	/** Weighted mean cosine to the other clients (NaN when no item is shared). */
	readonly direction: number[];
	/** E / C of check 4 (honest: at most 1; NaN in compact mode or without C). */
	readonly energy: number[];
}

export interface RobustResult {
	/** The updates to aggregate: the input array itself when nobody is flagged. */
	readonly kept: readonly ClientUpdate[];
	readonly flagged: RobustFlag[];
	readonly scores: RobustScores;
}

export const DEFAULT_ROBUST_OPTIONS: Required<RobustOptions> = Object.freeze({
	consistencyTolerance: 1e-3,
	zLimit: 5,
	scaleFloor: 3,
	directionFloor: 0.3,
	minClients: 4,
	energyTolerance: 1e-3
});

/** Screen the (validated) updates of a round; see the module comment. */
export function screenUpdates(
	current: PublishedGlobal,
	updates: readonly ClientUpdate[],
	options: RobustOptions = {}
): RobustResult {
	const o = { ...DEFAULT_ROBUST_OPTIONS, ...options };
	const model = current.model;
	const f = model.params.factors;
	const y = model.itemFactors;
	const n = model.catalog.length;
	const p = regularizedGram(model);

	const consistency = updates.map((u) => consistencyError(u, p, y, f));
	const scale = updates.map((u) => {
		const g = u.payload.gram;
		let trace = 0;
		for (let k = 0; k < f * f; k++) trace += g[k] * p[k];
		return u.counts.interactions > 0 ? trace / u.counts.interactions : 0;
	});
	const direction = directionScores(updates, n, f);

	const flags = new Map<number, RobustFlag>();
	const flag = (k: number, check: RobustCheck, reason: string): void => {
		if (!flags.has(k)) flags.set(k, { index: k, clientId: updates[k].clientId, check, reason });
	};
	updates.forEach((u, k) => {
		const g = u.payload.gram;
		for (let r = 0; r < f; r++) {
			if (!(g[r * f + r] >= 0)) {
				return flag(
					k,
					'consistency',
					`Its G has a negative diagonal entry (${fmt(g[r * f + r])}), so it is not a sum of x x'`
				);
			}
		}
		if (!(consistency[k] <= o.consistencyTolerance)) {
			flag(
				k,
				'consistency',
				`Its ${u.payload.mode === 'exact' ? 'b' : 'g'} does not match its G${u.payload.mode === 'exact' ? ' and A' : ''} for this global (relative mismatch ${fmt(consistency[k])}, limit ${fmt(o.consistencyTolerance)})`
			);
		}
	});
	const energy = updates.map((u) => {
		const c = u.counts.confidence;
		return u.payload.mode === 'exact' && c !== undefined ? statisticsEnergy(u.payload, f) / c : NaN;
	});
	updates.forEach((u, k) => {
		if (u.payload.mode !== 'exact') return;
		if (u.counts.confidence === undefined) {
			return flag(
				k,
				'energy',
				"It reports no confidence total (meta.counts.confidence), so its statistics cannot be bounded; its app is older than the coordinator's"
			);
		}
		if (!(energy[k] <= 1 + o.energyTolerance)) {
			flag(
				k,
				'energy',
				Number.isFinite(energy[k])
					? `Its b is larger than its A and G allow: sum_i b_i' (A_i + G)^-1 b_i is ${fmt(energy[k])} times its confidence total, and no honest client's exceeds 1`
					: "Its A + G is not positive semidefinite for some song, which no sum of c x x' with c > 0 is"
			);
		}
	});
	if (updates.length >= o.minClients) {
		const logs = scale.map((s) => Math.log(Math.max(s, 1e-300)));
		const [med, spread] = medianSpread(logs);
		const limit = Math.max(o.zLimit * spread, Math.log(o.scaleFloor));
		logs.forEach((v, k) => {
			if (Math.abs(v - med) > limit) {
				flag(
					k,
					'scale',
					`Its size per interaction (tr(G (Y'Y + lambda I)) / interactions = ${fmt(scale[k])}) is ${fmt(Math.exp(v - med))} times the round's median (limit ${fmt(Math.exp(limit))} times either way)`
				);
			}
		});
		// Mean confidence per interaction, C / interactions (exact mode: check 4's budget).
		const perInteraction = updates.map((u) =>
			u.counts.confidence !== undefined && u.counts.interactions > 0
				? u.counts.confidence / u.counts.interactions
				: NaN
		);
		const reported = perInteraction.filter((v) => v > 0);
		if (reported.length >= o.minClients) {
			const confLogs = reported.map((v) => Math.log(v));
			const [cMed, cSpread] = medianSpread(confLogs);
			const cLimit = Math.max(o.zLimit * cSpread, Math.log(o.scaleFloor));
			perInteraction.forEach((v, k) => {
				if (v > 0 && Math.abs(Math.log(v) - cMed) > cLimit) {
					flag(
						k,
						'scale',
						`Its confidence per interaction (${fmt(v)}) is ${fmt(Math.exp(Math.log(v) - cMed))} times the round's median (limit ${fmt(Math.exp(cLimit))} times either way)`
					);
				}
			});
		}
		const known = direction.filter((d) => Number.isFinite(d));
		if (known.length >= o.minClients) {
			const [dMed, dSpread] = medianSpread(known);
			const dLimit = Math.max(o.zLimit * dSpread, o.directionFloor);
			direction.forEach((d, k) => {
				if (d < dMed - dLimit) {
					flag(
						k,
						'direction',
						`Its per-song statistics point away from the other clients' (mean cosine ${fmt(d)}, round median ${fmt(dMed)}, limit ${fmt(dMed - dLimit)})`
					);
				}
			});
		}
	}
	const flagged = [...flags.values()].sort((a, b) => a.index - b.index);
	return {
		kept: flagged.length === 0 ? updates : updates.filter((_, k) => !flags.has(k)),
		flagged,
		scores: { consistency, scale, direction, energy }
	};
}

/** The statistics check 1 reads: a plain update's payload, or a round's unmasked sums. */
type StatisticsView =
	| {
			readonly mode: 'exact';
			readonly gram: ArrayLike<number>;
			/** Catalog index of each row of itemGrams / itemTargets. */
			readonly touched: ArrayLike<number>;
			readonly itemGrams: ArrayLike<number>;
			readonly itemTargets: ArrayLike<number>;
	  }
	| {
			readonly mode: 'compact';
			readonly gram: ArrayLike<number>;
			readonly gradient: ArrayLike<number>;
	  };

/** Check 1: |lhs - rhs| / (sum of |terms|), see the module comment. */
function consistencyError(u: ClientUpdate, p: Float64Array, y: Float32Array, f: number): number {
	return viewConsistency(u.payload, p, y, f);
}

function viewConsistency(pl: StatisticsView, p: Float64Array, y: Float32Array, f: number): number {
	const g = pl.gram;
	let trace = 0; // tr(G P), P symmetric
	for (let k = 0; k < f * f; k++) trace += g[k] * p[k];
	let lhs = 0;
	let scaleSum = Math.abs(trace);
	let rhs: number;
	if (pl.mode === 'exact') {
		let quad = 0;
		let quadAbs = 0;
		const ps = packedSize(f);
		for (let t = 0; t < pl.touched.length; t++) {
			const o = pl.touched[t] * f;
			let dot = 0;
			for (let r = 0; r < f; r++) dot += y[o + r] * pl.itemTargets[t * f + r];
			lhs += dot;
			// y'Ay from the packed upper triangle: diagonal once, off-diagonal twice.
			let q = 0;
			let e = t * ps; // packedIndex(f, r, r) walked row by row
			for (let r = 0; r < f; r++) {
				const yr = y[o + r];
				q += pl.itemGrams[e++] * yr * yr;
				for (let c = r + 1; c < f; c++) q += 2 * pl.itemGrams[e++] * yr * y[o + c];
			}
			quad += q;
			quadAbs += Math.abs(q);
		}
		rhs = trace + quad;
		scaleSum += quadAbs + Math.abs(lhs);
	} else {
		for (let k = 0; k < pl.gradient.length; k++) lhs += y[k] * pl.gradient[k];
		rhs = -trace;
		scaleSum += Math.abs(lhs);
	}
	if (!(scaleSum > 0)) return 0;
	return Math.abs(lhs - rhs) / scaleSum;
}

/**
 * Check 1 on a round's summed statistics (what a secure round unmasks). The identity is linear
 * in the statistics, so a sum of honest clients meets it (to rounding) and a sum holding a
 * flipped or random client does not; a scaled client keeps it. It says that someone in the
 * sum did not compute against this global, not who. Returns the relative mismatch (honest sums:
 * about 1e-9; DEFAULT_ROBUST_OPTIONS.consistencyTolerance is the limit).
 */
export function sumConsistency(current: PublishedGlobal, sums: StatisticSums): number {
	const model = current.model;
	const f = model.params.factors;
	const y = model.itemFactors;
	const n = model.catalog.length;
	const p = regularizedGram(model);
	const s = sums.payload;
	if (s.mode === 'compact')
		return viewConsistency({ mode: 'compact', gram: sums.gram, gradient: s.gradient }, p, y, f);
	const touched: number[] = [];
	for (let i = 0; i < n; i++) if (s.touched[i]) touched.push(i);
	const ps = packedSize(f);
	const itemGrams = new Float64Array(touched.length * ps);
	const itemTargets = new Float64Array(touched.length * f);
	touched.forEach((i, t) => {
		itemGrams.set(s.itemGrams.subarray(i * ps, (i + 1) * ps), t * ps);
		itemTargets.set(s.itemTargets.subarray(i * f, (i + 1) * f), t * f);
	});
	return viewConsistency(
		{ mode: 'exact', gram: sums.gram, touched, itemGrams, itemTargets },
		p,
		y,
		f
	);
}

/**
 * Check 4's E = sum_i b_i' (A_i + G + eps_i I)^-1 b_i over an exact payload's touched songs.
 * eps_i = 1e-4 tr(A_i + G) / f keeps the solve defined for clients with fewer than f users
 * (their A_i + G is singular) while staying far above the float32 rounding of A; any eps >= 0
 * only lowers E, so the honest bound E <= C still holds. Infinity when some A_i + G + eps_i I
 * is not positive definite.
 */
export function statisticsEnergy(pl: ExactStatistics, f: number): number {
	let total = 0;
	for (const e of songEnergies(pl, f)) total += e;
	return total;
}

/** The exact statistics check 4 reads (a plain update's payload, or a test's own). */
export interface ExactStatistics {
	readonly gram: ArrayLike<number>;
	readonly touched: ArrayLike<number>;
	readonly itemGrams: ArrayLike<number>;
	readonly itemTargets: ArrayLike<number>;
}

/**
 * Each touched song's term b_i' (A_i + G + eps_i I)^-1 b_i of `statisticsEnergy` (honest: at
 * most the confidence of the song's plays in the client, sum_{u played i} c_ui). Infinity for
 * a song whose A_i + G + eps_i I is not positive definite.
 */
export function songEnergies(pl: ExactStatistics, f: number): Float64Array {
	const ps = packedSize(f);
	const m = new Float64Array(f * f);
	const b = new Float64Array(f);
	const out = new Float64Array(pl.touched.length);
	for (let t = 0; t < pl.touched.length; t++) {
		for (let k = 0; k < f * f; k++) m[k] = pl.gram[k];
		let e = t * ps; // packed upper triangle, row by row
		for (let r = 0; r < f; r++) {
			for (let c = r; c < f; c++) {
				const v = pl.itemGrams[e++];
				m[r * f + c] += v;
				if (c !== r) m[c * f + r] += v;
			}
		}
		let trace = 0;
		for (let r = 0; r < f; r++) trace += m[r * f + r];
		const eps = (1e-4 * Math.max(trace, 0)) / f + 1e-300;
		for (let r = 0; r < f; r++) m[r * f + r] += eps;
		for (let r = 0; r < f; r++) b[r] = pl.itemTargets[t * f + r];
		let z: Float64Array;
		try {
			z = choleskySolve(cholesky(m, f), f, b);
		} catch {
			// Not positive definite: no honest A_i + G is (see the module comment, check 4).
			out[t] = Infinity;
			continue;
		}
		let d = 0;
		for (let r = 0; r < f; r++) d += z[r] * b[r];
		out[t] = d;
	}
	return out;
}

/**
 * Check 4 on a round's summed statistics (what a secure round unmasks): E of the sum over its
 * summed confidence total. `b' M^-1 b` is jointly convex and homogeneous in (b, M), so
 * subadditive, and a sum of honest clients meets E <= C (ratio at most 1; measured 0.80-0.83
 * on the KKBox demo), while one client adding noise its users' factors do not span pushes the
 * sum past it (1.5-59 in the same rounds). Like `sumConsistency` it says that someone in the
 * sum is not honest, not who. NaN in compact mode (no A and b) or without a total.
 */
export function sumEnergy(
	current: PublishedGlobal,
	sums: StatisticSums,
	confidence: number
): number {
	const s = sums.payload;
	if (s.mode !== 'exact' || !(confidence > 0)) return NaN;
	const f = current.model.params.factors;
	const n = current.model.catalog.length;
	const ps = packedSize(f);
	const touched: number[] = [];
	for (let i = 0; i < n; i++) if (s.touched[i]) touched.push(i);
	const itemGrams = new Float64Array(touched.length * ps);
	const itemTargets = new Float64Array(touched.length * f);
	touched.forEach((i, t) => {
		itemGrams.set(s.itemGrams.subarray(i * ps, (i + 1) * ps), t * ps);
		itemTargets.set(s.itemTargets.subarray(i * f, (i + 1) * f), t * f);
	});
	return statisticsEnergy({ gram: sums.gram, touched, itemGrams, itemTargets }, f) / confidence;
}

/** Check 3: weighted mean cosine of each client's rows to the others' summed rows. */
function directionScores(updates: readonly ClientUpdate[], n: number, f: number): number[] {
	const total = new Float64Array(n * f);
	const rowsOf = (
		u: ClientUpdate
	): { index: (t: number) => number; rows: Float32Array; count: number } => {
		const pl = u.payload;
		return pl.mode === 'exact'
			? { index: (t) => pl.touched[t], rows: pl.itemTargets, count: pl.touched.length }
			: { index: (t) => t, rows: pl.gradient, count: n };
	};
	for (const u of updates) {
		const { index, rows, count } = rowsOf(u);
		for (let t = 0; t < count; t++) {
			const o = index(t) * f;
			for (let r = 0; r < f; r++) total[o + r] += rows[t * f + r];
		}
	}
	return updates.map((u) => {
		const { index, rows, count } = rowsOf(u);
		let num = 0;
		let den = 0;
		for (let t = 0; t < count; t++) {
			const o = index(t) * f;
			let dot = 0;
			let mine = 0;
			let others = 0;
			for (let r = 0; r < f; r++) {
				const a = rows[t * f + r];
				const b = total[o + r] - a;
				dot += a * b;
				mine += a * a;
				others += b * b;
			}
			num += dot;
			den += Math.sqrt(mine * others);
		}
		return den > 0 ? num / den : NaN;
	});
}
