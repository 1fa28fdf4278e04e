import { describe, expect, it } from 'vitest';
import { aggregate, createCompactState } from '../../../src/lib/core/federation/aggregate';
import { poisonUpdate } from '../../../src/lib/core/federation/attacks';
import { capInfluence } from '../../../src/lib/core/federation/influence_caps';
import { Rng } from '../../../src/lib/core/random';
import {
	createInitialGlobal,
	publishGlobal,
	readGlobalFile
} from '../../../src/lib/core/federation/global_file';
import { decodeUpdateFile, encodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import { ingest } from '../../../src/lib/core/data/ingest';
import {
	evaluateGlobal,
	type GlobalEvaluation
} from '../../../src/lib/core/federation/global_eval';
import {
	runFederationCommand,
	type AggregateResult,
	type ClientResult,
	type FederationEvent,
	type ValidationSummary
} from '../../../src/lib/workers/federation.worker';

const HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';

/** A KKBox-schema CSV: user u listened to songs (u * 3 + k) mod 7 for k < 4. */
function csv(users: number[]): string {
	const lines = [HEADER];
	for (const u of users) {
		for (let k = 0; k < 4; k++) {
			lines.push(`user${u},song${(u * 3 + k) % 7},explore,Explore,playlist,${(u + k) % 2}`);
		}
	}
	return lines.join('\n') + '\n';
}

/** One stream for the whole file, so that each client draws a different client id. */
let seed = 1;

async function run(command: Parameters<typeof runFederationCommand>[0]) {
	const events: FederationEvent[] = [];
	const random = () => {
		seed = (seed * 16807) % 2147483647;
		return (seed - 1) / 2147483646;
	};
	await runFederationCommand(command, (e) => events.push(e), random);
	return events;
}

function last<T>(events: FederationEvent[], type: FederationEvent['type']): T {
	const e = events.find((x) => x.type === type);
	if (!e || !('result' in e)) throw new Error(`no ${type}: ${JSON.stringify(events.at(-1))}`);
	return e.result as T;
}

describe('federation worker protocol', () => {
	const catalog = Array.from({ length: 7 }, (_, i) => `song${i}`);
	const g0 = publishGlobal(
		createInitialGlobal({
			federationId: 'fed-w',
			mode: 'exact',
			params: { factors: 3, regularization: 0.1 },
			catalog
		})
	);

	it('computes client updates, validates and aggregates like the core does directly', async () => {
		const parts = [csv([0, 2, 4]), csv([1, 3, 5])];
		const results: ClientResult[] = [];
		for (const text of parts) {
			const events = await run({
				type: 'client-update',
				globalText: g0.text,
				file: new Blob([text])
			});
			expect(events.some((e) => e.type === 'stage' && e.stage === 'solving')).toBe(true);
			results.push(last<ClientResult>(events, 'client-done'));
		}
		expect(results[0].counts.users).toBe(3);
		expect(results[0].counts.interactions).toBe(12);
		expect(results[0].userIds).toEqual(['user0', 'user2', 'user4']);
		expect(results[0].userFactors.length).toBe(3 * 3);
		expect(results[0].weighting).toBe('one-plus-target');
		// The update text names no user.
		for (const r of results) expect(r.updateText).not.toMatch(/user\d/);

		const texts = [...results.map((r) => r.updateText), 'not an update'];
		const summary = last<ValidationSummary>(
			await run({ type: 'validate', globalText: g0.text, texts }),
			'validate-done'
		);
		expect(summary.accepted).toEqual([0, 1]);
		expect(summary.rejected.map((r) => r.index)).toEqual([2]);

		const agg = last<AggregateResult>(
			await run({ type: 'aggregate', globalText: g0.text, texts }),
			'aggregate-done'
		);
		expect(agg.round).toBe(1);
		const direct = aggregate(
			g0,
			results.map((r) => decodeUpdateFile(r.updateText))
		);
		const g1 = readGlobalFile(agg.text);
		expect(g1.checksum).toBe(agg.checksum);
		expect(g1.model.previousChecksum).toBe(g0.checksum);
		expect(Array.from(g1.model.itemFactors)).toEqual(Array.from(direct.itemFactors));
	});

	it('caps: a client counting its users ten times is capped only when asked, and says so', async () => {
		const parts = [csv([0, 1]), csv([2, 3]), csv([4, 5]), csv([6, 0])];
		const updates = [];
		for (const text of parts) {
			const r = last<ClientResult>(
				await run({ type: 'client-update', globalText: g0.text, file: new Blob([text]) }),
				'client-done'
			);
			updates.push(decodeUpdateFile(r.updateText));
		}
		updates[0] = poisonUpdate(
			updates[0],
			{ kind: 'count-scaled', client: 0, factor: 10 },
			new Rng(1)
		);
		const texts = updates.map((u) => encodeUpdateFile(u));
		const summary = last<ValidationSummary>(
			await run({ type: 'validate', globalText: g0.text, texts, robust: true, caps: true }),
			'validate-done'
		);
		expect(summary.flagged).toEqual([]);
		expect(summary.capped.map((c) => c.index)).toEqual([0]);
		expect(summary.capped[0].weight).toBeLessThan(0.5);
		expect(summary.capped[0].reason).toMatch(
			/times the round's median, so it counts as 3.00 times/
		);
		const withCaps = last<AggregateResult>(
			await run({ type: 'aggregate', globalText: g0.text, texts, robust: true, caps: true }),
			'aggregate-done'
		);
		const without = last<AggregateResult>(
			await run({ type: 'aggregate', globalText: g0.text, texts, robust: true }),
			'aggregate-done'
		);
		expect(without.validation.capped).toEqual([]);
		// Without caps the worker aggregates the updates as sent; with them, the capped ones.
		const direct = aggregate(g0, updates);
		expect(Array.from(readGlobalFile(without.text).model.itemFactors)).toEqual(
			Array.from(direct.itemFactors)
		);
		const capped = aggregate(g0, capInfluence(g0, updates).updates);
		expect(Array.from(readGlobalFile(withCaps.text).model.itemFactors)).toEqual(
			Array.from(capped.itemFactors)
		);
		expect(Array.from(capped.itemFactors)).not.toEqual(Array.from(direct.itemFactors));
	});

	it("scores the new global on the coordinator's dataset when one is given", async () => {
		const parts = [csv([0, 2, 4]), csv([1, 3, 5])];
		const texts: string[] = [];
		for (const text of parts) {
			const events = await run({
				type: 'client-update',
				globalText: g0.text,
				file: new Blob([text])
			});
			texts.push(last<ClientResult>(events, 'client-done').updateText);
		}
		const own = csv([0, 1, 2, 3, 4, 5, 6]);
		const events = await run({
			type: 'aggregate',
			globalText: g0.text,
			texts,
			dataset: new Blob([own])
		});
		expect(events.some((e) => e.type === 'stage' && e.stage === 'evaluating')).toBe(true);
		const agg = last<AggregateResult>(events, 'aggregate-done');
		expect(agg.addedSongs).toBe(0);
		const data = await ingest([own], { badLines: 'skip' });
		const want = evaluateGlobal(readGlobalFile(agg.text), data.interactions, {
			seed: g0.model.params.seed
		});
		expect(agg.metrics).toEqual(want);
		expect(agg.metrics?.users).toBeGreaterThan(0);
		// Without a dataset there is nothing to score.
		const bare = last<AggregateResult>(
			await run({ type: 'aggregate', globalText: g0.text, texts }),
			'aggregate-done'
		);
		expect(bare.metrics).toBeUndefined();
		// The 'evaluate' command scores a global as it stands (round 0 at creation).
		const score0 = last<GlobalEvaluation>(
			await run({ type: 'evaluate', globalText: g0.text, dataset: new Blob([own]) }),
			'evaluate-done'
		);
		expect(score0).toEqual(evaluateGlobal(g0, data.interactions, { seed: g0.model.params.seed }));
	});

	it('reports a broken global or a wrong-round update as an error or a rejection', async () => {
		const bad = await run({ type: 'validate', globalText: '{}', texts: [] });
		expect(bad.at(-1)).toMatchObject({ type: 'error' });
		const events = await run({
			type: 'client-update',
			globalText: g0.text,
			file: new Blob([csv([0])])
		});
		const update = decodeUpdateFile(last<ClientResult>(events, 'client-done').updateText);
		const wrong = encodeUpdateFile({ ...update, round: 3 });
		const summary = last<ValidationSummary>(
			await run({ type: 'validate', globalText: g0.text, texts: [wrong] }),
			'validate-done'
		);
		expect(summary.accepted).toEqual([]);
		expect(summary.rejected[0]).toMatchObject({ index: 0, code: 'federation/wrong-round' });
	});

	it('carries the compact-mode step state from round to round like the core simulation', async () => {
		const c0 = publishGlobal(
			createInitialGlobal({
				federationId: 'fed-c',
				mode: 'compact',
				params: { factors: 3, regularization: 0.1, alpha: 4 },
				catalog
			})
		);
		const parts = [csv([0, 2, 4]), csv([1, 3, 5])];
		// Two rounds through the worker, passing back the state it returns.
		let global = c0;
		let state: AggregateResult['compactState'];
		const direct = createCompactState();
		let directGlobal = c0;
		for (let round = 0; round < 2; round++) {
			const texts: string[] = [];
			for (const text of parts) {
				const events = await run({
					type: 'client-update',
					globalText: global.text,
					file: new Blob([text])
				});
				texts.push(last<ClientResult>(events, 'client-done').updateText);
			}
			const agg = last<AggregateResult>(
				await run({ type: 'aggregate', globalText: global.text, texts, compactState: state }),
				'aggregate-done'
			);
			expect(agg.compactState?.steps?.length).toBe(catalog.length);
			state = agg.compactState;
			// The same updates aggregated by the core with one persistent state.
			const next = aggregate(
				directGlobal,
				texts.map((t) => decodeUpdateFile(t)),
				{ compactState: direct }
			);
			directGlobal = publishGlobal(next);
			global = readGlobalFile(agg.text);
			expect(Array.from(global.model.itemFactors)).toEqual(Array.from(next.itemFactors));
		}
	});
});
