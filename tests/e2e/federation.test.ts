import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/lib/core/data/ingest';
import { poisonUpdate } from '../../src/lib/core/federation/attacks';
import { computeClientUpdate } from '../../src/lib/core/federation/client_update';
import { splitByUsers } from '../../src/lib/core/federation/partition';
import { evaluateGlobal } from '../../src/lib/core/federation/global_eval';
import { Rng } from '../../src/lib/core/random';
import { readGlobalFile } from '../../src/lib/core/federation/global_file';
import { decodeUpdateFile, encodeUpdateFile } from '../../src/lib/core/federation/update_file';
import { readTextChunks } from '../../src/lib/node/files';
import { launchBrowser } from '../../tools/browser';
import { serveStatic } from '../../tools/static_server';
import { loadOwnFile, openFederationTab, waitForDataset, makeActive } from './seed';

const OUT = 'test-results/federation';

/** The demo file split by user (msno) into two KKBox-schema CSVs, users alternating by first appearance. */
function partitions(): { a: string; b: string; usersA: Set<string>; usersB: Set<string> } {
	const lines = readFileSync('static/data/kkbox_train_10k.csv', 'utf8').trimEnd().split('\n');
	const header = lines[0];
	const columns = header.split(',');
	const msno = columns.indexOf('msno');
	const order = new Map<string, number>();
	const a = [header];
	const b = [header];
	for (const line of lines.slice(1)) {
		const user = line.split(',')[msno];
		if (!order.has(user)) order.set(user, order.size);
		(order.get(user)! % 2 === 0 ? a : b).push(line);
	}
	const usersA = new Set([...order].filter(([, k]) => k % 2 === 0).map(([u]) => u));
	const usersB = new Set([...order].filter(([, k]) => k % 2 === 1).map(([u]) => u));
	return { a: a.join('\n') + '\n', b: b.join('\n') + '\n', usersA, usersB };
}

/** Click a download link and save the file; returns its path and suggested name. */
async function download(page: Page, testId: string, name: string): Promise<[string, string]> {
	const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
	const path = `${OUT}/${name}`;
	await d.saveAs(path);
	return [path, d.suggestedFilename()];
}

describe('Federation page: a coordinator and two clients (built static site, headless Chromium)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	const browsers: Awaited<ReturnType<typeof launchBrowser>>[] = [];
	const errors: string[] = [];
	let coordinator: Page;
	let clients: Page[];

	beforeAll(async () => {
		mkdirSync(OUT, { recursive: true });
		server = await serveStatic('build');
		for (let k = 0; k < 3; k++) browsers.push(await launchBrowser());
		const pages = await Promise.all(browsers.map((b) => b.context.newPage()));
		for (const p of pages) p.on('pageerror', (e) => errors.push(e.message));
		[coordinator, ...clients] = pages;
	});
	afterAll(async () => {
		for (const b of browsers) await b.close();
		await server?.close();
	});

	it('runs one full round through files, rejects tampered updates, and recommends from r1', async () => {
		const parts = partitions();
		expect(parts.usersA.size).toBeGreaterThan(100);
		for (const u of parts.usersA) expect(parts.usersB.has(u)).toBe(false);
		const partFiles = [
			{ name: 'client_a.csv', text: parts.a },
			{ name: 'client_b.csv', text: parts.b }
		];

		// Coordinator: demo data, a small model, made active.
		await coordinator.goto(server.url);
		await waitForDataset(coordinator, 'kkbox_train_10k.csv');
		await coordinator.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		await coordinator.goto(new URL('models/', server.url).href);
		// Hydrated once the layout has read the stored state into the header.
		await waitForDataset(coordinator, 'kkbox_train_10k.csv');
		await coordinator.getByLabel('Name').fill('coordinator model');
		await coordinator.getByLabel('Factors').fill('10');
		await coordinator.getByLabel('Iterations').fill('3');
		await coordinator.getByRole('button', { name: 'Train', exact: true }).click();
		const row = coordinator.locator('[data-testid=model-list] tbody tr', {
			hasText: 'coordinator model'
		});
		try {
			await row.waitFor({ timeout: 150_000 });
		} catch (e) {
			await coordinator.screenshot({ path: `${OUT}/models_failed.png`, fullPage: true });
			throw e;
		}
		await makeActive(row);
		await expect
			.poll(() => coordinator.getByTestId('status-model').textContent())
			.toBe('coordinator model');

		// Clients: each loads its own partition through the Data page's file input.
		await Promise.all(clients.map((page, k) => loadOwnFile(page, server.url, partFiles[k])));

		// Coordinator creates an exact-mode federation from the active model.
		await openFederationTab(coordinator, server.url, 'Coordinator');
		// Plain updates: this test reads and tampers with single update files.
		await coordinator.getByTestId('aggregation-choice').selectOption('plain');
		await coordinator.getByLabel('Federation id').fill('e2e-fed');
		await coordinator.getByLabel(/^Start from/).selectOption('model');
		await coordinator.getByLabel(/^Mode/).selectOption('exact');
		await coordinator.getByRole('button', { name: 'Create federation' }).click();
		await coordinator.getByTestId('download-global').waitFor();
		await expect(coordinator.getByTestId('federation-mode').textContent()).resolves.toBe('exact');
		const [global0, global0Name] = await download(coordinator, 'download-global', 'global-r0.json');
		expect(global0Name).toBe('musicrec-global-e2e-fed-r0.json');
		const g0 = JSON.parse(readFileSync(global0, 'utf8')) as {
			kind: string;
			meta: { round: number; catalog: string[]; params: { factors: number } };
		};
		expect(g0.kind).toBe('global');
		expect(g0.meta.round).toBe(0);
		expect(g0.meta.params.factors).toBe(10);
		expect(g0.meta.catalog.length).toBe(5772);
		await coordinator.screenshot({ path: `${OUT}/coordinator_r0.png`, fullPage: true });

		// Each client imports r0, computes its update and downloads it.
		const updates: string[] = [];
		for (const [k, page] of clients.entries()) {
			await openFederationTab(page, server.url, 'Client');
			await page.getByTestId('global-input').setInputFiles(global0);
			await expect.poll(() => page.getByTestId('client-round').textContent()).toBe('0');
			await expect(page.getByTestId('client-weighting').textContent()).resolves.toBe(
				'one-plus-target'
			);
			// Proposing new songs is opt-in, and the page says what it would send.
			const propose = page.getByLabel('Also propose songs missing from the catalog');
			expect(await propose.isChecked()).toBe(false);
			await propose.check();
			expect(await page.getByTestId('propose-explained').textContent()).toContain(
				'user ids never leave'
			);
			await propose.uncheck();
			await page.getByRole('button', { name: 'Compute my update for round 0' }).click();
			await page.getByTestId('download-update').waitFor({ timeout: 120_000 });
			const users = Number(
				(await page.getByTestId('count-users').textContent())!.replace(/,/g, '')
			);
			expect(users).toBe(k === 0 ? parts.usersA.size : parts.usersB.size);
			expect(await page.getByTestId('mode-reveals').textContent()).toContain(
				'which catalog songs your data touches'
			);
			const [path, name] = await download(page, 'download-update', `update-${k}.json`);
			expect(name).toMatch(/^musicrec-update-e2e-fed-r0-[0-9a-f]{8}\.json$/);
			const text = readFileSync(path, 'utf8');
			// Nothing of the client's user ids travels.
			for (const u of k === 0 ? parts.usersA : parts.usersB) expect(text.includes(u)).toBe(false);
			const decoded = decodeUpdateFile(text);
			expect(decoded.counts.users).toBe(users);
			updates.push(path);
			await page.screenshot({ path: `${OUT}/client_${k}_r0.png`, fullPage: true });
		}

		// Three tampered updates, each re-encoded with a valid checksum so only one thing is wrong.
		const base = decodeUpdateFile(readFileSync(updates[0], 'utf8'));
		const tampered = [
			{
				file: `${OUT}/tampered-round.json`,
				update: { ...base, clientId: 'aaaaaaaaaaaaaaa1', round: 5 }
			},
			{
				file: `${OUT}/tampered-nan.json`,
				update: (() => {
					if (base.payload.mode !== 'exact') throw new Error('expected exact mode');
					const itemTargets = base.payload.itemTargets.slice();
					itemTargets[3] = NaN;
					return {
						...base,
						clientId: 'aaaaaaaaaaaaaaa2',
						payload: { ...base.payload, itemTargets }
					};
				})()
			},
			{
				file: `${OUT}/tampered-base.json`,
				update: { ...base, clientId: 'aaaaaaaaaaaaaaa3', baseChecksum: 'sha256:' + '0'.repeat(64) }
			},
			{
				// Valid in every field, but b flipped: only robust aggregation can tell.
				file: `${OUT}/poisoned-flipped.json`,
				update: (() => {
					if (base.payload.mode !== 'exact') throw new Error('expected exact mode');
					const itemTargets = base.payload.itemTargets.map((v) => -v);
					return {
						...base,
						clientId: 'aaaaaaaaaaaaaaa4',
						payload: { ...base.payload, itemTargets }
					};
				})()
			},
			{
				// G, A and b times 10 with honest counts: consistent, but b'(A + G)^-1 b exceeds the
				// confidence total it reports, which no honest client's can (the energy check; the
				// honest ratio is 0.15 in this first round from random factors, so x10 gives 1.5).
				file: `${OUT}/poisoned-scaled.json`,
				update: {
					...poisonUpdate(base, { kind: 'scaled', client: 0, factor: 10 }, new Rng(1)),
					clientId: 'aaaaaaaaaaaaaaa5'
				}
			}
		];
		for (const t of tampered) writeFileSync(t.file, encodeUpdateFile(t.update));

		await coordinator
			.getByTestId('update-input')
			.setInputFiles([...updates, ...tampered.map((t) => t.file)]);
		const rows = coordinator.locator('[data-testid=received-table] tbody tr');
		await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(7);
		const verdictTexts = async (): Promise<string[]> =>
			(await rows.locator('[data-testid=verdict]').allTextContents()).map((v) => v.trim());
		const reasons = await rows.locator('[data-testid=reason]').allTextContents();
		expect(await verdictTexts()).toEqual([
			'Accepted',
			'Accepted',
			'Rejected',
			'Rejected',
			'Rejected',
			'Flagged (consistency check), left out',
			'Flagged (energy check), left out'
		]);
		expect(reasons[2]).toContain('round 5');
		expect(reasons[3]).toMatch(/not finite \(NaN\)/);
		expect(reasons[4]).toContain('different global');
		expect(reasons[5]).toMatch(/Its b does not match its G and A for this global/);
		expect(reasons[6]).toMatch(
			/is [1-9]\.\d+ times its confidence total, and no honest client's exceeds 1/
		);
		// Robust aggregation is on by default; off, the flipped update would be aggregated.
		const robust = coordinator.getByTestId('robust-toggle');
		expect(await robust.isChecked()).toBe(true);
		await robust.uncheck();
		await expect.poll(async () => (await verdictTexts())[5], { timeout: 60_000 }).toBe('Accepted');
		await expect.poll(async () => (await verdictTexts())[6], { timeout: 60_000 }).toBe('Accepted');
		await coordinator.getByRole('button', { name: 'Aggregate 4 accepted updates' }).waitFor();
		// The choice and the verdicts it gave survive a reload.
		await coordinator.reload();
		await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(7);
		await expect.poll(() => robust.isChecked(), { timeout: 30_000 }).toBe(false);
		expect((await verdictTexts())[5]).toBe('Accepted');
		await robust.check();
		await expect
			.poll(async () => (await verdictTexts())[5], { timeout: 60_000 })
			.toBe('Flagged (consistency check), left out');
		await coordinator.screenshot({ path: `${OUT}/coordinator_received.png`, fullPage: true });

		// Aggregate: global r1.
		await coordinator.getByRole('button', { name: 'Aggregate 2 accepted updates' }).click();
		await expect
			.poll(() => coordinator.getByTestId('current-round').textContent(), { timeout: 60_000 })
			.toBe('1');
		const [global1, global1Name] = await download(coordinator, 'download-global', 'global-r1.json');
		expect(global1Name).toBe('musicrec-global-e2e-fed-r1.json');
		const g1 = JSON.parse(readFileSync(global1, 'utf8')) as {
			meta: { round: number; weighting?: string };
		};
		expect(g1.meta.round).toBe(1);
		// The source model's weighting (the demo KKBox default) travels in every global.
		expect(g1.meta.weighting).toBe('one-plus-target');
		const bytes = readFileSync(updates[0]).length + readFileSync(updates[1]).length;

		// State survives a reload: round 1, and round 0 recorded with 2 clients and their bytes.
		await coordinator.reload();
		await expect.poll(() => coordinator.getByTestId('current-round').textContent()).toBe('1');
		const round0 = coordinator.locator('[data-testid=rounds-table] tbody tr').first();
		const cells = await round0.locator('td').allTextContents();
		expect(cells[0]).toBe('0');
		expect(cells[2]).toBe('2');
		expect(cells[3]).toBe(bytes.toLocaleString('en-US'));
		// Both globals are scored on the coordinator's own data (its loaded demo dataset).
		expect(cells[5]).toMatch(/^\d\.\d{3}$/);
		const round1 = coordinator.locator('[data-testid=rounds-table] tbody tr').nth(1);
		const cells1 = await round1.locator('td').allTextContents();
		expect(cells1[0]).toBe('1');
		// The figures shown are those of the downloaded globals scored in Node on the same file
		// (the holdout seed is the global's; the page reads the file with the global's weighting).
		const demo = await ingest(readTextChunks('static/data/kkbox_train_10k.csv'), {
			weighting: 'one-plus-target'
		});
		for (const [cellsOf, path] of [
			[cells, global0],
			[cells1, global1]
		] as const) {
			const g = readGlobalFile(readFileSync(path, 'utf8'));
			const want = evaluateGlobal(g, demo.interactions, { seed: g.model.params.seed });
			expect(cellsOf[5]).toBe(want.ndcg.toFixed(3));
			expect(cellsOf[6]).toBe(want.precision.toFixed(3));
		}
		await coordinator.getByTestId('rounds-chart').waitFor();
		await coordinator.screenshot({ path: `${OUT}/coordinator_r1.png`, fullPage: true });

		// Influence caps (off by default): four honest updates for round 1 computed in Node from
		// quarters of the demo, and a fifth that counts its users ten times. It passes every
		// screen; only the caps, once on, weigh it down.
		const published1 = readGlobalFile(readFileSync(global1, 'utf8'));
		const rng = new Rng(7);
		const honest1 = splitByUsers(demo.interactions, 4, 'even', 3).map(
			(share) =>
				computeClientUpdate(published1, share.interactions, { random: () => rng.next() }).update
		);
		const inflated = {
			...poisonUpdate(honest1[0], { kind: 'count-scaled', client: 0, factor: 10 }, new Rng(1)),
			clientId: 'bbbbbbbbbbbbbbb1'
		};
		const round1Files = [...honest1, inflated].map((u, k) => {
			const file = `${OUT}/round1-${k}.json`;
			writeFileSync(file, encodeUpdateFile(u));
			return file;
		});
		const caps = coordinator.getByTestId('caps-toggle');
		expect(await caps.isChecked()).toBe(false);
		await coordinator.getByTestId('update-input').setInputFiles(round1Files);
		await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(5);
		expect(await verdictTexts()).toEqual(Array(5).fill('Accepted'));
		await caps.check();
		await expect
			.poll(async () => (await verdictTexts())[4], { timeout: 60_000 })
			.toMatch(/^Accepted, weight capped to 0\.[0-4]\d*/);
		const capReasons = await rows.locator('[data-testid=reason]').allTextContents();
		expect(capReasons[4]).toMatch(/times the round's median, so it counts as 3\.00 times/);
		await coordinator.screenshot({ path: `${OUT}/coordinator_caps.png`, fullPage: true });
		await coordinator.getByRole('button', { name: "Clear this round's files" }).click();

		// Both clients import r1 as their active model and get recommendations.
		for (const [k, page] of clients.entries()) {
			await page.reload();
			await expect.poll(() => page.getByTestId('client-round').textContent()).toBe('0');
			await page.getByTestId('global-input').setInputFiles(global1);
			await expect.poll(() => page.getByTestId('client-round').textContent()).toBe('1');
			await page.getByRole('button', { name: 'Use global round 1 as my active model' }).click();
			await page.getByTestId('activated').waitFor({ timeout: 120_000 });
			await expect
				.poll(() => page.getByTestId('status-model').textContent())
				.toBe('federated e2e-fed r1');
			await page.screenshot({ path: `${OUT}/client_${k}_r1.png`, fullPage: true });

			await page.goto(new URL('recommend/', server.url).href);
			await page.getByLabel('User (msno)').waitFor({ timeout: 60_000 });
			await page.getByLabel('or row').fill('0');
			await page.getByLabel('or row').press('Tab');
			const user = await page.getByLabel('User (msno)').inputValue();
			expect((k === 0 ? parts.usersA : parts.usersB).has(user)).toBe(true);
			await page.getByRole('button', { name: 'Recommend', exact: true }).click();
			await page.locator('[data-testid=user-recs]').waitFor({ timeout: 60_000 });
			await expect
				.poll(() => page.locator('[data-testid=user-recs] tbody tr').count())
				.toBeGreaterThan(0);
			await page.screenshot({ path: `${OUT}/client_${k}_recommend.png`, fullPage: true });
		}
		expect(errors).toEqual([]);
	});

	it('simulates exact-mode rounds in a worker: federated equals centralized', async () => {
		await openFederationTab(coordinator, server.url, 'Simulation');
		await coordinator.getByLabel('Clients').fill('3');
		await coordinator.getByLabel('Rounds').fill('2');
		await coordinator.getByLabel('Factors').fill('8');
		await coordinator.getByLabel(/^Federation mode/).selectOption('exact');
		await coordinator.getByRole('button', { name: 'Run simulation' }).click();
		const rows = coordinator.locator('[data-testid=sim-table] tbody tr');
		await expect.poll(() => rows.count(), { timeout: 150_000 }).toBe(2);
		await coordinator
			.getByRole('button', { name: 'Run simulation' })
			.and(coordinator.locator(':enabled'))
			.waitFor({ timeout: 60_000 });
		for (let k = 0; k < 2; k++) {
			const cells = await rows.nth(k).locator('td').allTextContents();
			expect(cells[0]).toBe(String(k + 1));
			expect(Number(cells[1])).toBeGreaterThan(0);
			// One exact round with every client is one centralized sweep.
			expect(cells[1]).toBe(cells[2]);
			expect(cells[3]).toBe('100.0%');
		}
		await expect(coordinator.locator('[data-testid=sim-chart] circle').count()).resolves.toBe(2);
		await coordinator.screenshot({ path: `${OUT}/simulation.png`, fullPage: true });
		expect(errors).toEqual([]);
	});
});
