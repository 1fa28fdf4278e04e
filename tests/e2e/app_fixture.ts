import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from '../../tools/browser';
import { serveStatic } from '../../tools/static_server';

export interface AppFixture {
	/** Root URL of the served build, with a trailing slash. */
	readonly url: string;
	readonly page: Page;
	readonly browser: Awaited<ReturnType<typeof launchBrowser>>;
	/** Uncaught page errors seen so far; tests assert it stays empty. */
	readonly errors: string[];
}

/**
 * Serve the built site and open one page in a fresh headless Chromium profile for the
 * enclosing describe block (registers its own beforeAll/afterAll). Read the fields inside
 * tests, after beforeAll has run.
 */
export function useApp(basePath = ''): AppFixture {
	let server: Awaited<ReturnType<typeof serveStatic>> | undefined;
	let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
	let page: Page | undefined;
	const errors: string[] = [];
	beforeAll(async () => {
		mkdirSync('test-results', { recursive: true });
		server = await serveStatic('build', basePath);
		browser = await launchBrowser();
		page = await browser.context.newPage();
		page.on('pageerror', (e) => errors.push(e.message));
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});
	const ready = <T>(value: T | undefined): T => {
		if (value === undefined) throw new Error('useApp: used before beforeAll ran');
		return value;
	};
	return {
		get url() {
			return ready(server).url;
		},
		get page() {
			return ready(page);
		},
		get browser() {
			return ready(browser);
		},
		errors
	};
}

/** Visit the Data page and wait until it has stored a dataset (the demo on a first visit). */
export async function loadDemo(page: Page, baseUrl: string): Promise<void> {
	await page.goto(baseUrl);
	// Stored, not only shown: the header names the dataset as soon as it is parsed, and a page
	// opened before the save finishes would find no dataset.
	await page.waitForFunction(
		() =>
			/Saved in this browser|Shown from this browser/.test(
				document.querySelector('[data-testid=save-status]')?.textContent ?? ''
			),
		undefined,
		{ timeout: 120_000 }
	);
}
