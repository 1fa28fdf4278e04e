import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../tools/browser';
import { serveStatic } from '../../tools/static_server';

/** A small Last.fm-style file: user u listens to artists 1..u+1 with weight 10 * u + a. */
function lastfmFile(): { text: string; rows: number; users: number; items: number } {
	const lines = ['userID\tartistID\tweight'];
	const artists = new Set<number>();
	let rows = 0;
	for (let u = 1; u <= 5; u++) {
		for (let a = 1; a <= u + 1; a++) {
			lines.push(`${u}\t${a}\t${10 * u + a}`);
			artists.add(a);
			rows++;
		}
	}
	return { text: lines.join('\n') + '\n', rows, users: 5, items: artists.size };
}

describe('data & EDA page (built static site, headless Chromium)', () => {
	let server: Awaited<ReturnType<typeof serveStatic>>;
	let browser: Awaited<ReturnType<typeof launchBrowser>>;

	beforeAll(async () => {
		server = await serveStatic('build');
		browser = await launchBrowser();
	});
	afterAll(async () => {
		await browser?.close();
		await server?.close();
	});

	it('loads the demo, reads uploads, reports bad files and remembers the dataset', async () => {
		const page = await browser.context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		const demoRequests: number[] = [];
		page.on('response', (r) => {
			if (r.url().endsWith('/data/kkbox_train_10k.csv')) demoRequests.push(r.status());
		});
		mkdirSync('test-results', { recursive: true });

		// First visit: the demo is fetched and parsed without any click.
		await page.goto(server.url);
		const card = page.getByTestId('dataset-card');
		await card.waitFor({ timeout: 60_000 });
		expect(demoRequests).toContain(200);
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
		await expect(page.getByTestId('parse-status').textContent()).resolves.toBe('');
		await expect(page.getByTestId('dataset-name').textContent()).resolves.toBe(
			'kkbox_train_10k.csv'
		);
		await expect(page.getByTestId('dataset-schema').textContent()).resolves.toBe('kkbox');
		await expect(page.getByTestId('stat-rows').textContent()).resolves.toBe('10,000');
		await expect(page.getByTestId('stat-users').textContent()).resolves.toBe('1,622');
		await expect(page.getByTestId('stat-items').textContent()).resolves.toBe('5,772');
		await expect(page.getByTestId('head-table').locator('tbody tr').count()).resolves.toBe(50);
		// The SHA-256 computed in the hash worker while parsing is the file's (Node's crypto).
		const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
		await expect(page.getByTestId('dataset-sha256').getAttribute('title')).resolves.toBe(
			sha256(readFileSync('static/data/kkbox_train_10k.csv'))
		);
		const headFirst = await page.getByTestId('head-table').locator('thead th').allTextContents();
		expect(headFirst).toContain('msno');

		const missing = page.getByTestId('missing-table');
		await expect(missing.locator('tbody tr').count()).resolves.toBe(7);
		const target = await page
			.getByTestId('target-table')
			.locator('tbody tr')
			.evaluateAll((trs) =>
				trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent?.trim()))
			);
		expect(target).toEqual([
			['0', '2,270', '0.227'],
			['1', '7,730', '0.773']
		]);
		const describeRows = await page.getByTestId('describe-table').locator('tbody tr').count();
		expect(describeRows).toBe(3);

		// Charts: grouped bars, two grids of pair panels, two log-log histograms.
		const charts = page.getByTestId('target-charts');
		const tabBars = await charts.locator('svg[role=img]').first().locator('rect.bar').count();
		expect(tabBars).toBeGreaterThanOrEqual(2 * 5);
		// 6 top values -> 15 pairs per grid, two grids.
		await expect(charts.locator('figure[role=listitem]').count()).resolves.toBe(30);
		const degreeBars = await page.getByTestId('degree-charts').locator('rect.bar').count();
		expect(degreeBars).toBeGreaterThan(4);
		const ariaLabels = await page
			.locator('svg[role=img]')
			.evaluateAll((s) => s.map((e) => e.getAttribute('aria-label') ?? ''));
		expect(ariaLabels.every((l) => l.length > 0)).toBe(true);
		await expect(page.getByTestId('status-dataset').textContent()).resolves.toBe(
			'kkbox_train_10k.csv'
		);

		// The JSON view of the head shows the same rows.
		await page.getByLabel('JSON').check();
		const json = JSON.parse((await page.getByTestId('head-text').textContent()) ?? '[]');
		expect(json).toHaveLength(50);
		expect(Object.keys(json[0])).toContain('song_id');
		await page.getByLabel('Table').check();
		await page.screenshot({ path: 'test-results/data_page_demo.png', fullPage: true });

		// Upload a Last.fm-style file.
		const lf = lastfmFile();
		await page.getByTestId('file-input').setInputFiles({
			name: 'user_artists.dat',
			mimeType: 'text/plain',
			buffer: Buffer.from(lf.text)
		});
		await page.getByTestId('dataset-schema').filter({ hasText: 'lastfm' }).waitFor();
		await expect(page.getByTestId('dataset-name').textContent()).resolves.toBe('user_artists.dat');
		await expect(page.getByTestId('stat-rows').textContent()).resolves.toBe(String(lf.rows));
		await expect(page.getByTestId('stat-users').textContent()).resolves.toBe(String(lf.users));
		await expect(page.getByTestId('stat-items').textContent()).resolves.toBe(String(lf.items));
		await expect(page.getByTestId('stat-nnz').textContent()).resolves.toBe(String(lf.rows));
		await expect(page.getByTestId('dataset-sha256').getAttribute('title')).resolves.toBe(
			sha256(Buffer.from(lf.text))
		);
		await expect(page.getByTestId('target-charts').count()).resolves.toBe(0);
		await expect(
			page.getByTestId('weight-table').locator('tbody td').first().textContent()
		).resolves.toBe(String(lf.rows));
		await expect(page.getByTestId('status-dataset').textContent()).resolves.toBe(
			'user_artists.dat'
		);

		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();

		// A large file shows progress (rows/s) and can be cancelled; the last dataset stays.
		const bigPath = join(mkdtempSync(join(tmpdir(), 'musicrec-big-')), 'big.csv');
		writeFileSync(bigPath, 'user,item\n' + 'u1234567,i7654321\n'.repeat(4_000_000));
		await page.getByTestId('file-input').setInputFiles(bigPath);
		const status = page.getByTestId('parse-status');
		await status.filter({ hasText: 'rows/s' }).waitFor();
		await expect(status.locator('progress').count()).resolves.toBe(1);
		await page.screenshot({ path: 'test-results/data_page_progress.png' });
		await status.getByRole('button', { name: 'Cancel' }).click();
		await page.getByTestId('parse-notice').filter({ hasText: 'cancelled' }).waitFor();
		rmSync(dirname(bigPath), { recursive: true, force: true });
		await expect(page.getByTestId('parse-status').textContent()).resolves.toBe('');
		await expect(page.getByTestId('dataset-name').textContent()).resolves.toBe('user_artists.dat');

		// A file with unknown columns: the core's message above the column-mapping step, the
		// previous dataset still shown until the person loads or cancels.
		await page.getByTestId('file-input').setInputFiles({
			name: 'broken.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from('customer,product,price\na,b,1\n')
		});
		const alert = page.getByTestId('mapping-reason');
		await alert.waitFor();
		const message = (await alert.textContent()) ?? '';
		expect(message).toContain('broken.csv');
		expect(message).toContain('customer, product, price');
		expect(message).toContain('msno, song_id');
		expect(message).toContain('userID, artistID, weight');
		await expect(page.getByRole('alert').count()).resolves.toBeGreaterThan(0);
		await expect(page.getByTestId('dataset-name').textContent()).resolves.toBe('user_artists.dat');
		await expect(page.getByTestId('stat-users').textContent()).resolves.toBe(String(lf.users));
		await page.screenshot({ path: 'test-results/data_page_error.png', fullPage: true });
		await page.getByTestId('column-mapping').getByRole('button', { name: 'Cancel' }).click();
		await expect(page.getByTestId('column-mapping').count()).resolves.toBe(0);

		// Reload: the stored active dataset is shown again, without fetching the demo.
		const before = demoRequests.length;
		await page.reload();
		await page.getByTestId('dataset-card').waitFor();
		await expect(page.getByTestId('dataset-name').textContent()).resolves.toBe('user_artists.dat');
		await expect(page.getByTestId('stat-rows').textContent()).resolves.toBe(String(lf.rows));
		await expect(page.getByTestId('status-dataset').textContent()).resolves.toBe(
			'user_artists.dat'
		);
		expect(demoRequests.length).toBe(before);
		await expect(page.getByTestId('save-status').textContent()).resolves.toContain('storage');
		await page.screenshot({ path: 'test-results/data_page_reload.png', fullPage: true });

		expect(errors).toEqual([]);
		await page.close();
	});
});
