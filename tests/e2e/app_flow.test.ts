import { mkdirSync, readFileSync } from 'node:fs';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/lib/core/format/model_file';
import type { ModelRecord } from '../../src/lib/core/model_record';
import { launchBrowser } from '../../tools/browser';
import { serveStatic } from '../../tools/static_server';
import { makeActive } from './seed';

const MODEL = 'flow model';

interface Recs {
	ids: string[];
	/** As displayed (4 decimals). */
	scores: number[];
}

function rowOf(page: Page, name: string) {
	return page.locator('[data-testid=model-list] tbody tr', { hasText: name });
}

function navLink(page: Page, label: string) {
	return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label });
}

/** Follow a header link (client-side navigation) and wait for the new URL. */
async function follow(page: Page, base: string, label: 'Models' | 'Recommend'): Promise<void> {
	await navLink(page, label).click();
	await page.waitForURL(base + label.toLowerCase() + '/');
}

/** Top-10 for the dataset's first user (row 0), read from the table. */
async function recommendFirstUser(page: Page): Promise<{ user: string; recs: Recs }> {
	await page.getByLabel('or row').waitFor({ timeout: 60_000 });
	await page.getByLabel('or row').fill('0');
	await page.getByLabel('or row').press('Tab');
	const user = await page.getByLabel('User (msno)').inputValue();
	await page.getByLabel('N', { exact: true }).fill('10');
	await page.getByRole('button', { name: 'Recommend', exact: true }).click();
	await page.locator('[data-testid=user-recs]').waitFor();
	const cells = await page
		.locator('[data-testid=user-recs] tbody tr')
		.evaluateAll((rows) =>
			rows.map((r) => [1, 2].map((c) => (r as HTMLTableRowElement).cells[c].textContent!.trim()))
		);
	return {
		user,
		recs: { ids: cells.map((c) => c[0]), scores: cells.map((c) => Number(c[1])) }
	};
}

/** x_u · y_i from the factor arrays of a model record, in float64. */
function exactScore(record: ModelRecord, user: string, item: string): number {
	const f = record.meta.params.factors;
	const u = record.userIds.indexOf(user);
	const i = record.itemIds.indexOf(item);
	expect(u).toBeGreaterThanOrEqual(0);
	expect(i).toBeGreaterThanOrEqual(0);
	let s = 0;
	for (let k = 0; k < f; k++) s += record.userFactors[u * f + k] * record.itemFactors[i * f + k];
	return s;
}

const EXPORT_PATH = 'test-results/flow_export.musicrec-model.json';

/** Click Export on a model's row and return the downloaded file's text. */
async function exportText(page: Page, name: string): Promise<string> {
	const [download] = await Promise.all([
		page.waitForEvent('download'),
		rowOf(page, name).getByRole('button', { name: 'Export' }).click()
	]);
	await download.saveAs(EXPORT_PATH);
	return readFileSync(EXPORT_PATH, 'utf8');
}

describe('app flow: data -> train -> recommend -> export/import -> reload -> offline (sub-path)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Awaited<ReturnType<typeof launchBrowser>>;
	let page: Page;
	const pageErrors: string[] = [];
	// No console error is tolerated: none occurs, online or offline (everything comes from the
	// service worker's cache once the network is cut).
	const consoleErrors: string[] = [];

	beforeAll(async () => {
		mkdirSync('test-results', { recursive: true });
		server = await serveStatic('build', '/musicrec');
		browser = await launchBrowser();
		page = await browser.context.newPage();
		page.on('pageerror', (e) => pageErrors.push(e.message));
		page.on('console', (m: ConsoleMessage) => {
			if (m.type() === 'error') consoleErrors.push(m.text());
		});
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	it('runs the whole flow in one profile', async () => {
		// 1. First visit: the demo is loaded and summarised without a click.
		await page.goto(server.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 120_000 });
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		await expect(page.getByTestId('stat-rows').textContent()).resolves.toBe('10,000');
		await expect(page.getByTestId('head-table').locator('tbody tr').count()).resolves.toBe(50);
		await expect(page.getByTestId('missing-table').locator('tbody tr').count()).resolves.toBe(7);
		await expect(page.getByTestId('describe-table').locator('tbody tr').count()).resolves.toBe(3);
		await expect(
			page.getByTestId('target-charts').locator('rect.bar').count()
		).resolves.toBeGreaterThan(0);
		await expect(
			page.getByTestId('degree-charts').locator('rect.bar').count()
		).resolves.toBeGreaterThan(0);
		await page.screenshot({ path: 'test-results/flow_data.png', fullPage: true });

		// 2. Client-side navigation under the sub-path: the document survives the click.
		await page.evaluate(() => ((window as unknown as { flowMarker: number }).flowMarker = 7));
		await follow(page, server.url, 'Models');
		await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
		await expect(
			page.evaluate(() => (window as unknown as { flowMarker?: number }).flowMarker)
		).resolves.toBe(7);
		await expect(navLink(page, 'Models').getAttribute('aria-current')).resolves.toBe('page');

		// 3. Train a small model with holdout; progress is shown, then metrics, then the row.
		await page.getByLabel('Name').fill(MODEL);
		await page.getByLabel('Factors').fill('16');
		await page.getByLabel('Iterations').fill('3');
		await page.getByLabel(/Hold out/).check();
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		await page.locator('[data-testid=train-progress]').waitFor();
		await page.locator('[data-testid=train-metrics]').waitFor({ timeout: 150_000 });
		await expect(page.locator('[data-testid=loss-chart] circle').count()).resolves.toBe(3);
		await rowOf(page, MODEL).waitFor();
		await makeActive(rowOf(page, MODEL));
		await expect.poll(() => page.getByTestId('status-model').textContent()).toBe(MODEL);
		await page.screenshot({ path: 'test-results/flow_models.png', fullPage: true });

		// 4. Recommendations for the first user.
		await follow(page, server.url, 'Recommend');
		const first = await recommendFirstUser(page);
		expect(first.recs.ids).toHaveLength(10);
		expect(new Set(first.recs.ids).size).toBe(10);
		await page.screenshot({ path: 'test-results/flow_recommend.png', fullPage: true });

		// 5. Export, delete, import, set active.
		await follow(page, server.url, 'Models');
		await rowOf(page, MODEL).waitFor();
		const exported = await exportText(page, MODEL);
		const record = decodeModelFile(exported);
		expect(record.meta.name).toBe(MODEL);
		// The displayed scores are x_u · y_i of the exported factors (shown to 4 decimals).
		first.recs.ids.forEach((id, k) => {
			expect(Math.abs(exactScore(record, first.user, id) - first.recs.scores[k])).toBeLessThan(
				5.1e-5
			);
		});
		page.once('dialog', (d) => void d.accept());
		await rowOf(page, MODEL).getByRole('button', { name: 'Delete' }).click();
		await expect.poll(() => rowOf(page, MODEL).count()).toBe(0);
		await expect.poll(() => page.getByTestId('status-model').textContent()).toBe('none');
		await page.getByTestId('import-input').setInputFiles(EXPORT_PATH);
		await rowOf(page, MODEL).waitFor();
		await makeActive(rowOf(page, MODEL));
		await expect.poll(() => page.getByTestId('status-model').textContent()).toBe(MODEL);
		await page.screenshot({ path: 'test-results/flow_models_imported.png', fullPage: true });
		// The imported model holds exactly the exported factors: any score agrees to 0 (< 1e-6).
		const reexported = decodeModelFile(await exportText(page, MODEL));
		expect(reexported.userIds).toEqual(record.userIds);
		expect(reexported.itemIds).toEqual(record.itemIds);
		expect(reexported.userFactors).toEqual(record.userFactors);
		expect(reexported.itemFactors).toEqual(record.itemFactors);
		for (const id of first.recs.ids) {
			expect(
				Math.abs(exactScore(reexported, first.user, id) - exactScore(record, first.user, id))
			).toBeLessThan(1e-6);
		}

		// 6. The same top-10 from the imported model.
		await follow(page, server.url, 'Recommend');
		const again = await recommendFirstUser(page);
		expect(again.user).toBe(first.user);
		expect(again.recs.ids).toEqual(first.recs.ids);
		again.recs.scores.forEach((s, k) =>
			expect(Math.abs(s - first.recs.scores[k])).toBeLessThan(1e-6)
		);
		await page.screenshot({ path: 'test-results/flow_recommend_imported.png', fullPage: true });

		// 7. Reload: still stored and active.
		await follow(page, server.url, 'Models');
		await page.reload();
		await rowOf(page, MODEL).waitFor();
		await expect(rowOf(page, MODEL).count()).resolves.toBe(1);
		await expect.poll(() => page.getByTestId('status-model').textContent()).toBe(MODEL);

		// 8. Offline once the service worker controls the page.
		await page.evaluate(async () => {
			await navigator.serviceWorker.ready;
		});
		await expect
			.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), {
				timeout: 30_000
			})
			.toBe(true);
		await follow(page, server.url, 'Recommend');
		await browser.context.setOffline(true);
		try {
			await page.reload();
			const cached = await recommendFirstUser(page);
			expect(cached.user).toBe(first.user);
			expect(cached.recs.ids).toEqual(first.recs.ids);
			cached.recs.scores.forEach((s, k) =>
				expect(Math.abs(s - first.recs.scores[k])).toBeLessThan(1e-6)
			);
			await page.screenshot({ path: 'test-results/flow_recommend_offline.png', fullPage: true });
		} finally {
			await browser.context.setOffline(false);
		}

		expect(pageErrors).toEqual([]);
		expect(consoleErrors).toEqual([]);
	});
});
