import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../tools/browser';
import { modelRow, trainModel, makeActive } from './seed';
import { serveStatic } from '../../tools/static_server';

/**
 * Installability and offline use (Lighthouse 12 has no PWA category any more, so the checks
 * it used to make are made here): manifest fields and icons, a service worker that controls
 * the page, and a reload with the network off. The site is served under a sub-path.
 */
describe('PWA: installable, works offline, from a sub-path', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Awaited<ReturnType<typeof launchBrowser>>;
	/** Set to deploy a "new version": the service worker script with other bytes. */
	let nextWorker: Buffer | undefined;

	beforeAll(async () => {
		server = await serveStatic('build', '/musicrec', (path) =>
			path === '/service-worker.js' ? nextWorker : undefined
		);
		browser = await launchBrowser();
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	it('has a complete manifest with fetchable icons, including a maskable one', async () => {
		const page = await browser.context.newPage();
		await page.goto(server.url);
		const href = await page
			.locator('link[rel=manifest]')
			.evaluate((l) => (l as HTMLLinkElement).href);
		expect(href).toBe(server.url + 'manifest.webmanifest');
		const manifest = await page.evaluate(async (url) => (await fetch(url)).json(), href);
		expect(manifest).toMatchObject({
			name: expect.any(String),
			short_name: 'musicrec',
			display: 'standalone',
			start_url: './',
			scope: './',
			theme_color: expect.stringMatching(/^#/)
		});
		const icons = manifest.icons as { src: string; sizes: string; type: string; purpose: string }[];
		expect(icons.some((i) => i.sizes === '192x192' && i.type === 'image/png')).toBe(true);
		expect(icons.some((i) => i.sizes === '512x512' && i.purpose === 'any')).toBe(true);
		expect(icons.some((i) => i.purpose === 'maskable')).toBe(true);
		for (const icon of icons) {
			const status = await page.evaluate(
				async (url) => (await fetch(url)).status,
				new URL(icon.src, href).href
			);
			expect(status, icon.src).toBe(200);
		}
		await page.close();
	});

	it('is controlled by a service worker and reloads with the network off', async () => {
		const page = await browser.context.newPage();
		await page.goto(server.url);
		// On a first visit the app reloads itself once the worker controls it (cross-origin
		// isolation); wait for that before reloading, or the two reloads collide.
		await page.waitForFunction(() => crossOriginIsolated, undefined, { timeout: 60_000 });
		await page.evaluate(async () => {
			await navigator.serviceWorker.ready;
		});
		await page.reload();
		await expect
			.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null))
			.toBe(true);
		await browser.context.setOffline(true);
		try {
			await page.reload();
			await expect(page.locator('header .brand').textContent()).resolves.toBe('musicrec');
			// The demo data and another prerendered page come from the cache too.
			const csvHead = await page.evaluate(async () => {
				const text = await (await fetch('data/kkbox_train_10k.csv')).text();
				return text.slice(0, 40);
			});
			expect(csvHead).toContain('msno,song_id');
			await page.goto(server.url + 'models/');
			await expect(page.locator('h1').first().textContent()).resolves.toMatch(/Models/);
		} finally {
			await browser.context.setOffline(false);
		}
		await page.close();
	});

	it('trains with the kernel on helper threads and recommends with the network off', async () => {
		const page = await browser.context.newPage();
		await page.goto(server.url);
		await page.waitForFunction(() => crossOriginIsolated, undefined, { timeout: 60_000 });
		await page
			.getByTestId('save-status')
			.filter({ hasText: /Saved|Shown/ })
			.waitFor({
				timeout: 60_000
			});
		const cores = await page.evaluate(() => navigator.hardwareConcurrency);
		await browser.context.setOffline(true);
		try {
			// Workers, tfjs wasm, the kernel and its helper threads all come from the cache
			// (before they were precached, this trained on cpu with the kernel on one thread).
			await trainModel(page, server.url, 'offline model');
			const training = await page.evaluate(async () => {
				const db = await new Promise<IDBDatabase>((ok, fail) => {
					const r = indexedDB.open('musicrec');
					r.onsuccess = () => ok(r.result);
					r.onerror = () => fail(r.error);
				});
				const metas = await new Promise<{ name: string; training: unknown }[]>((ok) => {
					const r = db.transaction('model_meta').objectStore('model_meta').getAll();
					r.onsuccess = () => ok(r.result);
				});
				db.close();
				return metas.find((m) => m.name === 'offline model')!.training;
			});
			// MAX_KERNEL_THREADS (platform/kernel_threads.ts) is 4
			expect(training).toMatchObject({
				backend: 'wasm',
				solver: 'kernel',
				threads: Math.min(4, cores)
			});
			expect(training).not.toHaveProperty('notes');
			await makeActive(modelRow(page, 'offline model'));
			await page.getByTestId('status-model').filter({ hasText: 'offline model' }).waitFor();
			await page.goto(server.url + 'recommend/');
			await page.locator('input[name=row]').fill('0');
			await page.locator('input[name=row]').dispatchEvent('change');
			await page.getByRole('button', { name: 'Recommend', exact: true }).click();
			const rows = page.locator('[data-testid=user-recs] tbody tr');
			await rows.first().waitFor({ timeout: 60_000 });
			expect(await rows.count()).toBe(10);
		} finally {
			await browser.context.setOffline(false);
		}
		await page.close();
	});

	it('offers a new version when one is deployed, and runs it after "Update now"', async () => {
		const page = await browser.context.newPage();
		await page.goto(server.url);
		await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, {
			timeout: 60_000
		});
		expect(await page.getByRole('button', { name: 'Update now' }).count()).toBe(0);
		const marker = `// next version ${Date.now()}`;
		nextWorker = Buffer.concat([
			readFileSync('build/service-worker.js'),
			Buffer.from(`\n${marker}\n`)
		]);
		try {
			await page.evaluate(async () => {
				await (await navigator.serviceWorker.getRegistration())!.update();
			});
			const update = page.getByRole('button', { name: 'Update now' });
			await update.waitFor({ timeout: 60_000 });
			await page.screenshot({ path: 'test-results/pwa_update.png' });
			await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), update.click()]);
			await page.locator('header .brand').waitFor();
			// The new worker controls the page; nothing is left waiting, no prompt.
			const state = await page.evaluate(async () => {
				const r = (await navigator.serviceWorker.getRegistration())!;
				const script = await (await fetch(r.active!.scriptURL, { cache: 'no-store' })).text();
				return { waiting: r.waiting !== null, script: script.slice(-80) };
			});
			expect(state.waiting).toBe(false);
			expect(state.script).toContain(marker);
			expect(await page.getByRole('button', { name: 'Update now' }).count()).toBe(0);
		} finally {
			nextWorker = undefined;
		}
		await page.close();
	});
});
