import { describe, expect, it } from 'vitest';
import type { Csr } from '../../../src/lib/core/data/csr';
import { ingest } from '../../../src/lib/core/data/ingest';
import { holdoutSplit } from '../../../src/lib/core/eval/split';
import { trainingEngine } from '../../../src/lib/core/model_record';
import { Rng } from '../../../src/lib/core/random';
import { useBackend } from '../../../src/lib/node/tf_backend';
import {
	runTraining,
	SPLIT_SEED,
	type TrainCommand,
	type TrainDeps,
	type TrainEvent
} from '../../../src/lib/workers/train.worker';

/** A KKBox-shaped CSV: users listen mostly inside one of two song groups. */
function kkboxCsv(users: number, songs: number, perUser: number, seed = 7): string {
	const rng = new Rng(seed);
	const lines = [',msno,song_id,source_system_tab,source_screen_name,source_type,target'];
	let row = 0;
	for (let u = 0; u < users; u++) {
		const group = u % 2;
		const seen = new Set<number>();
		while (seen.size < perUser) {
			const s = group * (songs / 2) + Math.floor(rng.next() * (songs / 2));
			seen.add(s);
		}
		for (const s of seen) {
			const target = rng.next() < 0.6 ? 1 : 0;
			lines.push(`${row++},user${u},song${s},explore,Explore,online-playlist,${target}`);
		}
	}
	return lines.join('\n') + '\n';
}

/**
 * NDCG@10, P@10, R@10 and MAP@10 by their formulas (eval/metrics.ts): every song outside the user's
 * train set scored by x_u . y_i, sorted (ties by lower index), top 10 against the test set.
 */
function bruteForceAt10(train: Csr, test: Csr, x: Float32Array, y: Float32Array, f: number) {
	const k = 10;
	let ndcg = 0;
	let precision = 0;
	let recall = 0;
	let map = 0;
	let users = 0;
	for (let u = 0; u < train.rows; u++) {
		const held = Array.from(test.indices.subarray(test.indptr[u], test.indptr[u + 1]));
		if (held.length === 0) continue;
		users++;
		const own = new Set(train.indices.subarray(train.indptr[u], train.indptr[u + 1]));
		const score = (i: number) => {
			let s = 0;
			for (let r = 0; r < f; r++) s += x[u * f + r] * y[i * f + r];
			return s;
		};
		const top = Array.from({ length: train.cols }, (_, i) => i)
			.filter((i) => !own.has(i))
			.sort((a, b) => score(b) - score(a) || a - b)
			.slice(0, k);
		const m = Math.min(k, held.length);
		let dcg = 0;
		let idcg = 0;
		let hits = 0;
		let ap = 0;
		top.forEach((i, r) => {
			if (held.includes(i)) {
				dcg += 1 / Math.log2(r + 2);
				hits++;
				ap += hits / (r + 1);
			}
		});
		map += ap / m;
		for (let r = 0; r < m; r++) idcg += 1 / Math.log2(r + 2);
		ndcg += dcg / idcg;
		precision += hits / m;
		recall += hits / held.length;
	}
	return {
		ndcg: ndcg / users,
		precision: precision / users,
		recall: recall / users,
		map: map / users,
		users
	};
}

function command(
	csv: string,
	overrides: Partial<Extract<TrainCommand, { type: 'train' }>> = {}
): Extract<TrainCommand, { type: 'train' }> {
	return {
		type: 'train',
		file: new Blob([csv], { type: 'text/csv' }),
		dataset: { name: 'synthetic.csv', fingerprint: 'ab'.repeat(32) },
		name: 'test model',
		weighting: 'one-plus-target',
		params: { factors: 4, iterations: 3, regularization: 0.1, alpha: 2, seed: 1 },
		holdout: true,
		...overrides
	};
}

function deps(
	events: TrainEvent[],
	transfers: Transferable[][],
	onEvent?: (e: TrainEvent) => void
) {
	const signal = { aborted: false };
	const d: TrainDeps = {
		post(event, transfer) {
			events.push(event);
			transfers.push(transfer ?? []);
			onEvent?.(event);
		},
		async selectBackend() {
			await useBackend('cpu');
			return { backend: 'cpu', probes: [{ name: 'cpu', ok: true, ms: 1 }] };
		},
		signal,
		newId: () => 'fixed-id',
		now: () => new Date('2026-01-02T03:04:05Z')
	};
	return { deps: d, signal };
}

describe('training worker protocol', () => {
	it('reports backend and every sweep, then posts a complete record with metrics', async () => {
		const csv = kkboxCsv(40, 30, 6);
		const events: TrainEvent[] = [];
		const transfers: Transferable[][] = [];
		await runTraining(command(csv), deps(events, transfers).deps);

		const types = events.map((e) => e.type);
		expect(types.at(-1)).toBe('done');
		expect(types.filter((t) => t === 'done' || t === 'error' || t === 'cancelled')).toHaveLength(1);
		const backend = events.find((e) => e.type === 'backend');
		expect(backend).toMatchObject({ backend: 'cpu' });

		const progress = events.filter((e) => e.type === 'progress');
		expect(progress.map((p) => p.sweep)).toEqual([1, 2, 3]);
		expect(progress.every((p) => p.iterations === 3 && Number.isFinite(p.loss))).toBe(true);
		expect(progress.at(-1)?.etaSeconds).toBe(0);

		const done = events.at(-1);
		if (done?.type !== 'done') throw new Error('no record');
		const { record } = done;
		// Vocabularies in order of first appearance in the file.
		const firstSeen = (col: number) => {
			const seen: string[] = [];
			for (const line of csv.trim().split('\n').slice(1)) {
				const v = line.split(',')[col];
				if (!seen.includes(v)) seen.push(v);
			}
			return seen;
		};
		expect(record.userIds).toEqual(firstSeen(1));
		expect(record.itemIds).toEqual(firstSeen(2));
		expect(record.userFactors.length).toBe(40 * 4);
		expect(record.itemFactors.length).toBe(record.itemIds.length * 4);
		expect(record.meta).toMatchObject({
			id: 'fixed-id',
			name: 'test model',
			type: 'als',
			createdAt: '2026-01-02T03:04:05.000Z',
			weighting: 'one-plus-target',
			holdout: true,
			dataset: { name: 'synthetic.csv', users: 40, items: record.itemIds.length, nnz: 240 }
		});
		expect(record.meta.params.factors).toBe(4);
		expect(record.meta.training.sweeps).toBe(3);
		expect(record.meta.training.loss).toEqual(progress.map((p) => p.loss));
		expect(record.meta.sizeBytes).toBeGreaterThan(record.userFactors.byteLength);

		const m = record.meta.metrics;
		expect(m).toBeDefined();
		expect(m?.k).toBe(10);
		// 40 users with 6 entries each: all have held-out items.
		expect(m?.evalUsers).toBe(40);
		// The ranking metrics are those of the stored factors, recomputed here by brute force on
		// the worker's holdout split.
		const data = await ingest([csv], { weighting: 'one-plus-target', badLines: 'skip' });
		const split = holdoutSplit(
			{ matrix: data.interactions.matrix, target: data.interactions.target },
			{ seed: SPLIT_SEED }
		);
		const want = bruteForceAt10(split.train, split.test, record.userFactors, record.itemFactors, 4);
		expect(want.users).toBe(40);
		expect(m!.ndcg).toBeCloseTo(want.ndcg, 9);
		expect(m!.precision).toBeCloseTo(want.precision, 9);
		expect(m!.recall).toBeCloseTo(want.recall, 9);
		expect(m!.map).toBeCloseTo(want.map, 9);
		// The two clusters are easy: the model must beat popularity on NDCG.
		expect(m!.ndcg).toBeGreaterThan(m!.popularity.ndcg);

		// The factor buffers are handed over, not copied.
		const transfer = transfers.at(-1)!;
		expect(transfer).toContain(record.userFactors.buffer);
		expect(transfer).toContain(record.itemFactors.buffer);
	});

	it('without holdout stores no metrics and trains on every entry', async () => {
		const events: TrainEvent[] = [];
		await runTraining(command(kkboxCsv(10, 10, 3), { holdout: false }), deps(events, []).deps);
		const done = events.at(-1);
		if (done?.type !== 'done') throw new Error('no record');
		expect(done.record.meta.metrics).toBeUndefined();
		expect(events.some((e) => e.type === 'stage' && e.stage === 'evaluating')).toBe(false);
	});

	it('stops after the sweep in which cancel arrives and posts no record', async () => {
		const events: TrainEvent[] = [];
		const { deps: d, signal } = deps(events, [], (e) => {
			if (e.type === 'progress' && e.sweep === 1) signal.aborted = true;
		});
		await runTraining(command(kkboxCsv(20, 20, 4), { params: { factors: 4, iterations: 10 } }), d);
		expect(events.at(-1)?.type).toBe('cancelled');
		expect(events.filter((e) => e.type === 'progress')).toHaveLength(1);
		expect(events.some((e) => e.type === 'done')).toBe(false);
	});

	it('turns a bad file or bad parameters into one error event', async () => {
		const events: TrainEvent[] = [];
		await runTraining(command('a,b\n1,2\n'), deps(events, []).deps);
		expect(events.at(-1)).toMatchObject({ type: 'error', code: 'csv/unknown-schema' });

		const events2: TrainEvent[] = [];
		await runTraining(
			command(kkboxCsv(5, 5, 2), { params: { factors: 0 } }),
			deps(events2, []).deps
		);
		expect(events2).toEqual([expect.objectContaining({ type: 'error', code: 'als/bad-params' })]);
	});

	it('says why the kernel runs on fewer threads or not at all, in events and in the record', async () => {
		const events: TrainEvent[] = [];
		const d = deps(events, []).deps;
		await runTraining(command(kkboxCsv(10, 10, 3), { holdout: false }), {
			...d,
			prepareKernel: () =>
				Promise.resolve({
					threads: 1,
					problem:
						'1 kernel helper thread(s) did not start (refused); the kernel runs on one thread'
				})
		});
		const notice = events.filter((e) => e.type === 'notice');
		expect(notice).toEqual([
			{
				type: 'notice',
				message: '1 kernel helper thread(s) did not start (refused); the kernel runs on one thread'
			}
		]);
		const done = events.at(-1);
		if (done?.type !== 'done') throw new Error('no record');
		expect(done.record.meta.training.notes).toEqual([notice[0].message]);

		const events2: TrainEvent[] = [];
		await runTraining(command(kkboxCsv(10, 10, 3), { holdout: false }), {
			...deps(events2, []).deps,
			prepareKernel: () => Promise.reject(new Error('WebAssembly.instantiate refused'))
		});
		const done2 = events2.at(-1);
		if (done2?.type !== 'done') throw new Error('no record');
		expect(done2.record.meta.training.notes?.[0]).toBe(
			'the fused WebAssembly kernel did not load (WebAssembly.instantiate refused)'
		);
		expect(events2.filter((e) => e.type === 'notice')).toHaveLength(
			done2.record.meta.training.notes!.length
		);

		// A healthy run has no notes at all.
		const events3: TrainEvent[] = [];
		await runTraining(command(kkboxCsv(10, 10, 3), { holdout: false }), deps(events3, []).deps);
		const done3 = events3.at(-1);
		if (done3?.type !== 'done') throw new Error('no record');
		expect('notes' in done3.record.meta.training).toBe(false);
		expect(events3.some((e) => e.type === 'notice')).toBe(false);
	});

	it('solves short rows exactly unless told to run CG on every row, and records which', async () => {
		const losses = async (exactShortRows?: boolean) => {
			const events: TrainEvent[] = [];
			await runTraining(
				command(kkboxCsv(30, 40, 5), { holdout: false, exactShortRows }),
				deps(events, []).deps
			);
			const done = events.at(-1);
			if (done?.type !== 'done') throw new Error('no record');
			return done.record.meta.training;
		};
		const exact = await losses();
		const cg = await losses(false);
		expect(exact.solver).toBe('kernel');
		expect(exact.exactShortRows).toBe(true);
		expect(cg.exactShortRows).toBe(false);
		expect(trainingEngine(cg)).toMatch(/fused kernel.*, CG on every row$/);
		// exact row solves reach a lower loss than 3 CG steps from the same start
		expect(exact.loss[0]).toBeLessThan(cg.loss[0]);
	});
});
