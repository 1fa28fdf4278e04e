import { beforeAll, describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { Rng } from '../../../src/lib/core/random';
import { computeClientUpdate } from '../../../src/lib/core/federation/client_update';
import { createInitialGlobal, publishGlobal } from '../../../src/lib/core/federation/global_file';
import { packedIndex } from '../../../src/lib/core/federation/packed_symmetric';
import { splitByUsers } from '../../../src/lib/core/federation/partition';
import { simulate } from '../../../src/lib/core/federation/simulate';
import { decodeUpdateFile, encodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import { useBackend } from '../../../src/lib/node/tf_backend';

beforeAll(async () => {
	await useBackend('cpu');
});

describe('compact mode', () => {
	it('the gradient rows equal A_i y_i - b_i of the exact statistics, and travel dense', () => {
		const data = syntheticZipf({ users: 40, items: 25, nnz: 300, seed: 8 });
		const params = alsParams({ factors: 3, regularization: 0.1, alpha: 2, seed: 4 });
		const f = params.factors;
		const share = splitByUsers(data, 2, 'even', 1)[0];
		const catalog = data.items.toArray();
		const exactGlobal = publishGlobal(
			createInitialGlobal({ federationId: 'x', mode: 'exact', params, catalog })
		);
		const compactGlobal = publishGlobal(
			createInitialGlobal({ federationId: 'x', mode: 'compact', params, catalog })
		);
		const rng = new Rng(1);
		const ex = computeClientUpdate(exactGlobal, share.interactions, {
			random: () => rng.next()
		}).update;
		const cp = decodeUpdateFile(
			encodeUpdateFile(
				computeClientUpdate(compactGlobal, share.interactions, { random: () => rng.next() }).update
			)
		);
		if (ex.payload.mode !== 'exact' || cp.payload.mode !== 'compact') throw new Error('modes');
		expect(Array.from(cp.payload.gram)).toEqual(Array.from(ex.payload.gram));
		expect(cp.payload.gradient.length).toBe(catalog.length * f);
		const y = exactGlobal.model.itemFactors;
		const slot = new Map(Array.from(ex.payload.touched).map((i, t) => [i, t]));
		for (let i = 0; i < catalog.length; i++) {
			const t = slot.get(i);
			for (let r = 0; r < f; r++) {
				let expected = 0;
				if (t !== undefined) {
					for (let c = 0; c < f; c++) {
						const a = ex.payload.itemGrams[t * 6 + packedIndex(f, Math.min(r, c), Math.max(r, c))];
						expected += a * y[i * f + c];
					}
					expected -= ex.payload.itemTargets[t * f + r];
				}
				expect(cp.payload.gradient[i * f + r]).toBeCloseTo(expected, 4);
			}
		}
	});

	it('simulate: exact mode tracks the centralized NDCG@10 (the core fit) every round', async () => {
		const data = syntheticZipf({ users: 120, items: 60, nnz: 1500, seed: 21 });
		const records = await simulate({
			interactions: data,
			clients: 4,
			rounds: 3,
			mode: 'exact',
			split: 'activity',
			params: { factors: 6, regularization: 0.1, alpha: 2 }
		});
		expect(records.map((r) => r.round)).toEqual([1, 2, 3]);
		for (const r of records) {
			// The reference is `fit` (float32 CG run to convergence), not the federation code.
			// Factors agree to float32 rounding (exact.test.ts against the float64 reference);
			// NDCG may still move by one near-tied user's rank flip (1 / ~100 evaluated users at
			// most), hence 1e-2 here (measured: equal to 5 digits in rounds 1-3).
			expect(Math.abs(r.ndcg_at_10 - r.central_ndcg_at_10)).toBeLessThan(1e-2);
			expect(r.bytes_per_client).toBeGreaterThan(0);
			expect(r.accepted).toBe(4);
		}
	});

	it('simulate: compact mode stays >= 93% of centralized NDCG@10 over rounds 16-20, K = 10', async () => {
		const data = syntheticZipf({ users: 300, items: 120, nnz: 4000, seed: 31 });
		const records = await simulate({
			interactions: data,
			clients: 10,
			rounds: 20,
			mode: 'compact',
			split: 'even',
			params: { factors: 8, regularization: 0.1, alpha: 1 }
		});
		// The ratio is not monotone, so the whole tail is held, not a chosen last round.
		// Measured (this call, cpu and wasm alike): 0.947 0.945 0.955 0.979 0.984 in rounds 16-20
		// (0.876-0.954 in rounds 2-15), so 98 % is not reached here; with the fixed step
		// (compactSecant: false) the same rounds swing 0.85-1.12 and fail the bound.
		const ratios = records.slice(-5).map((r) => r.ndcg_at_10 / r.central_ndcg_at_10);
		expect(Math.min(...ratios)).toBeGreaterThanOrEqual(0.93);
		// Dense over the catalog: every client sends the same amount.
		expect(new Set(records.map((r) => Math.round(r.bytes_per_client / 100))).size).toBe(1);
	}, 60_000);
});
