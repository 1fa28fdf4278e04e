import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { readGlobalFile } from '../../src/lib/core/federation/global_file';
import { useApp } from './app_fixture';
import { arm, auditStore, fired, installFaults, type Fault } from './fault_injection';
import { idbDigest, type IdbDigest } from './idb_dump';
import {
	createFederation,
	modelRow,
	openFederationTab,
	openModels,
	seedDemoAndModel,
	trainModel,
	waitForDataset
} from './seed';

/**
 * Faults in the browser: reloads in the middle of training, of a model import and of a
 * federation aggregation (also while their transaction is writing), a full disk, and workers
 * that fail. Afterwards the store holds only complete entries and the UI works and says what
 * happened.
 */

const OUT = 'test-results/faults';
const MODEL_STORES = ['musicrec/model_meta', 'musicrec/model_data', 'musicrec/datasets'];

function pick(d: IdbDigest, keys: string[]): IdbDigest {
	return Object.fromEntries(keys.map((k) => [k, d[k]]));
}

/** Wait until an armed fault has fired and, for reloads, the page has come back. */
async function waitFired(page: Page, kind: Fault['kind']): Promise<void> {
	await expect.poll(async () => (await fired(page))?.kind, { timeout: 120_000 }).toBe(kind);
	await page.waitForLoadState('load');
}

async function download(page: Page, click: () => Promise<void>): Promise<string> {
	const [d] = await Promise.all([page.waitForEvent('download'), click()]);
	return readFileSync(await d.path(), 'utf8');
}

async function modelNames(page: Page): Promise<string[]> {
	const audit = await auditStore(page);
	expect(audit.problems).toEqual([]);
	return audit.models.map((m) => m.name).sort();
}

async function trainButton(page: Page) {
	return page.getByRole('button', { name: 'Train', exact: true });
}

describe('faults: reloads, a full disk and failing workers (built site, headless Chromium)', () => {
	const app = useApp();
	let exported = '';

	it('seeds the demo dataset and a trained model', async () => {
		mkdirSync(OUT, { recursive: true });
		const { page, url } = app;
		await installFaults(page);
		await seedDemoAndModel(page, url, 'seed model');
		exported = await download(page, () =>
			modelRow(page, 'seed model').getByRole('button', { name: 'Export' }).click()
		);
		expect(JSON.parse(exported).kind).toBe('model');
		expect(await modelNames(page)).toEqual(['seed model']);
	});

	it('control: the audit sees a model whose factors are missing', async () => {
		const { page } = app;
		const write = (op: 'put' | 'delete') =>
			page.evaluate(async (o) => {
				const db = await new Promise<IDBDatabase>((ok) => {
					indexedDB.open('musicrec').onsuccess = (e) => ok((e.target as IDBOpenDBRequest).result);
				});
				const tx = db.transaction('model_meta', 'readwrite');
				if (o === 'put') tx.objectStore('model_meta').put({ id: 'orphan', name: 'orphan' });
				else tx.objectStore('model_meta').delete('orphan');
				await new Promise((ok) => (tx.oncomplete = ok));
				db.close();
			}, op);
		await write('put');
		expect((await auditStore(page)).problems).toEqual(['model orphan has metadata but no factors']);
		await write('delete');
		expect((await auditStore(page)).problems).toEqual([]);
	});

	it('a reload in the middle of training keeps only complete models, and training works after it', async () => {
		const { page, url } = app;
		const before = await idbDigest(page);
		await openModels(page, url);
		await page.getByLabel('Name').fill('interrupted');
		await page.getByLabel('Factors').fill('64');
		await page.getByLabel('Iterations').fill('50');
		// Training can be quicker than a test's round trip: the worker's events after its first
		// sweep are held back, so the page is still training (no 'done') when it reloads.
		await arm(page, { kind: 'worker-deaf', worker: 'train.worker' });
		await (await trainButton(page)).click();
		await page.getByText(/Sweep \d+ of 50/).waitFor({ timeout: 120_000 });
		await page.reload();
		await (await trainButton(page)).waitFor();
		expect(await page.locator('[data-testid=model-list] tbody tr').count()).toBe(1);
		expect(await modelNames(page)).toEqual(['seed model']);
		expect(pick(await idbDigest(page), MODEL_STORES)).toEqual(pick(before, MODEL_STORES));
		await trainModel(page, url, 'after reload', 2);
		expect(await modelNames(page)).toEqual(['after reload', 'seed model']);
	});

	it('a reload while the trained model is being written stores all of it or nothing', async () => {
		const { page, url } = app;
		const before = await idbDigest(page);
		await openModels(page, url);
		// The metadata is put first; the page goes away before the factors' put commits.
		await arm(page, { kind: 'reload-in-write', store: 'model_data' });
		await page.getByLabel('Name').fill('cut while saving');
		await page.getByLabel('Factors').fill('10');
		await page.getByLabel('Iterations').fill('2');
		await (await trainButton(page)).click();
		await waitFired(page, 'reload-in-write');
		await (await trainButton(page)).waitFor();
		expect(await modelNames(page)).toEqual(['after reload', 'seed model']);
		expect(await page.locator('[data-testid=model-list] tbody tr').count()).toBe(2);
		expect(pick(await idbDigest(page), MODEL_STORES)).toEqual(pick(before, MODEL_STORES));
	});

	it('a reload in the middle of a model import leaves the store whole; importing works after it', async () => {
		const { page, url } = app;
		const before = await idbDigest(page);
		const file = {
			name: 'seed.musicrec.json',
			mimeType: 'application/json',
			buffer: Buffer.from(exported)
		};
		await openModels(page, url);
		await arm(page, { kind: 'reload-in-write', store: 'model_data' });
		await page.getByTestId('import-input').setInputFiles(file);
		await waitFired(page, 'reload-in-write');
		await (await trainButton(page)).waitFor();
		expect(await modelNames(page)).toEqual(['after reload', 'seed model']);
		expect(pick(await idbDigest(page), MODEL_STORES)).toEqual(pick(before, MODEL_STORES));
		// A reload at any moment of the import (reading, decoding, writing): whole or nothing.
		await page.getByTestId('import-input').setInputFiles(file);
		await page.reload();
		await (await trainButton(page)).waitFor();
		const names = await modelNames(page);
		expect([2, 3]).toContain(names.length);
		if (names.length === 3) {
			await modelRow(page, 'seed model').last().getByRole('button', { name: 'Delete' }).waitFor();
		}
		// And an import without a fault works.
		const count = names.length;
		await page.getByTestId('import-input').setInputFiles(file);
		await page.getByRole('status').filter({ hasText: 'Imported “seed model”' }).waitFor();
		expect(await modelNames(page)).toHaveLength(count + 1);
		const stored = await auditStore(page);
		const seeds = stored.models.filter((m) => m.name === 'seed model');
		for (const m of seeds) expect([m.users, m.items, m.factors]).toEqual([1622, 5772, 10]);
	});

	it('a reload in the middle of a federation aggregation keeps the rounds whole', async () => {
		const { page, url } = app;
		const global0 = await createFederation(page, url, 'fault-fed');
		// This browser is also a client: its update for round 0.
		await openFederationTab(page, url, 'Client');
		await page.getByTestId('global-input').setInputFiles({
			name: 'global-r0.json',
			mimeType: 'application/json',
			buffer: Buffer.from(global0)
		});
		await page.getByRole('button', { name: 'Compute my update for round 0' }).click();
		await page.getByTestId('download-update').waitFor({ timeout: 120_000 });
		const update = await download(page, () => page.getByTestId('download-update').click());
		await openFederationTab(page, url, 'Coordinator');
		await page.getByTestId('update-input').setInputFiles({
			name: 'update.json',
			mimeType: 'application/json',
			buffer: Buffer.from(update)
		});
		const aggregate = page.getByRole('button', { name: 'Aggregate 1 accepted update' });
		await aggregate.waitFor();
		const before = await idbDigest(page);
		const fedStores = Object.keys(before).filter((k) => !k.startsWith('musicrec/'));
		expect(fedStores.length).toBeGreaterThan(0);
		const rounds = page.locator('[data-testid=rounds-table] tbody tr');
		expect(await rounds.count()).toBe(1);

		// Reload while the worker aggregates.
		await aggregate.click();
		await page.getByTestId('coordinator-busy').waitFor();
		await page.reload();
		await aggregate.waitFor();
		expect(await rounds.count()).toBe(1);
		expect(pick(await idbDigest(page), fedStores)).toEqual(pick(before, fedStores));

		// Reload while the new global is being written.
		await arm(page, { kind: 'reload-in-write', store: 'globals' });
		await aggregate.click();
		await waitFired(page, 'reload-in-write');
		await aggregate.waitFor();
		expect(await rounds.count()).toBe(1);
		expect(await page.getByTestId('current-round').textContent()).toBe('0');
		expect(pick(await idbDigest(page), fedStores)).toEqual(pick(before, fedStores));

		// Then the round completes, and its global file is whole.
		await aggregate.click();
		await expect
			.poll(() => page.getByTestId('current-round').textContent(), { timeout: 120_000 })
			.toBe('1');
		expect(await rounds.count()).toBe(2);
		const global1 = await download(page, () => page.getByTestId('download-global').click());
		const published = readGlobalFile(global1);
		expect(published.model.round).toBe(1);
		expect(published.model.federationId).toBe('fault-fed');
		expect((await auditStore(page)).problems).toEqual([]);
	});

	it('a full disk while saving a trained model or an import: a clear error and nothing lost', async () => {
		const { page, url } = app;
		await openModels(page, url);
		const before = await idbDigest(page);
		const names = await modelNames(page);

		await arm(page, { kind: 'quota-in-write', store: 'model_meta' });
		await page.getByLabel('Name').fill('no room');
		await page.getByLabel('Factors').fill('10');
		await page.getByLabel('Iterations').fill('2');
		await (await trainButton(page)).click();
		const alert = page.getByRole('alert');
		await alert.filter({ hasText: 'Not enough storage space' }).waitFor({ timeout: 120_000 });
		await page.screenshot({ path: `${OUT}/quota_training.png` });
		const text = (await alert.textContent()) ?? '';
		expect(text).toContain('could not be saved');
		expect(text).toContain('(store/quota)');
		expect(await fired(page)).toEqual({ kind: 'quota-in-write', store: 'model_meta' });
		expect(await (await trainButton(page)).isEnabled()).toBe(true);
		expect(await modelNames(page)).toEqual(names);
		expect(pick(await idbDigest(page), MODEL_STORES)).toEqual(pick(before, MODEL_STORES));

		await arm(page, { kind: 'quota-in-write', store: 'model_meta' });
		await page.getByTestId('import-input').setInputFiles({
			name: 'big.musicrec.json',
			mimeType: 'application/json',
			buffer: Buffer.from(exported)
		});
		await alert.filter({ hasText: 'Could not import big.musicrec.json' }).waitFor();
		const importText = (await alert.textContent()) ?? '';
		expect(importText).toContain('Not enough storage space');
		expect(importText).toContain('Nothing was changed.');
		expect(pick(await idbDigest(page), MODEL_STORES)).toEqual(pick(before, MODEL_STORES));

		// The Data page: the file is shown, the stored datasets are kept as they were.
		await page.goto(url);
		await waitForDataset(page, 'kkbox_train_10k.csv');
		await arm(page, { kind: 'quota-in-write', store: 'datasets' });
		await page.getByTestId('file-input').setInputFiles({
			name: 'small.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from('user,item\nu1,s1\nu2,s1\n')
		});
		const notice = page.getByTestId('parse-notice');
		await notice.filter({ hasText: 'could not be saved' }).waitFor();
		expect(await notice.textContent()).toContain('Not enough storage space');
		await page.screenshot({ path: `${OUT}/quota_dataset.png` });
		expect(pick(await idbDigest(page), [...MODEL_STORES, 'musicrec/settings'])).toEqual(
			pick(before, [...MODEL_STORES, 'musicrec/settings'])
		);
		expect((await auditStore(page)).problems).toEqual([]);
	});

	it('a training worker that cannot start, or throws mid-training: the page says so and a retry works', async () => {
		const { page, url } = app;
		await openModels(page, url);
		const names = await modelNames(page);
		const alert = page.getByRole('alert');

		await arm(page, { kind: 'worker-missing', worker: 'train.worker' });
		await page.getByLabel('Name').fill('worker gone');
		await (await trainButton(page)).click();
		await alert.filter({ hasText: 'Training failed' }).waitFor({ timeout: 60_000 });
		await page.screenshot({ path: `${OUT}/worker_missing.png` });
		expect(await alert.textContent()).toContain(
			'The training worker could not start (its script did not load)'
		);
		expect(await (await trainButton(page)).isEnabled()).toBe(true);

		await arm(page, { kind: 'worker-throws', worker: 'train.worker', after: 'progress' });
		await page.getByLabel('Name').fill('worker threw');
		await page.getByLabel('Factors').fill('10');
		await page.getByLabel('Iterations').fill('20');
		await (await trainButton(page)).click();
		await alert.filter({ hasText: 'Training failed' }).waitFor({ timeout: 120_000 });
		await page.screenshot({ path: `${OUT}/worker_threw.png` });
		expect(await alert.textContent()).toContain(
			'The training worker stopped unexpectedly: Uncaught TypeError'
		);
		expect(await (await trainButton(page)).isEnabled()).toBe(true);
		expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
		expect(await modelNames(page)).toEqual(names);

		await trainModel(page, url, 'retried', 2);
		expect(await modelNames(page)).toEqual([...names, 'retried'].sort());
	});

	it('a training worker that ignores cancel is stopped, and the page says training was cancelled', async () => {
		const { page, url } = app;
		await openModels(page, url);
		const names = await modelNames(page);
		await arm(page, { kind: 'worker-deaf', worker: 'train.worker' });
		await page.getByLabel('Name').fill('deaf');
		await page.getByLabel('Factors').fill('64');
		await page.getByLabel('Iterations').fill('50');
		await (await trainButton(page)).click();
		await page.getByText(/Sweep [1-9] of 50/).waitFor({ timeout: 120_000 });
		await page.getByRole('button', { name: 'Cancel' }).click();
		await page
			.getByRole('status')
			.filter({ hasText: 'Training cancelled' })
			.waitFor({ timeout: 30_000 });
		expect(await (await trainButton(page)).isEnabled()).toBe(true);
		// The worker was terminated: no later sweep arrives, nothing is saved.
		const shown = await page.getByTestId('train-progress').textContent();
		await page.waitForTimeout(2000);
		expect(await page.getByTestId('train-progress').textContent()).toBe(shown);
		expect(await modelNames(page)).toEqual(names);
	});

	it('a parse or federation worker that fails: the page says so and a retry works', async () => {
		const { page, url } = app;
		await page.goto(url);
		// small.csv could not be stored (full disk above): the stored demo is shown.
		await waitForDataset(page, 'kkbox_train_10k.csv');
		await arm(page, { kind: 'worker-missing', worker: 'parse.worker' });
		const csv = {
			name: 'retry.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from('user,item\na,b\n')
		};
		await page.getByTestId('file-input').setInputFiles(csv);
		const error = page.getByTestId('parse-error');
		await error.waitFor({ timeout: 30_000 });
		await page.screenshot({ path: `${OUT}/parse_worker_missing.png` });
		expect(await error.textContent()).toContain(
			'Could not read retry.csv: The file reader could not start'
		);
		await page.getByTestId('file-input').setInputFiles(csv);
		await waitForDataset(page, 'retry.csv');

		// Client: computing the update fails once, then works.
		await page.goto(url);
		await page.getByRole('button', { name: 'Load the KKBox demo' }).click();
		await waitForDataset(page, 'kkbox_train_10k.csv');
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		await openFederationTab(page, url, 'Client');
		await arm(page, { kind: 'worker-throws', worker: 'federation.worker', after: 'stage' });
		const compute = page.getByRole('button', { name: 'Compute my update for round 0' });
		await compute.click();
		const alert = page.getByRole('alert');
		await alert.waitFor({ timeout: 60_000 });
		await page.screenshot({ path: `${OUT}/federation_worker_threw.png` });
		expect(await alert.textContent()).toContain(
			'The federation worker stopped unexpectedly: Cannot read properties of null'
		);
		await expect.poll(() => compute.isEnabled()).toBe(true);
		await compute.click();
		await page.getByTestId('download-update').waitFor({ timeout: 120_000 });
		expect(await page.getByRole('alert').count()).toBe(0);
		expect(app.errors).toEqual([]);
	});
});
