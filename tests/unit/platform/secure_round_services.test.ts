/**
 * The secure round through the platform's workflow modules, each party with its own
 * federation database (fake-indexeddb) and the federation worker's command runner in process:
 * a coordinator and four clients, one vanishing after the key phase and coming back late.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregate } from '../../../src/lib/core/federation/aggregate';
import {
	clientStatistics,
	computeClientUpdate
} from '../../../src/lib/core/federation/client_update';
import { poisonStatistics } from '../../../src/lib/core/federation/attacks';
import { maskStatistics } from '../../../src/lib/core/federation/secure/client';
import { vectorLayout } from '../../../src/lib/core/federation/secure/statistics_vector';
import { readGlobalFile } from '../../../src/lib/core/federation/global_file';
import { ingest } from '../../../src/lib/core/data/ingest';
import { Rng } from '../../../src/lib/core/random';
import type { runFederationTask } from '../../../src/lib/platform/federation_client';
import {
	openFederationStore,
	type FederationStore
} from '../../../src/lib/platform/federation_store';
import {
	addSecureFiles,
	finishSecureRound,
	loadSecureRound,
	publishRequest,
	publishRoster
} from '../../../src/lib/platform/secure_coordinator';
import {
	answerRequest,
	coordinatorFileKind,
	joinSecureRound,
	maskForRoster
} from '../../../src/lib/platform/secure_client_round';
import { coordinatorWithGlobal, runInProcess } from '../../helpers/federation_in_process';

const HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';

/** Client k's file: user k listened to songs k..k+5 of 12 (mod 12), target alternating. */
function csv(k: number): string {
	const lines = [HEADER];
	for (let j = 0; j < 6; j++)
		lines.push(`user${k},song${(k * 2 + j) % 12},explore,Explore,playlist,${(k + j) % 2}`);
	return lines.join('\n') + '\n';
}

const run = runInProcess;

const stores: FederationStore[] = [];
afterAll(() => stores.forEach((s) => s.close()));

describe('secure round through the coordinator and client-round modules', () => {
	it('four one-person clients, one late: the round completes and equals the plain aggregate of the survivors', async () => {
		const catalog = Array.from({ length: 12 }, (_, i) => `song${i}`);
		const {
			fedStore: coordinator,
			g0,
			stored
		} = await coordinatorWithGlobal({
			dbName: 'secure-coordinator',
			id: 'fed-s',
			catalog,
			seed: 3,
			secure: { minCohort: 3, scaleBits: 24, clipPerUser: null }
		});
		stores.push(coordinator);
		const deps = { fedStore: coordinator, run };
		const clients = await Promise.all(
			[0, 1, 2, 3].map((k) => openFederationStore(`secure-client-${k}`))
		);
		stores.push(...clients);
		const files = [0, 1, 2, 3].map((k) => new Blob([csv(k)]));
		const global = readGlobalFile(g0.text);
		expect(coordinatorFileKind(g0.text)).toBe('global');

		// Keys: all four join; joining twice gives the same key.
		const joined = await Promise.all(clients.map((c) => joinSecureRound(c, global)));
		expect((await joinSecureRound(clients[0], global)).keysText).toBe(joined[0].keysText);
		let round = await addSecureFiles(deps, stored, [
			...joined.map((j, k) => ({
				fileName: `keys-${k}.json`,
				text: j.keysText,
				bytes: j.keysText.length
			})),
			{ fileName: 'notes.txt', text: 'hello', bytes: 5 }
		]);
		expect(round.keys.map((r) => r.verdict.status)).toEqual([
			'accepted',
			'accepted',
			'accepted',
			'accepted',
			'rejected'
		]);
		round = await publishRoster(deps, stored);
		expect(round.phase).toBe('masked');
		expect(round.roster!.members).toHaveLength(4);
		expect(coordinatorFileKind(round.roster!.text)).toBe('roster');

		// Masked updates: client 3 vanishes after the keys.
		const masked = [];
		for (const k of [0, 1, 2]) {
			const { record } = await maskForRoster(clients[k], run, global, round.roster!.text, files[k]);
			masked.push(record.maskedText!);
			// Asking again returns the saved file, not a second masking.
			expect(
				(await maskForRoster(clients[k], run, global, round.roster!.text, files[k])).record
					.maskedText
			).toBe(record.maskedText);
		}
		round = await addSecureFiles(
			deps,
			stored,
			masked.map((text, k) => ({ fileName: `masked-${k}.json`, text, bytes: text.length }))
		);
		expect(round.masked.every((m) => m.verdict.status === 'accepted')).toBe(true);
		// "Continue without the missing clients".
		round = await publishRequest(deps, stored);
		expect(round.phase).toBe('unmasking');
		expect(round.request!.dropped).toEqual([joined[3].state.clientId]);
		expect(round.masked.every((m) => m.text === undefined)).toBe(true);

		// Client 3 comes back late: its masked update is refused as late.
		const late = await maskForRoster(clients[3], run, global, round.roster!.text, files[3]);
		const answers = [];
		for (const k of [0, 1, 2])
			answers.push(
				(await answerRequest(clients[k], global, round.request!.text)).record.sharesText!
			);
		round = await addSecureFiles(deps, stored, [
			...answers.map((text, k) => ({ fileName: `shares-${k}.json`, text, bytes: text.length })),
			{ fileName: 'late.json', text: late.record.maskedText!, bytes: 1 }
		]);
		expect(round.answers.map((a) => a.verdict.status)).toEqual([
			'accepted',
			'accepted',
			'accepted',
			'rejected'
		]);
		expect(round.answers[3].verdict).toMatchObject({ code: 'federation/late' });

		// The reload case: the stored round has everything needed.
		expect((await loadSecureRound(coordinator, stored)).phase).toBe('unmasking');
		const done = await finishSecureRound(deps, stored);
		expect(done.next.model.round).toBe(1);
		expect(done.users).toBe(3);
		expect(done.interactions).toBe(18);
		expect((await coordinator.listGlobals('fed-s')).map((g) => g.round)).toEqual([0, 1]);
		const closed = await coordinator.getSecureRound('fed-s', 0);
		expect(closed?.phase).toBe('done');
		expect(closed?.request?.maskedSum).toBeUndefined();

		// The same as the plain aggregation of the three survivors' updates.
		const rng = new Rng(1);
		const updates = [];
		for (const k of [0, 1, 2]) {
			const data = await ingest(
				(async function* () {
					yield csv(k);
				})(),
				{ weighting: 'one-plus-target' }
			);
			updates.push(
				computeClientUpdate(global, data.interactions, { random: () => rng.next() }).update
			);
		}
		const plain = aggregate(global, updates);
		let worst = 0;
		for (let i = 0; i < plain.itemFactors.length; i++) {
			worst = Math.max(worst, Math.abs(plain.itemFactors[i] - done.next.model.itemFactors[i]));
		}
		expect(worst).toBeLessThan(1e-4);
		expect(plain.itemFactors.some((v) => v !== 0)).toBe(true);
	});
});

describe('a modified client under masking', () => {
	it('a client that adds noise its users do not span to its statistics before masking: the coordinator refuses the unmasked sum on its energy bound, and the stored round and globals are untouched', async () => {
		const catalog = Array.from({ length: 12 }, (_, i) => `song${i}`);
		const {
			fedStore: coordinator,
			g0,
			stored
		} = await coordinatorWithGlobal({
			dbName: 'energy-coordinator',
			id: 'fed-e',
			catalog,
			seed: 5,
			secure: { minCohort: 3, scaleBits: 24, clipPerUser: null }
		});
		stores.push(coordinator);
		const deps = { fedStore: coordinator, run };
		const clients = await Promise.all(
			[0, 1, 2].map((k) => openFederationStore(`energy-client-${k}`))
		);
		stores.push(...clients);
		const global = readGlobalFile(g0.text);

		// Client 0 runs a modified worker: honest statistics of its own file, then the orthogonal
		// attack (noise of |b_i| orthogonal to y_i and b_i), then the ordinary clip and masking.
		const rng = new Rng(11);
		const modified = (async (command: Parameters<typeof runFederationTask>[0]) => {
			if (command.type !== 'secure-mask') return run(command);
			const data = await ingest(
				(async function* () {
					yield await command.file.text();
				})(),
				{ weighting: 'one-plus-target' }
			);
			const honest = clientStatistics(global, data.interactions);
			const stats = poisonStatistics(honest, { kind: 'orthogonal', client: 0, factor: 1 }, rng, {
				itemFactors: global.model.itemFactors
			});
			const masked = await maskStatistics(command.state, global, command.rosterText, stats);
			return {
				...masked,
				counts: { users: stats.users, interactions: stats.interactions, touchedItems: 0 },
				vectorLength: vectorLayout(global.model).length
			};
		}) as typeof runFederationTask;

		const joined = await Promise.all(clients.map((c) => joinSecureRound(c, global)));
		await addSecureFiles(
			deps,
			stored,
			joined.map((j, k) => ({ fileName: `keys-${k}.json`, text: j.keysText, bytes: 1 }))
		);
		let round = await publishRoster(deps, stored);
		const masked = [];
		for (const k of [0, 1, 2]) {
			const file = new Blob([csv(k)]);
			const r = await maskForRoster(
				clients[k],
				k === 0 ? modified : run,
				global,
				round.roster!.text,
				file
			);
			masked.push(r.record.maskedText!);
		}
		round = await addSecureFiles(
			deps,
			stored,
			masked.map((text, k) => ({ fileName: `masked-${k}.json`, text, bytes: 1 }))
		);
		// Masked, the attacker's file is indistinguishable from the others: all accepted.
		expect(round.masked.map((m) => m.verdict.status)).toEqual(['accepted', 'accepted', 'accepted']);
		round = await publishRequest(deps, stored);
		const answers = [];
		for (const k of [0, 1, 2])
			answers.push(
				(await answerRequest(clients[k], global, round.request!.text)).record.sharesText!
			);
		round = await addSecureFiles(
			deps,
			stored,
			answers.map((text, k) => ({ fileName: `shares-${k}.json`, text, bytes: 1 }))
		);
		expect(round.answers.every((a) => a.verdict.status === 'accepted')).toBe(true);

		// The sum passes the consistency identity (the noise is orthogonal to y_i) but not the
		// energy bound: refused, with the bound named.
		await expect(finishSecureRound(deps, stored)).rejects.toThrow(/exceeds the energy bound/);
		expect((await coordinator.listGlobals('fed-e')).map((g) => g.round)).toEqual([0]);
		const kept = await loadSecureRound(coordinator, stored);
		expect(kept.phase).toBe('unmasking');
		expect(kept.request?.maskedSum).toBeDefined();
	});
});
