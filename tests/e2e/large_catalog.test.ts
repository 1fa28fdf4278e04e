import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/lib/core/random';
import { loadDemo, useApp } from './app_fixture';
import { modelRow, trainModel, waitForDataset, makeActive } from './seed';

const USERS = 25_000;
const SONGS = 100_000;
const PER_USER = 12;

/**
 * A `user,item,weight` file whose catalogue has every one of SONGS songs: row k plays song k
 * for the first SONGS rows, the rest are drawn with a popularity skew (u^3 of a uniform u).
 */
function bigCatalog(): { text: string; rows: number } {
	const rng = new Rng(5);
	const lines = ['user,item,weight'];
	let k = 0;
	for (let u = 0; u < USERS; u++) {
		const seen = new Set<number>();
		while (seen.size < PER_USER) {
			const s = k < SONGS ? k : Math.floor(rng.next() ** 3 * SONGS);
			k++;
			if (seen.has(s)) continue;
			seen.add(s);
			lines.push(`u${u},s${s},${1 + Math.floor(rng.next() * 5)}`);
		}
	}
	return { text: lines.join('\n') + '\n', rows: lines.length - 1 };
}

describe('a 100,000-song catalogue in the browser (built site, headless Chromium)', () => {
	const app = useApp();

	it('is loaded, trained, stored, reloaded and recommended from', async () => {
		const page = app.page;
		await loadDemo(page, app.url);
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
		const file = bigCatalog();
		expect(file.rows).toBe(USERS * PER_USER);
		await page.getByTestId('file-input').setInputFiles({
			name: 'big_catalog.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from(file.text)
		});
		await waitForDataset(page, 'big_catalog.csv');
		await page
			.getByTestId('save-status')
			.filter({ hasText: 'Saved' })
			.waitFor({ timeout: 120_000 });
		expect(await page.getByTestId('stat-items').textContent()).toBe('100,000');
		expect(await page.getByTestId('stat-users').textContent()).toBe('25,000');

		await trainModel(page, app.url, 'big catalogue', 3);
		await makeActive(modelRow(page, 'big catalogue'));
		await page.getByTestId('status-model').filter({ hasText: 'big catalogue' }).waitFor();

		// A fresh page load: the model and the dataset come back from IndexedDB.
		await page.goto(new URL('recommend/', app.url).href);
		await page.reload();
		await page.locator('input[name=row]').waitFor({ timeout: 120_000 });
		await page.getByText('(25,000 users, 100,000 songs, 10 factors)').waitFor();
		await page.locator('input[name=row]').fill('7');
		await page.locator('input[name=row]').dispatchEvent('change');
		expect(await page.locator('input[name=user]').inputValue()).toBe('u7');
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		const rows = page.locator('[data-testid=user-recs] tbody tr');
		await rows.first().waitFor({ timeout: 60_000 });
		expect(await rows.count()).toBe(10);
		// Every recommended song is a song of the catalogue the listener has not played.
		const played = new Set(
			file.text
				.split('\n')
				.filter((l) => l.startsWith('u7,'))
				.map((l) => l.split(',')[1])
		);
		const ids = await rows.locator('td:nth-child(2) code').allTextContents();
		expect(ids.length).toBe(10);
		for (const id of ids) {
			expect(id).toMatch(/^s\d+$/);
			expect(played.has(id)).toBe(false);
		}
		// Memory of the page with the model session open (a note, not a pass mark).
		const memory = await page.evaluate(async () => {
			const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
			const measure = (
				performance as unknown as {
					measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
				}
			).measureUserAgentSpecificMemory;
			return {
				usedJSHeapBytes: heap?.usedJSHeapSize,
				userAgentSpecificBytes: measure ? (await measure.call(performance)).bytes : undefined,
				crossOriginIsolated
			};
		});
		writeFileSync(
			'test-results/large_catalog_memory.json',
			JSON.stringify({ users: USERS, songs: SONGS, rows: file.rows, ...memory }, null, 2)
		);
		await page.screenshot({ path: 'test-results/large_catalog.png' });
		expect(app.errors).toEqual([]);
	});
});
