import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import type { Interactions } from '../../../src/lib/core/data/interactions';
import { aggregate } from '../../../src/lib/core/federation/aggregate';
import {
	clientStatistics,
	computeClientUpdate
} from '../../../src/lib/core/federation/client_update';
import type { FederationMode } from '../../../src/lib/core/federation/fields';
import {
	createInitialGlobal,
	DEFAULT_SECURE_SETTINGS,
	publishGlobal,
	type PublishedGlobal,
	type SecureSettings
} from '../../../src/lib/core/federation/global_file';
import { splitByUsers } from '../../../src/lib/core/federation/partition';
import { runLocalSecureRound } from '../../../src/lib/core/federation/secure/local_round';
import {
	encodeStatistics,
	vectorLayout
} from '../../../src/lib/core/federation/secure/statistics_vector';
import { Rng } from '../../../src/lib/core/random';
import { poisonStatistics, type Attack } from '../../../src/lib/core/federation/attacks';
import { DEFAULT_ROBUST_OPTIONS, sumConsistency } from '../../../src/lib/core/federation/robust';

function setup(
	mode: FederationMode,
	clients: number,
	secure: Partial<SecureSettings> = {},
	f = 6
): { global: PublishedGlobal; locals: Interactions[] } {
	const data = syntheticZipf({ users: 60, items: 40, nnz: 700, seed: 5 });
	const shares = splitByUsers(data, clients, 'even', 3);
	const global = publishGlobal(
		createInitialGlobal({
			federationId: 'secure-test',
			mode,
			params: alsParams({ factors: f, regularization: 0.5, alpha: 2, seed: 4 }),
			catalog: data.items.toArray(),
			secure: { ...DEFAULT_SECURE_SETTINGS, ...secure }
		})
	);
	return { global, locals: shares.map((s) => s.interactions) };
}

/** Sum of ring vectors modulo 2^64 with BigInt: an independent reference for the ring code. */
function bigSum(vectors: Uint32Array[]): bigint[] {
	const n = vectors[0].length / 2;
	const out: bigint[] = new Array(n).fill(0n);
	for (const v of vectors) {
		for (let k = 0; k < n; k++) {
			out[k] = (out[k] + (BigInt(v[2 * k + 1]) << 32n) + BigInt(v[2 * k])) & ((1n << 64n) - 1n);
		}
	}
	return out;
}

function words(v: Uint32Array): bigint[] {
	const out: bigint[] = [];
	for (let k = 0; k < v.length / 2; k++) out.push((BigInt(v[2 * k + 1]) << 32n) + BigInt(v[2 * k]));
	return out;
}

describe('secure round: the unmasked sum is exactly the sum of the encoded statistics', () => {
	for (const mode of ['exact', 'compact'] as const) {
		it(`${mode}: all clients, bit-exact ring sum and the plain aggregate`, async () => {
			const { global, locals } = setup(mode, 4);
			const stats = locals.map((l) => clientStatistics(global, l));
			const layout = vectorLayout(global.model);
			// Encode before the round (the round clips in place only with a bound; here none).
			const encoded = stats.map((s) => encodeStatistics(s, layout, global.model.secure!.scaleBits));
			const round = await runLocalSecureRound(global, stats);
			expect(words(round.sum.ring)).toEqual(bigSum(encoded));
			expect(round.sum.survivors).toHaveLength(4);
			expect(round.sum.dropped).toHaveLength(0);
			expect(round.sum.users).toBe(stats.reduce((a, s) => a + s.users, 0));
			expect(round.sum.interactions).toBe(stats.reduce((a, s) => a + s.interactions, 0));
			// The confidence totals travel masked too, in fixed point.
			const confidence = stats.reduce((a, s) => a + s.confidence, 0);
			expect(confidence).toBeGreaterThan(0);
			expect(Math.abs(round.sum.confidence - confidence)).toBeLessThan(stats.length * 2 ** -20);

			// The next global equals the plain aggregation of the same clients' updates, up to the
			// fixed point (2^-24) and float32 rounding of the plain files.
			const rng = new Rng(1);
			const plain = aggregate(
				global,
				locals.map((l) => computeClientUpdate(global, l, { random: () => rng.next() }).update)
			);
			let worst = 0;
			for (let k = 0; k < plain.itemFactors.length; k++) {
				worst = Math.max(worst, Math.abs(plain.itemFactors[k] - round.next.itemFactors[k]));
			}
			expect(worst).toBeLessThan(1e-4);
			expect(round.next.round).toBe(1);
			expect(round.next.secure).toEqual(global.model.secure);
		});
	}

	it('a client that drops after the keys and one that drops after masking: the survivors are summed', async () => {
		const { global, locals } = setup('exact', 6);
		const stats = locals.map((l) => clientStatistics(global, l));
		const layout = vectorLayout(global.model);
		const encoded = stats.map((s) => encodeStatistics(s, layout, global.model.secure!.scaleBits));
		const round = await runLocalSecureRound(global, stats, {
			dropAfterKeys: new Set([1]),
			dropAfterMasked: new Set([4])
		});
		// Client 4 sent its masked update, so its statistics are in the sum; client 1 is not.
		const survivors = [0, 2, 3, 4, 5];
		expect(words(round.sum.ring)).toEqual(bigSum(survivors.map((k) => encoded[k])));
		expect(round.sum.dropped).toEqual([round.transcript.clientIds[1]]);
		expect(round.sum.responders).toHaveLength(4);
		const rng = new Rng(1);
		const plain = aggregate(
			global,
			survivors.map(
				(k) => computeClientUpdate(global, locals[k], { random: () => rng.next() }).update
			)
		);
		let worst = 0;
		for (let k = 0; k < plain.itemFactors.length; k++) {
			worst = Math.max(worst, Math.abs(plain.itemFactors[k] - round.next.itemFactors[k]));
		}
		expect(worst).toBeLessThan(1e-4);
	});
});

describe('the sum consistency check: the one screen a masked round allows', () => {
	for (const mode of ['exact', 'compact'] as const) {
		it(`${mode}: honest sums pass, a flipped or random client fails it, a scaled one passes`, async () => {
			const { global, locals } = setup(mode, 4);
			const run = async (attack?: Attack) => {
				const stats = locals.map((l) => clientStatistics(global, l));
				if (attack) stats[0] = poisonStatistics(stats[0], attack, new Rng(3));
				const round = await runLocalSecureRound(global, stats);
				return sumConsistency(global, round.sum.sums);
			};
			const tolerance = DEFAULT_ROBUST_OPTIONS.consistencyTolerance;
			expect(await run()).toBeLessThan(1e-6);
			expect(await run({ kind: 'flipped', client: 0 })).toBeGreaterThan(tolerance);
			expect(await run({ kind: 'random', client: 0 })).toBeGreaterThan(tolerance);
			expect(await run({ kind: 'scaled', client: 0, factor: 10 })).toBeLessThan(1e-6);
		});
	}
});
