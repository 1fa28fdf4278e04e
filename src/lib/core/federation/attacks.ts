import { csrFromTriplets, type Csr } from '../data/csr';
import type { Interactions } from '../data/interactions';
import { Vocabulary } from '../data/vocabulary';
import { Rng } from '../random';
import type { ClientStatistics } from './client_update';
import type { ClientUpdate, UpdatePayload } from './update_file';

/**
 * Poisoned updates for simulations (robust aggregation). Each keeps the file valid:
 * - scaled: every statistic (G, A, b or g, proposals) times `factor`; counts as honest.
 * - flipped: the sign of b (exact) or g (compact); G and A honest.
 * - random: each non-zero row of b (exact) or g (compact) replaced by a Gaussian direction
 *   with that row's norm, so every norm the validator looks at is the honest one.
 * Adaptive (they read the public global and know the checks):
 * - orthogonal: to each non-zero row b_i (g_i) it adds Gaussian noise n_i projected off
 *   span{y_i, b_i} and scaled to `factor` x |b_i| (default 1). Since y_i.n_i = 0 the consistency
 *   identity sum_i y_i.b_i = tr(G (Y'Y + lambda I)) + sum_i y_i' A_i y_i still holds, G and the
 *   counts are honest (scale check), and the cosine to the others only drops by about
 *   1 / sqrt(1 + factor^2) (direction check).
 * - gram-noise (exact): to each A_i it adds t n n', n a unit Gaussian direction orthogonal to
 *   y_i and t = `factor` x tr(A_i + G) (default 10): y_i' A_i y_i, b and G are honest, and a
 *   larger A only lowers the energy b' (A + G)^-1 b; the song's solve is damped along n.
 * - count-scaled: every statistic and the counts users, interactions and confidence times
 *   `factor` (default 10): exactly the update of a client holding each of its users `factor`
 *   times, so no check on the statistics can tell.
 * - targeted (`poisonInteractions`, before the statistics): each of the client's users also
 *   plays the song `target` with the largest weight in its data, and the client reports the
 *   honest statistics of that data: a fake-listener attack that pushes one song.
 * An attack with an `accomplice` is sent by two clients with the same random draws (a
 * colluding pair).
 */
export type AttackKind =
	'scaled' | 'flipped' | 'random' | 'orthogonal' | 'gram-noise' | 'count-scaled' | 'targeted';

/** The naive attacks: robust screening flags each (robust.test.ts holds it to that). */
export const ATTACK_KINDS: readonly AttackKind[] = ['scaled', 'flipped', 'random'];

/** Every attack kind. */
export const ALL_ATTACK_KINDS = [
	'scaled',
	'flipped',
	'random',
	'orthogonal',
	'gram-noise',
	'count-scaled',
	'targeted'
] as const satisfies readonly AttackKind[];

/** Attacks built to pass the first screens; docs/federation.md measures each. */
export const ADAPTIVE_ATTACK_KINDS: readonly AttackKind[] = [
	'orthogonal',
	'gram-noise',
	'count-scaled',
	'targeted'
];

export interface Attack {
	readonly kind: AttackKind;
	/** Index of the attacking client (share order). */
	readonly client: number;
	/**
	 * scaled, count-scaled: the multiplier; default 10. orthogonal: noise norm over |b_i|;
	 * default 1. gram-noise: t over tr(A_i + G); default 10.
	 */
	readonly factor?: number;
	/** A second client sending the same attack with the same random draws. */
	readonly accomplice?: number;
	/** targeted: the catalog song id to push. */
	readonly target?: string;
}

/** The clients an attack is sent by. */
export function attackers(attack: Attack): number[] {
	return attack.accomplice === undefined ? [attack.client] : [attack.client, attack.accomplice];
}

/** Default multiplier of each attack kind (see `Attack.factor`). */
export function defaultAttackFactor(kind: AttackKind): number {
	return kind === 'orthogonal' ? 1 : 10;
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
	if (attack.kind === 'targeted') {
		throw new Error('the targeted attack changes the data: use poisonInteractions');
	}
	if (attack.kind === 'scaled' || attack.kind === 'count-scaled') {
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
	if (attack.kind === 'gram-noise') {
		if (!parts.itemGrams) throw new Error('the gram-noise attack needs exact statistics (A)');
		if (!view) throw new Error('the gram-noise attack reads the global item factors');
		const itemGrams = parts.itemGrams.slice() as T;
		gramNoise(parts.gram, itemGrams, f, attack.factor ?? 10, rng, rowItem, view.itemFactors);
		return { ...parts, itemGrams };
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

/**
 * A_t += s tr(A_t + G) n n' for each touched row t, n a unit Gaussian direction orthogonal to
 * y (packed upper triangle, row by row).
 */
function gramNoise(
	gram: Values,
	itemGrams: Values,
	f: number,
	s: number,
	rng: Rng,
	rowItem: (t: number) => number,
	itemFactors: Float32Array
): void {
	const ps = (f * (f + 1)) / 2;
	const e = new Float64Array(f);
	const z = new Float64Array(f);
	let gramTrace = 0;
	for (let r = 0; r < f; r++) gramTrace += gram[r * f + r];
	for (let t = 0; t < itemGrams.length / ps; t++) {
		const o = rowItem(t) * f;
		let yy = 0;
		for (let r = 0; r < f; r++) {
			e[r] = itemFactors[o + r];
			yy += e[r] * e[r];
		}
		let zz = 0;
		let ze = 0;
		for (let r = 0; r < f; r++) {
			z[r] = rng.normal();
			ze += z[r] * e[r];
		}
		for (let r = 0; r < f; r++) {
			if (yy > 0) z[r] -= (ze / yy) * e[r];
			zz += z[r] * z[r];
		}
		if (!(zz > 0)) continue;
		let trace = gramTrace;
		let k = t * ps;
		for (let r = 0; r < f; r++) {
			trace += itemGrams[k];
			k += f - r;
		}
		const w = (s * trace) / zz;
		k = t * ps;
		for (let r = 0; r < f; r++) for (let c = r; c < f; c++) itemGrams[k++] += w * z[r] * z[c];
	}
}

/** Counts of a count-scaled attack: users, interactions and confidence times the factor. */
function scaledCounts<C extends { users: number; interactions: number; confidence?: number }>(
	counts: C,
	attack: Attack
): C {
	if (attack.kind !== 'count-scaled') return counts;
	const s = attack.factor ?? 10;
	return {
		...counts,
		users: Math.round(counts.users * s),
		interactions: Math.round(counts.interactions * s),
		...(counts.confidence !== undefined ? { confidence: counts.confidence * s } : {})
	};
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
		counts: scaledCounts(update.counts, attack),
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
		...scaledCounts(stats, attack),
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

/**
 * The targeted attack's data: each user of `local` also plays `target` with the largest weight
 * in `local` (a user who already has it gets that weight). The client then computes honest
 * statistics from it, so its update is that of a client whose listeners all love the song.
 */
export function poisonInteractions(local: Interactions, target: string): Interactions {
	const m = local.matrix;
	const items = Vocabulary.from(local.items.toArray());
	const t = items.add(target);
	let top = 0;
	for (let k = 0; k < m.indptr[m.rows]; k++) top = Math.max(top, m.data[k]);
	const rows: number[] = [];
	const cols: number[] = [];
	const values: number[] = [];
	const targets: number[] = [];
	for (let u = 0; u < m.rows; u++) {
		for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++) {
			if (m.indices[k] === t) continue;
			rows.push(u);
			cols.push(m.indices[k]);
			values.push(m.data[k]);
			if (local.target) targets.push(local.target[k]);
		}
		rows.push(u);
		cols.push(t);
		values.push(top > 0 ? top : 1);
		if (local.target) targets.push(1);
	}
	const built = csrFromTriplets(
		m.rows,
		items.size,
		Int32Array.from(rows),
		Int32Array.from(cols),
		Float32Array.from(values),
		local.target ? Int8Array.from(targets) : undefined
	);
	return {
		users: local.users,
		items,
		matrix: built.matrix,
		...(built.extra ? { target: built.extra } : {})
	};
}

/**
 * The default song of a targeted attack: the one at rank `ceil(items / 10)` by listeners in
 * `train` (ties: lower index), liked enough to be in the catalog but far from everyone's top 10.
 */
export function defaultTargetSong(train: Csr): number {
	const listeners = new Int32Array(train.cols);
	for (let k = 0; k < train.indptr[train.rows]; k++) listeners[train.indices[k]]++;
	const order = Array.from(listeners.keys()).sort((a, b) => listeners[b] - listeners[a] || a - b);
	return order[Math.min(order.length - 1, Math.ceil(train.cols / 10))];
}
