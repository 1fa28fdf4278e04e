import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser';
import { serveStatic } from './static_server';

/**
 * Installability and offline use (Lighthouse 12 has no PWA category any more, so the checks
 * it used to make are made here): manifest fields and icons, a service worker that controls
 * the page, and a reload with the network off. The site is served under a sub-path.
 */
describe('PWA: installable, works offline, from a sub-path', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Awaited<ReturnType<typeof launchBrowser>>;

	beforeAll(async () => {
		server = await serveStatic('build', '/musicrec');
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
});
