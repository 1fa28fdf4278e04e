import { Rng } from '../random';
import type { ClientStatistics } from './client_update';
import type { ClientUpdate, UpdatePayload } from './update_file';

/**
 * Poisoned updates for simulations (issue: robust aggregation). Each keeps the file valid:
 * - scaled: every statistic (G, A, b or g, proposals) times `factor`; counts as honest.
 * - flipped: the sign of b (exact) or g (compact); G and A honest.
 * - random: each non-zero row of b (exact) or g (compact) replaced by a Gaussian direction
 *   with that row's norm, so every norm the validator looks at is the honest one.
 * Adaptive (it reads the public global and knows the checks):
 * - orthogonal: to each non-zero row b_i (g_i) it adds Gaussian noise n_i projected off
 *   span{y_i, b_i} and scaled to `factor` x |b_i| (default 1). Since y_i.n_i = 0 the consistency
 *   identity sum_i y_i.b_i = tr(G (Y'Y + lambda I)) + sum_i y_i' A_i y_i still holds, G and the
 *   counts are honest (scale check), and the cosine to the others only drops by about
 *   1 / sqrt(1 + factor^2) (direction check).
 */
export type AttackKind = 'scaled' | 'flipped' | 'random' | 'orthogonal';

/** The attacks robust screening flags (robust.test.ts holds it to that). */
export const ATTACK_KINDS: readonly AttackKind[] = ['scaled', 'flipped', 'random'];

/** Attacks built to pass the screening; measured, not defended (README, poisoning). */
export const ADAPTIVE_ATTACK_KINDS: readonly AttackKind[] = ['orthogonal'];

export interface Attack {
	readonly kind: AttackKind;
	/** Index of the attacking client (share order). */
	readonly client: number;
	/** scaled: the multiplier; default 10. orthogonal: noise norm over |b_i|; default 1. */
	readonly factor?: number;
}

/** What an adaptive attack reads from the round's public global. */
export interface AttackView {
	/** The global's Y, [catalog, f]. */
	readonly itemFactors: Float32Array;
}

type Values = Float32Array | Float64Array;

/** The parts an attack touches, whatever their float width. */
interface Parts<T extends Values> {
	readonly gram: T;
	/** exact: A; absent in compact. */
	readonly itemGrams?: T;
	/** exact: b; compact: g (the rows the direction attacks change). */
	readonly rows: T;
	readonly proposalGrams?: T;
	readonly proposalTargets?: T;
}

/** The attack on `parts` (new arrays of the same type; the input is not modified). */
function poisonParts<T extends Values>(
	parts: Parts<T>,
	f: number,
	attack: Attack,
	rng: Rng,
	rowItem: (t: number) => number,
	view: AttackView | undefined
): Parts<T> {
	if (attack.kind === 'scaled') {
		const s = attack.factor ?? 10;
		const times = (a: T | undefined): T | undefined => (a ? (a.map((v) => v * s) as T) : undefined);
		return {
			gram: times(parts.gram)!,
			itemGrams: times(parts.itemGrams),
			rows: times(parts.rows)!,
			proposalGrams: times(parts.proposalGrams),
			proposalTargets: times(parts.proposalTargets)
		};
	}
	const rows = parts.rows;
	const out = rows.slice() as T;
	if (attack.kind === 'flipped') {
		for (let k = 0; k < rows.length; k++) out[k] = -rows[k];
	} else if (attack.kind === 'orthogonal') {
		if (!view) throw new Error('the orthogonal attack reads the global item factors');
		orthogonalNoise(rows, out, f, attack.factor ?? 1, rng, rowItem, view.itemFactors);
	} else {
		const z = new Float64Array(f);
		for (let t = 0; t < rows.length / f; t++) {
			let norm = 0;
			let zn = 0;
			for (let r = 0; r < f; r++) {
				norm += rows[t * f + r] ** 2;
				z[r] = rng.normal();
				zn += z[r] * z[r];
			}
			if (norm === 0) continue;
			const s = Math.sqrt(norm / zn);
			for (let r = 0; r < f; r++) out[t * f + r] = z[r] * s;
		}
	}
	return { ...parts, rows: out };
}

/**
 * out_t = b_t + s |b_t| n_t / |n_t| with n_t a Gaussian draw minus its projection on span{y, b_t}
 * (Gram-Schmidt: e1 = y/|y|, e2 = (b - (b.e1) e1) / |...|, n = z - (z.e1) e1 - (z.e2) e2).
 */
function orthogonalNoise(
	rows: Values,
	out: Values,
	f: number,
	s: number,
	rng: Rng,
	rowItem: (t: number) => number,
	itemFactors: Float32Array
): void {
	const e1 = new Float64Array(f);
	const e2 = new Float64Array(f);
	const z = new Float64Array(f);
	const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
		let d = 0;
		for (let r = 0; r < f; r++) d += a[r] * b[r];
		return d;
	};
	/** v minus its projection on the unit vector e (in place). */
	const reject = (v: Float64Array, e: Float64Array): void => {
		const d = dot(v, e);
		for (let r = 0; r < f; r++) v[r] -= d * e[r];
	};
	const normalize = (v: Float64Array): boolean => {
		const n = Math.sqrt(dot(v, v));
		if (n < 1e-12) return false;
		for (let r = 0; r < f; r++) v[r] /= n;
		return true;
	};
	for (let t = 0; t < rows.length / f; t++) {
		const b = rows.subarray(t * f, (t + 1) * f);
		const bn = Math.sqrt(dot(b, b));
		if (bn === 0) continue;
		const i = rowItem(t);
		for (let r = 0; r < f; r++) e1[r] = itemFactors[i * f + r];
		const hasY = normalize(e1);
		for (let r = 0; r < f; r++) e2[r] = b[r];
		if (hasY) reject(e2, e1);
		const hasB = normalize(e2);
		for (let r = 0; r < f; r++) z[r] = rng.normal();
		if (hasY) reject(z, e1);
		if (hasB) reject(z, e2);
		if (!normalize(z)) continue;
		for (let r = 0; r < f; r++) out[t * f + r] = b[r] + s * bn * z[r];
	}
}

/** The poisoned version of an honest update (new arrays; the input is not modified). */
export function poisonUpdate(
	update: ClientUpdate,
	attack: Attack,
	rng: Rng,
	view?: AttackView
): ClientUpdate {
	const p = update.payload;
	const q = update.proposals;
	const out = poisonParts(
		{
			gram: p.gram,
			itemGrams: p.mode === 'exact' ? p.itemGrams : undefined,
			rows: p.mode === 'exact' ? p.itemTargets : p.gradient,
			proposalGrams: q?.itemGrams,
			proposalTargets: q?.itemTargets
		},
		update.factors,
		attack,
		rng,
		(t) => (p.mode === 'exact' ? p.touched[t] : t),
		view
	);
	const payload: UpdatePayload =
		p.mode === 'exact'
			? { ...p, gram: out.gram, itemGrams: out.itemGrams!, itemTargets: out.rows }
			: { ...p, gram: out.gram, gradient: out.rows };
	return {
		...update,
		payload,
		...(q
			? { proposals: { ...q, itemGrams: out.proposalGrams!, itemTargets: out.proposalTargets! } }
			: {})
	};
}

/**
 * The poisoned version of a client's statistics, before they are written to a file: in a
 * secure round the attack then goes through the client's clip and masking like honest data.
 */
export function poisonStatistics(
	stats: ClientStatistics,
	attack: Attack,
	rng: Rng,
	view?: AttackView
): ClientStatistics {
	const p = stats.payload;
	const q = stats.proposals;
	const out = poisonParts(
		{
			gram: stats.gram,
			itemGrams: p.mode === 'exact' ? p.itemGrams : undefined,
			rows: p.mode === 'exact' ? p.itemTargets : p.gradient,
			proposalGrams: q?.itemGrams,
			proposalTargets: q?.itemTargets
		},
		stats.factors,
		attack,
		rng,
		(t) => (p.mode === 'exact' ? p.touched[t] : t),
		view
	);
	return {
		...stats,
		gram: out.gram,
		payload:
			p.mode === 'exact'
				? { ...p, itemGrams: out.itemGrams!, itemTargets: out.rows }
				: { ...p, gradient: out.rows },
		...(q
			? { proposals: { ...q, itemGrams: out.proposalGrams!, itemTargets: out.proposalTargets! } }
			: {})
	};
}
