import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from './app_fixture';
import { chromiumPath, launchBrowser } from '../../tools/browser';
import { serveStatic } from '../../tools/static_server';

/**
 * Cross-origin isolation on a plain static host: the test server sends no COOP/COEP headers,
 * the service worker adds them. First visit: one reload, then crossOriginIsolated, threaded
 * wasm in the workers, training works. Without a service worker the app runs single-threaded.
 */

/** Counts full document loads of the page's main frame (a reload is one). */
function countLoads(page: Page): () => number {
	let loads = 0;
	page.on('load', () => loads++);
	return () => loads;
}

/** Counts workers started from blob: URLs (tfjs-wasm's pthread pool is made of them). */
function countBlobWorkers(page: Page): () => number {
	let workers = 0;
	page.on('worker', (w) => {
		if (w.url().startsWith('blob:')) workers++;
	});
	return () => workers;
}

/** The Settings page's "Cross-origin isolated: …, wasm threads: N" once N is known. */
async function isolationLine(page: Page): Promise<{ isolated: string; threads: number }> {
	const line = page.getByTestId('isolation');
	await line.filter({ hasText: /wasm threads:\s*\d+/ }).waitFor({ timeout: 60_000 });
	const text = ((await line.textContent()) ?? '').replace(/\s+/g, ' ').trim();
	const match = /^Cross-origin isolated: (yes|no), wasm threads: (\d+)$/.exec(text);
	if (!match) throw new Error(`unexpected isolation line: ${text}`);
	return { isolated: match[1], threads: Number(match[2]) };
}

/** Train a small model on the stored demo; resolves when its metrics are shown. */
async function trainSmall(page: Page, baseUrl: string, name: string): Promise<void> {
	await page.goto(new URL('models/', baseUrl).href);
	// Without the service worker's cache the page and its wasm load from the server: on a busy
	// machine that has taken over 30 s.
	await page.locator('form button[type=submit]', { hasText: 'Train' }).waitFor({ timeout: 90_000 });
	await page.getByLabel('Name').fill(name);
	await page.getByLabel('Factors').fill('10');
	await page.getByLabel('Iterations').fill('3');
	await page.getByLabel(/Hold out/).check();
	await page.getByRole('button', { name: 'Train', exact: true }).click();
	await page.locator('[data-testid=train-metrics]').waitFor({ timeout: 150_000 });
	const ndcg = await page
		.locator('[data-testid=model-list] tbody tr', { hasText: name })
		.locator('[data-testid=metric-ndcg]')
		.textContent();
	expect(ndcg?.trim()).toMatch(/^0\.\d{3}/);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cross-origin isolation from the service worker (plain static server)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Awaited<ReturnType<typeof launchBrowser>>;

	beforeAll(async () => {
		mkdirSync('test-results', { recursive: true });
		server = await serveStatic('build');
		browser = await launchBrowser();
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	it('the server itself sends no isolation headers', async () => {
		const response = await fetch(server.url);
		expect(response.status).toBe(200);
		expect(response.headers.get('cross-origin-opener-policy')).toBeNull();
		expect(response.headers.get('cross-origin-embedder-policy')).toBeNull();
	});

	it('reloads once on the first visit, then is isolated with threaded wasm and trains', async () => {
		const page = await browser.context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		const loads = countLoads(page);
		const blobWorkers = countBlobWorkers(page);

		await page.goto(new URL('settings/', server.url).href);
		const line = await isolationLine(page);
		expect(line.isolated).toBe('yes');
		// The first load and exactly one reload.
		expect(loads()).toBe(2);
		const state = await page.evaluate(() => ({
			isolated: crossOriginIsolated,
			sab: typeof SharedArrayBuffer,
			cores: navigator.hardwareConcurrency,
			controlled: navigator.serviceWorker.controller !== null
		}));
		expect(state).toMatchObject({ isolated: true, sab: 'function', controlled: true });
		// One thread per logical core, capped at 8 (the threaded binary's pthread pool).
		expect(line.threads).toBe(Math.min(8, state.cores));
		if (state.cores >= 2) expect(line.threads).toBeGreaterThan(1);
		await page.screenshot({ path: 'test-results/isolation_settings.png', fullPage: true });

		// The headers come from the service worker, for pages and for worker scripts alike.
		const headers = await page.evaluate(async () => {
			const pick = (r: Response) => [
				r.headers.get('cross-origin-opener-policy'),
				r.headers.get('cross-origin-embedder-policy')
			];
			const worker = performance
				.getEntriesByType('resource')
				.map((e) => e.name)
				.find((n) => /\/workers\/probe\.worker-[^/]+\.js$/.test(n));
			return { page: pick(await fetch('./')), worker: worker ? pick(await fetch(worker)) : [] };
		});
		expect(headers.page).toEqual(['same-origin', 'require-corp']);
		expect(headers.worker).toEqual(['same-origin', 'require-corp']);

		// No loop: a manual reload is one more load, and nothing follows it.
		await page.reload();
		expect((await isolationLine(page)).isolated).toBe('yes');
		await pause(3000);
		expect(loads()).toBe(3);

		// The app still works: the demo is stored, a model trains on the threaded backend
		// (its pthread pool of blob: workers starts in the training worker).
		await loadDemo(page, server.url);
		const before = blobWorkers();
		await trainSmall(page, server.url, 'isolated model');
		if (state.cores >= 2) expect(blobWorkers()).toBeGreaterThan(before);
		// the fused ALS kernel ran with its helper thread on the shared memory
		const saved = page.getByRole('status').filter({ hasText: 'Saved “isolated model”' });
		await expect(saved.textContent()).resolves.toContain(
			// MAX_KERNEL_THREADS (platform/kernel_threads.ts) is 4
			state.cores >= 2 ? `fused kernel on ${Math.min(4, state.cores)} threads` : 'fused kernel'
		);
		await expect(page.locator('[data-testid=status-backend]').textContent()).resolves.toBe('wasm');
		expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
		await page.screenshot({ path: 'test-results/isolation_models.png', fullPage: true });
		expect(errors).toEqual([]);
		await page.close();
	});
});

describe('without a service worker the app runs single-threaded', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Browser;

	beforeAll(async () => {
		server = await serveStatic('build');
		browser = await chromium.launch({
			executablePath: chromiumPath(),
			headless: true,
			args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking']
		});
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	/** Open Settings, check the single-threaded state and that no reload happened. */
	async function singleThreaded(context: BrowserContext): Promise<Page> {
		const page = await context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		const loads = countLoads(page);
		await page.goto(new URL('settings/', server.url).href);
		expect(await isolationLine(page)).toEqual({ isolated: 'no', threads: 1 });
		await pause(3000);
		expect(loads()).toBe(1);
		expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
		expect(errors).toEqual([]);
		return page;
	}

	it('service workers blocked: no reload, wasm on one thread, training works', async () => {
		const context = await browser.newContext({ serviceWorkers: 'block' });
		try {
			const page = await singleThreaded(context);
			const blobWorkers = countBlobWorkers(page);
			await loadDemo(page, server.url);
			await trainSmall(page, server.url, 'single-threaded model');
			// The single-threaded binary starts no pthread pool, the kernel no helper.
			expect(blobWorkers()).toBe(0);
			const saved = page.getByRole('status').filter({ hasText: 'Saved “single-threaded model”' });
			await expect(saved.textContent()).resolves.toMatch(/on wasm, fused kernel\)/);
			await page.screenshot({ path: 'test-results/isolation_blocked.png', fullPage: true });
		} finally {
			await context.close();
		}
	});

	it('no service worker API at all (a private window): starts at once, single-threaded', async () => {
		const context = await browser.newContext();
		try {
			await context.addInitScript(() => {
				delete (Navigator.prototype as { serviceWorker?: unknown }).serviceWorker;
			});
			const page = await singleThreaded(context);
			expect(await page.evaluate(() => 'serviceWorker' in navigator)).toBe(false);
			await loadDemo(page, server.url);
			await expect(page.getByTestId('stat-rows').textContent()).resolves.toBe('10,000');
		} finally {
			await context.close();
		}
	});
});
