import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useApp } from './app_fixture';
import { makeActive } from './seed';

/** The demo's users, songs (in order of first appearance) and distinct (user, song) pairs. */
function readDemo(): { users: string[]; songs: string[]; pairs: [string, string][] } {
	const lines = readFileSync('build/data/kkbox_train_10k.csv', 'utf8').trim().split('\n');
	const header = lines[0].split(',');
	const u = header.indexOf('msno');
	const s = header.indexOf('song_id');
	const users = new Set<string>();
	const songs = new Set<string>();
	const pairs = new Map<string, [string, string]>();
	for (const line of lines.slice(1)) {
		const f = line.split(',');
		users.add(f[u]);
		songs.add(f[s]);
		pairs.set(`${f[u]} ${f[s]}`, [f[u], f[s]]);
	}
	return { users: [...users], songs: [...songs], pairs: [...pairs.values()] };
}

const BD = ['0', '20', '30', '150', '45'];

/** Every third demo user (plus two unknown ids): city 1..4, ages from BD (0 and 150 missing). */
function membersFile(users: string[]): { text: string; covered: Set<string> } {
	const covered = new Set(users.filter((_, k) => k % 3 === 0));
	const rows = ['msno,city,bd,gender,registered_via,registration_init_time,expiration_date'];
	let n = 0;
	for (const id of covered) {
		rows.push(`${id},${(n % 4) + 1},${BD[n % BD.length]},,7,20110820,20170920`);
		n++;
	}
	rows.push('not-a-demo-user-1,1,30,male,7,20110820,20170920');
	rows.push('not-a-demo-user-2,2,30,male,7,20110820,20170920');
	return { text: rows.join('\n') + '\n', covered };
}

/** All demo songs but every fifth: genres 1..3, languages 3 and 31, artist `Artist k`. */
function songsFile(songs: string[]): { text: string; artist: Map<string, string> } {
	const artist = new Map<string, string>();
	const rows = ['song_id,song_length,genre_ids,artist_name,composer,lyricist,language'];
	songs.forEach((id, k) => {
		if (k % 5 === 0) return;
		artist.set(id, `Artist ${k}`);
		rows.push(`${id},200000,${(k % 3) + 1}|99,"Artist ${k}",,,${k % 2 ? 3 : 31}`);
	});
	return { text: rows.join('\n') + '\n', artist };
}

const int = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

describe('KKBox metadata joins (built static site, headless Chromium)', () => {
	const app = useApp();
	const errors = app.errors;
	let page: Page;

	beforeAll(() => {
		page = app.page;
	});

	it('joins members and songs on the Data page and shows artists on Recommend', async () => {
		const demo = readDemo();
		const members = membersFile(demo.users);
		const songs = songsFile(demo.songs);
		writeFileSync('test-results/members_e2e.csv', members.text);
		writeFileSync('test-results/songs_e2e.csv', songs.text);

		await page.goto(app.url);
		await page.locator('[data-testid=metadata-section]').waitFor({ timeout: 120_000 });

		await page
			.locator('[data-testid=metadata-input]')
			.setInputFiles('test-results/members_e2e.csv');
		const membersCoverage = page.locator('[data-testid=members-coverage]');
		await membersCoverage.waitFor({ timeout: 60_000 });
		const userPairs = demo.pairs.filter(([u]) => members.covered.has(u)).length;
		const text = (await membersCoverage.textContent())!.replace(/\s+/g, ' ').trim();
		expect(text).toBe(
			`${int(members.covered.size)} of ${int(demo.users.length)} users have metadata ` +
				`(${pct(members.covered.size / demo.users.length)}), covering ${int(userPairs)} of ` +
				`${int(demo.pairs.length)} interactions (${pct(userPairs / demo.pairs.length)}).`
		);
		// Two bars (target 0 and 1) per group: 4 cities; ages 18–24, 25–34, 45–54 and unknown.
		await expect(page.locator('[data-testid=chart-city] rect.bar').count()).resolves.toBe(8);
		await expect(page.locator('[data-testid=chart-age] rect.bar').count()).resolves.toBe(8);

		await page.locator('[data-testid=metadata-input]').setInputFiles('test-results/songs_e2e.csv');
		const songsCoverage = page.locator('[data-testid=songs-coverage]');
		await songsCoverage.waitFor({ timeout: 60_000 });
		const songPairs = demo.pairs.filter(([, s]) => songs.artist.has(s)).length;
		expect((await songsCoverage.textContent())!.replace(/\s+/g, ' ').trim()).toBe(
			`${int(songs.artist.size)} of ${int(demo.songs.length)} songs have metadata ` +
				`(${pct(songs.artist.size / demo.songs.length)}), covering ${int(songPairs)} of ` +
				`${int(demo.pairs.length)} interactions (${pct(songPairs / demo.pairs.length)}).`
		);
		await expect(page.locator('[data-testid=chart-genre] rect.bar').count()).resolves.toBe(6);
		await expect(page.locator('[data-testid=chart-language] rect.bar').count()).resolves.toBe(4);
		// The members charts are still there.
		await expect(page.locator('[data-testid=chart-city] rect.bar').count()).resolves.toBe(8);
		await page.locator('[data-testid=metadata-section]').screenshot({
			path: 'test-results/metadata.png'
		});

		// Train a small model and make it active, navigating inside the app (the song metadata
		// lives for the page session).
		await page.getByRole('link', { name: 'Models' }).click();
		await page.locator('form button[type=submit]', { hasText: 'Train' }).waitFor();
		await page.getByLabel('Name').fill('metadata model');
		await page.getByLabel('Factors').fill('10');
		await page.getByLabel('Iterations').fill('2');
		await page.getByLabel(/Hold out/).uncheck();
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: 'metadata model' });
		await row.waitFor({ timeout: 150_000 });
		await makeActive(row);
		await expect
			.poll(() => page.locator('[data-testid=status-model]').textContent())
			.toBe('metadata model');

		await page.getByRole('link', { name: 'Recommend' }).click();
		await page.getByLabel('or row').waitFor({ timeout: 60_000 });
		await page.getByLabel('or row').fill('0');
		await page.getByLabel('or row').press('Tab');
		await page.getByLabel('N', { exact: true }).fill('20');
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		await page.locator('[data-testid=user-recs]').waitFor();
		const shown = await page.locator('[data-testid=user-recs] tbody tr').evaluateAll((rows) =>
			rows.map((r) => ({
				id: (r as HTMLTableRowElement).cells[1].querySelector('code')!.textContent!.trim(),
				artist: (r as HTMLTableRowElement).cells[1]
					.querySelector('[data-testid=song-artist]')
					?.textContent?.trim()
			}))
		);
		expect(shown).toHaveLength(20);
		// Each song shows its own artist when the songs file has it, nothing otherwise.
		for (const s of shown) expect(s.artist).toBe(songs.artist.get(s.id));
		expect(shown.filter((s) => s.artist !== undefined).length).toBeGreaterThan(0);
		await page.screenshot({ path: 'test-results/metadata_recommend.png', fullPage: true });
		expect(errors).toEqual([]);
	});
});
