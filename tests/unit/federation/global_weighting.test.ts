import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../../src/lib/core/format/envelope';
import {
	createInitialGlobal,
	publishGlobal,
	readGlobalFile
} from '../../../src/lib/core/federation/global_file';
import { decodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import {
	runFederationCommand,
	type ClientResult,
	type FederationEvent
} from '../../../src/lib/workers/federation.worker';

const catalog = ['s0', 's1', 's2', 's3', 's4'];
const base = { federationId: 'fed-wt', mode: 'exact' as const, params: { factors: 3 }, catalog };

/** KKBox rows with both targets, so one-plus-target (w = 1 or 2) differs from all-ones. */
const KKBOX = [
	'msno,song_id,source_system_tab,source_screen_name,source_type,target',
	'u1,s0,explore,Explore,playlist,1',
	'u1,s1,explore,Explore,playlist,0',
	'u1,s2,explore,Explore,playlist,1',
	'u2,s1,explore,Explore,playlist,1',
	'u2,s3,explore,Explore,playlist,0',
	''
].join('\n');

async function clientUpdate(globalText: string, weighting?: 'all-ones'): Promise<ClientResult> {
	const events: FederationEvent[] = [];
	await runFederationCommand(
		{ type: 'client-update', globalText, file: new Blob([KKBOX]), weighting },
		(e) => events.push(e),
		() => 0.5
	);
	const done = events.find((e) => e.type === 'client-done');
	if (done?.type !== 'client-done') throw new Error(JSON.stringify(events.at(-1)));
	return done.result;
}

function targets(r: ClientResult): number[] {
	const p = decodeUpdateFile(r.updateText).payload;
	if (p.mode !== 'exact') throw new Error('exact expected');
	return Array.from(p.itemTargets);
}

describe('weighting in the global file', () => {
	it('round-trips the weighting and leaves it out when unset', () => {
		const withW = publishGlobal(createInitialGlobal({ ...base, weighting: 'all-ones' }));
		expect(readGlobalFile(withW.text).model.weighting).toBe('all-ones');
		const without = publishGlobal(createInitialGlobal(base));
		expect(without.text).not.toContain('weighting');
		expect(readGlobalFile(without.text).model.weighting).toBeUndefined();
	});

	it('rejects an unknown weighting naming the field', () => {
		const good = publishGlobal(createInitialGlobal(base));
		const meta = { ...JSON.parse(good.text).meta, weighting: 'squared' };
		const text = encodeEnvelope('global', meta, {
			itemFactors: { array: good.model.itemFactors, shape: [catalog.length, 3] }
		});
		expect(() => readGlobalFile(text)).toThrow(/meta\.weighting/);
		expect(() => createInitialGlobal({ ...base, weighting: 'squared' as 'raw' })).toThrow(
			/weighting/
		);
	});

	it("makes the client's update use the global's weighting instead of its dataset default", async () => {
		const plain = publishGlobal(createInitialGlobal(base));
		const ones = publishGlobal(
			createInitialGlobal({ ...base, weighting: 'all-ones', itemFactors: plain.model.itemFactors })
		);
		const byDefault = await clientUpdate(plain.text);
		const byGlobal = await clientUpdate(ones.text);
		const byCommand = await clientUpdate(plain.text, 'all-ones');
		expect(byDefault.weighting).toBe('one-plus-target');
		expect(byGlobal.weighting).toBe('all-ones');
		// Same statistics as asking for all-ones explicitly; not those of the default 1 + target.
		expect(targets(byGlobal)).toEqual(targets(byCommand));
		expect(targets(byGlobal)).not.toEqual(targets(byDefault));
	});
});
