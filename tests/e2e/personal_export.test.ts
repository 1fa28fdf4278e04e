import { readFileSync } from 'node:fs';
import { strToU8, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoDataFile } from '../helpers/data_files';
import { loadDemo, useApp } from './app_fixture';
import { idbDigest } from './idb_dump';
import { makeActive, modelRow, trainModel, waitForDataset } from './seed';

const NAMES_FILE = 'static/data/lastfm_hetrec2011_artists.dat';
const SECRETS = ['203.0.113.77', 'alice_private_handle', 'SecretBrowser/9.9'];

/** Artist id -> name, read from the shipped file without the app's parser. */
function artistNames(): Map<string, string> {
	const out = new Map<string, string>();
	for (const line of readFileSync(NAMES_FILE, 'utf8').split('\n').slice(1)) {
		const [id, name] = line.split('\t');
		if (id && name) out.set(id, name);
	}
	return out;
}

/** The most played artists of Last.fm listener `user`, from the shipped play counts. */
function topArtistsOf(user: string, n: number): string[] {
	const rows = readFileSync(demoDataFile('lastfm_hetrec2011_user_artists.dat'), 'utf8')
		.split(/\r?\n/)
		.slice(1)
		.map((l) => l.split('\t'))
		.filter((r) => r[0] === user)
		.sort((a, b) => Number(b[2]) - Number(a[2]));
	return rows.slice(0, n).map((r) => r[1]);
}

/** A Spotify extended-history export as Spotify sends it (zipped), with made-up plays. */
function spotifyZip(plays: { artist: string; track: string; times: number }[]): Buffer {
	const records: object[] = [];
	let t = Date.UTC(2024, 0, 1);
	for (const p of plays) {
		for (let k = 0; k < p.times; k++) {
			records.push({
				ts: new Date((t += 600_000)).toISOString(),
				username: SECRETS[1],
				platform: 'Android',
				ms_played: 180_000,
				conn_country: 'ZZ',
				ip_addr_decrypted: SECRETS[0],
				user_agent_decrypted: SECRETS[2],
				master_metadata_track_name: p.track,
				master_metadata_album_artist_name: p.artist,
				master_metadata_album_album_name: 'Album',
				spotify_track_uri: 'spotify:track:0000000000000000000000'
			});
		}
	}
	return Buffer.from(
		zipSync({
			'Spotify Extended Streaming History/Streaming_History_Audio_2024.json': strToU8(
				JSON.stringify(records)
			),
			'Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf': new Uint8Array(
				64
			)
		})
	);
}

describe('your own export, matched to the Last.fm demo model by name (headless Chromium)', () => {
	const app = useApp();
	let page: Page;
	const names = artistNames();

	beforeAll(async () => {
		page = app.page;
		await loadDemo(page, app.url);
		await page.getByRole('button', { name: 'Load the Last.fm demo' }).click();
		await waitForDataset(page, 'lastfm_hetrec2011_user_artists.dat');
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
		await trainModel(page, app.url, 'lastfm named', 4);
		await makeActive(modelRow(page, 'lastfm named'));
	}, 240_000);

	it('a listener’s recommendations show artist names from artists.dat', async () => {
		await page.goto(new URL('recommend/', app.url).href);
		await page.locator('input[name=user]').fill('2');
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		const rows = page.locator('[data-testid=user-recs] tbody tr');
		await rows.first().waitFor({ timeout: 60_000 });
		for (const row of await rows.all()) {
			const id = (await row.locator('td:nth-child(2) code').textContent())!.trim();
			expect(await row.getByTestId('item-name').textContent()).toBe(names.get(id));
		}
	});

	it('a Spotify zip gives named recommendations, matched by name, with nothing stored', async () => {
		// Listener 2's five most played artists, spelled as another service might, and two
		// artists the catalogue lacks.
		const top = topArtistsOf('2', 5).map((id) => names.get(id)!);
		const spelled = top.map((n, k) => (k % 2 === 0 ? n.toUpperCase() : n));
		const plays = [
			...spelled.map((artist, k) => ({ artist, track: `Track ${k}`, times: 5 - k })),
			{ artist: 'Nobody Has Heard Of Us', track: 'x', times: 3 },
			{ artist: 'Zzyzx Unknown Band', track: 'y', times: 1 }
		];
		// Offline: the page, the model and the matching come from this browser alone.
		await expect
			.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), {
				timeout: 30_000
			})
			.toBe(true);
		await page.context().setOffline(true);
		const recs = page.locator('[data-testid=me-recs] tbody tr');
		let before: Awaited<ReturnType<typeof idbDigest>>;
		try {
			await page.reload();
			await page.locator('[data-testid=me-drop]:not([disabled])').waitFor({ timeout: 60_000 });
			before = await idbDigest(page);
			await page.getByTestId('me-drop').setInputFiles({
				name: 'my_spotify_data.zip',
				mimeType: 'application/zip',
				buffer: spotifyZip(plays)
			});
			await recs.first().waitFor({ timeout: 60_000 });
		} finally {
			await page.context().setOffline(false);
		}
		expect(await page.getByTestId('me-matched').textContent()).toBe('5 of 7');
		// 15 + 4 plays: 15 matched.
		await page.getByText('79 % of your plays').waitFor();
		expect(await recs.count()).toBe(10);
		for (const row of await recs.all()) {
			const id = (await row.locator('td:nth-child(2) code').textContent())!.trim();
			const name = await row.getByTestId('item-name').textContent();
			expect(name).toBe(names.get(id));
			expect(top).not.toContain(name);
			// "Because you played" names only artists of the export.
			for (const b of await row.locator('td.because span').allTextContents())
				expect(top).toContain(b.trim());
		}
		await page.locator('summary', { hasText: 'Not in this model (2)' }).click();
		expect(await page.getByTestId('me-unmatched').textContent()).toContain(
			'Nobody Has Heard Of Us'
		);
		// Nothing of the export is kept: IndexedDB is byte-identical, the page holds no secret.
		expect(await idbDigest(page)).toEqual(before);
		const html = await page.content();
		for (const s of SECRETS) expect(html).not.toContain(s);
		const shown = await page.evaluate(
			() => performance.getEntriesByName('musicrec:personal-shown').at(-1)?.duration
		);
		expect(shown).toBeGreaterThan(0);
		await page.screenshot({ path: 'test-results/personal_export.png', fullPage: true });
		// Kept as a dataset of one listener: the matched artists and their plays, nothing else.
		await page.getByTestId('me-keep').click();
		await page.getByTestId('me-kept').filter({ hasText: 'Saved as the dataset' }).waitFor();
		expect(await page.getByTestId('status-dataset').textContent()).toBe('my-listening.csv');
		await page.goto(app.url);
		await waitForDataset(page, 'my-listening.csv');
		expect(await page.getByTestId('stat-users').textContent()).toBe('1');
		expect(await page.getByTestId('stat-items').textContent()).toBe('5');
		expect(await page.getByTestId('stat-rows').textContent()).toBe('5');
		const stored = JSON.stringify(await idbDigest(page));
		expect(stored).not.toEqual(JSON.stringify(before));
		const dump = await page.content();
		for (const s of [...SECRETS, 'Nobody Has Heard Of Us']) expect(dump).not.toContain(s);
		expect(app.errors).toEqual([]);
	});

	it('Spotify account data, a Last.fm scrobble CSV and a ListenBrainz export each give named recommendations', async () => {
		const top = topArtistsOf('2', 3).map((id) => names.get(id)!);
		const files = [
			{
				name: 'StreamingHistory_music_0.json',
				text: JSON.stringify(
					top.map((a, k) => ({
						endTime: '2024-01-01 10:00',
						artistName: a,
						trackName: `t${k}`,
						msPlayed: 180000
					}))
				)
			},
			{
				name: 'scrobbles.csv',
				text:
					top
						.map((a, k) => `"${a.replace(/"/g, '""')}",Album,t${k},01 Jan 2024 10:0${k}`)
						.join('\n') + '\n'
			},
			{
				name: 'listens.jsonl',
				text: top
					.map((a, k) =>
						JSON.stringify({
							listened_at: 1700000000 + k,
							user_name: SECRETS[1],
							track_metadata: { artist_name: a, track_name: `t${k}` }
						})
					)
					.join('\n')
			}
		];
		await page.goto(new URL('recommend/', app.url).href);
		for (const f of files) {
			await page.locator('[data-testid=me-drop]:not([disabled])').waitFor({ timeout: 60_000 });
			await page.getByTestId('me-drop').setInputFiles({
				name: f.name,
				mimeType: 'application/octet-stream',
				buffer: Buffer.from(f.text)
			});
			await page
				.getByTestId('me-summary')
				.filter({ hasText: '3 plays of 3 artists' })
				.waitFor({ timeout: 30_000 });
			expect(await page.getByTestId('me-matched').textContent(), f.name).toBe('3 of 3');
			const recs = page.locator('[data-testid=me-recs] tbody tr');
			expect(await recs.count(), f.name).toBe(10);
			for (const name of await recs.getByTestId('item-name').allTextContents()) {
				expect(top, f.name).not.toContain(name);
			}
			// The next drop must not be satisfied by this one's summary.
			await page.reload();
		}
	});

	it('a file that is not a listening history gets a specific message', async () => {
		await page.goto(new URL('recommend/', app.url).href);
		await page.locator('[data-testid=me-drop]:not([disabled])').waitFor({ timeout: 60_000 });
		await page.getByTestId('me-drop').setInputFiles({
			name: 'Userdata.json',
			mimeType: 'application/json',
			buffer: Buffer.from(JSON.stringify({ username: 'x', email: 'a@example.org' }))
		});
		await expect
			.poll(() => page.getByTestId('me-error').textContent())
			.toMatch(/Userdata.json is not a listening history this app reads/);
	});

	it('names dropped on the Data page for a dataset of one’s own are used by the models trained on it', async () => {
		// 30 listeners, 12 artists a0..a11, each listener 4 artists.
		const rows = ['user_id,artist_id,play_count'];
		for (let u = 0; u < 30; u++)
			for (let k = 0; k < 4; k++) rows.push(`u${u},a${(u + k * 3) % 12},${1 + ((u + k) % 5)}`);
		const artist = (i: number) => `Artist «${i}», the ${i % 2 ? 'odd' : 'even'}`;
		const namesCsv =
			'id,name\n' + Array.from({ length: 12 }, (_, i) => `a${i},"${artist(i)}"`).join('\n');
		await page.goto(app.url);
		await page.getByTestId('dataset-card').waitFor({ timeout: 60_000 });
		await page.getByTestId('file-input').setInputFiles({
			name: 'mine.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from(rows.join('\n'))
		});
		await waitForDataset(page, 'mine.csv');
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor({ timeout: 60_000 });
		await expect.poll(() => page.getByTestId('names-status').textContent()).toMatch(/No names yet/);
		// A file that is not a names file is refused with what it holds.
		await page.getByTestId('names-input').setInputFiles({
			name: 'log.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from('user,item,plays\n1,2,3\n')
		});
		await page
			.getByText(/Could not read log.csv: Not a names file: found columns \[user, item, plays\]/)
			.waitFor();
		await page.getByTestId('names-input').setInputFiles({
			name: 'names.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from(namesCsv)
		});
		await expect
			.poll(() => page.getByTestId('names-status').textContent())
			.toMatch(/12 names from names.csv/);
		await trainModel(page, app.url, 'mine named', 3);
		await makeActive(modelRow(page, 'mine named'));
		await page.goto(new URL('recommend/', app.url).href);
		await page.locator('input[name=user]').fill('u0');
		await page.getByRole('button', { name: 'Recommend', exact: true }).click();
		const recs = page.locator('[data-testid=user-recs] tbody tr');
		await recs.first().waitFor({ timeout: 60_000 });
		for (const row of await recs.all()) {
			const id = (await row.locator('td:nth-child(2) code').textContent())!.trim();
			expect(await row.getByTestId('item-name').textContent()).toBe(artist(Number(id.slice(1))));
		}
		// Searched by name in "Similar songs".
		await page.getByLabel('Song (id or name)').fill(artist(3).toUpperCase());
		await page.getByRole('button', { name: 'Find similar' }).click();
		await page.locator('[data-testid=similar-songs]').waitFor();
		expect(await page.locator('[data-testid=similar-songs] tbody tr').count()).toBeGreaterThan(0);
		expect(app.errors).toEqual([]);
	});

	it('every hostile export of the corpus gets its message, and storage is untouched', async () => {
		const manifest = JSON.parse(readFileSync('tests/corpus/manifest.json', 'utf8')) as {
			cases: {
				kind: string;
				name: string;
				file: string;
				expect: { error?: string; message?: string };
			}[];
		};
		// Read errors only: the corpus's matching cases assume its own three-artist catalogue.
		const bad = manifest.cases.filter(
			(c) => c.kind === 'personal' && c.expect.error === 'file/bad-format'
		);
		expect(bad.length).toBeGreaterThanOrEqual(12);
		await page.goto(new URL('recommend/', app.url).href);
		await page.locator('[data-testid=me-drop]:not([disabled])').waitFor({ timeout: 60_000 });
		const before = await idbDigest(page);
		for (const c of bad) {
			const name = `corpus-${c.file.split('/').pop()}`;
			await page.getByTestId('me-drop').setInputFiles({
				name,
				mimeType: 'application/octet-stream',
				buffer: readFileSync(`tests/corpus/${c.file}`)
			});
			// Every message names its file, so a message left from the previous file is not read.
			const error = page.getByTestId('me-error').filter({ hasText: name });
			await error.waitFor({ timeout: 30_000 });
			expect(await error.textContent(), c.file).toContain(c.expect.message);
			expect(await idbDigest(page), c.file).toEqual(before);
		}
		expect(app.errors).toEqual([]);
	});
});
