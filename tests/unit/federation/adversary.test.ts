/**
 * The honest-but-curious coordinator against one-person clients (every browser a client).
 * Plain updates: it recovers the listening set, the factor and every play's confidence (and so
 * the play count): the test documents the leak. Secure rounds: given every mask it can learn,
 * also with t - 1 colluding clients, it does no better than chance; with t colluders the same
 * code recovers everything (so the chance result is the protocol's, not a broken adversary).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { alsParams, type AlsParams } from '../../../src/lib/core/als/params';
import { ingest } from '../../../src/lib/core/data/ingest';
import type { Interactions } from '../../../src/lib/core/data/interactions';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import {
	absCosine,
	recoverFromSums,
	strippedStatistics,
	sumsOfUpdate,
	trueConfidence
} from '../../../src/lib/core/federation/adversary';
import {
	clientStatistics,
	computeClientUpdate
} from '../../../src/lib/core/federation/client_update';
import type { FederationMode } from '../../../src/lib/core/federation/fields';
import {
	createInitialGlobal,
	publishGlobal,
	readGlobalFile,
	type PublishedGlobal
} from '../../../src/lib/core/federation/global_file';
import { splitByOwner } from '../../../src/lib/core/federation/partition';
import { decodeRoster } from '../../../src/lib/core/federation/secure/files';
import { runLocalSecureRound } from '../../../src/lib/core/federation/secure/local_round';
import { decodeUpdateFile, encodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import { Rng } from '../../../src/lib/core/random';
import { readTextChunks } from '../../../src/lib/node/files';

let demo: Interactions;
beforeAll(async () => {
	// The shipped KKBox demo, read with its default weighting: w = 1 + target.
	demo = (await ingest(readTextChunks('static/data/kkbox_train_10k.csv'))).interactions;
});

/** One share per chosen user (one person per client); everyone else in a last, unused share. */
function onePersonClients(data: Interactions, users: readonly number[]): Interactions[] {
	const owner = new Int32Array(data.users.size).fill(users.length);
	users.forEach((u, k) => (owner[u] = k));
	return splitByOwner(data, owner, users.length + 1)
		.slice(0, users.length)
		.map((s) => s.interactions);
}

/** Users with at least `min` songs, the first `count` of a seeded shuffle. */
function pickUsers(data: Interactions, count: number, min: number, seed: number): number[] {
	const m = data.matrix;
	const ok = Array.from({ length: m.rows }, (_, u) => u).filter(
		(u) => m.indptr[u + 1] - m.indptr[u] >= min
	);
	return new Rng(seed).shuffle(ok).slice(0, count);
}

/** The person's true listening set (catalog indices), weights by catalog index, and factor. */
function truth(global: PublishedGlobal, local: Interactions) {
	const catalog = new Map(global.model.catalog.map((id, i) => [id, i]));
	const m = local.matrix;
	const weight = new Map<number, number>();
	for (let k = m.indptr[0]; k < m.indptr[1]; k++) {
		weight.set(catalog.get(local.items.idAt(m.indices[k]))!, m.data[k]);
	}
	const set = [...weight.keys()].sort((a, b) => a - b);
	const factor = clientStatistics(global, local).userFactors;
	return { set, weight, factor };
}

function globalFor(
	catalog: readonly string[],
	mode: FederationMode,
	params: Partial<AlsParams>,
	secure = false
): PublishedGlobal {
	return readGlobalFile(
		publishGlobal(
			createInitialGlobal({
				federationId: 'adversary',
				mode,
				params: alsParams(params),
				catalog,
				...(secure ? { secure: { minCohort: 3, scaleBits: 24, clipPerUser: null } } : {})
			})
		).text
	);
}

describe('honest-but-curious coordinator vs plain updates of one-person clients', () => {
	for (const mode of ['exact', 'compact'] as const) {
		it(`${mode}: recovers every one of 40 KKBox demo users' listening set, factor and likes`, () => {
			const global = globalFor(demo.items.toArray(), mode, {
				factors: 16,
				regularization: 0.1,
				alpha: 2,
				convention: 'implicit',
				seed: 3
			});
			const users = pickUsers(demo, 40, 3, 11);
			const rng = new Rng(5);
			for (const local of onePersonClients(demo, users)) {
				const t = truth(global, local);
				// Everything goes through the file the coordinator receives.
				const text = encodeUpdateFile(
					computeClientUpdate(global, local, { random: () => rng.next() }).update
				);
				const got = recoverFromSums(
					global.model,
					sumsOfUpdate(global.model, decodeUpdateFile(text))
				);
				expect(Array.from(got.set)).toEqual(t.set);
				expect(absCosine(got.factor, t.factor)).toBeGreaterThan(0.9999);
				// |x^| = |x|: the factor itself, not only its direction.
				const norm = (v: ArrayLike<number>): number => Math.hypot(...Array.from(v));
				expect(norm(got.factor)).toBeCloseTo(norm(t.factor), 3);
				// c = alpha (1 + target): the confidence tells whether the person liked the song.
				for (const [i, w] of t.weight) {
					const c = trueConfidence(global.model, w);
					expect(Math.abs(got.confidence[i] - c) / c).toBeLessThan(mode === 'exact' ? 1e-4 : 2e-2);
					expect(Math.round(got.confidence[i] / 2 - 1) + 0).toBe(w - 1);
				}
				// The confidence total an exact update reports (robust screening's energy bound) is
				// the sum of what A and b already give away; a compact update does not report it.
				const reported = decodeUpdateFile(text).counts.confidence;
				if (mode === 'exact') {
					let recovered = 0;
					for (const i of got.set) recovered += got.confidence[i];
					expect(Math.abs(reported! - recovered) / reported!).toBeLessThan(1e-4);
				} else expect(reported).toBeUndefined();
			}
		});
	}

	it('exact: the play counts of a play-count file come back exactly', () => {
		// Synthetic plays (w = 1 + plays, geometric), the `raw` weighting: c = alpha w.
		const data = syntheticZipf({ users: 200, items: 300, nnz: 4000, seed: 8 });
		const global = globalFor(data.items.toArray(), 'exact', {
			factors: 8,
			regularization: 0.1,
			alpha: 3,
			convention: 'implicit',
			seed: 2
		});
		const rng = new Rng(1);
		let plays = 0;
		for (const local of onePersonClients(data, pickUsers(data, 20, 4, 3))) {
			const t = truth(global, local);
			const update = decodeUpdateFile(
				encodeUpdateFile(computeClientUpdate(global, local, { random: () => rng.next() }).update)
			);
			const got = recoverFromSums(global.model, sumsOfUpdate(global.model, update));
			for (const [i, w] of t.weight) {
				expect(Math.round(got.confidence[i] / 3)).toBe(w);
				plays++;
			}
		}
		expect(plays).toBeGreaterThan(100);
	});
});

describe('honest-but-curious coordinator vs secure rounds of one-person clients', () => {
	const f = 32;
	const params = {
		factors: f,
		regularization: 0.1,
		alpha: 2,
		convention: 'implicit' as const,
		seed: 3
	};

	/** 7 one-person clients (t = 4), client 6 vanishes after the key phase. */
	async function secureRound(mode: FederationMode) {
		const global = globalFor(demo.items.toArray(), mode, params, true);
		const locals = onePersonClients(demo, pickUsers(demo, 7, 6, 21));
		const truths = locals.map((l) => truth(global, l));
		const stats = locals.map((l) => clientStatistics(global, l));
		const round = await runLocalSecureRound(global, stats, { dropAfterKeys: new Set([6]) });
		return { global, truths, round };
	}

	/** Set precision at the true set's size (an oracle the adversary would not have) and |cos|. */
	async function attack(
		global: PublishedGlobal,
		round: Awaited<ReturnType<typeof secureRound>>['round'],
		truths: ReturnType<typeof truth>[],
		target: number,
		colluders: number[]
	) {
		const sums = await strippedStatistics(
			global,
			round.transcript,
			target,
			colluders.map((c) => round.states[c])
		);
		const t = truths[target];
		const got = recoverFromSums(global.model, sums, t.set.length);
		const hits = Array.from(got.set).filter((i) => t.set.includes(i)).length;
		return { hits, picks: got.set.length, cos: absCosine(got.factor, t.factor), got, t };
	}

	for (const mode of ['exact', 'compact'] as const) {
		it(`${mode}: alone, and with t - 1 colluders, the coordinator guesses; with t it recovers`, async () => {
			const { global, truths, round } = await secureRound(mode);
			expect(decodeRoster(round.transcript.roster).value.threshold).toBe(4);
			const n = global.model.catalog.length;
			let hits = 0;
			let picks = 0;
			const cosines: number[] = [];
			// Alone: every survivor as the target. With t - 1 = 3 colluders: targets 0..2 against
			// colluders 3..5 (the pair masks with the other survivors stay unknown).
			const cases: [number, number[]][] = [
				...[0, 1, 2, 3, 4, 5].map((k): [number, number[]] => [k, []]),
				[0, [3, 4, 5]],
				[1, [3, 4, 5]],
				[2, [3, 4, 5]]
			];
			for (const [target, colluders] of cases) {
				const r = await attack(global, round, truths, target, colluders);
				hits += r.hits;
				picks += r.picks;
				cosines.push(r.cos);
			}
			// Chance: picks x (set size / catalog) expected hits, about 0.1 here; 4 would be p < 1e-5.
			const expected = cases.reduce((a, [k]) => a + truths[k].set.length ** 2 / n, 0);
			expect(expected).toBeLessThan(0.5);
			expect(hits).toBeLessThan(4);
			expect(picks).toBeGreaterThan(50);
			// A random direction in R^32 has E|cos| = 0.14 (sd 0.1); the plain attack gets 1.
			const meanCos = cosines.reduce((a, b) => a + b, 0) / cosines.length;
			expect(meanCos).toBeLessThan(0.3);
			expect(Math.max(...cosines)).toBeLessThan(0.7);

			// t = 4 colluders hold t shares of every secret of the target: full recovery. This
			// is the same adversary; the threshold, not the code, stops it above.
			for (const target of [0, 1]) {
				const r = await attack(global, round, truths, target, [2, 3, 4, 5]);
				expect(r.hits).toBe(r.t.set.length);
				expect(r.cos).toBeGreaterThan(0.9999);
			}
		});
	}

	it('the 3-client sum: the coordinator learns the union of their songs, not whose', async () => {
		const global = globalFor(demo.items.toArray(), 'exact', params, true);
		const locals = onePersonClients(demo, pickUsers(demo, 3, 6, 31));
		const truths = locals.map((l) => truth(global, l));
		const round = await runLocalSecureRound(
			global,
			locals.map((l) => clientStatistics(global, l))
		);
		const got = recoverFromSums(global.model, round.sum.sums);
		const union = [...new Set(truths.flatMap((t) => t.set))].sort((a, b) => a - b);
		expect(Array.from(got.set)).toEqual(union);
		const report = truths.map((t) => ({
			precision: t.set.length / union.length,
			cos: absCosine(got.factor, t.factor)
		}));
		// What the sum tells about each person: each is one of three candidates for every song.
		for (const r of report) expect(r.precision).toBeLessThan(0.75);
		console.info(
			'3-client sum, per client: set precision %s, factor |cos| %s',
			report.map((r) => r.precision.toFixed(2)).join(' / '),
			report.map((r) => r.cos.toFixed(2)).join(' / ')
		);
	});
});
