/**
 * A secure round between browsers: a coordinator and four one-person clients (users of the
 * demo), each in its own browser context, exchanging files. One client vanishes after the key
 * phase and comes back late; the round completes without it, and the next global equals the
 * plain aggregation of the three survivors' updates (computed here in Node by the core) up to
 * the fixed point.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate } from '../../src/lib/core/federation/aggregate';
import { computeClientUpdate } from '../../src/lib/core/federation/client_update';
import { readGlobalFile } from '../../src/lib/core/federation/global_file';
import { decodeMaskedUpdate, decodeRoster } from '../../src/lib/core/federation/secure/files';
import { vectorLayout } from '../../src/lib/core/federation/secure/statistics_vector';
import { ingest } from '../../src/lib/core/data/ingest';
import { Rng } from '../../src/lib/core/random';
import { chromiumPath } from '../../tools/browser';
import { loadOwnFile, openFederationTab, waitForDataset } from './seed';
import { serveStatic } from '../../tools/static_server';

const OUT = 'test-results/federation-secure';

/** Four demo users with at least 6 plays each, as one-person CSVs in the demo's own format. */
function onePersonFiles(): { name: string; text: string; user: string }[] {
	const lines = readFileSync('static/data/kkbox_train_10k.csv', 'utf8').trimEnd().split('\n');
	const header = lines[0];
	const msno = header.split(',').indexOf('msno');
	const rows = new Map<string, string[]>();
	for (const line of lines.slice(1)) {
		const user = line.split(',')[msno];
		rows.set(user, [...(rows.get(user) ?? []), line]);
	}
	return [...rows]
		.filter(([, r]) => r.length >= 6)
		.slice(0, 4)
		.map(([user, r], k) => ({
			name: `person_${k}.csv`,
			text: [header, ...r].join('\n') + '\n',
			user
		}));
}

async function download(page: Page, testId: string, name: string): Promise<string> {
	const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
	const path = `${OUT}/${name}`;
	await d.saveAs(path);
	return path;
}

/** Wait until a received-files table lists exactly `n` accepted rows. */
async function acceptedRows(page: Page, table: string, n: number, timeout: number): Promise<void> {
	const rows = page.locator(`[data-testid=${table}] tr[data-status=accepted]`);
	await rows.nth(n - 1).waitFor({ timeout });
	expect(await rows.count()).toBe(n);
}

async function drop(page: Page, testId: string, paths: string[]): Promise<void> {
	await page.getByTestId(testId).setInputFiles(paths);
}

describe('Federation page: a secure round of four one-person clients, one vanishing (headless Chromium)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Browser;
	const errors: string[] = [];
	let coordinator: Page;
	let clients: Page[];

	beforeAll(async () => {
		mkdirSync(OUT, { recursive: true });
		server = await serveStatic('build');
		browser = await chromium.launch({
			executablePath: chromiumPath(),
			headless: true,
			args: [
				'--no-sandbox',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync'
			]
		});
		// Five separate contexts: no storage, key or file is shared between the parties.
		const pages = await Promise.all(
			[0, 1, 2, 3, 4].map(async () =>
				(
					await browser.newContext({
						viewport: { width: 1280, height: 900 },
						acceptDownloads: true
					})
				).newPage()
			)
		);
		for (const p of pages) p.on('pageerror', (e) => errors.push(e.message));
		[coordinator, ...clients] = pages;
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	it('keys, masked updates without the vanished client, unmasking: the sum of the survivors', async () => {
		const people = onePersonFiles();
		expect(people).toHaveLength(4);

		// Coordinator: the demo's songs as the catalog, a fresh secure federation (the default).
		await coordinator.goto(server.url);
		await waitForDataset(coordinator, 'kkbox_train_10k.csv');
		await coordinator.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		await openFederationTab(coordinator, server.url, 'Coordinator');
		expect(await coordinator.getByTestId('aggregation-choice').inputValue()).toBe('secure');
		expect(await coordinator.getByTestId('threat-model').textContent()).toContain(
			'honest-but-curious'
		);
		await coordinator.getByLabel('Federation id').fill('e2e-secure');
		await coordinator.getByLabel(/^Start from/).selectOption('fresh');
		await coordinator.getByRole('spinbutton', { name: 'Factors' }).fill('8');
		await coordinator.getByRole('button', { name: 'Create federation' }).click();
		await expect
			.poll(() => coordinator.getByTestId('federation-id').textContent())
			.toBe('e2e-secure');
		expect(await coordinator.getByTestId('federation-aggregation').textContent()).toContain(
			'secure'
		);
		await coordinator.getByTestId('secure-round').waitFor();
		await coordinator.screenshot({ path: `${OUT}/coordinator_keys.png`, fullPage: true });
		const global0 = await download(coordinator, 'download-global', 'global-r0.json');

		// Clients: each loads its own one-person file, imports the global and joins the round.
		const keys: string[] = [];
		for (const [k, page] of clients.entries()) {
			await loadOwnFile(page, server.url, people[k]);
			await openFederationTab(page, server.url, 'Client');
			await page.getByTestId('global-input').setInputFiles(global0);
			await page.getByTestId('secure-client').waitFor();
			await page.getByTestId('join-round').click();
			keys.push(await download(page, 'download-keys', `keys-${k}.json`));
		}
		const ids = keys.map((p) => JSON.parse(readFileSync(p, 'utf8')).meta.clientId as string);

		// Coordinator: four keys, then the roster.
		await drop(coordinator, 'secure-input', keys);
		await acceptedRows(coordinator, 'keys-table', 4, 30_000);
		await coordinator.getByTestId('publish-roster').click();
		await coordinator.getByTestId('download-roster').waitFor();
		const roster = await download(coordinator, 'download-roster', 'roster.json');
		expect(decodeRoster(readFileSync(roster, 'utf8')).value.members.map((m) => m.clientId)).toEqual(
			[...ids].sort()
		);

		// Clients 0-2 mask their update; client 3 has vanished.
		const masked: string[] = [];
		for (const k of [0, 1, 2]) {
			await clients[k].getByTestId('secure-client-input').setInputFiles(roster);
			await clients[k].getByTestId('download-masked').waitFor({ timeout: 120_000 });
			masked.push(await download(clients[k], 'download-masked', `masked-${k}.json`));
		}
		await clients[0].screenshot({ path: `${OUT}/client_masked.png`, fullPage: true });
		// A masked update has the round's full length whatever the person played, and no id of theirs.
		const global = readGlobalFile(readFileSync(global0, 'utf8'));
		for (const [k, path] of masked.entries()) {
			const text = readFileSync(path, 'utf8');
			expect(text.includes(people[k].user)).toBe(false);
			const m = decodeMaskedUpdate(text, { members: 4, length: vectorLayout(global.model).length });
			expect(m.value.masked.length).toBe(2 * vectorLayout(global.model).length);
		}

		await drop(coordinator, 'secure-input', masked);
		await coordinator.waitForTimeout(5000);
		await coordinator.screenshot({ path: `${OUT}/debug_masked.png`, fullPage: true });
		await acceptedRows(coordinator, 'masked-table', 3, 60_000);
		expect(await coordinator.getByTestId('missing-clients').textContent()).toContain(ids[3]);
		await coordinator.screenshot({ path: `${OUT}/coordinator_masked.png`, fullPage: true });
		await coordinator.getByRole('button', { name: /Continue without the missing clients/ }).click();
		await coordinator.getByTestId('download-request').waitFor({ timeout: 60_000 });
		const request = await download(coordinator, 'download-request', 'request.json');

		// The vanished client comes back late: its masked update is refused.
		await clients[3].getByTestId('secure-client-input').setInputFiles(roster);
		await clients[3].getByTestId('download-masked').waitFor({ timeout: 120_000 });
		const late = await download(clients[3], 'download-masked', 'masked-late.json');

		const shares: string[] = [];
		for (const k of [0, 1, 2]) {
			await clients[k].getByTestId('secure-client-input').setInputFiles(request);
			await clients[k].getByTestId('download-shares').waitFor({ timeout: 60_000 });
			shares.push(await download(clients[k], 'download-shares', `shares-${k}.json`));
		}
		await drop(coordinator, 'secure-input', [...shares, late]);
		await acceptedRows(coordinator, 'answers-table', 3, 60_000);
		expect(
			await coordinator
				.locator('[data-testid=answers-table] tr[data-status=rejected] [data-testid=reason]')
				.textContent()
		).toContain('came after the unmask request');
		await coordinator.screenshot({ path: `${OUT}/coordinator_unmasking.png`, fullPage: true });
		await coordinator.getByTestId('finish-round').click();
		await expect
			.poll(() => coordinator.getByTestId('current-round').textContent(), { timeout: 120_000 })
			.toBe('1');
		await coordinator.screenshot({ path: `${OUT}/coordinator_done.png`, fullPage: true });
		const global1 = readGlobalFile(
			readFileSync(await download(coordinator, 'download-global', 'global-r1.json'), 'utf8')
		);

		// The plain aggregation of the survivors' updates, by the core in Node.
		const rng = new Rng(1);
		const updates = [];
		for (const k of [0, 1, 2]) {
			const data = await ingest(
				(async function* () {
					yield people[k].text;
				})(),
				{ weighting: global.model.weighting }
			);
			updates.push(
				computeClientUpdate(global, data.interactions, { random: () => rng.next() }).update
			);
		}
		const plain = aggregate(global, updates);
		expect(global1.model.previousChecksum).toBe(global.checksum);
		let worst = 0;
		let nonZero = 0;
		for (let i = 0; i < plain.itemFactors.length; i++) {
			worst = Math.max(worst, Math.abs(plain.itemFactors[i] - global1.model.itemFactors[i]));
			if (plain.itemFactors[i] !== 0) nonZero++;
		}
		expect(nonZero).toBeGreaterThan(0);
		expect(worst).toBeLessThan(1e-4);
		expect(errors).toEqual([]);
	});
});
