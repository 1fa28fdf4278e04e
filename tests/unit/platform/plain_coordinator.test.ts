/**
 * The plain round through platform/plain_coordinator.ts: a coordinator's federation database
 * (fake-indexeddb), the federation worker's command runner in this process, three clients'
 * update files and one tampered one. Checked against the core's own validate and aggregate.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregate } from '../../../src/lib/core/federation/aggregate';
import { computeClientUpdate } from '../../../src/lib/core/federation/client_update';
import { readGlobalFile } from '../../../src/lib/core/federation/global_file';
import { decodeUpdateFile, encodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import { ingest } from '../../../src/lib/core/data/ingest';
import { Rng } from '../../../src/lib/core/random';
import type { FederationStore } from '../../../src/lib/platform/federation_store';
import {
	aggregateRound,
	aggregationNotice,
	checkUpdates,
	clearUpdates,
	verdictText
} from '../../../src/lib/platform/plain_coordinator';
import { coordinatorWithGlobal, runInProcess } from '../../helpers/federation_in_process';

const HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';

/** Client k: users 2k and 2k + 1, each listening to five of 10 songs. */
function csv(k: number): string {
	const lines = [HEADER];
	for (const u of [2 * k, 2 * k + 1])
		for (let j = 0; j < 5; j++) lines.push(`user${u},song${(u * 3 + j) % 10},a,b,c,${(u + j) % 2}`);
	return lines.join('\n') + '\n';
}

const run = runInProcess;

const stores: FederationStore[] = [];
afterAll(() => stores.forEach((s) => s.close()));

describe('plain round through the coordinator module', () => {
	it('verdicts saved per file, a tampered update rejected, the aggregate equal to the core one and saved as the next global', async () => {
		const {
			fedStore,
			g0,
			stored: latest
		} = await coordinatorWithGlobal({
			dbName: 'plain-coordinator',
			id: 'fed-p',
			catalog: Array.from({ length: 10 }, (_, i) => `song${i}`),
			seed: 7,
			factors: 3
		});
		const global = readGlobalFile(g0.text);
		const rng = new Rng(3);
		const updates = [];
		for (const k of [0, 1, 2]) {
			const { interactions } = await ingest([csv(k)], { weighting: 'one-plus-target' });
			updates.push(computeClientUpdate(global, interactions, { random: () => rng.next() }).update);
		}
		const texts = updates.map((u) => encodeUpdateFile(u));
		// A fourth file claims another round.
		const tampered = encodeUpdateFile({
			...decodeUpdateFile(texts[2]),
			clientId: 'ffffffffffffffff',
			round: 5
		});
		const stages: string[] = [];
		const deps = { fedStore, run, onStage: (s: string) => stages.push(s) };
		const choice = { robust: false, caps: false };

		// Two drops: the second list holds the first file again, recomputed with the others.
		let received = await checkUpdates(deps, latest, [], [file('u0', texts[0])], choice);
		received = await checkUpdates(
			deps,
			latest,
			received,
			[file('u1', texts[1]), file('u2', texts[2]), file('bad', tampered)],
			choice
		);
		expect(received.map((r) => [r.fileName, r.verdict.status])).toEqual([
			['u0', 'accepted'],
			['u1', 'accepted'],
			['u2', 'accepted'],
			['bad', 'rejected']
		]);
		expect(verdictText(received[3].verdict)).toBe('Rejected');
		expect(received[3].verdict).toMatchObject({ code: 'federation/wrong-round' });
		expect(stages.length).toBeGreaterThan(0);
		// Saved: a reload lists the same verdicts.
		expect((await fedStore.listReceived('fed-p', 0)).map((r) => r.verdict.status)).toEqual(
			received.map((r) => r.verdict.status)
		);

		const result = await aggregateRound(deps, latest, received, choice);
		expect(result.round).toBe(1);
		expect(result.validation.accepted).toEqual([0, 1, 2]);
		const core = aggregate(global, updates);
		const next = readGlobalFile(result.text);
		let worst = 0;
		for (let i = 0; i < core.itemFactors.length; i++)
			worst = Math.max(worst, Math.abs(core.itemFactors[i] - next.model.itemFactors[i]));
		expect(worst).toBeLessThan(1e-6);
		const globals = await fedStore.listGlobals('fed-p');
		expect(globals.map((g) => g.round)).toEqual([0, 1]);
		expect(globals[1].aggregatedFrom).toMatchObject({
			accepted: 3,
			bytes: received.slice(0, 3).reduce((s, r) => s + r.bytes, 0)
		});
		expect(aggregationNotice(result)).toMatch(
			/^Round 0 aggregated from 3 update\(s\)\. Global round 1 is ready to download\./
		);

		await clearUpdates(deps, latest);
		expect(await fedStore.listReceived('fed-p', 0)).toEqual([]);
	});

	it('verdictText names what robust aggregation did', () => {
		expect(verdictText({ status: 'flagged', check: 'energy', reason: 'x' })).toBe(
			'Flagged (energy check), left out'
		);
		expect(
			verdictText({
				status: 'accepted',
				clipped: { factor: 0.5, reason: '' },
				capped: { weight: 0.25, songs: 2, reason: '' }
			})
		).toBe('Accepted, scaled by 0.500, weight capped to 0.250, 2 songs capped');
	});
});

function file(fileName: string, text: string) {
	return { fileName, text, bytes: text.length };
}
