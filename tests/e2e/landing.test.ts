import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser';
import { serveStatic } from './static_server';

describe('landing page (built static site, headless Chromium)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Awaited<ReturnType<typeof launchBrowser>>;

	beforeAll(async () => {
		server = await serveStatic('build');
		browser = await launchBrowser();
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	it('renders, serves the demo data and summarises it in the browser', async () => {
		const page = await browser.context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		await page.goto(server.url);
		await expect(page.locator('h1').textContent()).resolves.toBe('musicrec');

		const csv = await page.evaluate(async () => {
			const link = document.querySelector<HTMLAnchorElement>('a[download]');
			if (!link) return null;
			const text = await (await fetch(link.href)).text();
			return { lines: text.trim().split('\n').length, header: text.split('\n')[0] };
		});
		expect(csv?.header.trim()).toBe(
			',msno,song_id,source_system_tab,source_screen_name,source_type,target'
		);
		expect(csv?.lines).toBe(10_001);

		mkdirSync('test-results', { recursive: true });
		await page.screenshot({ path: 'test-results/landing.png', fullPage: true });
		expect(errors).toEqual([]);
		await page.close();
	});
});
