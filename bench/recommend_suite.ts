import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { fit } from '../src/lib/core/als/fit';
import { AlsModel } from '../src/lib/core/als/model';
import { ALS_PARAM_SPEC, alsParams } from '../src/lib/core/als/params';
import { nnz } from '../src/lib/core/data/csr';
import { Rng } from '../src/lib/core/random';
import { useBackend } from '../src/lib/node/tf_backend';
import type { Options } from './args';
import { DATASET_FILES, loadDataset, type DatasetName } from './datasets';
import { peakRssMb, round } from './measure';

/** Single-user top-10 latency over a catalogue of random factors. */
export interface RecommendLatencyRecord {
	suite: 'recommend';
	kind: 'single-user';
	backend: string;
	users: number;
	items: number;
	factors: number;
	n: number;
	warmup_calls: number;
	timed_calls: number;
	p50_ms: number;
	p99_ms: number;
	max_ms: number;
	/** Same figures for `recommendForFactors` (a folded-in user, nothing excluded). */
	for_factors_p50_ms: number;
	for_factors_p99_ms: number;
}

/** Top-10 for every user of a fitted model, train items excluded. */
export interface RecommendBatchRecord {
	suite: 'recommend';
	kind: 'batch';
	backend: string;
	dataset: DatasetName;
	users: number;
	items: number;
	nnz: number;
	factors: number;
	iterations: number;
	n: number;
	fit_s: number;
	/** Wall time of one `recommend(allUsers, n, train)` call (best of `runs`). */
	batch_s: number;
	batch_median_s: number;
	runs: number;
	users_per_s: number;
	peak_rss_mb: number;
}

const N = 10;
const WARMUP = 20;
const TIMED = 200;
const LATENCY_USERS = 1000;

function percentile(sorted: readonly number[], q: number): number {
	// Nearest rank: the smallest value with at least q of the samples at or below it.
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function timeCalls(call: (k: number) => Promise<unknown>): Promise<number[]> {
	for (let k = 0; k < WARMUP; k++) await call(k);
	const ms: number[] = [];
	for (let k = 0; k < TIMED; k++) {
		const start = performance.now();
		await call(WARMUP + k);
		ms.push(performance.now() - start);
	}
	return ms.sort((a, b) => a - b);
}

/** (a) p50/p99 of single-user top-10 calls on a model of seeded random factors. */
async function recommendLatency(
	items: number,
	factors: number,
	seed: number
): Promise<RecommendLatencyRecord> {
	const rng = new Rng(seed);
	const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
	const model = AlsModel.fromArrays(
		{
			userFactors: random(LATENCY_USERS * factors),
			itemFactors: random(items * factors),
			users: LATENCY_USERS,
			items,
			factors
		},
		alsParams({ factors })
	);
	try {
		const order = Int32Array.from({ length: WARMUP + TIMED }, () => rng.int(LATENCY_USERS));
		const single = await timeCalls((k) => model.recommend(order.subarray(k, k + 1), N));
		const vectors = model.userFactors.dataSync() as Float32Array;
		const forFactors = await timeCalls((k) =>
			model.recommendForFactors(vectors.subarray(order[k] * factors, (order[k] + 1) * factors), N)
		);
		return {
			suite: 'recommend',
			kind: 'single-user',
			backend: tf.getBackend(),
			users: LATENCY_USERS,
			items,
			factors,
			n: N,
			warmup_calls: WARMUP,
			timed_calls: TIMED,
			p50_ms: round(percentile(single, 0.5), 3),
			p99_ms: round(percentile(single, 0.99), 3),
			max_ms: round(single[single.length - 1], 3),
			for_factors_p50_ms: round(percentile(forFactors, 0.5), 3),
			for_factors_p99_ms: round(percentile(forFactors, 0.99), 3)
		};
	} finally {
		model.dispose();
	}
}

/** (b) fit on the whole dataset, then time top-10 for all users with their items excluded. */
async function recommendBatch(
	name: DatasetName,
	factors: number,
	iterations: number,
	runs: number,
	seed: number
): Promise<RecommendBatchRecord> {
	const dataset = await loadDataset(name, {
		// Last.fm HetRec's size: 1,892 users x 17,632 artists, 92,834 pairs.
		synthetic: { users: 2000, items: 17_000, nnz: 93_000 },
		seed
	});
	const m = dataset.interactions.matrix;
	const params = alsParams({
		factors,
		iterations,
		regularization: 0.05,
		alpha: 1,
		cgSteps: 3,
		convention: 'implicit'
	});
	const start = performance.now();
	const model = await fit(m, params, { computeLoss: false });
	const fitSeconds = (performance.now() - start) / 1000;
	try {
		const all = Int32Array.from({ length: m.rows }, (_, u) => u);
		await model.recommend(all.subarray(0, 1), N, m); // builds the cached Y' once
		const times: number[] = [];
		for (let r = 0; r < runs; r++) {
			const t0 = performance.now();
			await model.recommend(all, N, m);
			times.push((performance.now() - t0) / 1000);
		}
		times.sort((a, b) => a - b);
		return {
			suite: 'recommend',
			kind: 'batch',
			backend: tf.getBackend(),
			dataset: name,
			users: m.rows,
			items: m.cols,
			nnz: nnz(m),
			factors,
			iterations,
			n: N,
			fit_s: round(fitSeconds),
			batch_s: round(times[0]),
			batch_median_s: round(times[times.length >> 1]),
			runs,
			users_per_s: round(m.rows / times[0], 1),
			peak_rss_mb: round(peakRssMb(), 1)
		};
	} finally {
		model.dispose();
	}
}

/**
 * npm run bench -- recommend [--dataset lastfm|synthetic] [--items 100000] [--factors 64]
 * On wasm: single-user latency over `--items` random items, then the all-users batch after a
 * real fit (Last.fm when its file is present, else synthetic 2k x 17k).
 */
export async function recommendSuite(
	options: Options
): Promise<(RecommendLatencyRecord | RecommendBatchRecord)[]> {
	const fallback = existsSync(DATASET_FILES.lastfm) ? 'lastfm' : 'synthetic';
	const name = options.choice('dataset', ['lastfm', 'synthetic'] as const, fallback);
	const items = options.number('items', 100_000);
	const factors = options.number('factors', 64);
	const iterations = options.number('iterations', ALS_PARAM_SPEC.iterations.default);
	const runs = options.number('runs', 5);
	const seed = options.number('seed', 1);
	options.assertAllUsed();
	await useBackend('wasm');
	const latency = await recommendLatency(items, factors, seed);
	const batch = await recommendBatch(name, factors, iterations, runs, seed);
	return [latency, batch];
}
