import { describe, expect, it } from 'vitest';
import { csrFromTriplets } from '../../../src/lib/core/data/csr';
import { alsParams } from '../../../src/lib/core/als/params';
import type { ModelRecord } from '../../../src/lib/core/model_record';
import { isMusicrecError } from '../../../src/lib/core/errors';
import {
	ModelSession,
	readDataset,
	type DatasetView
} from '../../../src/lib/platform/model_session';
import { onBackend } from '../../helpers/tf_node';

describe('ModelSession (cpu)', () => {
	onBackend('cpu');

	// Hand-made factors (f = 2): items 0-2 lie along axis 0, items 3-5 along axis 1.
	const itemIds = ['s0', 's1', 's2', 's3', 's4', 's5'];
	const itemFactors = Float32Array.from([1, 0, 0.9, 0.1, 0.8, 0, 0, 1, 0.1, 0.9, 0, 0.8]);
	const userIds = ['u0', 'u1'];
	const userFactors = Float32Array.from([1, 0, 0, 1]);
	const record: ModelRecord = {
		meta: {
			id: 'm',
			name: 'm',
			type: 'als',
			createdAt: '2026-01-01T00:00:00.000Z',
			params: alsParams({ factors: 2, regularization: 0.1, alpha: 1 }),
			weighting: 'one-plus-target',
			holdout: false,
			dataset: { name: 'd', fingerprint: 'x', users: 2, items: 6, nnz: 3 },
			training: { seconds: 0, sweeps: 0, backend: 'cpu', loss: [] },
			sizeBytes: 0
		},
		userIds,
		itemIds,
		userFactors,
		itemFactors
	};
	// The dataset orders its ids differently from the model and has an unknown song.
	const dsItems = ['s1', 'zz', 's0', 's4'];
	const dataset: DatasetView = {
		userIds: ['u1', 'u0', 'new'],
		itemIds: dsItems,
		matrix: csrFromTriplets(
			3,
			4,
			Int32Array.from([1, 1, 0, 2]),
			Int32Array.from([0, 2, 3, 1]),
			Float32Array.from([2, 1, 1, 1])
		).matrix
	};

	it('maps the history through ids and skips songs the model does not know', () => {
		const session = new ModelSession(record, dataset);
		const h = session.history('u0');
		expect(Array.from(h.items).map((i) => itemIds[i])).toEqual(['s1', 's0']);
		expect(Array.from(h.weights)).toEqual([2, 1]);
		expect(session.history('new').items.length).toBe(0);
		session.dispose();
	});

	it('draws a random listener only among those with a song the model knows', () => {
		const session = new ModelSession(record, dataset);
		// 'new' (index 2) played only a song the model lacks: a draw landing on it is redrawn.
		const draws = [0.9, 0.1];
		expect(session.randomListener(() => draws.shift() ?? 0)).toBe('u1');
		// Always landing on 'new': the eligible ones are scanned instead.
		expect(session.randomListener(() => 0.9)).toBe('u0');
		const seen = new Set<string | undefined>();
		for (let k = 0; k < 200; k++) seen.add(session.randomListener());
		expect([...seen].sort()).toEqual(['u0', 'u1']);
		session.dispose();
	});

	it('recommends from the stored user factors, excluding listened songs, with reasons', async () => {
		const session = new ModelSession(record, dataset);
		const recs = await session.recommendForUser('u0', 3);
		// x_u0 = (1, 0): scores are the first item coordinate; s0 and s1 are listened.
		expect(recs.map((r) => r.itemId)).toEqual(['s2', 's4', 's3']);
		expect(recs[0].score).toBeCloseTo(0.8, 5);
		expect(recs[0].because.map((b) => b.itemId).sort()).toEqual(['s0', 's1']);
		const all = await session.recommendForUser('u0', 3, false);
		expect(all.map((r) => r.itemId)).toEqual(['s0', 's1', 's2']);
		session.dispose();
	});

	it('folds in a new user from picked songs and finds similar songs', async () => {
		const session = new ModelSession(record, dataset);
		const recs = await session.recommendForNewUser(['s3', 's4'], 2);
		// Fold-in from two axis-1 songs points along axis 1: s5 first, never a picked song.
		expect(recs[0].itemId).toBe('s5');
		expect(recs.map((r) => r.itemId)).not.toContain('s3');
		expect(recs.map((r) => r.itemId)).not.toContain('s4');
		expect(recs[0].because.length).toBe(2);
		const similar = await session.similarSongs('s0', 2);
		expect(similar.map((s) => s.itemId)).toEqual(['s2', 's1']);
		expect(similar[0].score).toBeCloseTo(1, 5);
		expect(await session.similarSongs('unknown', 2)).toEqual([]);
		session.dispose();
	});
});

describe('ModelSession: what it cannot do is said, not shown as zeros (cpu)', () => {
	onBackend('cpu');

	// A model trained on other data: none of its songs (a0..a3) is in the dataset (s0..s2).
	const f = 2;
	const record: ModelRecord = {
		meta: {
			id: 'other',
			name: 'other',
			type: 'als',
			createdAt: '2026-01-01T00:00:00.000Z',
			params: alsParams({ factors: f, regularization: 0.1, alpha: 1 }),
			weighting: 'raw',
			holdout: false,
			dataset: { name: 'elsewhere', fingerprint: 'y', users: 1, items: 4, nnz: 4 },
			training: { seconds: 0, sweeps: 0, backend: 'cpu', loss: [] },
			sizeBytes: 0
		},
		userIds: ['someone'],
		itemIds: ['a0', 'a1', 'a2', 'a3'],
		userFactors: Float32Array.from([1, 1]),
		itemFactors: Float32Array.from([1, 0, 0, 1, 0.5, 0.5, -1, 0])
	};
	// Listener p played s0, s1 and a2 (the only song the model knows); q played s0, s2.
	const dataset: DatasetView = {
		userIds: ['p', 'q'],
		itemIds: ['s0', 's1', 'a2', 's2'],
		matrix: csrFromTriplets(
			2,
			4,
			Int32Array.from([0, 0, 0, 1, 1]),
			Int32Array.from([0, 1, 2, 0, 3]),
			Float32Array.from([3, 1, 2, 5, 1])
		).matrix
	};

	it('counts the dataset songs and each listener’s songs the model knows', () => {
		const session = new ModelSession(record, dataset);
		expect(session.overlap).toEqual({ matched: 1, total: 4 });
		expect(session.listenerOverlap('p')).toEqual({ matched: 1, total: 3 });
		expect(session.listenerOverlap('q')).toEqual({ matched: 0, total: 2 });
		session.dispose();
	});

	it('refuses a listener with no known song (no all-zero list) and names the counts', async () => {
		const session = new ModelSession(record, dataset);
		const e = await session.recommendForUser('q', 3).catch((x: unknown) => x);
		expect(isMusicrecError(e, 'model/no-overlap')).toBe(true);
		expect((e as Error).message).toBe(
			"This model knows none of this listener's songs (0 of 2 matched), so it cannot recommend for them"
		);
		// p's one known song gives a real fold-in: x = (Y_a2'Y_a2 c + ...)^-1 ..., non-zero scores.
		const recs = await session.recommendForUser('p', 3);
		expect(recs.map((r) => r.itemId)).not.toContain('a2');
		expect(Math.max(...recs.map((r) => Math.abs(r.score)))).toBeGreaterThan(0.05);
		const picked = await session.recommendForNewUser(['zz'], 2).catch((x: unknown) => x);
		expect(isMusicrecError(picked, 'model/no-overlap')).toBe(true);
		session.dispose();
	});

	it('a scorer that fails to start is reported with its cause, and tfjs ops give the same list', async () => {
		const session = new ModelSession(record, dataset, () =>
			Promise.reject(new Error('no memory for the kernel'))
		);
		await session.scorerSettled();
		expect(session.scorerProblem).toBe(
			'the WebAssembly scorer did not start (no memory for the kernel); scoring with tfjs ops instead'
		);
		const viaOps = await session.recommendForUser('someone', 3, false);
		const healthy = new ModelSession(record, dataset);
		await healthy.scorerSettled();
		expect(healthy.scorerProblem).toBeUndefined();
		const viaScorer = await healthy.recommendForUser('someone', 3, false);
		// x = (1, 1): scores a0 1, a1 1, a2 1, a3 -1; both paths rank the same three.
		expect(new Set(viaOps.map((r) => r.itemId))).toEqual(new Set(['a0', 'a1', 'a2']));
		expect(new Set(viaScorer.map((r) => r.itemId))).toEqual(new Set(['a0', 'a1', 'a2']));
		session.dispose();
		healthy.dispose();
	});
});

describe('readDataset', () => {
	const kkbox =
		'msno,song_id,source_system_tab,source_screen_name,source_type,target\n' +
		'u1,s1,my library,x,y,1\nu1,s2,my library,x,y,0\nu2,s1,discover,x,y,1\n';

	it("reads a file the model's weighting does not fit with the file's default, and says so", async () => {
		const view = await readDataset(new Blob([kkbox]), 'raw', 'kkbox');
		expect(view.weightingNote).toBe(
			"the model was trained with weighting 'raw', which does not apply to a kkbox file; its histories are read with 'one-plus-target'"
		);
		// w = 1 + target per row: u1 -> s1 2, s2 1; u2 -> s1 2.
		expect(view.userIds).toEqual(['u1', 'u2']);
		expect(Array.from(view.matrix.data)).toEqual([2, 1, 2]);
	});

	it("keeps the model's weighting when it applies", async () => {
		const view = await readDataset(new Blob([kkbox]), 'all-ones', 'kkbox');
		expect(view.weightingNote).toBeUndefined();
		expect(Array.from(view.matrix.data)).toEqual([1, 1, 1]);
	});
});
