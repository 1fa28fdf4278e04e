import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemo, useApp } from './app_fixture';
import { makeActive } from './seed';

/** song_id values of each msno in the demo file, read independently of the app. */
function demoHistories(): Map<string, Set<string>> {
	const text = readFileSync('build/data/kkbox_train_10k.csv', 'utf8');
	const out = new Map<string, Set<string>>();
	for (const line of text.trim().split('\n').slice(1)) {
		const [, msno, song] = line.split(',');
		if (!out.has(msno)) out.set(msno, new Set());
		out.get(msno)!.add(song);
	}
	return out;
}

async function tableColumn(page: Page, testid: string, column: number): Promise<string[]> {
	return page
		.locator(`[data-testid=${testid}] tbody tr`)
		.evaluateAll(
			(rows, c) => rows.map((r) => (r as HTMLTableRowElement).cells[c].textContent!.trim()),
			column
		);
}

describe('Recommend page (built static site, headless Chromium)', () => {
	const app = useApp();
	const errors = app.errors;
	let page: Page;

	beforeAll(async () => {
		page = app.page;
		// The Data page stores the demo; train a small model on it and make it active.
		await loadDemo(page, app.url);
		await page.goto(new URL('models/', app.url).href);
		await page.getByLabel('Name').fill('rec model');
		await page.getByLabel('Factors').fill('16');
		await page.getByLabel('Iterations').fill('3');
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		await page.locator('[data-testid=train-metrics]').waitFor({ timeout: 150_000 });
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: 'rec model' });
		await makeActive(row);
		await page.waitForFunction(
			() => document.querySelector('[data-testid=status-model]')?.textContent === 'rec model'
		);
		await page.goto(new URL('recommend/', app.url).href);
		await page.getByLabel('User (msno)').waitFor({ timeout: 60_000 });
	});

	it('recommends unheard songs with reasons, folds in a new user, finds similar songs', async () => {
		const histories = demoHistories();
		// Row 0 of the dataset's users: the first msno of the file.
		await page.getByLabel('or row').fill('0');
		await page.getByLabel('or row').press('Tab');
		const user = await page.getByLabel('User (msno)').inputValue();
		expect(user).toBe([...histories.keys()][0]);
		await page.getByLabel('N', { exact: true }).fill('10');
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		await page.locator('[data-testid=user-recs]').waitFor();
		const songs = await tableColumn(page, 'user-recs', 1);
		expect(songs).toHaveLength(10);
		expect(new Set(songs).size).toBe(10);
		const listened = histories.get(user)!;
		expect(listened.size).toBeGreaterThan(0);
		for (const s of songs) expect(listened.has(s)).toBe(false);
		// Every "because you played" entry is one of the user's own songs.
		const reasons = await tableColumn(page, 'user-recs', 3);
		expect(reasons.every((r) => r.length > 0)).toBe(true);
		const reasonIds = await page
			.locator('[data-testid=user-recs] tbody td.because code')
			.allTextContents();
		expect(reasonIds.length).toBeGreaterThanOrEqual(10);
		for (const id of reasonIds) expect(listened.has(id)).toBe(true);
		await page.screenshot({ path: 'test-results/recommend.png', fullPage: true });

		// A new listener from 3 songs, picked by searching their ids.
		const picks = [...listened].slice(0, 3);
		for (const id of picks) {
			await page.getByLabel('Search songs').fill(id.slice(0, 12));
			await page
				.getByRole('list', { name: 'Matching songs' })
				.getByRole('button', { name: `Add ${id}` })
				.click();
		}
		await expect(
			page.locator('[data-testid=picked-songs] code').allTextContents()
		).resolves.toEqual(picks);
		await page.getByRole('button', { name: 'Recommend for these songs' }).click();
		await page.locator('[data-testid=new-recs]').waitFor();
		const newSongs = await tableColumn(page, 'new-recs', 1);
		expect(newSongs).toHaveLength(10);
		for (const p of picks) expect(newSongs).not.toContain(p);
		const newReasons = await page
			.locator('[data-testid=new-recs] tbody td.because code')
			.allTextContents();
		for (const id of newReasons) expect(picks).toContain(id);

		// Similar songs for one song.
		await page.getByLabel('Song (id or name)').fill(picks[0]);
		await page.getByRole('button', { name: 'Find similar' }).click();
		await page.locator('[data-testid=similar-songs]').waitFor();
		const similar = await tableColumn(page, 'similar-songs', 1);
		expect(similar).toHaveLength(10);
		expect(similar).not.toContain(picks[0]);

		// The song map: one dot per song (the demo has fewer songs than the map's cap).
		const dots = await page.locator('[data-testid=factor-map] circle').count();
		expect(dots).toBeGreaterThan(1000);
		await page.screenshot({ path: 'test-results/recommend_full.png', fullPage: true });
		expect(errors).toEqual([]);
	});

	it('"Random listener" fills in a listener of the dataset, and their top 10 leaves out what they played', async () => {
		const histories = demoHistories();
		const picked = new Set<string>();
		for (let k = 0; k < 3; k++) {
			await page.getByRole('button', { name: 'Random listener' }).click();
			const user = await page.getByLabel('User (msno)').inputValue();
			expect(histories.has(user)).toBe(true);
			// The row field follows: it is that listener's position in the dataset.
			const row = Number(await page.getByLabel('or row').inputValue());
			expect([...histories.keys()][row]).toBe(user);
			picked.add(user);
		}
		// Three draws among 1,622 listeners are not all the same one.
		expect(picked.size).toBeGreaterThan(1);
		const user = [...picked].at(-1)!;
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		await page.locator('p', { hasText: `Top 10 for ${user},` }).waitFor();
		const songs = await tableColumn(page, 'user-recs', 1);
		expect(songs).toHaveLength(10);
		for (const song of songs) expect(histories.get(user)!.has(song)).toBe(false);
		expect(errors).toEqual([]);
	});
});
