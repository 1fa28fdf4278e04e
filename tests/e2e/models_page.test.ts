import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemo, useApp } from './app_fixture';

/** Visit the Data page (it stores the KKBox demo), then the Models page. */
async function openModelsWithDemo(page: Page, baseUrl: string): Promise<void> {
	await loadDemo(page, baseUrl);
	await page.goto(new URL('models/', baseUrl).href);
	await page.locator('form button[type=submit]', { hasText: 'Train' }).waitFor();
}

/** Fill the form and train; resolves when the metrics of the new model are shown. */
async function trainSmallModel(page: Page, name: string): Promise<void> {
	await page.getByLabel('Name').fill(name);
	await page.getByLabel('Factors').fill('16');
	await page.getByLabel('Iterations').fill('3');
	await page.getByLabel(/Hold out/).check();
	await page.getByRole('button', { name: 'Train', exact: true }).click();
	await page.locator('[data-testid=train-progress]').waitFor();
	await page.locator('[data-testid=train-metrics]').waitFor({ timeout: 150_000 });
}

function rowOf(page: Page, name: string) {
	return page.locator('[data-testid=model-list] tbody tr', { hasText: name });
}

async function metricCells(page: Page, name: string): Promise<string[]> {
	const row = rowOf(page, name);
	return Promise.all(
		['metric-ndcg', 'metric-precision', 'metric-auc'].map(async (id) =>
			(await row.locator(`[data-testid=${id}]`).textContent())!.trim()
		)
	);
}

describe('Models page (built static site, headless Chromium)', () => {
	const app = useApp();
	const errors = app.errors;
	let page: Page;

	beforeAll(async () => {
		page = app.page;
		await openModelsWithDemo(page, app.url);
	});

	it('trains with progress and metrics, lists, activates, exports, deletes and imports', async () => {
		await trainSmallModel(page, 'e2e model');
		// One point per sweep in the loss chart.
		await expect(page.locator('[data-testid=loss-chart] circle').count()).resolves.toBe(3);
		const metricsText = await page.locator('[data-testid=train-metrics]').textContent();
		for (const label of ['Precision@10', 'Recall@10', 'NDCG@10', 'MAP@10', 'AUC', 'Popularity']) {
			expect(metricsText).toContain(label);
		}
		await rowOf(page, 'e2e model').waitFor();
		const metrics = await metricCells(page, 'e2e model');
		for (const m of metrics) expect(m).toMatch(/^\d\.\d{3}/);
		await page.screenshot({ path: 'test-results/models.png', fullPage: true });

		// The first model trained is active by itself: the page says so, the header shows it,
		// and its "Set active" is disabled.
		expect(await page.getByRole('status').filter({ hasText: 'Saved' }).textContent()).toContain(
			'It is now the active model'
		);
		await expect(
			rowOf(page, 'e2e model').getByRole('button', { name: 'Set active' }).isDisabled()
		).resolves.toBe(true);
		await expect
			.poll(() => page.locator('[data-testid=status-model]').textContent())
			.toBe('e2e model');

		// Export: a model file download.
		const [download] = await Promise.all([
			page.waitForEvent('download'),
			rowOf(page, 'e2e model').getByRole('button', { name: 'Export' }).click()
		]);
		const exported = 'test-results/e2e-model.musicrec-model.json';
		await download.saveAs(exported);
		expect(download.suggestedFilename()).toBe('e2e_model.musicrec-model.json');
		const text = readFileSync(exported, 'utf8');
		expect(JSON.parse(text)).toMatchObject({ format: 'musicrec' });
		// trained by the fused WebAssembly kernel in the worker (one thread: not isolated here)
		expect(JSON.stringify(JSON.parse(text))).toMatch(/"solver":"kernel"/);

		// Delete (confirmed): gone from the list and no longer active.
		page.once('dialog', (d) => void d.accept());
		await rowOf(page, 'e2e model').getByRole('button', { name: 'Delete' }).click();
		await expect.poll(() => rowOf(page, 'e2e model').count()).toBe(0);
		await expect.poll(() => page.locator('[data-testid=status-model]').textContent()).toBe('none');

		// Import the exported file: it is back with the same metrics.
		await page.locator('[data-testid=import-input]').setInputFiles(exported);
		await rowOf(page, 'e2e model').waitFor();
		await expect(metricCells(page, 'e2e model')).resolves.toEqual(metrics);

		// A corrupted file: an error, the list unchanged.
		const rowsBefore = await page.locator('[data-testid=model-list] tbody tr').count();
		const corrupted = 'test-results/corrupted.musicrec-model.json';
		const at = text.indexOf('"data"');
		writeFileSync(corrupted, text.slice(0, at + 20) + 'AAAA' + text.slice(at + 24));
		await page.locator('[data-testid=import-input]').setInputFiles(corrupted);
		const alert = page.locator('[role=alert]', { hasText: 'Could not import' });
		await alert.waitFor();
		expect(await alert.textContent()).toContain('Nothing was changed');
		await expect(page.locator('[data-testid=model-list] tbody tr').count()).resolves.toBe(
			rowsBefore
		);
		// Not JSON at all.
		expect(await alert.textContent()).not.toContain('not JSON');
		writeFileSync(corrupted, 'this is not a model');
		await page.locator('[data-testid=import-input]').setInputFiles(corrupted);
		await page.locator('[role=alert]', { hasText: 'not JSON' }).waitFor();
		await expect(page.locator('[data-testid=model-list] tbody tr').count()).resolves.toBe(
			rowsBefore
		);
		await page.screenshot({ path: 'test-results/models_import_error.png', fullPage: true });

		// Rename in place.
		await rowOf(page, 'e2e model').getByRole('button', { name: 'Rename' }).click();
		await page.getByLabel('New name').fill('renamed model');
		await page.getByRole('button', { name: 'Save' }).click();
		await rowOf(page, 'renamed model').waitFor();
		await expect(rowOf(page, 'e2e model').count()).resolves.toBe(0);
		expect(errors).toEqual([]);
	});

	it('cancels a training mid-way and stores nothing', async () => {
		const rowsBefore = await page.locator('[data-testid=model-list] tbody tr').count();
		await page.getByLabel('Name').fill('cancelled model');
		await page.getByLabel('Factors').fill('100');
		await page.getByLabel('Iterations').fill('50');
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		// On the demo data a sweep takes tens of milliseconds, too short to aim a click at: cancel
		// while the worker still probes backends, so that fit stops before its first sweep.
		// (Stopping between sweeps is covered by tests/unit/platform/train_worker.test.ts.)
		await page.getByRole('button', { name: 'Cancel' }).click();
		await page.getByText('Training cancelled: nothing was saved.').waitFor();
		await expect(page.locator('[data-testid=model-list] tbody tr').count()).resolves.toBe(
			rowsBefore
		);
		await expect(rowOf(page, 'cancelled model').count()).resolves.toBe(0);
		// Still nothing after a reload (nothing half-written in IndexedDB).
		await page.reload();
		await page.locator('[data-testid=model-list]').waitFor();
		await expect(rowOf(page, 'cancelled model').count()).resolves.toBe(0);
		await expect(rowOf(page, 'renamed model').count()).resolves.toBe(1);
		expect(errors).toEqual([]);
	});
});
