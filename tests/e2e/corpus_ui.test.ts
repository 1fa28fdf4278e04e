import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useApp } from './app_fixture';
import { idbDigest, type IdbDigest } from './idb_dump';
import {
	createFederation,
	openFederationTab,
	openModels,
	seedDemoAndModel,
	waitForDataset
} from './seed';

/**
 * Every hostile file of tests/corpus through the UI path that receives it: CSV -> the Data
 * page's file input, model files -> the Models page's import, global files -> the Federation
 * client's import, update files -> the coordinator's update input. Each must give its
 * specific message, leave the page working and leave IndexedDB byte-identical.
 */

interface Case {
	name: string;
	kind: 'csv' | 'model' | 'global' | 'update' | 'personal';
	file: string;
	badLines?: 'skip';
	expect:
		| { error: string; message: string }
		| { accepted: Record<string, number | string>; userIds?: string[] };
}

const ROOT = join('tests', 'corpus');
const OUT = 'test-results/corpus_ui';
const cases = (JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as { cases: Case[] })
	.cases;
const errorCases = (kind: Case['kind']) =>
	cases.filter(
		(c): c is Case & { expect: { error: string; message: string } } =>
			c.kind === kind && 'error' in c.expect
	);

/** A name unique across the corpus, so each message is matched to its own file. */
const fileName = (c: Case): string => `${c.kind}-${c.file.split('/').pop()}`;

function payload(c: Case, mimeType: string) {
	return { name: fileName(c), mimeType, buffer: readFileSync(join(ROOT, c.file)) };
}

/** The alert text, waiting until it names `name`. */
async function alertFor(page: Page, name: string): Promise<string> {
	const alert = page.getByRole('alert').filter({ hasText: name });
	await alert.waitFor({ timeout: 30_000 });
	return (await alert.textContent())?.trim() ?? '';
}

describe('hostile-input corpus in the UI (built site, headless Chromium)', () => {
	const app = useApp();
	let before: IdbDigest;
	let seededGlobal = '';

	it('seeds a dataset, a trained model, a federation and a client global', async () => {
		mkdirSync(OUT, { recursive: true });
		const { page, url } = app;
		await seedDemoAndModel(page, url, 'corpus seed model');
		seededGlobal = await createFederation(page, url, 'corpus-fed');
		await openFederationTab(page, url, 'Client');
		await page.getByTestId('global-input').setInputFiles({
			name: 'seed-global.json',
			mimeType: 'application/json',
			buffer: Buffer.from(seededGlobal)
		});
		await expect.poll(() => page.getByTestId('client-federation').textContent()).toBe('corpus-fed');
		before = await idbDigest(page);
		// Every store that could be written to holds something, so "untouched" means something.
		for (const key of [
			'musicrec/datasets',
			'musicrec/model_meta',
			'musicrec/model_data',
			'musicrec/settings'
		]) {
			expect(before[key]?.records, key).toBeGreaterThan(0);
		}
		const fed = Object.keys(before).filter((k) => k.endsWith('/globals'));
		expect(fed.length).toBe(1);
		expect(before[fed[0]].records).toBe(1);
		// Personal exports (the fifth kind) are read in the unit corpus test; in the browser the
		// export reader touches no storage (personal_export.test.ts checks the digest).
		expect(cases.filter((c) => c.kind !== 'personal').length).toBe(125);
	});

	it('Data page: every bad CSV gives its message and changes nothing', async () => {
		const { page, url } = app;
		await page.goto(url);
		await waitForDataset(page, 'kkbox_train_10k.csv');
		await page.getByTestId('dataset-card').waitFor();
		const list = errorCases('csv');
		expect(list.length).toBe(25);
		for (const c of list) {
			await page.getByTestId('file-input').setInputFiles(payload(c, 'text/csv'));
			const text = await alertFor(page, `Could not read ${fileName(c)}`);
			expect(text, c.file).toContain(c.expect.message);
			expect(text.length, c.file).toBeLessThan(800);
			if (c.name === 'long_weight') await page.screenshot({ path: `${OUT}/data_error.png` });
			// After each file, not only at the end: a write undone by a later file would hide.
			expect(await idbDigest(page), c.file).toEqual(before);
		}
		// Still showing (and working on) the stored demo dataset.
		expect(await page.getByTestId('status-dataset').textContent()).toBe('kkbox_train_10k.csv');
		expect(await page.getByTestId('dataset-name').textContent()).toBe('kkbox_train_10k.csv');
		expect(await idbDigest(page)).toEqual(before);
	});

	it('Models page: every bad model file gives its message and code and changes nothing', async () => {
		const { page, url } = app;
		await openModels(page, url);
		const list = errorCases('model');
		expect(list.length).toBe(29);
		for (const c of list) {
			await page.getByTestId('import-input').setInputFiles(payload(c, 'application/json'));
			const text = await alertFor(page, `Could not import ${fileName(c)}`);
			expect(text, c.file).toContain(c.expect.message);
			expect(text, c.file).toContain(`(${c.expect.error})`);
			expect(text, c.file).toContain('Nothing was changed.');
			expect(text.length, c.file).toBeLessThan(800);
			if (c.name === 'dims_1e9') await page.screenshot({ path: `${OUT}/model_error.png` });
			expect(await idbDigest(page), c.file).toEqual(before);
		}
		expect(await page.locator('[data-testid=model-list] tbody tr').count()).toBe(1);
		expect(await idbDigest(page)).toEqual(before);
	});

	it('Federation client: every bad global file gives its message and changes nothing', async () => {
		const { page, url } = app;
		await openFederationTab(page, url, 'Client');
		const uiState = await idbDigest(page); // choosing the tab is remembered (state store)
		const list = errorCases('global');
		expect(list.length).toBe(28);
		for (const c of list) {
			await page.getByTestId('global-input').setInputFiles(payload(c, 'application/json'));
			const text = await alertFor(page, `Could not import ${fileName(c)}`);
			expect(text, c.file).toContain(c.expect.message);
			expect(text.length, c.file).toBeLessThan(800);
			if (c.name === 'wrong_checksum') await page.screenshot({ path: `${OUT}/global_error.png` });
			expect(await idbDigest(page), c.file).toEqual(uiState);
		}
		// The previously imported global is still the one shown.
		expect(await page.getByTestId('client-federation').textContent()).toBe('corpus-fed');
		expect(await page.getByTestId('client-round').textContent()).toBe('0');
		expect(await idbDigest(page)).toEqual(uiState);
	});

	it('Federation coordinator: every bad update is rejected with its reason; the model is untouched', async () => {
		const { page, url } = app;
		await openFederationTab(page, url, 'Coordinator');
		await page.getByTestId('download-global').waitFor();
		const uiState = await idbDigest(page);
		const list = cases.filter((c) => c.kind === 'update');
		expect(list.length).toBe(30);
		await page
			.getByTestId('update-input')
			.setInputFiles(list.map((c) => payload(c, 'application/json')));
		const rows = page.locator('[data-testid=received-table] tbody tr');
		await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(list.length);
		await page.screenshot({ path: `${OUT}/updates_rejected.png`, fullPage: true });
		for (const [k, c] of list.entries()) {
			const row = rows.nth(k);
			expect(await row.locator('td').nth(1).textContent(), c.file).toBe(fileName(c));
			expect(await row.getAttribute('data-status'), c.file).toBe('rejected');
			const reason = (await row.getByTestId('reason').textContent()) ?? '';
			if ('error' in c.expect) expect(reason, c.file).toContain(c.expect.message);
			// A well-formed update of another federation is refused for that reason.
			else
				expect(reason, c.file).toContain(
					"The update belongs to federation 'fed-corpus', not 'corpus-fed'"
				);
			expect(reason.length, c.file).toBeLessThan(800);
		}
		// Nothing can be aggregated from them.
		const after = await idbDigest(page);
		const receivedKey = Object.keys(after).find((k) => k.endsWith('/received'));
		expect(receivedKey).toBeDefined();
		for (const key of Object.keys(uiState)) {
			if (key !== receivedKey) expect(after[key], key).toEqual(uiState[key]);
		}
		// The round's list of received files (kept so the verdicts survive a reload) is the only
		// change; clearing it gives back the exact contents from before.
		expect(after[receivedKey!].records).toBe(list.length);
		await page.getByRole('button', { name: "Clear this round's files" }).click();
		await expect.poll(() => rows.count()).toBe(0);
		expect(await idbDigest(page)).toEqual(uiState);
	});

	it('every page still works afterwards: the accepted corpus files load', async () => {
		const { page, url } = app;
		// Data page: each accepted CSV is read with the counts the core gives.
		await page.goto(url);
		await waitForDataset(page, 'kkbox_train_10k.csv');
		for (const c of cases.filter((k) => k.kind === 'csv' && 'accepted' in k.expect)) {
			const want = (c.expect as { accepted: Record<string, number> }).accepted;
			const skip = page.getByLabel('Skip bad lines');
			if ((await skip.isChecked()) !== (c.badLines === 'skip')) await skip.click();
			await page.getByTestId('file-input').setInputFiles(payload(c, 'text/csv'));
			await waitForDataset(page, fileName(c));
			expect(await page.getByTestId('stat-rows').textContent(), c.file).toBe(
				want.rowsKept.toLocaleString('en-US')
			);
			expect(await page.getByTestId('stat-users').textContent(), c.file).toBe(
				want.users.toLocaleString('en-US')
			);
			expect(await page.getByTestId('stat-nnz').textContent(), c.file).toBe(
				want.nnz.toLocaleString('en-US')
			);
		}
		// Models page: the valid model file imports and is listed.
		await openModels(page, url);
		const valid = cases.find((c) => c.kind === 'model' && c.name === 'valid')!;
		await page.getByTestId('import-input').setInputFiles(payload(valid, 'application/json'));
		await page.getByRole('status').filter({ hasText: 'Imported' }).waitFor();
		expect(await page.locator('[data-testid=model-list] tbody tr').count()).toBe(2);
		// Client: the valid global file imports.
		await openFederationTab(page, url, 'Client');
		const global = cases.find((c) => c.kind === 'global' && c.name === 'valid')!;
		await page.getByTestId('global-input').setInputFiles(payload(global, 'application/json'));
		await page.getByRole('status').filter({ hasText: 'Imported global round 0' }).waitFor();
		expect(await page.getByTestId('client-federation').textContent()).not.toBe('corpus-fed');
		expect(app.errors).toEqual([]);
		// Control: these writes show up in the digest.
		const after = await idbDigest(page);
		for (const key of ['musicrec/datasets', 'musicrec/model_meta', 'musicrec/model_data']) {
			expect(after[key], key).not.toEqual(before[key]);
		}
	});

	it('control: the digest sees one flipped byte inside a stored factor buffer', async () => {
		const { page } = app;
		const flip = (): Promise<void> =>
			page.evaluate(async () => {
				const db = await new Promise<IDBDatabase>((ok, fail) => {
					const r = indexedDB.open('musicrec');
					r.onsuccess = () => ok(r.result);
					r.onerror = () => fail(r.error);
				});
				const tx = db.transaction('model_data', 'readwrite');
				const store = tx.objectStore('model_data');
				const cursor = await new Promise<IDBCursorWithValue | null>((ok) => {
					store.openCursor().onsuccess = (e) =>
						ok((e.target as IDBRequest<IDBCursorWithValue | null>).result);
				});
				if (!cursor) throw new Error('no model data');
				const value = cursor.value as { itemFactors: ArrayBuffer };
				const bytes = new Uint8Array(value.itemFactors);
				bytes[bytes.length - 1] ^= 1;
				cursor.update(value);
				await new Promise((ok) => (tx.oncomplete = ok));
				db.close();
			});
		const start = await idbDigest(page);
		await flip();
		const flipped = await idbDigest(page);
		expect(flipped['musicrec/model_data']).not.toEqual(start['musicrec/model_data']);
		expect(flipped['musicrec/model_data'].records).toBe(start['musicrec/model_data'].records);
		await flip();
		expect(await idbDigest(page)).toEqual(start);
	});
});
