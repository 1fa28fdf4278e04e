import { ALS_PARAM_SPEC } from '../src/lib/core/als/params';
import {
	cpSync,
	existsSync,
	mkdtempSync,
	readFileSync,
	readdirSync,
	rmSync,
	statSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModelFile } from '../src/lib/core/format/model_file';
import { KKBOX_FULL_ROWS, writeKkboxCsv } from '../src/lib/node/kkbox_generator';
import { launchBrowser } from '../tools/browser';
import { serveStatic } from '../tools/static_server';
import type { Options } from './args';
import { round } from './measure';

export interface BrowserFullRecord {
	suite: 'browser-full';
	rows: number;
	file_mb: number;
	users: number;
	items: number;
	/** Data page: file chosen -> EDA shown (parse worker, EDA included). */
	parse_s: number;
	parse_rows_per_s: number;
	/** Models page: click on Train -> "Saved" (read again, fit, store; no holdout). */
	click_to_saved_s: number;
	/** The fit alone, summed sweep times as the app records them. */
	train_s: number;
	sweep_s: number;
	factors: number;
	iterations: number;
	backend: string;
	solver: string;
	threads: number;
	/** Peak resident memory of all Chromium processes together, sampled every 250 ms. */
	peak_browser_rss_mb: number;
}

/** Resident set of every process whose command line is the given Chromium, in MB. */
function chromiumRssMb(): number {
	let kb = 0;
	for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
		try {
			const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
			if (!cmd.includes('musicrec-e2e-') && !cmd.includes('chromium')) continue;
			const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
			if (m) kb += Number(m[1]);
		} catch {
			// the process ended meanwhile
		}
	}
	return kb / 1024;
}

/**
 * `npm run bench -- browser-full [--rows N] [--factors F] [--iterations I]`: the full-size
 * KKBox-schema file (generated, seeded; the ingest suite's copy is reused) through the app in
 * headless Chromium: parsed on the Data page, stored, then trained on the Models page.
 */
export async function browserFullSuite(options: Options): Promise<BrowserFullRecord[]> {
	const rows = options.number('rows', KKBOX_FULL_ROWS);
	const factors = options.number('factors', 32);
	const iterations = options.number('iterations', ALS_PARAM_SPEC.iterations.default);
	const buildDir = options.string('build', 'build');
	options.assertAllUsed();
	if (!existsSync(join(buildDir, 'index.html'))) throw new Error('run npx vite build first');
	const file = join(tmpdir(), `musicrec_kkbox_${rows}_seed1.csv`);
	if (!existsSync(file)) writeKkboxCsv(file, { rows, seed: 1 });
	const root = mkdtempSync(join(tmpdir(), 'musicrec-bench-site-'));
	cpSync(buildDir, root, { recursive: true });
	const server = await serveStatic(root);
	const browser = await launchBrowser();
	let peak = 0;
	const sampler = setInterval(() => (peak = Math.max(peak, chromiumRssMb())), 250);
	try {
		const page = await browser.context.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		await page.goto(server.url);
		await page
			.getByTestId('save-status')
			.filter({ hasText: 'Saved' })
			.waitFor({ timeout: 120_000 });
		const t0 = performance.now();
		await page.getByTestId('file-input').setInputFiles(file);
		await page
			.getByTestId('stat-rows')
			.filter({ hasText: rows.toLocaleString('en-US') })
			.waitFor({ timeout: 1_800_000 });
		const parseSeconds = (performance.now() - t0) / 1000;
		const count = async (id: string) =>
			Number(((await page.getByTestId(id).textContent()) ?? '').replace(/,/g, ''));
		const users = await count('stat-users');
		const items = await count('stat-items');
		await page
			.getByTestId('save-status')
			.filter({ hasText: 'Saved' })
			.waitFor({ timeout: 600_000 });

		await page.goto(new URL('models/', server.url).href);
		const name = 'full-size model';
		await page.getByLabel('Name').fill(name);
		await page.getByLabel('Factors').fill(String(factors));
		await page.getByLabel('Iterations').fill(String(iterations));
		await page.getByLabel(/Hold out/).setChecked(false);
		const c0 = performance.now();
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		await page
			.getByRole('status')
			.filter({ hasText: `Saved “${name}”` })
			.waitFor({ timeout: 3_600_000 });
		const clickToSaved = (performance.now() - c0) / 1000;
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: name });
		const [download] = await Promise.all([
			page.waitForEvent('download', { timeout: 600_000 }),
			row.getByRole('button', { name: 'Export' }).click()
		]);
		const record = decodeModelFile(readFileSync((await download.path())!, 'utf8'));
		if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
		const t = record.meta.training;
		return [
			{
				suite: 'browser-full',
				rows,
				file_mb: round(statSync(file).size / 1e6, 1),
				users,
				items,
				parse_s: round(parseSeconds, 2),
				parse_rows_per_s: Math.round(rows / parseSeconds),
				click_to_saved_s: round(clickToSaved, 2),
				train_s: round(t.seconds, 2),
				sweep_s: round(t.seconds / t.sweeps, 3),
				factors,
				iterations,
				backend: t.backend,
				solver: t.solver ?? 'unknown',
				threads: t.threads ?? 1,
				peak_browser_rss_mb: Math.round(peak)
			}
		];
	} finally {
		clearInterval(sampler);
		await browser.close();
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}
