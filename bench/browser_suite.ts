import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fit } from '../src/lib/core/als/fit';
import { alsParams } from '../src/lib/core/als/params';
import { ingest } from '../src/lib/core/data/ingest';
import { holdoutSplit } from '../src/lib/core/eval/split';
import { decodeModelFile, encodeModelFile } from '../src/lib/core/format/model_file';
import type { ModelRecord } from '../src/lib/core/model_record';
import { Rng } from '../src/lib/core/random';
import { readTextChunks } from '../src/lib/node/files';
import { useBackend } from '../src/lib/node/tf_backend';
import { useNodeAlsKernel } from '../src/lib/node/kernel_threads';
import { launchBrowser } from '../tools/browser';
import { serveStatic } from '../tools/static_server';
import type { Options } from './args';
import { round } from './measure';

/**
 * Seed of the app's holdout split (SPLIT_SEED in src/lib/workers/train.worker.ts, which cannot
 * be imported here because it uses the `$lib` alias); checked against the source at run time.
 */
const APP_SPLIT_SEED = 20260101;
const WORKER_SOURCE = 'src/lib/workers/train.worker.ts';

/** The settings of the comparison: the implicit reference run of docs/benchmarks.md on the KKBox demo. */
export const SETTINGS = {
	factors: 64,
	iterations: 15,
	regularization: 0.05,
	alpha: 1,
	convention: 'implicit',
	weighting: 'all-ones',
	holdout: true
} as const;

export const DEMO_FILE = 'data/kkbox_train_10k.csv';

interface ProbeRow {
	backend: string;
	ok: boolean;
	ms?: number;
	software?: boolean;
}

export interface BrowserRecord {
	suite: 'browser';
	dataset: 'kkbox10k';
	factors: number;
	iterations: number;
	regularization: number;
	alpha: number;
	convention: string;
	weighting: string;
	holdout: boolean;
	split_seed: number;
	/** page.goto('/') on a fresh profile until the demo's EDA (tables and charts) is shown. */
	demo_loaded_ms: number;
	/** The backend the app chose by itself (header), and its summed sweep seconds. */
	browser_backend: string;
	browser_train_s: number;
	/** Click on Train until the "Saved" notice: reading, split, fit, evaluation and storing. */
	browser_click_to_saved_s: number;
	/** The same fit in this Node process on tfjs-wasm (single-threaded), summed sweep seconds. */
	node_backend: string;
	node_train_s: number;
	/** Threads of the fused kernel in the browser's training, and so in the Node fit. */
	train_threads: number;
	browser_over_node: number;
	/** page.goto('/recommend/') with the model active until the first user's table is shown. */
	open_to_recommendations_ms: number;
	/** Of which: until the form is ready (model, dataset and backend loaded). */
	recommend_ready_ms: number;
	/** Of which: click on Recommend until the table is shown. */
	recommend_click_ms: number;
	/**
	 * Worst main-thread long task (Long Tasks API) from the start of the demo's parse until its
	 * summary (tables and charts) is fully drawn.
	 */
	worst_long_task_parse_ms: number;
	/** Worst long task before the parse starts: loading and starting the page. */
	worst_long_task_startup_ms: number;
	/** Worst main-thread long task from the click on Train to the "Saved" notice. */
	worst_long_task_train_ms: number;
	worst_long_task_ms: number;
	/** The Settings page's backend probe (256x256 matMul per backend, in a worker). */
	probes: ProbeRow[];
	probe_winner?: string;
	/**
	 * Top-10 for one user on /recommend/ over a synthetic catalogue (seeded random factors):
	 * the page's own `recommendForUser` (scores, exclusion of the user's songs, top-k and the
	 * "because" explanations), timed by its User Timing measure; the form is submitted from a
	 * script in the page so that no harness round trip is inside the loop.
	 */
	recommend_items: number;
	recommend_users: number;
	recommend_factors: number;
	recommend_history: number;
	recommend_backend: string;
	recommend_warmup_calls: number;
	recommend_timed_calls: number;
	recommend_p50_ms: number;
	recommend_p99_ms: number;
	recommend_max_ms: number;
	/**
	 * The same calls from the form's submit until the list is in the document (the page's
	 * `musicrec:recommend-shown` measure: the call above plus the page's update).
	 */
	recommend_shown_p50_ms: number;
	recommend_shown_p99_ms: number;
	run: number;
}

interface LongTask {
	start: number;
	duration: number;
}

/** Installed before any page script: collects long tasks into window.__longTasks. */
function observeLongTasks(): void {
	const tasks: { start: number; duration: number }[] = [];
	(window as unknown as { __longTasks: typeof tasks }).__longTasks = tasks;
	try {
		new PerformanceObserver((list) => {
			for (const e of list.getEntries()) tasks.push({ start: e.startTime, duration: e.duration });
		}).observe({ type: 'longtask', buffered: true });
	} catch {
		// No Long Tasks API: the worst long task is reported as 0.
	}
}

async function longTasks(page: Page): Promise<LongTask[]> {
	return page.evaluate(() => (window as unknown as { __longTasks?: LongTask[] }).__longTasks ?? []);
}

const worst = (tasks: readonly LongTask[], from = -Infinity, to = Infinity) =>
	tasks
		.filter((t) => t.start + t.duration >= from && t.start <= to)
		.reduce((m, t) => Math.max(m, t.duration), 0);

/** The Data page's mark once the summary's tables and charts are all in the document. */
const RENDERED_MARK = 'musicrec:summary-rendered';

/** In the page: resolves with the start times of the named performance marks once all exist. */
function waitForMarks(names: string[]): Promise<number[]> {
	// No named inner functions: tsx would wrap them in a helper the page does not have.
	return new Promise((resolve) => {
		const timer = setInterval(() => {
			const found = names.map((n) => performance.getEntriesByName(n, 'mark')[0]?.startTime);
			if (found.some((t) => t === undefined)) return;
			clearInterval(timer);
			resolve(found as number[]);
		}, 20);
	});
}

const pageNow = (page: Page) => page.evaluate(() => performance.now());

/** The catalogue of the recommend latency measure (issue target: p50 < 5 ms, p99 < 20 ms). */
const LATENCY = {
	items: 100_000,
	users: 1000,
	factors: 64,
	/** Songs per user in the dataset file (excluded from the user's recommendations). */
	history: 20,
	warmup: 20,
	timed: 200,
	seed: 7
} as const;

/** A model of seeded random factors and a dataset file of its users' histories. */
function syntheticCatalogue(dir: string): { modelPath: string; csvPath: string } {
	const { items, users, factors: f, history, seed } = LATENCY;
	const rng = new Rng(seed);
	const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
	const userIds = Array.from({ length: users }, (_, u) => `u${String(u).padStart(4, '0')}`);
	const itemIds = Array.from({ length: items }, (_, i) => `s${String(i).padStart(6, '0')}`);
	const lines = ['user,item,weight'];
	for (const u of userIds) {
		for (let k = 0; k < history; k++) lines.push(`${u},${itemIds[rng.int(items)]},1`);
	}
	const params = alsParams({ factors: f, iterations: 1 });
	const record: ModelRecord = {
		meta: {
			id: 'bench-latency-model',
			name: 'latency model',
			type: 'als',
			createdAt: new Date(0).toISOString(),
			params,
			weighting: 'raw',
			holdout: false,
			dataset: {
				name: 'latency.csv',
				fingerprint: '0'.repeat(64),
				users,
				items,
				nnz: users * history
			},
			training: { seconds: 0, sweeps: 0, backend: 'none', loss: [] },
			sizeBytes: (users + items) * f * 4
		},
		userIds,
		itemIds,
		userFactors: random(users * f),
		itemFactors: random(items * f)
	};
	const modelPath = join(dir, 'latency-model.json');
	const csvPath = join(dir, 'latency.csv');
	writeFileSync(modelPath, encodeModelFile(record));
	writeFileSync(csvPath, lines.join('\n') + '\n');
	return { modelPath, csvPath };
}

/**
 * In the page (as source text, so that no bundler helper leaks in): submit the "For a user"
 * form for `ids` one after another, each once the previous list is shown (its
 * `musicrec:recommend-shown` measure is recorded); resolves with the durations of the calls'
 * measures and of the shown measures.
 */
const SUBMIT_LOOP = `async (ids) => {
	const input = document.querySelector('input[name=user]');
	const form = input.form;
	const durations = (name, from) => performance.getEntriesByName(name).slice(from).map((e) => e.duration);
	const before = performance.getEntriesByName('musicrec:recommend-user').length;
	const shownBefore = performance.getEntriesByName('musicrec:recommend-shown').length;
	for (let k = 0; k < ids.length; k++) {
		input.value = ids[k];
		input.dispatchEvent(new Event('input', { bubbles: true }));
		form.requestSubmit();
		while (performance.getEntriesByName('musicrec:recommend-shown').length < shownBefore + k + 1) {
			await new Promise((r) => setTimeout(r, 0));
		}
	}
	return {
		call: durations('musicrec:recommend-user', before),
		shown: durations('musicrec:recommend-shown', shownBefore)
	};
}`;

const percentile = (sorted: readonly number[], q: number): number =>
	// Nearest rank: the smallest value with at least q of the samples at or below it.
	sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

/** Top-10 latency on /recommend/ in a fresh profile (synthetic model and dataset imported). */
async function measureRecommendLatency(url: string) {
	const dir = mkdtempSync(join(tmpdir(), 'musicrec-bench-latency-'));
	const browser = await launchBrowser();
	try {
		const { modelPath, csvPath } = syntheticCatalogue(dir);
		const page = await browser.context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		await page.goto(url);
		await page.getByTestId('dataset-schema').waitFor({ timeout: 120_000 });
		await page.getByTestId('file-input').setInputFiles(csvPath);
		await page.getByTestId('dataset-name').filter({ hasText: 'latency.csv' }).waitFor();
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		await page.goto(new URL('models/', url).href);
		await page.getByTestId('import-input').setInputFiles(modelPath);
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: 'latency model' });
		await row.getByRole('button', { name: 'Set active' }).click({ timeout: 120_000 });
		await page.getByTestId('status-model').filter({ hasText: 'latency model' }).waitFor();
		await page.goto(new URL('recommend/', url).href);
		await page.locator('input[name=user]').waitFor({ timeout: 120_000 });
		const backend = ((await page.getByTestId('status-backend').textContent()) ?? '').trim();
		const rng = new Rng(LATENCY.seed + 1);
		const ids = Array.from(
			{ length: LATENCY.warmup + LATENCY.timed },
			() => `u${String(rng.int(LATENCY.users)).padStart(4, '0')}`
		);
		const all = (await page.evaluate(`(${SUBMIT_LOOP})(${JSON.stringify(ids)})`)) as {
			call: number[];
			shown: number[];
		};
		const ms = all.call.slice(LATENCY.warmup).sort((a, b) => a - b);
		const shown = all.shown.slice(LATENCY.warmup).sort((a, b) => a - b);
		// The last call's table is on the page: ten songs for the last user.
		await page.locator('p', { hasText: `Top 10 for ${ids.at(-1)}` }).waitFor({ timeout: 10_000 });
		if (errors.length) throw new Error(`page errors during the latency run: ${errors.join('; ')}`);
		return {
			recommend_items: LATENCY.items,
			recommend_users: LATENCY.users,
			recommend_factors: LATENCY.factors,
			recommend_history: LATENCY.history,
			recommend_backend: backend,
			recommend_warmup_calls: LATENCY.warmup,
			recommend_timed_calls: ms.length,
			recommend_p50_ms: round(percentile(ms, 0.5), 2),
			recommend_p99_ms: round(percentile(ms, 0.99), 2),
			recommend_max_ms: round(ms[ms.length - 1], 2),
			recommend_shown_p50_ms: round(percentile(shown, 0.5), 2),
			recommend_shown_p99_ms: round(percentile(shown, 0.99), 2)
		};
	} finally {
		await browser.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

/** The same fit as the app's training worker, in Node: summed sweep seconds. */
/** Run `step` again after the page navigated under it (the app's one isolation reload). */
async function evaluateAcrossReload<T>(page: Page, step: () => Promise<T>): Promise<T> {
	for (let attempt = 0; ; attempt++) {
		try {
			return await step();
		} catch (e) {
			const navigated = /context was destroyed|navigat/i.test(String(e));
			if (!navigated || attempt >= 3) throw e;
			await page.waitForLoadState('domcontentloaded');
		}
	}
}

/** The same fit in Node, with as many kernel threads as the browser's training used. */
async function nodeTrainSeconds(csvPath: string, threads: number): Promise<number> {
	const pool = await useNodeAlsKernel(threads);
	try {
		return await nodeFitSeconds(csvPath);
	} finally {
		await pool?.close();
	}
}

async function nodeFitSeconds(csvPath: string): Promise<number> {
	const source = readFileSync(WORKER_SOURCE, 'utf8');
	if (!source.includes(`SPLIT_SEED = ${APP_SPLIT_SEED}`)) {
		throw new Error(`${WORKER_SOURCE} no longer uses SPLIT_SEED = ${APP_SPLIT_SEED}: update`);
	}
	await useBackend('wasm');
	const data = await ingest(readTextChunks(csvPath), {
		weighting: SETTINGS.weighting,
		badLines: 'skip'
	});
	const { matrix, target } = data.interactions;
	const split = holdoutSplit({ matrix, target }, { seed: APP_SPLIT_SEED });
	const params = alsParams({
		factors: SETTINGS.factors,
		iterations: SETTINGS.iterations,
		regularization: SETTINGS.regularization,
		alpha: SETTINGS.alpha,
		convention: SETTINGS.convention
	});
	let seconds = 0;
	const model = await fit(split.train, params, { onSweep: (s) => (seconds += s.seconds) });
	model.dispose();
	return seconds;
}

/**
 * Browser measurements of the built site (`npx vite build` first) in headless Chromium with a
 * fresh profile: demo load to EDA, training with the auto-selected backend beside the same fit
 * in Node, opening /recommend to the first recommendations, main-thread long tasks, the probe.
 */
export async function browserSuite(options: Options): Promise<BrowserRecord[]> {
	const buildDir = options.string('build', 'build');
	const runs = options.number('runs', 1);
	options.assertAllUsed();
	if (!existsSync(join(buildDir, 'index.html')) || !existsSync(join(buildDir, DEMO_FILE))) {
		throw new Error(`${buildDir}/index.html or ${DEMO_FILE} not found: run npx vite build first`);
	}
	// A private copy, so that a rebuild of build/ during the run cannot change what is measured.
	const root = mkdtempSync(join(tmpdir(), 'musicrec-bench-site-'));
	cpSync(buildDir, root, { recursive: true });
	const server = await serveStatic(root);
	try {
		const records: BrowserRecord[] = [];
		for (let run = 1; run <= runs; run++) {
			const app = await measureOnce(server.url, join(root, DEMO_FILE), run);
			const latency = await measureRecommendLatency(server.url);
			records.push({ ...app, ...latency, run });
		}
		return records;
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}

/** One run with a fresh browser profile. */
async function measureOnce(
	url: string,
	demoPath: string,
	run: number
): Promise<Omit<BrowserRecord, keyof Awaited<ReturnType<typeof measureRecommendLatency>>>> {
	const server = { url };
	const browser = await launchBrowser();
	try {
		const page = await browser.context.newPage();
		await page.addInitScript(observeLongTasks);
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));

		// (a) Fresh profile: open the Data page, the demo loads by itself. Until the summary is
		// drawn the bench waits with plain evaluate calls: Playwright's selector engine is
		// injected into the page on the first locator call and compiling it is itself a ~50 ms
		// main-thread task, which is the harness, not the app.
		// On a first visit the app reloads once when its service worker takes control (to be
		// cross-origin isolated): the marks are those of the page that stays.
		const t0 = performance.now();
		await page.goto(server.url, { waitUntil: 'commit' });
		const marks = await evaluateAcrossReload(page, () =>
			page.evaluate(waitForMarks, ['musicrec:parse-start', RENDERED_MARK])
		);
		const demoLoadedMs = performance.now() - t0;
		const tasks = await longTasks(page);
		const worstParse = worst(tasks, marks[0], marks[1]);
		const worstStartup = worst(tasks, 0, marks[0]);
		await page.getByTestId('head-table').locator('tbody tr').first().waitFor();
		await page.getByTestId('degree-charts').locator('rect.bar').first().waitFor();
		await page.getByTestId('target-charts').locator('rect.bar').first().waitFor();
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();

		// Train on the Models page with the app's automatic backend.
		await page.goto(new URL('models/', server.url).href);
		const name = 'bench model';
		await page.getByLabel('Name').fill(name);
		await page.getByLabel('Factors').fill(String(SETTINGS.factors));
		await page.getByLabel('Iterations').fill(String(SETTINGS.iterations));
		await page.getByLabel(/Regularization/).fill(String(SETTINGS.regularization));
		await page.getByLabel(/Alpha/).fill(String(SETTINGS.alpha));
		await page.getByLabel('Confidence convention').selectOption(SETTINGS.convention);
		await page.getByLabel('Weight mapping').selectOption(SETTINGS.weighting);
		await page.getByLabel(/Hold out/).setChecked(SETTINGS.holdout);
		const trainStart = await pageNow(page);
		const c0 = performance.now();
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		await page
			.getByRole('status')
			.filter({ hasText: `Saved “${name}”` })
			.waitFor({
				timeout: 600_000
			});
		const clickToSaved = (performance.now() - c0) / 1000;
		const worstTrain = worst(await longTasks(page), trainStart, await pageNow(page));
		const browserBackend = ((await page.getByTestId('status-backend').textContent()) ?? '').trim();
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: name });
		const [download] = await Promise.all([
			page.waitForEvent('download'),
			row.getByRole('button', { name: 'Export' }).click()
		]);
		const record = decodeModelFile(readFileSync((await download.path())!, 'utf8'));
		const p = record.meta.params;
		if (
			p.factors !== SETTINGS.factors ||
			p.iterations !== SETTINGS.iterations ||
			p.regularization !== SETTINGS.regularization ||
			p.alpha !== SETTINGS.alpha ||
			p.convention !== SETTINGS.convention ||
			record.meta.weighting !== SETTINGS.weighting ||
			record.meta.holdout !== SETTINGS.holdout
		) {
			throw new Error(`the app trained with other settings: ${JSON.stringify(record.meta)}`);
		}
		await row.getByRole('button', { name: 'Set active' }).click();
		await page.getByTestId('status-model').filter({ hasText: name }).waitFor();

		// (b) A fresh load of /recommend to the first user's recommendations.
		const r0 = performance.now();
		await page.goto(new URL('recommend/', server.url).href);
		await page.getByLabel('or row').waitFor({ timeout: 120_000 });
		const r1 = performance.now();
		await page.getByLabel('or row').fill('0');
		await page.getByLabel('or row').press('Tab');
		const r2 = performance.now();
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		await page.locator('[data-testid=user-recs] tbody tr').first().waitFor({ timeout: 120_000 });
		const r3 = performance.now();
		const openToRecs = r3 - r0;

		// (c) The backend probe of the Settings page.
		await page.goto(new URL('settings/', server.url).href);
		await page.getByRole('button', { name: 'Run probe' }).click();
		const winner = page.getByTestId('probe-winner');
		await winner.waitFor({ timeout: 120_000 });
		const probes = await page.locator('[data-testid=probe-table] tbody tr').evaluateAll((trs) =>
			trs.map((tr) => {
				const c = Array.from((tr as HTMLTableRowElement).cells, (td) => td.textContent!.trim());
				return {
					backend: c[0],
					ok: c[1] === 'ok',
					ms: c[2] === '–' ? undefined : Number(c[2]),
					software: c[1] === 'ok' ? c[3] === 'yes' : undefined
				};
			})
		);
		const probeWinner = ((await winner.locator('strong').textContent()) ?? '').trim();
		if (errors.length) throw new Error(`page errors during the run: ${errors.join('; ')}`);

		const browserThreads = record.meta.training.threads ?? 1;
		const nodeSeconds = await nodeTrainSeconds(demoPath, browserThreads);
		const browserSeconds = record.meta.training.seconds;
		return {
			suite: 'browser',
			dataset: 'kkbox10k',
			...SETTINGS,
			split_seed: APP_SPLIT_SEED,
			demo_loaded_ms: Math.round(demoLoadedMs),
			browser_backend: browserBackend,
			browser_train_s: round(browserSeconds, 3),
			browser_click_to_saved_s: round(clickToSaved, 3),
			node_backend: 'wasm',
			train_threads: browserThreads,
			node_train_s: round(nodeSeconds, 3),
			browser_over_node: round(browserSeconds / nodeSeconds, 2),
			open_to_recommendations_ms: Math.round(openToRecs),
			recommend_ready_ms: Math.round(r1 - r0),
			recommend_click_ms: Math.round(r3 - r2),
			worst_long_task_parse_ms: Math.round(worstParse),
			worst_long_task_startup_ms: Math.round(worstStartup),
			worst_long_task_train_ms: Math.round(worstTrain),
			worst_long_task_ms: Math.round(Math.max(worstParse, worstTrain)),
			probes,
			probe_winner: probeWinner || undefined,
			run
		};
	} finally {
		await browser.close();
	}
}
