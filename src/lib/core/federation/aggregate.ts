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
}

/**
 * The next global from the accepted updates of a round (validate them first: this only
 * re-checks mode, width and index ranges). With `G = sum_k G_k`:
 * - exact: `A_i = sum_k A_ki`, `b_i = sum_k b_ki`, and every catalog item is solved exactly
 *   (float64 Cholesky) from `(G + A_i + lambda I) y_i = b_i`. That is the centralized ALS item
 *   step; an item no client touched has A_i = 0, b_i = 0, hence y_i = 0, as centralized.
 * - compact: `g = sum_k g_k`; the gradient of the loss in Y is `2 (Y G + g + lambda Y)`
 *   (row i: `2((G + lambda I) y_i + g_i)`, since `g_i = A_i y_i - b_i`). Preconditioning by
 *   `(G + lambda I)^-1` and stepping eta/2 gives
 *   `y_i <- (1 - eta) y_i - eta (G + lambda I)^-1 g_i`; at eta = 1 that is
 *   `(G + lambda I)^-1 (b_i - A_i y_i)`, one fixed-point (block Jacobi) step towards the exact
 *   item solution, and untouched items go to 0 as in exact mode.
 * Returns round + 1 with previousChecksum = the current global's checksum.
 */
export function aggregate(
	current: PublishedGlobal,
	updates: readonly ClientUpdate[],
	options: AggregateOptions = {}
): GlobalModel {
	const model = current.model;
	const f = model.params.factors;
	const n = model.catalog.length;
	const lambda = model.params.regularization;
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
	// G + lambda I, float64.
	const base = new Float64Array(f * f);
	for (const u of updates) for (let k = 0; k < f * f; k++) base[k] += u.payload.gram[k];
	for (let r = 0; r < f; r++) base[r * f + r] += lambda;
	const next = new Float32Array(n * f);

	if (model.mode === 'exact') {
		const ps = packedSize(f);
		const a = new Float64Array(n * ps);
		const b = new Float64Array(n * f);
		const touchedAny = new Uint8Array(n);
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
				touchedAny[i] = 1;
				for (let k = 0; k < ps; k++) a[i * ps + k] += p.itemGrams[t * ps + k];
				for (let r = 0; r < f; r++) b[i * f + r] += p.itemTargets[t * f + r];
			}
		}
		const system = new Float64Array(f * f);
		for (let i = 0; i < n; i++) {
			if (!touchedAny[i]) continue; // b_i = 0 gives y_i = 0
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
		const l = cholesky(base, f);
		const y = model.itemFactors;
		for (let i = 0; i < n; i++) {
			const step = choleskySolve(l, f, g.subarray(i * f, (i + 1) * f));
			for (let r = 0; r < f; r++) next[i * f + r] = (1 - eta) * y[i * f + r] - eta * step[r];
		}
	}
	return {
		...model,
		round: model.round + 1,
		previousChecksum: current.checksum,
		itemFactors: next
	};
}
