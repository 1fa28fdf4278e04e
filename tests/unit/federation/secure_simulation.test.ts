import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { simulate } from '../../../src/lib/core/federation/simulate';
import { useBackend } from '../../../src/lib/node/tf_backend';

beforeAll(async () => {
	await useBackend('cpu');
});

const data = syntheticZipf({ users: 300, items: 120, nnz: 4000, seed: 12 });
const params = {
	factors: 6,
	regularization: 0.5,
	alpha: 3,
	convention: 'implicit' as const,
	seed: 5
};

describe('simulate with secure aggregation', () => {
	it('exact, 6 clients, 2 vanishing each round: every round is the plain aggregation of the survivors', async () => {
		const records = await simulate({
			interactions: data,
			clients: 6,
			rounds: 3,
			mode: 'exact',
			split: 'even',
			params,
			secure: true,
			dropouts: 2
		});
		expect(records).toHaveLength(3);
		for (const r of records) {
			expect(r.secure).toBe(true);
			expect(r.dropped).toHaveLength(2);
			expect(r.accepted).toBe(4);
			expect(Math.abs(r.ndcg_at_10 - r.plain_ndcg_at_10)).toBeLessThanOrEqual(0.001);
			expect(r.max_abs_factor_diff_vs_plain).toBeLessThan(1e-4);
			expect(r.refused).toBe(false);
			expect(r.sum_consistency).toBeLessThan(1e-6);
			expect(r.bytes_per_client).toBeGreaterThan(0);
		}
		// Different clients vanish in different rounds.
		expect(new Set(records.map((r) => r.dropped.join(','))).size).toBeGreaterThan(1);
		// Learning happens: the last round beats the first.
		expect(records[2].ndcg_at_10).toBeGreaterThan(records[0].ndcg_at_10);
	});

	it('a flipped client makes the sum fail its consistency check: the rounds are refused', async () => {
		const records = await simulate({
			interactions: data,
			clients: 5,
			rounds: 2,
			mode: 'exact',
			split: 'even',
			params,
			secure: true,
			attack: { kind: 'flipped', client: 1 }
		});
		for (const r of records) {
			expect(r.refused).toBe(true);
			expect(r.sum_consistency).toBeGreaterThan(1e-3);
		}
		// The global never moved: both rounds score the initial global's factors alike.
		expect(records[1].ndcg_at_10).toBeCloseTo(records[0].ndcg_at_10, 10);
	});

	it('an orthogonal client meets the consistency identity but the sum breaks its energy bound: refused', async () => {
		const base = {
			interactions: data,
			clients: 5,
			rounds: 2,
			mode: 'exact' as const,
			split: 'even' as const,
			params,
			secure: true
		};
		const clean = await simulate(base);
		for (const r of clean) {
			expect(r.refused).toBe(false);
			expect(r.sum_energy).toBeLessThanOrEqual(1);
			// Not vacuous: honest sums come close to the bound.
			expect(r.sum_energy).toBeGreaterThan(0.3);
		}
		const attacked = await simulate({ ...base, attack: { kind: 'orthogonal', client: 1 } });
		for (const r of attacked) {
			expect(r.sum_consistency).toBeLessThan(1e-3);
			expect(r.sum_energy).toBeGreaterThan(1.001);
			expect(r.refused).toBe(true);
		}
		expect(attacked[1].ndcg_at_10).toBeCloseTo(attacked[0].ndcg_at_10, 10);
	});

	it('compact rounds have no energy bound to check', async () => {
		const [r] = await simulate({
			interactions: data,
			clients: 4,
			rounds: 1,
			mode: 'compact',
			split: 'even',
			params,
			secure: true
		});
		expect(r.sum_energy).toBeUndefined();
		expect(r.refused).toBe(false);
	});

	it('robust screening and secure aggregation are not offered together', async () => {
		await expect(
			simulate({
				interactions: data,
				clients: 5,
				rounds: 1,
				mode: 'exact',
				split: 'even',
				params,
				secure: true,
				robust: true
			})
		).rejects.toThrow(/secure aggregation hides/);
	});
});
