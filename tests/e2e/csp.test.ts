import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemo, useApp } from './app_fixture';
import { makeActive } from './seed';

/** A CSP violation as reported by the page's `securitypolicyviolation` event. */
interface Violation {
	directive: string;
	blocked: string;
	source: string;
}

declare global {
	interface Window {
		reportCspViolation?: (v: Violation) => void;
	}
}

/** All files under `dir`, recursively. */
function walk(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? walk(path) : [path];
	});
}

/** The content-security-policy meta tag of a built page, or undefined. */
function metaPolicy(html: string): string | undefined {
	return /<meta http-equiv="content-security-policy" content="([^"]*)"/.exec(html)?.[1];
}

/** Parse "a b c; d e" into a map from directive name to its sources. */
function directives(policy: string): Map<string, string[]> {
	const map = new Map<string, string[]>();
	for (const part of policy.split(';')) {
		const [name, ...sources] = part.trim().split(/\s+/);
		if (name) map.set(name, sources);
	}
	return map;
}

/** True when a request URL stays in `origin` (blob: and data: URLs belong to the document). */
function sameOrigin(url: string, origin: string): boolean {
	if (url.startsWith('data:')) return true;
	if (url.startsWith('blob:')) return new URL(url.slice('blob:'.length)).origin === origin;
	return new URL(url).origin === origin;
}

const HOSTILE_ID = '<img src=x onerror=alert(1)>';

describe('content security (built static site under its meta CSP, headless Chromium)', () => {
	const app = useApp();
	const requests: string[] = [];
	const cspConsole: string[] = [];
	// Reported through a binding so that violations survive page navigations.
	const violations: Violation[] = [];
	let page: Page;
	let origin: string;

	beforeAll(async () => {
		page = app.page;
		origin = new URL(app.url).origin;
		// Every request of the context: pages, workers and the service worker.
		app.browser.context.on('request', (r) => requests.push(r.url()));
		page.on('console', (m) => {
			if (/content security policy/i.test(m.text())) cspConsole.push(m.text());
		});
		page.on('dialog', (d) => void d.dismiss());
		await page.exposeFunction('reportCspViolation', (v: Violation) => violations.push(v));
		await page.addInitScript(() => {
			document.addEventListener('securitypolicyviolation', (e) => {
				window.reportCspViolation?.({
					directive: e.effectiveDirective,
					blocked: e.blockedURI,
					source: `${e.sourceFile}:${e.lineNumber}`
				});
			});
		});
	});

	it('has no {@html} in the sources', () => {
		const offenders = walk('src').filter(
			(f) => f.endsWith('.svelte') && readFileSync(f, 'utf8').includes('{@html')
		);
		expect(offenders).toEqual([]);
	});

	it('emits a strict policy into every prerendered page', () => {
		const pages = walk('build').filter((f) => f.endsWith('.html'));
		expect(pages.length).toBeGreaterThanOrEqual(5);
		for (const file of pages) {
			const policy = metaPolicy(readFileSync(file, 'utf8'));
			expect(policy, file).toBeDefined();
			const d = directives(policy!);
			const scripts = d.get('script-src') ?? [];
			expect(scripts).not.toContain("'unsafe-eval'");
			expect(scripts).not.toContain("'unsafe-inline'");
			expect(scripts).toContain("'wasm-unsafe-eval'");
			expect(scripts.filter((s) => s.startsWith("'sha256-")).length).toBeGreaterThan(0);
			expect(d.get('default-src')).toEqual(["'self'"]);
			expect(d.get('object-src')).toEqual(["'none'"]);
			expect(d.get('connect-src')).toEqual(["'self'"]);
		}
	});

	it('runs the whole app with no violation and no request to another origin', async () => {
		// Data page: the demo is fetched, parsed in a worker and stored.
		await loadDemo(page, app.url);
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		expect(metaPolicy(await page.content())).toBeDefined();

		// Models: train a tiny model and make it active.
		await page.goto(new URL('models/', app.url).href);
		await page.getByLabel('Name').fill('csp model');
		await page.getByLabel('Factors').fill('10');
		await page.getByLabel('Iterations').fill('2');
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		await page.locator('[data-testid=train-metrics]').waitFor({ timeout: 150_000 });
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: 'csp model' });
		await makeActive(row);
		await page.waitForFunction(
			() => document.querySelector('[data-testid=status-model]')?.textContent === 'csp model'
		);

		// Recommend for the first user.
		await page.goto(new URL('recommend/', app.url).href);
		await page.getByLabel('User (msno)').waitFor({ timeout: 60_000 });
		await page.getByLabel('or row').fill('0');
		await page.getByLabel('or row').press('Tab');
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		await page.locator('[data-testid=user-recs] tbody tr').first().waitFor();
		await expect(page.locator('[data-testid=user-recs] tbody tr').count()).resolves.toBeGreaterThan(
			0
		);

		// Settings: the probe compiles the wasm backend.
		await page.goto(new URL('settings/', app.url).href);
		await page.getByRole('button', { name: 'Run probe' }).click();
		await page.locator('[data-testid=probe-winner]').waitFor({ timeout: 120_000 });
		await expect(
			page
				.locator('[data-testid=probe-table] tr[data-backend=wasm] [data-testid=probe-ok]')
				.textContent()
		).resolves.toBe('ok');

		// Federation: the page and its default tab render.
		await page.goto(new URL('federation/', app.url).href);
		await page.getByRole('tabpanel').waitFor();
		await page.screenshot({ path: 'test-results/csp_federation.png', fullPage: true });

		expect(violations).toEqual([]);
		expect(cspConsole).toEqual([]);
		expect(requests.length).toBeGreaterThan(10);
		expect(requests.filter((u) => !sameOrigin(u, origin))).toEqual([]);
		expect(app.errors).toEqual([]);
	});

	it('shows a hostile id from an uploaded CSV as text, creating no element', async () => {
		await page.goto(app.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 60_000 });
		const csv = `user,item\n"${HOSTILE_ID}",s1\nu2,"${HOSTILE_ID}"\nu2,s1\n`;
		await page.getByTestId('file-input').setInputFiles({
			name: 'hostile.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from(csv)
		});
		await page.getByTestId('dataset-name').filter({ hasText: 'hostile.csv' }).waitFor();
		const table = page.getByTestId('head-table');
		const cells = await table.locator('tbody td').allTextContents();
		expect(cells.filter((c) => c.trim() === HOSTILE_ID)).toHaveLength(2);
		await expect(table.locator('img').count()).resolves.toBe(0);
		await expect(page.locator('img[src=x]').count()).resolves.toBe(0);
		await page.screenshot({ path: 'test-results/csp_hostile_id.png', fullPage: true });
		expect(violations).toEqual([]);
		expect(requests.filter((u) => !sameOrigin(u, origin))).toEqual([]);
		expect(app.errors).toEqual([]);
	});

	it('reports what the policy blocks (control: the listener and the policy are live)', async () => {
		const blocked = await page.evaluate(async () => {
			const style = document.createElement('style');
			style.textContent = 'body { color: red; }';
			document.head.append(style);
			try {
				await fetch('https://example.com/');
				return false;
			} catch {
				return true;
			}
		});
		expect(blocked).toBe(true);
		await expect
			.poll(() => violations.map((v) => v.directive).sort())
			.toEqual(['connect-src', 'style-src-elem']);
		expect(requests.filter((u) => !sameOrigin(u, origin))).toEqual([]);
	});
});
