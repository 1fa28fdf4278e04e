import { readFileSync } from 'node:fs';
import { strToU8, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { Rng } from '../src/lib/core/random';
import { launchBrowser } from '../tools/browser';
import { serveStatic } from '../tools/static_server';
import type { Options } from './args';
import { round } from './measure';

/** The Recommend page's measure from a dropped export to its list in the document. */
const SHOWN = 'musicrec:personal-shown';

export interface PersonalRecord {
	suite: 'personal';
	/** The model: the Last.fm demo trained in the app with the Models form's defaults. */
	model_factors: number;
	model_iterations: number;
	/** The export: a zipped Spotify extended streaming history, generated (seeded). */
	export_plays: number;
	export_artists: number;
	export_known_artists: number;
	export_bytes: number;
	/** Artists the page matched, and its share of plays. */
	matched_artists: number;
	runs: number;
	/** Drop (file input change) to the list in the document, by the page's measure. */
	shown_min_ms: number;
	shown_median_ms: number;
	shown_max_ms: number;
	/** setInputFiles until the list is visible, measured from the harness. */
	harness_median_ms: number;
	run: number;
}

/**
 * A year of one person's Spotify extended history: `plays` plays over `artists` artists with
 * Zipf-like popularity; `known` of the artists are names of the Last.fm demo, the rest made up.
 */
function spotifyExport(
	plays: number,
	artists: number,
	known: number,
	seed: number
): { zip: Uint8Array; known: number } {
	const names = readFileSync('static/data/lastfm_hetrec2011_artists.dat', 'utf8')
		.split('\n')
		.slice(1)
		.map((l) => l.split('\t')[1])
		.filter((n): n is string => !!n);
	const rng = new Rng(seed);
	const chosen: string[] = [];
	const seen = new Set<string>();
	while (chosen.length < known) {
		const n = names[rng.int(Math.min(names.length, 3000))];
		if (seen.has(n)) continue;
		chosen.push(n);
		seen.add(n);
	}
	for (let k = chosen.length; k < artists; k++) chosen.push(`Made Up Artist ${k}`);
	// Shuffle, so known and made-up artists share the popular ranks.
	for (let k = chosen.length - 1; k > 0; k--) {
		const j = rng.int(k + 1);
		[chosen[k], chosen[j]] = [chosen[j], chosen[k]];
	}
	const weights = chosen.map((_, k) => 1 / (k + 1));
	const total = weights.reduce((a, b) => a + b, 0);
	const records: object[] = [];
	let t = Date.UTC(2025, 0, 1);
	for (let p = 0; p < plays; p++) {
		let r = rng.next() * total;
		let k = 0;
		while (r > weights[k] && k < weights.length - 1) r -= weights[k++];
		records.push({
			ts: new Date((t += 1_800_000)).toISOString(),
			username: 'someone',
			platform: 'Android OS',
			ms_played: 20_000 + rng.int(220_000),
			conn_country: 'ZZ',
			ip_addr_decrypted: '203.0.113.1',
			master_metadata_track_name: `Track ${rng.int(20)}`,
			master_metadata_album_artist_name: chosen[k],
			master_metadata_album_album_name: 'Album',
			spotify_track_uri: 'spotify:track:0000000000000000000000'
		});
	}
	const zip = zipSync({
		'Spotify Extended Streaming History/Streaming_History_Audio_2025.json': strToU8(
			JSON.stringify(records)
		)
	});
	return { zip, known };
}

async function train(page: Page, url: string): Promise<{ factors: number; iterations: number }> {
	await page.goto(url);
	// A first visit loads the KKBox demo (and may reload once for cross-origin isolation): the
	// Last.fm demo is asked for after that, then stored before training.
	const saved = (name: string) =>
		page.waitForFunction(
			(n) =>
				document.querySelector('[data-testid=status-dataset]')?.textContent?.trim() === n &&
				/Saved in this browser|Shown from this browser/.test(
					document.querySelector('[data-testid=save-status]')?.textContent ?? ''
				),
			name,
			{ timeout: 120_000 }
		);
	await saved('kkbox_train_10k.csv');
	await page.getByRole('button', { name: 'Load the Last.fm demo' }).click();
	await saved('lastfm_hetrec2011_user_artists.dat');
	await page.goto(new URL('models/', url).href);
	const factors = Number(await page.getByLabel('Factors').inputValue());
	const iterations = Number(await page.getByLabel('Iterations').inputValue());
	await page.getByLabel('Name').fill('lastfm personal bench');
	await page.getByRole('button', { name: 'Train', exact: true }).click();
	await page
		.locator('[data-testid=model-list] tbody tr', { hasText: 'lastfm personal bench' })
		.waitFor({ timeout: 600_000 });
	return { factors, iterations };
}

/**
 * npm run bench -- personal [--build DIR] [--runs R] [--plays N] [--artists A] [--known K]
 * The Last.fm demo trained in the built app (headless Chromium), then a generated Spotify
 * export dropped on the Recommend page R times (the page reloaded each time): drop to list.
 */
export async function personalSuite(options: Options): Promise<PersonalRecord[]> {
	const build = options.string('build', 'build');
	const runs = options.number('runs', 5);
	const plays = options.number('plays', 12_000);
	const artists = options.number('artists', 800);
	const known = options.number('known', 400);
	options.assertAllUsed();
	const { zip } = spotifyExport(plays, artists, known, 11);
	const server = await serveStatic(build, '');
	const browser = await launchBrowser();
	const page = await browser.context.newPage();
	try {
		const model = await train(page, server.url);
		const shown: number[] = [];
		const harness: number[] = [];
		let matched = 0;
		for (let k = 0; k < runs; k++) {
			await page.goto(new URL('recommend/', server.url).href);
			await page.getByTestId('me-drop').waitFor({ timeout: 60_000 });
			await page.waitForFunction(
				() => !document.querySelector('[data-testid=me-drop]')?.hasAttribute('disabled')
			);
			const start = Date.now();
			await page.getByTestId('me-drop').setInputFiles({
				name: 'my_spotify_data.zip',
				mimeType: 'application/zip',
				buffer: Buffer.from(zip)
			});
			await page.locator('[data-testid=me-recs] tbody tr').first().waitFor({ timeout: 60_000 });
			harness.push(Date.now() - start);
			await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, SHOWN);
			shown.push(
				await page.evaluate((name) => performance.getEntriesByName(name).at(-1)!.duration, SHOWN)
			);
			matched = Number(
				((await page.getByTestId('me-matched').textContent()) ?? '')
					.split(' of ')[0]
					.replace(/,/g, '')
			);
		}
		const sorted = [...shown].sort((a, b) => a - b);
		const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
		return [
			{
				suite: 'personal',
				model_factors: model.factors,
				model_iterations: model.iterations,
				export_plays: plays,
				export_artists: artists,
				export_known_artists: known,
				export_bytes: zip.length,
				matched_artists: matched,
				runs,
				shown_min_ms: round(sorted[0], 1),
				shown_median_ms: round(median(shown), 1),
				shown_max_ms: round(sorted.at(-1)!, 1),
				harness_median_ms: round(median(harness), 1),
				run: Date.now()
			}
		];
	} catch (e) {
		await page.screenshot({ path: 'bench/results/personal_failed.png', fullPage: true });
		throw e;
	} finally {
		await browser.close();
		await server.close();
	}
}
