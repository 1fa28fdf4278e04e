import { MusicrecError } from '../errors';
import type { SchemaKind } from './schema';

/**
 * KKBox mappings from a row's `target` to the weight `w_ui`:
 * - `one-plus-target` (default): `w = 1 + target` (a repeat listen counts double);
 * - `all-ones`: `w = 1` for every row;
 * - `positive-only`: keep only rows with `target = 1`, `w = 1`.
 */
export type KkboxWeighting = 'one-plus-target' | 'all-ones' | 'positive-only';

/**
 * Mappings of a numeric weight column (play counts):
 * - `raw` (default): `w = weight`;
 * - `log1p`: `w = ln(1 + weight)`;
 * - `binary`: `w = 1`.
 */
export type CountWeighting = 'raw' | 'log1p' | 'binary';

export type Weighting = KkboxWeighting | CountWeighting;

export const KKBOX_WEIGHTINGS: readonly KkboxWeighting[] = [
	'one-plus-target',
	'all-ones',
	'positive-only'
];
export const COUNT_WEIGHTINGS: readonly CountWeighting[] = ['raw', 'log1p', 'binary'];

/** The default mapping for a schema. */
export function defaultWeighting(kind: SchemaKind): Weighting {
	return kind === 'kkbox' ? 'one-plus-target' : 'raw';
}

/** Whether `weighting` applies to a file of `kind` (KKBox mappings need a target column). */
export function weightingApplies(kind: SchemaKind, weighting: Weighting): boolean {
	const allowed: readonly string[] = kind === 'kkbox' ? KKBOX_WEIGHTINGS : COUNT_WEIGHTINGS;
	return allowed.includes(weighting);
}

/**
 * Check that `weighting` applies to `kind` (KKBox mappings for kkbox, count mappings for the
 * others) and return it, or the default when undefined. Throws `data/bad-options` otherwise.
 */
export function resolveWeighting(kind: SchemaKind, weighting: Weighting | undefined): Weighting {
	if (weighting === undefined) return defaultWeighting(kind);
	if (!weightingApplies(kind, weighting)) {
		const allowed = kind === 'kkbox' ? KKBOX_WEIGHTINGS : COUNT_WEIGHTINGS;
		throw new MusicrecError(
			'data/bad-options',
			`Weighting '${weighting}' does not apply to a ${kind} file; use one of: ${allowed.join(', ')}`,
			{ weighting, schema: kind, allowed: allowed.slice() }
		);
	}
	return weighting;
}

/** KKBox row weight for `target` (0 or 1), or -1 when the row is dropped. */
export function kkboxWeight(mode: KkboxWeighting, target: number): number {
	if (mode === 'one-plus-target') return 1 + target;
	if (mode === 'all-ones') return 1;
	return target === 1 ? 1 : -1;
}

/** Weight for a positive count `raw` under `mode`. */
export function countWeight(mode: CountWeighting, raw: number): number {
	if (mode === 'raw') return raw;
	if (mode === 'log1p') return Math.log1p(raw);
	return 1;
}

/**
 * Weight of an item a person played `plays` times (a personal history folded into a model),
 * under the model's `mode`: a count mapping of the plays, or for KKBox mappings the target a
 * KKBox row would have (1 when played again within a month; here: played more than once).
 */
export function playsWeight(mode: Weighting, plays: number): number {
	if ((COUNT_WEIGHTINGS as readonly string[]).includes(mode)) {
		return countWeight(mode as CountWeighting, plays);
	}
	return Math.max(1, kkboxWeight(mode as KkboxWeighting, plays > 1 ? 1 : 0));
}
