import { Rng } from '../random';
import type { ClientStatistics } from './client_update';
import type { ClientUpdate, UpdatePayload } from './update_file';

/**
 * Poisoned updates for simulations (issue: robust aggregation). Each keeps the file valid:
 * - scaled: every statistic (G, A, b or g, proposals) times `factor`; counts as honest.
 * - flipped: the sign of b (exact) or g (compact); G and A honest.
 * - random: each non-zero row of b (exact) or g (compact) replaced by a Gaussian direction
 *   with that row's norm, so every norm the validator looks at is the honest one.
 */
export type AttackKind = 'scaled' | 'flipped' | 'random';

export const ATTACK_KINDS: readonly AttackKind[] = ['scaled', 'flipped', 'random'];

export interface Attack {
	readonly kind: AttackKind;
	/** Index of the attacking client (share order). */
	readonly client: number;
	/** scaled: the multiplier; default 10. */
	readonly factor?: number;
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
	rng: Rng
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

/** The poisoned version of an honest update (new arrays; the input is not modified). */
export function poisonUpdate(update: ClientUpdate, attack: Attack, rng: Rng): ClientUpdate {
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
		rng
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
	rng: Rng
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
		rng
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
