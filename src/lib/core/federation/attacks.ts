import { Rng } from '../random';
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

/** The poisoned version of an honest update (new arrays; the input is not modified). */
export function poisonUpdate(update: ClientUpdate, attack: Attack, rng: Rng): ClientUpdate {
	const p = update.payload;
	const f = update.factors;
	if (attack.kind === 'scaled') {
		const s = attack.factor ?? 10;
		const times = (a: Float32Array): Float32Array => a.map((v) => v * s);
		const payload: UpdatePayload =
			p.mode === 'exact'
				? {
						...p,
						gram: times(p.gram),
						itemGrams: times(p.itemGrams),
						itemTargets: times(p.itemTargets)
					}
				: { ...p, gram: times(p.gram), gradient: times(p.gradient) };
		const q = update.proposals;
		return {
			...update,
			payload,
			...(q
				? {
						proposals: {
							...q,
							itemGrams: times(q.itemGrams),
							itemTargets: times(q.itemTargets)
						}
					}
				: {})
		};
	}
	const rows = p.mode === 'exact' ? p.itemTargets : p.gradient;
	const out = new Float32Array(rows.length);
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
	const payload: UpdatePayload =
		p.mode === 'exact' ? { ...p, itemTargets: out } : { ...p, gradient: out };
	return { ...update, payload };
}
