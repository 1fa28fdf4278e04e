import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { Worker as NodeWorker } from 'node:worker_threads';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../tools/browser';
import { serveStatic } from '../tools/static_server';
import type { Options } from './args';
import { DEMO_FILE, SETTINGS } from './browser_suite';
import { median, round } from './measure';

/**
 * tfjs-wasm with 1 vs N threads in headless Chromium, through the app's own workers: the built
 * site on a plain static server (no COOP/COEP headers), made cross-origin isolated by its
 * service worker. Per thread count, a fresh probe worker times a square matMul and a fresh
 * training worker runs the browser suite's fit (KKBox demo, f = 64, 15 sweeps, holdout).
 * One thread is the single-threaded SIMD binary (what the app runs when not isolated); more
 * threads are the threaded SIMD binary. The machine is shared: each record carries the load
 * average and the parallelism a plain two-thread busy loop got just before it.
 */

/** The browser suite's settings, so the figures line up. */
const { weighting: WEIGHTING, holdout: _holdout, ...FIT } = SETTINGS;

export interface ThreadsRecord {
	suite: 'threads';
	run: number;
	/** Threads asked for, and what the wasm backend reports it runs. */
	threads: number;
	wasm_threads: number;
	cross_origin_isolated: boolean;
	hardware_concurrency: number;
	matmul_size: number;
	/** Best of `reps` after a warm-up, in a fresh probe worker. */
	matmul_ms: number;
	matmul_gflops: number;
	dataset: 'kkbox10k';
	factors: number;
	iterations: number;
	/** Summed sweep seconds of the app's training worker (as the app stores them). */
	train_s: number;
	sweep_s_median: number;
	ndcg_at_10: number;
	/** 1-minute load average of the machine before and after this measurement. */
	load_before: number;
	load_after: number;
	/**
	 * Parallelism the machine offered just before (2 = two idle cores): the time of one thread
	 * running two units of a busy loop over that of two threads running one unit each.
	 */
	parallel_capacity: number;
}

export interface ThreadsSummary {
	suite: 'threads';
	summary: true;
	threads: number;
	runs: number;
	matmul_ms_median: number;
	train_s_median: number;
	/** Median of the one-thread figure over the median of this one (above 1: faster). */
	matmul_speedup: number;
	train_speedup: number;
	/** Best (least disturbed) run of each, and the same ratio of bests. */
	matmul_ms_best: number;
	train_s_best: number;
	matmul_speedup_best: number;
	train_speedup_best: number;
	load_median: number;
	parallel_capacity_median: number;
}

interface TrainOutcome {
	wasmThreads: number;
	seconds: number;
	sweeps: number[];
	ndcg: number;
}

function workerUrl(root: string, name: string, base: string): string {
	const dir = join(root, '_app/immutable/workers');
	const file = readdirSync(dir).find((f) => f.startsWith(`${name}.worker-`) && f.endsWith('.js'));
	if (!file) throw new Error(`no ${name} worker in ${dir}: run npx vite build first`);
	return new URL(`_app/immutable/workers/${file}`, base).href;
}

/** A unit of pure CPU work in a Node worker thread; resolves with its wall time, ms. */
function busyUnit(units: number): Promise<number> {
	const source = `
		const { parentPort, workerData } = require('node:worker_threads');
		const t0 = performance.now();
		let x = 1;
		for (let i = 0; i < workerData * 60_000_000; i++) x = (x * 1103515245 + 12345) | 0;
		parentPort.postMessage([performance.now() - t0, x]);`;
	return new Promise((resolve, reject) => {
		const worker = new NodeWorker(source, { eval: true, workerData: units });
		worker.once('message', ([ms]: [number, number]) => {
			void worker.terminate();
			resolve(ms);
		});
		worker.once('error', reject);
	});
}

/** Two units on one thread over one unit on each of two threads, run at the same time. */
export async function parallelCapacity(): Promise<number> {
	const serial = await busyUnit(2);
	const parallel = Math.max(...(await Promise.all([busyUnit(1), busyUnit(1)])));
	return serial / parallel;
}

/** Time a size^3 matMul on wasm with `threads` threads in a fresh probe worker. */
async function matMul(
	page: Page,
	url: string,
	size: number,
	reps: number,
	threads: number
): Promise<{ ms: number; threads: number }> {
	return page.evaluate(
		async ({ url, size, reps, threads }) => {
			const worker = new Worker(url, { type: 'module' });
			try {
				return await new Promise<{ ms: number; threads: number }>((resolve, reject) => {
					worker.onerror = (e) => reject(new Error(e.message));
					worker.onmessage = (e) => {
						const event = e.data as {
							type: string;
							result?: { ok: boolean; ms?: number; threads?: number; error?: string };
						};
						if (event.type !== 'result') return;
						const r = event.result!;
						if (!r.ok || r.ms === undefined) reject(new Error(`wasm probe failed: ${r.error}`));
						else resolve({ ms: r.ms, threads: r.threads ?? -1 });
					};
					worker.postMessage({
						type: 'probe',
						backends: ['wasm'],
						size,
						reps,
						wasmThreads: threads
					});
				});
			} finally {
				worker.terminate();
			}
		},
		{ url, size, reps, threads }
	);
}

/** The app's training worker on the demo file, wasm with `threads` threads. */
async function train(page: Page, url: string, threads: number): Promise<TrainOutcome> {
	return page.evaluate(
		async ({ url, threads, fit, weighting, demo }) => {
			const file = await (await fetch(demo)).blob();
			const worker = new Worker(url, { type: 'module' });
			try {
				return await new Promise<TrainOutcome>((resolve, reject) => {
					let wasmThreads = -1;
					const sweeps: number[] = [];
					worker.onerror = (e) => reject(new Error(e.message));
					worker.onmessage = (e) => {
						const event = e.data as {
							type: string;
							wasmThreads?: number;
							seconds?: number;
							message?: string;
							record?: {
								meta: { training: { seconds: number }; metrics?: { ndcg: number } };
							};
						};
						if (event.type === 'backend') wasmThreads = event.wasmThreads ?? -1;
						else if (event.type === 'progress') sweeps.push(event.seconds!);
						else if (event.type === 'error') reject(new Error(event.message));
						else if (event.type === 'done') {
							const meta = event.record!.meta;
							resolve({
								wasmThreads,
								seconds: meta.training.seconds,
								sweeps,
								ndcg: meta.metrics?.ndcg ?? Number.NaN
							});
						}
					};
					worker.postMessage({
						type: 'train',
						file,
						dataset: { name: 'kkbox_train_10k.csv', fingerprint: 'bench' },
						name: 'threads bench',
						weighting,
						params: fit,
						holdout: true,
						backend: 'wasm',
						wasmThreads: threads
					});
				});
			} finally {
				worker.terminate();
			}
		},
		{ url, threads, fit: FIT, weighting: WEIGHTING, demo: DEMO_FILE }
	);
}

/**
 * npm run bench -- threads [--build DIR] [--runs N] [--threads 1,2] [--size 1024] [--reps 5]
 */
export async function threadsSuite(options: Options): Promise<(ThreadsRecord | ThreadsSummary)[]> {
	const buildDir = options.string('build', 'build');
	const runs = options.number('runs', 3);
	const threadList = options
		.string('threads', '1,2')
		.split(',')
		.map((t) => Number(t));
	const size = options.number('size', 1024);
	const reps = options.number('reps', 5);
	options.assertAllUsed();
	if (threadList.some((t) => !Number.isInteger(t) || t < 1)) {
		throw new Error('--threads: a comma-separated list of positive integers');
	}
	if (!existsSync(join(buildDir, 'index.html')) || !existsSync(join(buildDir, DEMO_FILE))) {
		throw new Error(`${buildDir}/index.html or ${DEMO_FILE} not found: run npx vite build first`);
	}
	// A private copy, so that a rebuild of build/ during the run cannot change what is measured.
	const root = mkdtempSync(join(tmpdir(), 'musicrec-bench-threads-'));
	cpSync(buildDir, root, { recursive: true });
	const server = await serveStatic(root);
	const browser = await launchBrowser();
	try {
		const page = await browser.context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		// First visit: the service worker installs, the app reloads once into isolation.
		await page.goto(server.url);
		await page.waitForFunction(() => crossOriginIsolated, undefined, { timeout: 120_000 });
		const hardwareConcurrency = await page.evaluate(() => navigator.hardwareConcurrency);
		const probeUrl = workerUrl(root, 'probe', server.url);
		const trainUrl = workerUrl(root, 'train', server.url);

		const records: ThreadsRecord[] = [];
		for (let run = 1; run <= runs; run++) {
			// Alternate the order from run to run, so a drift in the machine's load hits both.
			const order = run % 2 === 1 ? threadList : [...threadList].reverse();
			for (const threads of order) {
				const loadBefore = loadavg()[0];
				const capacity = await parallelCapacity();
				const mm = await matMul(page, probeUrl, size, reps, threads);
				const fit = await train(page, trainUrl, threads);
				if (mm.threads !== fit.wasmThreads) {
					throw new Error(`probe ran ${mm.threads} threads, training ${fit.wasmThreads}`);
				}
				records.push({
					suite: 'threads',
					run,
					threads,
					wasm_threads: fit.wasmThreads,
					cross_origin_isolated: await page.evaluate(() => crossOriginIsolated),
					hardware_concurrency: hardwareConcurrency,
					matmul_size: size,
					matmul_ms: round(mm.ms, 1),
					matmul_gflops: round((2 * size ** 3) / (mm.ms * 1e6), 2),
					dataset: 'kkbox10k',
					factors: FIT.factors,
					iterations: FIT.iterations,
					train_s: round(fit.seconds, 3),
					sweep_s_median: round(median(fit.sweeps), 4),
					ndcg_at_10: round(fit.ndcg, 4),
					load_before: round(loadBefore, 2),
					load_after: round(loadavg()[0], 2),
					parallel_capacity: round(capacity, 2)
				});
			}
		}
		if (errors.length) throw new Error(`page errors during the run: ${errors.join('; ')}`);
		return [...records, ...summarize(records, threadList)];
	} finally {
		await browser.close();
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}

function summarize(records: readonly ThreadsRecord[], threadList: number[]): ThreadsSummary[] {
	const of = (t: number) => records.filter((r) => r.threads === t);
	const base = of(Math.min(...threadList));
	const baseMatMul = median(base.map((r) => r.matmul_ms));
	const baseTrain = median(base.map((r) => r.train_s));
	const baseMatMulBest = Math.min(...base.map((r) => r.matmul_ms));
	const baseTrainBest = Math.min(...base.map((r) => r.train_s));
	return threadList.map((threads) => {
		const rs = of(threads);
		const mm = median(rs.map((r) => r.matmul_ms));
		const tr = median(rs.map((r) => r.train_s));
		const mmBest = Math.min(...rs.map((r) => r.matmul_ms));
		const trBest = Math.min(...rs.map((r) => r.train_s));
		return {
			suite: 'threads',
			summary: true,
			threads,
			runs: rs.length,
			matmul_ms_median: round(mm, 1),
			train_s_median: round(tr, 3),
			matmul_speedup: round(baseMatMul / mm, 2),
			train_speedup: round(baseTrain / tr, 2),
			matmul_ms_best: mmBest,
			train_s_best: trBest,
			matmul_speedup_best: round(baseMatMulBest / mmBest, 2),
			train_speedup_best: round(baseTrainBest / trBest, 2),
			load_median: round(median(rs.flatMap((r) => [r.load_before, r.load_after])), 2),
			parallel_capacity_median: round(median(rs.map((r) => r.parallel_capacity)), 2)
		};
	});
}
