import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoDataFile } from '../helpers/data_files';
import { restoreStoreFixture, storeFixtures } from '../helpers/store_fixture';
import { loadDemo, useApp } from './app_fixture';
import { modelRow, openModels, trainModel, waitForDataset, makeActive } from './seed';

const LASTFM = 'lastfm_hetrec2011_user_artists.dat';
const KKBOX = 'kkbox_train_10k.csv';

/** Distinct artists per Last.fm listener, read from the shipped file without the app's parser. */
function lastfmArtistsPerUser(): Map<string, Set<string>> {
	const out = new Map<string, Set<string>>();
	const lines = readFileSync(demoDataFile(LASTFM), 'utf8').split(/\r?\n/).slice(1);
	for (const line of lines) {
		if (!line) continue;
		const [user, artist] = line.split('\t');
		if (!out.has(user)) out.set(user, new Set());
		out.get(user)!.add(artist);
	}
	return out;
}

/** The first KKBox listener of the demo and the number of distinct songs they played. */
function firstKkboxListener(): { id: string; songs: number } {
	const rows = readFileSync(demoDataFile(KKBOX), 'utf8').split(/\r?\n/).slice(1);
	const id = rows[0].split(',')[1];
	const songs = new Set(rows.filter((r) => r.split(',')[1] === id).map((r) => r.split(',')[2]));
	return { id, songs: songs.size };
}

async function loadDemoButton(page: Page, baseUrl: string, label: string, name: string) {
	await page.goto(baseUrl);
	await page.getByRole('button', { name: label }).click();
	await waitForDataset(page, name);
	await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
}

async function recommendFor(page: Page, baseUrl: string, user: string): Promise<void> {
	await page.goto(new URL('recommend/', baseUrl).href);
	await page
		.locator('input[name=user]')
		.waitFor({ timeout: 60_000 })
		.catch(async (e: unknown) => {
			await page.screenshot({ path: 'test-results/journey_failed.png', fullPage: true });
			throw new Error(`${String(e)}; page says: ${await page.locator('main').textContent()}`);
		});
	await page.locator('input[name=user]').fill(user);
	await page.getByRole('button', { name: 'Recommend', exact: true }).click();
}

describe('journeys (built static site, headless Chromium)', () => {
	const app = useApp();
	let page: Page;

	beforeAll(async () => {
		page = app.page;
		await loadDemo(page, app.url);
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
	});

	it('Last.fm demo: loaded, trained and recommended in the browser', async () => {
		const perUser = lastfmArtistsPerUser();
		await loadDemoButton(page, app.url, 'Load the Last.fm demo', LASTFM);
		expect(await page.getByTestId('stat-users').textContent()).toBe('1,892');
		expect(await page.getByTestId('stat-items').textContent()).toBe('17,632');
		expect(await page.getByTestId('stat-nnz').textContent()).toBe('92,834');

		await trainModel(page, app.url, 'lastfm model', 4);
		await makeActive(modelRow(page, 'lastfm model'));
		await page.getByTestId('status-model').filter({ hasText: 'lastfm model' }).waitFor();

		const user = '2';
		await recommendFor(page, app.url, user);
		const rows = page.locator('[data-testid=user-recs] tbody tr');
		await rows.first().waitFor({ timeout: 60_000 });
		expect(await rows.count()).toBe(10);
		// The summary counts this listener's artists, as the file has them.
		const played = perUser.get(user)!;
		await page.getByText(`who played ${played.size} songs the model knows`).waitFor();
		// Listened artists are excluded and the scores are real (not the zeros of an empty fold-in).
		const ids = await rows.locator('td:nth-child(2) code').allTextContents();
		expect(ids.length).toBe(10);
		for (const id of ids) expect(played.has(id.trim())).toBe(false);
		expect(await page.getByTestId('no-overlap').count()).toBe(0);
		await page.screenshot({ path: 'test-results/journey_lastfm_recs.png', fullPage: true });
		expect(app.errors).toEqual([]);
	});

	it('other layouts load: a headerless taste-profile file, gzip, semicolons, UTF-16', async () => {
		// u<k> played s<j> (k + j) % 4 + 1 times; 40 listeners, 30 songs, 5 songs each.
		const rows: string[][] = [];
		for (let k = 0; k < 40; k++) {
			for (let j = 0; j < 5; j++)
				rows.push([`u${k}`, `s${(k * 7 + j * 3) % 30}`, String(((k + j) % 4) + 1)]);
		}
		const songs = new Set(rows.map((r) => r[1])).size;
		const tsv = rows.map((r) => r.join('\t')).join('\n') + '\n';
		const semicolons = 'user_id;song_id;play_count\n' + rows.map((r) => r.join(';')).join('\n');
		const utf16 = Buffer.concat([
			Buffer.from([0xff, 0xfe]),
			Buffer.from('userID\tartistID\tplays\n' + tsv, 'utf16le')
		]);
		await page.goto(app.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 60_000 });
		const files = [
			{ name: 'train_triplets.txt', buffer: Buffer.from(tsv), reading: 'no header' },
			{ name: 'plays.csv.gz', buffer: gzipSync(Buffer.from(tsv)), reading: 'no header' },
			{ name: 'export.csv', buffer: Buffer.from(semicolons), reading: 'separated by semicolons' },
			{ name: 'unicode.txt', buffer: utf16, reading: 'weight plays' },
			{
				name: 'audioscrobbler.txt',
				buffer: Buffer.from(rows.map((r) => r.join(' ')).join('\n') + '\n'),
				reading: 'separated by spaces'
			},
			{
				name: 'artists.csv',
				buffer: Buffer.from(
					'user_id,artist_id,play_count\n' + rows.map((r) => r.join(',')).join('\n') + '\n'
				),
				reading: 'weight play_count'
			},
			{
				// KKBox without its context columns: a 0/1 target (here: a play count above 2).
				name: 'kkbox_short.csv',
				buffer: Buffer.from(
					'msno,song_id,target\n' +
						rows.map((r) => `${r[0]},${r[1]},${Number(r[2]) > 2 ? 1 : 0}`).join('\n') +
						'\n'
				),
				reading: 'target target'
			},
			{
				// A KKBox train.csv saved by a European spreadsheet: semicolons.
				name: 'kkbox_semicolons.csv',
				buffer: Buffer.from(
					'msno;song_id;source_system_tab;source_screen_name;source_type;target\n' +
						rows
							.map((r) => `${r[0]};${r[1]};my library;Local playlist more;local-library;1`)
							.join('\n') +
						'\n'
				),
				reading: 'separated by semicolons'
			}
		];
		for (const f of files) {
			await page.getByTestId('file-input').setInputFiles({ ...f, mimeType: 'text/plain' });
			await waitForDataset(page, f.name);
			expect(await page.getByTestId('stat-users').textContent(), f.name).toBe('40');
			expect(await page.getByTestId('stat-items').textContent(), f.name).toBe(String(songs));
			expect(await page.getByTestId('stat-nnz').textContent(), f.name).toBe('200');
			expect(
				(await page.getByTestId('reading').textContent())?.replace(/\s+/g, ' '),
				f.name
			).toContain(f.reading);
		}
		await page.screenshot({ path: 'test-results/journey_utf16.png', fullPage: true });
		// The last one trains like any other.
		await trainModel(page, app.url, 'utf16 model', 2);
		expect(app.errors).toEqual([]);
	});

	it('a zip archive: one file is read as it is; of several, the person picks one', async () => {
		const rows: string[] = ['userID\tartistID\tweight'];
		for (let k = 0; k < 25; k++)
			for (let j = 0; j < 4; j++) rows.push(`${k}\ta${(k + j * 5) % 17}\t${j + 1}`);
		const log = strToU8(rows.join('\n') + '\n');
		const artists = strToU8(
			'id\tname\n' + Array.from({ length: 17 }, (_, i) => `a${i}\tN${i}`).join('\n')
		);
		await page.goto(app.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 60_000 });
		await page.getByTestId('file-input').setInputFiles({
			name: 'single.zip',
			mimeType: 'application/zip',
			buffer: Buffer.from(zipSync({ 'plays/log.tsv': log }))
		});
		await waitForDataset(page, 'log.tsv');
		expect(await page.getByTestId('stat-users').textContent()).toBe('25');
		expect(await page.getByTestId('stat-nnz').textContent()).toBe('100');
		// Several files: the largest is offered first, the person picks the log.
		await page.getByTestId('file-input').setInputFiles({
			name: 'hetrec.zip',
			mimeType: 'application/zip',
			buffer: Buffer.from(
				zipSync({
					'artists.dat': artists,
					'user_artists.dat': log,
					'__MACOSX/._x': new Uint8Array(4)
				})
			)
		});
		const picker = page.getByTestId('zip-picker');
		await picker.waitFor();
		expect(await picker.locator('input[type=radio]').count()).toBe(2);
		await picker.getByLabel(/user_artists.dat/).check();
		await picker.getByRole('button', { name: 'Read this file' }).click();
		await waitForDataset(page, 'user_artists.dat');
		expect(await page.getByTestId('stat-items').textContent()).toBe('17');
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
		// What is stored is the file inside, so training reads it like any file.
		await trainModel(page, app.url, 'zip model', 2);
		await page.goto(app.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 60_000 });
		// A damaged archive is named for what it is; the dataset shown stays.
		await page.getByTestId('file-input').setInputFiles({
			name: 'broken.zip',
			mimeType: 'application/zip',
			buffer: Buffer.from([0x50, 0x4b, 3, 4, 1, 2, 3])
		});
		await page
			.getByText(/Could not read broken.zip: The archive is a zip file that could not be read/)
			.waitFor();
		expect(await page.getByTestId('status-dataset').textContent()).toContain('user_artists.dat');
		expect(app.errors).toEqual([]);
	});

	it('unknown columns open the mapping step with a guess; the person fixes it, loads and trains', async () => {
		// user, song, plays, unix time: no header; the guess takes the last number as the weight.
		const lines: string[] = [];
		for (let u = 0; u < 30; u++)
			for (let j = 0; j < 5; j++)
				lines.push(
					`user${u},song${(u * 3 + j * 7) % 40},${1 + ((u + j) % 6)},${1700000000 + u * 100 + j}`
				);
		const songs = new Set(lines.map((l) => l.split(',')[1])).size;
		await page.goto(app.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 60_000 });
		const before = await page.getByTestId('status-dataset').textContent();
		await page.getByTestId('file-input').setInputFiles({
			name: 'plays_with_time.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from(lines.join('\n') + '\n')
		});
		const step = page.getByTestId('column-mapping');
		await step.waitFor({ timeout: 30_000 });
		// Nothing was loaded or stored meanwhile.
		expect(await page.getByTestId('status-dataset').textContent()).toBe(before);
		expect(await step.locator('select[name=delimiter]').inputValue()).toBe(',');
		expect(await step.locator('input[name=header]').isChecked()).toBe(false);
		expect(await step.locator('select[name=user]').inputValue()).toBe('0');
		expect(await step.locator('select[name=item]').inputValue()).toBe('1');
		expect(await step.locator('select[name=weight]').inputValue()).toBe('3');
		const preview = step.getByTestId('mapping-preview');
		expect(await preview.locator('tbody tr').count()).toBe(9);
		expect(await preview.locator('tbody tr').first().locator('td').allTextContents()).toEqual(
			lines[0].split(',')
		);
		await page.screenshot({ path: 'test-results/journey_mapping.png', fullPage: true });
		// The play count is column 3.
		await step.locator('select[name=weight]').selectOption('2');
		expect(await preview.locator('th.role').allTextContents()).toEqual([
			'column 1user',
			'column 2item',
			'column 3weight'
		]);
		await step.getByRole('button', { name: 'Load with these columns' }).click();
		await waitForDataset(page, 'plays_with_time.csv');
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
		expect(await page.getByTestId('stat-users').textContent()).toBe('30');
		expect(await page.getByTestId('stat-items').textContent()).toBe(String(songs));
		expect(await page.getByTestId('reading').textContent()).toMatch(/weight\s+column 3/);
		expect(await step.count()).toBe(0);
		await trainModel(page, app.url, 'mapped model', 2);
		// A file that loaded by itself can have its columns chosen again: item and weight swapped
		// for the same file give another reading.
		await page.goto(app.url);
		await page.getByTestId('change-columns').click();
		await step.waitFor();
		expect(await step.locator('select[name=weight]').inputValue()).toBe('2');
		await step.getByRole('button', { name: 'Cancel' }).click();
		expect(await step.count()).toBe(0);
		expect(app.errors).toEqual([]);
	});

	it('a model trained on other data, imported: the page says it knows none of the songs', async () => {
		// Export the Last.fm model, remove it, then import it while the KKBox demo is the dataset.
		await openModels(page, app.url);
		const [download] = await Promise.all([
			page.waitForEvent('download'),
			modelRow(page, 'lastfm model').getByRole('button', { name: 'Export' }).click()
		]);
		const file = 'test-results/journey-lastfm.musicrec-model.json';
		await download.saveAs(file);
		page.once('dialog', (d) => void d.accept());
		await modelRow(page, 'lastfm model').getByRole('button', { name: 'Delete' }).click();
		await modelRow(page, 'lastfm model').waitFor({ state: 'detached' });

		await loadDemoButton(page, app.url, 'Load the KKBox demo', KKBOX);
		await openModels(page, app.url);
		await page.locator('[data-testid=import-input]').setInputFiles(file);
		await modelRow(page, 'lastfm model').waitFor();
		await makeActive(modelRow(page, 'lastfm model'));
		await page.getByTestId('status-model').filter({ hasText: 'lastfm model' }).waitFor();

		const listener = firstKkboxListener();
		await recommendFor(page, app.url, listener.id);
		const warning = page.getByTestId('no-overlap');
		await warning.waitFor();
		expect(await warning.textContent()).toContain('0 of 5,772 matched');
		const alert = page.locator('[role=alert]', { hasText: 'this listener' });
		await alert.waitFor();
		expect((await alert.textContent())!.trim()).toBe(
			`This model knows none of this listener's songs (0 of ${listener.songs} matched), so it cannot recommend for them`
		);
		expect(await page.locator('[data-testid=user-recs]').count()).toBe(0);
		await page.screenshot({ path: 'test-results/journey_no_overlap.png', fullPage: true });
		expect(app.errors).toEqual([]);
	});
});

describe('an upgrade over a database written by an older version (headless Chromium)', () => {
	const app = useApp();

	it('lists, activates and recommends from the models and dataset stored before', async () => {
		const page = app.page;
		for (const fixture of storeFixtures()) {
			// A fresh origin state: write the older version's records before the app opens its store.
			await page.goto(new URL('favicon.svg', app.url).href);
			await page.evaluate(async () => {
				await new Promise<void>((resolve, reject) => {
					const r = indexedDB.deleteDatabase('musicrec');
					r.onsuccess = () => resolve();
					r.onerror = () => reject(r.error);
				});
			});
			// (typed loosely: Playwright's argument type does not resolve IDBValidKey's recursion)
			const restore = restoreStoreFixture as (f: unknown) => Promise<void>;
			await page.evaluate(restore, fixture as unknown);
			const meta = fixture.stores.model_meta.records[0].value as { name: string };
			const dataset = fixture.stores.datasets.records[0].value as { name: string };

			await page.goto(app.url);
			await waitForDataset(page, dataset.name);
			await page.getByTestId('status-model').filter({ hasText: meta.name }).waitFor();
			await openModels(page, app.url);
			await modelRow(page, meta.name).waitFor();
			expect(await modelRow(page, meta.name).getByTestId('metric-ndcg').textContent()).toMatch(
				/^\d\.\d{3}/
			);

			const userIds = (fixture.stores.model_data.records[0].value as { userIds: string[] }).userIds;
			await recommendFor(page, app.url, userIds[0]);
			const rows = page.locator('[data-testid=user-recs] tbody tr');
			await rows.first().waitFor({ timeout: 60_000 });
			expect(await rows.count()).toBeGreaterThan(0);
			expect(await page.getByTestId('no-overlap').count()).toBe(0);
		}
		await page.screenshot({ path: 'test-results/journey_upgrade.png', fullPage: true });
		expect(app.errors).toEqual([]);
	});
});
