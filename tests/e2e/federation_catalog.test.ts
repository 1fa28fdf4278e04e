import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUpdateFile } from '../../src/lib/core/federation/update_file';
import { launchBrowser } from '../../tools/browser';
import { loadOwnFile, modelRow, openFederationTab, trainModel, makeActive } from './seed';
import { serveStatic } from '../../tools/static_server';

const OUT = 'test-results/federation_catalog';

/**
 * Three KKBox-schema files cut from the demo without the app's parser: the coordinator's
 * (the first 3,000 rows: its songs are the federation's catalog) and two clients' (the whole
 * demo's users alternating by first appearance), who also play songs the catalog lacks.
 */
function files() {
	const lines = readFileSync('static/data/kkbox_train_10k.csv', 'utf8').trimEnd().split('\n');
	const [header, ...rows] = lines;
	const msno = header.split(',').indexOf('msno');
	const song = header.split(',').indexOf('song_id');
	const order = new Map<string, number>();
	const parts: string[][] = [[], []];
	for (const row of rows) {
		const user = row.split(',')[msno];
		if (!order.has(user)) order.set(user, order.size);
		parts[order.get(user)! % 2].push(row);
	}
	const coordinatorRows = rows.slice(0, 3000);
	const catalog = new Set(coordinatorRows.map((r) => r.split(',')[song]));
	const songsOf = (rs: string[]) => new Set(rs.map((r) => r.split(',')[song]));
	const [a, b] = parts.map(songsOf);
	// Proposals need two supporting clients: new songs both clients play.
	const shared = [...a].filter((s) => b.has(s) && !catalog.has(s)).sort();
	const text = (rs: string[]) => [header, ...rs].join('\n') + '\n';
	return {
		coordinator: { name: 'coordinator.csv', text: text(coordinatorRows) },
		clients: [
			{
				name: 'client_a.csv',
				text: text(parts[0]),
				missing: [...a].filter((s) => !catalog.has(s))
			},
			{ name: 'client_b.csv', text: text(parts[1]), missing: [...b].filter((s) => !catalog.has(s)) }
		],
		catalog,
		shared
	};
}

async function download(page: Page, testId: string, name: string): Promise<string> {
	const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
	const path = `${OUT}/${name}`;
	await d.saveAs(path);
	return path;
}

describe('Federation with clients whose songs the catalog lacks, compact mode (headless Chromium)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	const browsers: Awaited<ReturnType<typeof launchBrowser>>[] = [];
	const errors: string[] = [];
	let pages: Page[];

	beforeAll(async () => {
		mkdirSync(OUT, { recursive: true });
		server = await serveStatic('build');
		for (let k = 0; k < 3; k++) browsers.push(await launchBrowser());
		pages = await Promise.all(browsers.map((b) => b.context.newPage()));
		for (const p of pages) p.on('pageerror', (e) => errors.push(e.message));
	});
	afterAll(async () => {
		for (const b of browsers) await b.close();
		await server?.close();
	});

	it('clients propose the songs they share, the catalog grows, and both recommend from it', async () => {
		const f = files();
		expect(f.shared.length).toBeGreaterThan(50);
		const [coordinator, ...clients] = pages;

		// Coordinator: its own file, a model, a compact federation (plain updates).
		await loadOwnFile(coordinator, server.url, f.coordinator);
		await trainModel(coordinator, server.url, 'catalog model');
		await makeActive(modelRow(coordinator, 'catalog model'));
		await coordinator.getByTestId('status-model').filter({ hasText: 'catalog model' }).waitFor();
		await openFederationTab(coordinator, server.url, 'Coordinator');
		await coordinator.getByTestId('aggregation-choice').selectOption('plain');
		await coordinator.getByLabel('Federation id').fill('catalog-fed');
		await coordinator.getByLabel(/^Start from/).selectOption('model');
		await coordinator.getByLabel(/^Mode/).selectOption('compact');
		// The threat model says what compact mode's screening cannot bound (exact mode's text
		// claims the energy bound instead).
		const compactThreat = 'use exact mode where poisoning matters';
		await coordinator.getByTestId('threat-model').filter({ hasText: compactThreat }).waitFor();
		expect(await coordinator.getByTestId('threat-model').textContent()).not.toContain(
			'larger than its own reported plays allow'
		);
		await coordinator.getByRole('button', { name: 'Create federation' }).click();
		await coordinator.getByTestId('download-global').waitFor({ timeout: 120_000 });
		expect(await coordinator.getByTestId('federation-mode').textContent()).toBe('compact');
		const global0 = await download(coordinator, 'download-global', 'global-r0.json');
		const g0 = JSON.parse(readFileSync(global0, 'utf8')) as { meta: { catalog: string[] } };
		expect(new Set(g0.meta.catalog)).toEqual(f.catalog);

		// Clients: their own files; both opt in to proposing the songs the catalog lacks.
		const updates: string[] = [];
		for (const [k, page] of clients.entries()) {
			await loadOwnFile(page, server.url, f.clients[k]);
			await openFederationTab(page, server.url, 'Client');
			await page.getByTestId('global-input').setInputFiles(global0);
			await page.getByTestId('client-round').filter({ hasText: '0' }).waitFor();
			expect(
				(await page.getByTestId('threat-model').textContent())?.replace(/\s+/g, ' ')
			).toContain(compactThreat);
			await page.getByLabel('Also propose songs missing from the catalog').check();
			await page.getByRole('button', { name: 'Compute my update for round 0' }).click();
			await page.getByTestId('download-update').waitFor({ timeout: 120_000 });
			expect(await page.getByTestId('count-proposed').textContent()).toContain(
				`${f.clients[k].missing.length.toLocaleString('en-US')} song ids missing from the catalog`
			);
			const path = await download(page, 'download-update', `update-${k}.json`);
			const update = decodeUpdateFile(readFileSync(path, 'utf8'));
			expect(update.payload.mode).toBe('compact');
			expect([...(update.proposals?.songIds ?? [])].sort()).toEqual(
				[...f.clients[k].missing].sort()
			);
			updates.push(path);
			await page.screenshot({ path: `${OUT}/client_${k}.png`, fullPage: true });
		}

		// Coordinator: both accepted; aggregating adds exactly the songs both proposed.
		await coordinator.getByTestId('update-input').setInputFiles(updates);
		const rows = coordinator.locator('[data-testid=received-table] tbody tr');
		await rows.nth(1).waitFor({ timeout: 60_000 });
		expect(
			(await rows.locator('[data-testid=verdict]').allTextContents()).map((v) => v.trim())
		).toEqual(['Accepted', 'Accepted']);
		await coordinator.getByRole('button', { name: 'Aggregate 2 accepted updates' }).click();
		await coordinator.getByTestId('current-round').filter({ hasText: '1' }).waitFor({
			timeout: 60_000
		});
		await coordinator
			.getByRole('status')
			.filter({ hasText: `${f.shared.length} new songs proposed by clients joined the catalog` })
			.waitFor();
		const global1 = await download(coordinator, 'download-global', 'global-r1.json');
		const g1 = JSON.parse(readFileSync(global1, 'utf8')) as { meta: { catalog: string[] } };
		expect(g1.meta.catalog.length).toBe(f.catalog.size + f.shared.length);
		expect(new Set(g1.meta.catalog)).toEqual(new Set([...f.catalog, ...f.shared]));
		await coordinator.screenshot({ path: `${OUT}/coordinator_r1.png`, fullPage: true });

		// Each client uses r1: its listeners' songs include proposed ones the model now knows.
		for (const page of clients) {
			await page.getByTestId('global-input').setInputFiles(global1);
			await page.getByTestId('client-round').filter({ hasText: '1' }).waitFor();
			await page.getByRole('button', { name: 'Use global round 1 as my active model' }).click();
			await page.getByTestId('activated').waitFor({ timeout: 120_000 });
			await page.goto(new URL('recommend/', server.url).href);
			await page.getByLabel('or row').waitFor({ timeout: 60_000 });
			// The model knows the catalog's and the shared new songs of this file, no other.
			await page.getByTestId('partial-overlap').waitFor();
			await page.getByLabel('or row').fill('0');
			await page.getByLabel('or row').press('Tab');
			await page.getByRole('button', { name: 'Recommend', exact: true }).click();
			const recs = page.locator('[data-testid=user-recs] tbody tr');
			await recs.first().waitFor({ timeout: 60_000 });
			expect(await recs.count()).toBe(10);
		}
		await clients[1].screenshot({ path: `${OUT}/client_b_recommend.png`, fullPage: true });
		expect(errors).toEqual([]);
	});
});
