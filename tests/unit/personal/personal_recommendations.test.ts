import { strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { csrFromTriplets } from '../../../src/lib/core/data/csr';
import { isMusicrecError } from '../../../src/lib/core/errors';
import type { ModelRecord } from '../../../src/lib/core/model_record';
import { ModelSession, type DatasetView } from '../../../src/lib/platform/model_session';
import {
	recommendFromExport,
	type ExportMatcher
} from '../../../src/lib/platform/personal_listening';
import { historyLog, matchExport } from '../../../src/lib/core/data/personal_match';
import type { NamedBytes } from '../../../src/lib/core/data/personal_export';
import { ingest } from '../../../src/lib/core/data/ingest';
import { exactHalfStep } from '../../helpers/reference_als';
import { onBackend } from '../../helpers/tf_node';

const EMPTY: DatasetView = {
	userIds: [],
	itemIds: [],
	matrix: csrFromTriplets(0, 0, new Int32Array(0), new Int32Array(0), new Float32Array(0)).matrix
};

// Six artists, f = 3, made-up factors; trained on raw play counts, hkv confidence 1 + 2 w.
const names = ['Radiohead', 'Björk', 'The Beatles', 'Portishead', 'Massive Attack', 'Sigur Rós'];
const itemFactors = Float32Array.from([
	0.9, 0.1, 0.2, 0.8, 0.3, -0.1, 0.1, 1.0, 0.3, 0.7, -0.2, 0.6, 0.6, 0.0, 0.8, 0.5, 0.5, 0.5
]);
const record = (
	withNames: boolean,
	weighting: 'raw' | 'log1p' = 'raw',
	medianPlays?: number
): ModelRecord => ({
	meta: {
		id: 'lastfm',
		name: 'lastfm',
		type: 'als',
		createdAt: '2026-01-01T00:00:00.000Z',
		params: alsParams({ factors: 3, regularization: 0.5, alpha: 2 }),
		weighting,
		holdout: false,
		dataset: { name: 'd', fingerprint: 'x', users: 1, items: 6, nnz: 6, medianPlays },
		training: { seconds: 0, sweeps: 0, backend: 'cpu', loss: [] },
		sizeBytes: 0
	},
	userIds: ['someone'],
	itemIds: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'],
	...(withNames ? { itemNames: names } : {}),
	userFactors: Float32Array.from([1, 1, 1]),
	itemFactors
});

/** Scores x . y_i of the items not played, best first, x solved by the reference. */
function referenceTop(played: Map<number, number>, n: number): { item: number; score: number }[] {
	const items = [...played.keys()];
	const m = csrFromTriplets(
		1,
		6,
		new Int32Array(items.length),
		Int32Array.from(items),
		Float32Array.from(items.map((i) => played.get(i)!))
	).matrix;
	const x = exactHalfStep(m, itemFactors, {
		factors: 3,
		regularization: 0.5,
		alpha: 2,
		convention: 'hkv'
	});
	const out: { item: number; score: number }[] = [];
	for (let i = 0; i < 6; i++) {
		if (played.has(i)) continue;
		let s = 0;
		for (let a = 0; a < 3; a++) s += x[a] * itemFactors[i * 3 + a];
		out.push({ item: i, score: s });
	}
	return out.sort((a, b) => b.score - a.score).slice(0, n);
}

/** A reader of `files` run here (the page runs the same function in a worker). */
const here =
	(...files: NamedBytes[]): ExportMatcher =>
	(catalog) =>
		Promise.resolve(matchExport(files, catalog));

const spotify = (plays: [string, string, number][]): NamedBytes => ({
	name: 'StreamingHistory_music_0.json',
	bytes: strToU8(
		JSON.stringify(
			plays.map(([artistName, trackName, msPlayed]) => ({
				endTime: '2024-01-01 00:00',
				artistName,
				trackName,
				msPlayed
			}))
		)
	)
});

describe('recommendations for a person from their own export (cpu)', () => {
	onBackend('cpu');

	it('folds in the matched plays exactly (raw counts) and names every item', async () => {
		const session = new ModelSession(record(true), EMPTY);
		const out = await recommendFromExport(
			session,
			here(
				spotify([
					['radiohead', 'Airbag', 200000],
					['Radiohead', 'Creep', 200000],
					['Radiohead', 'Nude', 200000],
					['Bjork', 'Joga', 100000],
					['Bjork', 'Skipped', 5000],
					['Nobody Knows Them', 'Song', 100000],
					['Nobody Knows Them', 'Song 2', 100000]
				])
			),
			3
		);
		expect(out.match.level).toBe('artist');
		expect(out.match.matched.map((m) => [m.catalogName, m.plays])).toEqual([
			['Radiohead', 3],
			['Björk', 1]
		]);
		expect(out.match.unmatched).toEqual([
			{ name: 'Nobody Knows Them', plays: 2, artist: 'Nobody Knows Them' }
		]);
		expect(out.match.playShare).toBeCloseTo(4 / 6, 12);
		// Raw weighting: w = plays (3 and 1), confidence 1 + 2 w, solved by the reference.
		const want = referenceTop(
			new Map([
				[0, 3],
				[1, 1]
			]),
			3
		);
		expect(out.recommendations.map((r) => r.itemId)).toEqual(want.map((w) => `a${w.item + 1}`));
		out.recommendations.forEach((r, k) => {
			expect(r.score).toBeCloseTo(want[k].score, 5);
			expect(r.name).toBe(names[want[k].item]);
			for (const b of r.because) expect(['Radiohead', 'Björk']).toContain(b.name);
		});
		session.dispose();
	});

	it('maps plays through the model weighting (log1p) before folding in', async () => {
		const session = new ModelSession(record(true, 'log1p'), EMPTY);
		const recs = await session.recommendForPlays(
			[
				{ item: 3, plays: 20 },
				{ item: 4, plays: 1 }
			],
			2
		);
		const want = referenceTop(
			new Map([
				[3, Math.log1p(20)],
				[4, Math.log1p(1)]
			]),
			2
		);
		expect(recs.map((r) => r.itemId)).toEqual(want.map((w) => `a${w.item + 1}`));
		recs.forEach((r, k) => expect(r.score).toBeCloseTo(want[k].score, 5));
		session.dispose();
	});

	it('puts plays on the scale of the training data when its median play count is known', async () => {
		// Training median 100; the person's plays 3, 1, 2 have median 2: scale 50.
		const session = new ModelSession(record(true, 'raw', 100), EMPTY);
		const played = [
			{ item: 0, plays: 3 },
			{ item: 2, plays: 1 },
			{ item: 5, plays: 2 }
		];
		const recs = await session.recommendForPlays(played, 3);
		const want = referenceTop(new Map(played.map((p) => [p.item, p.plays * 50])), 3);
		expect(recs.map((r) => r.itemId)).toEqual(want.map((w) => `a${w.item + 1}`));
		recs.forEach((r, k) => expect(r.score).toBeCloseTo(want[k].score, 5));
		// Unscaled it would differ: the check above is not met by chance.
		const raw = referenceTop(new Map(played.map((p) => [p.item, p.plays])), 3);
		expect(Math.abs(raw[0].score - want[0].score)).toBeGreaterThan(1e-3);
		session.dispose();
	});

	it('says when the model has no names, and when none of the history is in it', async () => {
		const unnamed = new ModelSession(record(false), EMPTY);
		const e1 = await recommendFromExport(
			unnamed,
			here(spotify([['Radiohead', 'x', 60000]])),
			3
		).catch((e: unknown) => e);
		expect(isMusicrecError(e1, 'model/no-names')).toBe(true);
		unnamed.dispose();
		const session = new ModelSession(record(true), EMPTY);
		const e2 = await recommendFromExport(
			session,
			here(
				spotify([
					['Nobody', 'x', 60000],
					['Else', 'y', 60000]
				])
			),
			3
		).catch((e: unknown) => e);
		expect(isMusicrecError(e2, 'model/no-overlap')).toBe(true);
		expect((e2 as Error).message).toBe(
			'This model knows none of your 2 artists (0 of 2 matched by name)'
		);
		const e3 = await recommendFromExport(
			session,
			here(spotify([['Radiohead', 'x', 1000]])),
			3
		).catch((e: unknown) => e);
		expect((e3 as Error).message).toMatch(/No plays in .*1 were shorter than 30 s/);
		session.dispose();
	});

	it('finds songs by name or id and resolves a typed name', () => {
		const session = new ModelSession(record(true), EMPTY);
		expect(session.findItems('sig')).toEqual([{ itemId: 'a6', name: 'Sigur Rós' }]);
		// Names starting with the query come before names holding it.
		expect(session.findItems('s').map((s) => s.name)).toEqual([
			'Sigur Rós',
			'The Beatles',
			'Portishead',
			'Massive Attack'
		]);
		expect(session.findItems('s', 2).map((s) => s.name)).toEqual(['Sigur Rós', 'The Beatles']);
		expect(session.findItems('a4')).toEqual([{ itemId: 'a4', name: 'Portishead' }]);
		expect(session.resolveItem('the beatles')).toBe('a3');
		expect(session.resolveItem('a2')).toBe('a2');
		expect(session.resolveItem('nobody')).toBeUndefined();
		expect(session.itemName('a2')).toBe('Björk');
		session.dispose();
	});
});

describe('historyLog', () => {
	it('writes the matched plays as one listener’s log, ids quoted where CSV needs it', async () => {
		const match = {
			level: 'artist' as const,
			distinct: 3,
			plays: 9,
			playShare: 8 / 9,
			unmatched: [{ name: 'x', plays: 1 }],
			matched: [
				{ item: 1, name: 'B', catalogName: 'B', plays: 5 },
				{ item: 0, name: 'A', catalogName: 'A', plays: 3 }
			]
		};
		const text = historyLog(match, ['id,"0"', 'id1']);
		expect(text).toBe('user,item,weight\nme,id1,5\nme,"id,""0""",3\n');
		// Read back by the app's own parser: one listener, the two items, the plays as weights.
		const r = await ingest([text]);
		expect(r.interactions.users.toArray()).toEqual(['me']);
		expect(r.interactions.items.toArray().sort()).toEqual(['id,"0"', 'id1']);
		expect(Array.from(r.interactions.matrix.data).sort()).toEqual([3, 5]);
	});
});
