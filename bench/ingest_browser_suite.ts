import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { KKBOX_FULL_ROWS, writeKkboxCsv } from '../src/lib/node/kkbox_generator';
import { launchBrowser } from '../tools/browser';
import { serveStatic } from '../tools/static_server';
import type { Options } from './args';
import { round } from './measure';

/** The record `npm run bench -- ingest-browser` writes, one per file size. */
export interface IngestBrowserRecord {
	suite: 'ingest-browser';
	file: string;
	rows: number;
	bytes: number;
	/** File chosen on the Data page until its EDA is shown (parse worker, SHA-256, summary). */
	seconds: number;
	rows_per_s: number;
	mb_per_s: number;
	/** Peak JS heap of the parse worker (CDP Runtime.getHeapUsage, sampled between chunks). */
	worker_peak_heap_mb?: number;
	/** Peak array-buffer and external-string storage of the parse worker (same samples). */
	worker_peak_backing_mb?: number;
	/** Peak JS heap of the page's main thread (CDP Performance.getMetrics JSHeapUsedSize). */
	page_peak_heap_mb: number;
	/** Heap samples taken from the worker (0: the worker could not be reached). */
	worker_samples: number;
	/** After the EDA is shown: until the file is stored in IndexedDB ("Saved"), or undefined. */
	save_s?: number;
	users: number;
	items: number;
}

/** CDP messages this suite sends that the typed protocol of playwright-core does not list. */
type LooseCdp = {
	send(method: string, params?: object): Promise<unknown>;
	on(event: string, listener: (e: { sessionId: string; message: string }) => void): void;
};

/**
 * Heap of the parse worker over CDP: attach to its target (not flattened, so the page's
 * session relays the messages) and ask `Runtime.getHeapUsage`; the worker answers between
 * chunks of its parse.
 */
class WorkerHeapProbe {
	private readonly cdp: LooseCdp;
	private sessionId: string | undefined;
	private nextId = 1;
	private readonly pending = new Map<number, (r: HeapUsage | undefined) => void>();

	constructor(cdp: LooseCdp) {
		this.cdp = cdp;
		cdp.on('Target.receivedMessageFromTarget', (e) => {
			if (e.sessionId !== this.sessionId) return;
			const m = JSON.parse(e.message) as { id?: number; result?: HeapUsage };
			if (m.id === undefined) return;
			this.pending.get(m.id)?.(m.result);
			this.pending.delete(m.id);
		});
	}

	/** Attach to the first worker target whose URL contains `urlPart`; false when none yet. */
	async attach(urlPart: string): Promise<boolean> {
		if (this.sessionId) return true;
		const { targetInfos } = (await this.cdp.send('Target.getTargets')) as {
			targetInfos: { targetId: string; type: string; url: string }[];
		};
		const target = targetInfos.find((t) => t.type === 'worker' && t.url.includes(urlPart));
		if (!target) return false;
		const { sessionId } = (await this.cdp.send('Target.attachToTarget', {
			targetId: target.targetId,
			flatten: false
		})) as { sessionId: string };
		this.sessionId = sessionId;
		return true;
	}

	async heap(): Promise<HeapUsage | undefined> {
		if (!this.sessionId) return undefined;
		const id = this.nextId++;
		const answer = new Promise<HeapUsage | undefined>((resolve) => {
			this.pending.set(id, resolve);
			setTimeout(() => {
				if (this.pending.delete(id)) resolve(undefined);
			}, 5_000);
		});
		await this.cdp.send('Target.sendMessageToTarget', {
			sessionId: this.sessionId,
			message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' })
		});
		return answer;
	}
}

interface HeapUsage {
	usedSize: number;
	totalSize: number;
	/** Array buffers and external strings (newer Chromium). */
	backingStorageSize?: number;
}

/** Digits of a formatted count ("1,000,000" -> 1000000). */
const count = (text: string | null): number => Number((text ?? '').replace(/[^0-9]/g, ''));

/** Choose `file` on the Data page and time it until the EDA of that file is shown. */
async function parseInPage(page: Page, file: string, rows: number): Promise<IngestBrowserRecord> {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Performance.enable');
	const probe = new WorkerHeapProbe(cdp as unknown as LooseCdp);
	let workerPeak = 0;
	let workerBackingPeak = 0;
	let workerSamples = 0;
	let pagePeak = 0;
	let busy = false;
	const sample = async (): Promise<void> => {
		if (busy) return;
		busy = true;
		try {
			const m = await cdp.send('Performance.getMetrics');
			const used = m.metrics.find((x) => x.name === 'JSHeapUsedSize')?.value ?? 0;
			pagePeak = Math.max(pagePeak, used);
			if (await probe.attach('parse')) {
				const h = await probe.heap();
				if (h !== undefined) {
					workerPeak = Math.max(workerPeak, h.usedSize);
					workerBackingPeak = Math.max(workerBackingPeak, h.backingStorageSize ?? 0);
					workerSamples++;
				}
			}
		} catch {
			// The page is navigating or closing: skip this sample.
		} finally {
			busy = false;
		}
	};
	const timer = setInterval(() => void sample(), 100);
	const name = file.split('/').pop()!;
	try {
		const start = performance.now();
		await page.getByTestId('file-input').setInputFiles(file);
		await page.getByTestId('dataset-name').filter({ hasText: name }).waitFor({ timeout: 600_000 });
		const seconds = (performance.now() - start) / 1000;
		await sample();
		const shownRows = count(await page.getByTestId('stat-rows').textContent());
		if (shownRows !== rows) throw new Error(`the page shows ${shownRows} rows, expected ${rows}`);
		const users = count(await page.getByTestId('stat-users').textContent());
		const items = count(await page.getByTestId('stat-items').textContent());
		let saveSeconds: number | undefined;
		try {
			await page
				.getByTestId('save-status')
				.filter({ hasText: 'Saved' })
				.waitFor({ timeout: 120_000 });
			saveSeconds = (performance.now() - start) / 1000 - seconds;
		} catch {
			saveSeconds = undefined;
		}
		const bytes = statSync(file).size;
		return {
			suite: 'ingest-browser',
			file,
			rows,
			bytes,
			seconds: round(seconds, 3),
			rows_per_s: Math.round(rows / seconds),
			mb_per_s: round(bytes / 1e6 / seconds, 1),
			worker_peak_heap_mb: workerSamples > 0 ? round(workerPeak / 2 ** 20, 1) : undefined,
			worker_peak_backing_mb: workerSamples > 0 ? round(workerBackingPeak / 2 ** 20, 1) : undefined,
			page_peak_heap_mb: round(pagePeak / 2 ** 20, 1),
			worker_samples: workerSamples,
			save_s: saveSeconds === undefined ? undefined : round(saveSeconds, 2),
			users,
			items
		};
	} finally {
		clearInterval(timer);
		await cdp.detach().catch(() => undefined);
	}
}

/**
 * The ingest figure in headless Chromium: a seeded KKBox-schema CSV of each `--rows` size
 * (comma-separated; default 1,000,000 and the full 7,377,418) is chosen on the built site's
 * Data page (`npx vite build` first) and parsed by the app's own parse worker; each size in a
 * fresh browser profile. Files are generated in the OS temp folder like the `ingest` suite's
 * and kept for reuse.
 */
export async function ingestBrowserSuite(options: Options): Promise<IngestBrowserRecord[]> {
	const buildDir = options.string('build', 'build');
	const sizes = options
		.string('rows', `1000000,${KKBOX_FULL_ROWS}`)
		.split(',')
		.map((s) => Number(s));
	const seed = options.number('seed', 1);
	options.assertAllUsed();
	if (!existsSync(join(buildDir, 'index.html'))) {
		throw new Error(`${buildDir}/index.html not found: run npx vite build first`);
	}
	const root = mkdtempSync(join(tmpdir(), 'musicrec-bench-site-'));
	cpSync(buildDir, root, { recursive: true });
	const server = await serveStatic(root);
	try {
		const records: IngestBrowserRecord[] = [];
		for (const rows of sizes) {
			const file = join(tmpdir(), `musicrec_kkbox_${rows}_seed${seed}.csv`);
			if (!existsSync(file)) writeKkboxCsv(file, { rows, seed });
			const browser = await launchBrowser();
			try {
				const page = await browser.context.newPage();
				await page.goto(server.url);
				// The first visit loads the bundled demo: let it finish before choosing the file.
				await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({
					timeout: 120_000
				});
				records.push(await parseInPage(page, file, rows));
			} finally {
				await browser.close();
			}
		}
		return records;
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}
