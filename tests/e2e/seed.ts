import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { loadDemo } from './app_fixture';

/** Wait until the header names `name` as the dataset (the layout has read the store). */
export async function waitForDataset(page: Page, name: string): Promise<void> {
	await page.waitForFunction(
		(n) => document.querySelector('[data-testid=status-dataset]')?.textContent?.trim() === n,
		name,
		{ timeout: 120_000 }
	);
}

/**
 * A client's own file made its dataset: the Data page (the demo stored first, as on any first
 * visit), then the file through its input, until the header names it and it is saved.
 */
export async function loadOwnFile(
	page: Page,
	baseUrl: string,
	file: { name: string; text: string }
): Promise<void> {
	await page.goto(baseUrl);
	await waitForDataset(page, 'kkbox_train_10k.csv');
	await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
	await page.getByTestId('file-input').setInputFiles({
		name: file.name,
		mimeType: 'text/csv',
		buffer: Buffer.from(file.text)
	});
	await waitForDataset(page, file.name);
	await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
}

/** Open the Models page once it has read the stored dataset and model list. */
export async function openModels(page: Page, baseUrl: string): Promise<void> {
	await page.goto(new URL('models/', baseUrl).href);
	await page.getByRole('button', { name: 'Train', exact: true }).waitFor({ timeout: 60_000 });
}

/** Train a small model on the Models page (10 factors) and wait until it is listed. */
export async function trainModel(
	page: Page,
	baseUrl: string,
	name: string,
	iterations = 3
): Promise<void> {
	await openModels(page, baseUrl);
	await page.getByLabel('Name').fill(name);
	await page.getByLabel('Factors').fill('10');
	await page.getByLabel('Iterations').fill(String(iterations));
	await page.getByRole('button', { name: 'Train', exact: true }).click();
	await modelRow(page, name).waitFor({ timeout: 150_000 });
}

/**
 * Make the model of `row` the active one: the first model trained is active by itself (its
 * "Set active" is disabled), any other is set active here. Waits for the row's "active" badge.
 */
export async function makeActive(row: Locator): Promise<void> {
	const button = row.getByRole('button', { name: 'Set active' });
	if (await button.isEnabled()) await button.click();
	await row.locator('.badge', { hasText: 'active' }).waitFor();
}

export function modelRow(page: Page, name: string) {
	return page.locator('[data-testid=model-list] tbody tr', { hasText: name });
}

/** The demo dataset stored, and a trained model made active. */
export async function seedDemoAndModel(page: Page, baseUrl: string, name: string): Promise<void> {
	await loadDemo(page, baseUrl);
	await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
	await trainModel(page, baseUrl, name);
	await makeActive(modelRow(page, name));
	await expect.poll(() => page.getByTestId('status-model').textContent()).toBe(name);
}

/** Open a tab of the Federation page. */
export async function openFederationTab(
	page: Page,
	baseUrl: string,
	tab: 'Coordinator' | 'Client' | 'Simulation'
): Promise<void> {
	await page.goto(new URL('federation/', baseUrl).href);
	await page.getByRole('tabpanel').waitFor();
	await page.getByRole('tab', { name: tab }).click();
	await expect
		.poll(() => page.getByRole('tab', { name: tab }).getAttribute('aria-selected'))
		.toBe('true');
}

/**
 * Create an exact-mode federation from the active model with plain updates (the files these
 * tests send are plain update files); returns global round 0's text.
 */
export async function createFederation(page: Page, baseUrl: string, id: string): Promise<string> {
	await openFederationTab(page, baseUrl, 'Coordinator');
	await page.getByTestId('aggregation-choice').selectOption('plain');
	await page.getByLabel('Federation id').fill(id);
	await page.getByLabel(/^Start from/).selectOption('model');
	await page.getByLabel(/^Mode/).selectOption('exact');
	await page.getByRole('button', { name: 'Create federation' }).click();
	const link = page.getByTestId('download-global');
	await link.waitFor({ timeout: 120_000 });
	const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
	const path = await download.path();
	return readFileSync(path, 'utf8');
}
