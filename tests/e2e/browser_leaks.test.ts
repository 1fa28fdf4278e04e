import { readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadDemo, useApp } from './app_fixture';
import { modelRow, trainModel, makeActive } from './seed';

/**
 * tfjs memory in the browser stays flat: across 10 trainings in one training worker (read
 * through the worker's 'memory' command) and across 10 train -> recommend cycles on the main
 * thread (read through `musicrecTensorMemory`, with client-side navigation so the page's JS
 * heap and tfjs engine live on from cycle to cycle).
 */

interface Memory {
	numTensors: number;
	numBytes: number;
}

const CYCLES = 10;

function trainWorkerPath(): string {
	const name = readdirSync('build/_app/immutable/workers').find((f) =>
		/^train\.worker-.*\.js$/.test(f)
	);
	if (!name) throw new Error('no built training worker: run vite build first');
	return `_app/immutable/workers/${name}`;
}

async function mainMemory(page: Page): Promise<Memory> {
	return page.evaluate(() => {
		const read = (globalThis as { musicrecTensorMemory?: () => Memory }).musicrecTensorMemory;
		if (!read) throw new Error('tfjs is not loaded on this page');
		return read();
	});
}

async function nav(page: Page, label: string, path: string): Promise<void> {
	await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
	await page.waitForURL((u) => u.pathname.endsWith(path));
}

describe('tfjs memory in the browser (built site, headless Chromium)', () => {
	const app = useApp();

	it('the training worker holds no more tensors after each of 10 trainings', async () => {
		const { page, url } = app;
		await loadDemo(page, url);
		const out = await page.evaluate(
			async ({ script, cycles }) => {
				const file = await (await fetch('data/kkbox_train_10k.csv')).blob();
				const worker = new Worker(new URL(script, location.href), { type: 'module' });
				type Event = { type: string; backend?: string; message?: string } & Partial<Memory>;
				const waiting = new Set<(e: Error) => void>();
				worker.onerror = (e) => {
					for (const fail of waiting) fail(new Error(`worker error: ${e.message}`));
				};
				const next = (want: (e: Event) => boolean): Promise<Event> =>
					new Promise((ok, fail) => {
						waiting.add(fail);
						const on = (m: MessageEvent<Event>) => {
							if (m.data.type === 'error') fail(new Error(m.data.message));
							if (!want(m.data)) return;
							worker.removeEventListener('message', on);
							ok(m.data);
						};
						worker.addEventListener('message', on);
					});
				const memory = async (): Promise<Memory> => {
					const reply = next((e) => e.type === 'memory');
					worker.postMessage({ type: 'memory' });
					const { numTensors, numBytes } = await reply;
					return { numTensors: numTensors!, numBytes: numBytes! };
				};
				const before = await memory();
				const after: Memory[] = [];
				let during: Memory | undefined;
				let backend: string | undefined;
				for (let k = 0; k < cycles; k++) {
					const done = next((e) => e.type === 'done');
					const started = next((e) => e.type === 'backend');
					const swept = next((e) => e.type === 'progress');
					worker.postMessage({
						type: 'train',
						file,
						dataset: { name: 'demo', fingerprint: 'demo' },
						name: `cycle ${k}`,
						weighting: 'one-plus-target',
						params: { factors: 16, iterations: 3 },
						holdout: true,
						backend
					});
					backend = (await started).backend;
					if (k === 0) {
						// Control: mid-training, the reading shows the model's live tensors.
						await swept;
						during = await memory();
					}
					await done;
					after.push(await memory());
				}
				worker.terminate();
				return { before, during: during!, after, backend: backend! };
			},
			{ script: trainWorkerPath(), cycles: CYCLES }
		);
		console.log('train worker tfjs memory', JSON.stringify(out));
		expect(out.before).toEqual({ numTensors: 0, numBytes: 0 });
		expect(out.after).toHaveLength(CYCLES);
		// The first training registers the backend (its own constant tensors, if any); from
		// then on every training leaves exactly what was there before it.
		for (const m of out.after) expect(m).toEqual(out.after[0]);
		// Control: a training that kept its model (users x 16 + songs x 16 floats at least)
		// would show up in the reading.
		const modelBytes = (1622 + 5772) * 16 * 4 * 0.8;
		expect(out.during.numTensors).toBeGreaterThan(out.after[0].numTensors + 1);
		expect(out.during.numBytes - out.after[0].numBytes).toBeGreaterThan(modelBytes);
	});

	it('10 train -> recommend cycles leave the main thread tfjs memory flat', async () => {
		const { page, url } = app;
		const away: Memory[] = [];
		const live: Memory[] = [];
		for (let k = 0; k < CYCLES; k++) {
			const name = `leak ${k}`;
			if (k === 0) await trainModel(page, url, name, 2);
			else {
				// Already on the Models page (client-side navigation): train without a reload.
				await page.getByLabel('Name').fill(name);
				await page.getByLabel('Factors').fill('10');
				await page.getByLabel('Iterations').fill('2');
				await page.getByRole('button', { name: 'Train', exact: true }).click();
				await modelRow(page, name).waitFor({ timeout: 150_000 });
			}
			await makeActive(modelRow(page, name));
			await expect.poll(() => page.getByTestId('status-model').textContent()).toBe(name);
			// From here on only client-side navigation: the page's tfjs engine lives on.
			await nav(page, 'Recommend', '/recommend/');
			await page.getByLabel('User (msno)').waitFor({ timeout: 60_000 });
			await page.getByLabel('or row').fill(String(k));
			await page.getByLabel('or row').press('Tab');
			await page.getByRole('button', { name: 'Recommend', exact: true }).click();
			await page.locator('[data-testid=user-recs] tbody tr').first().waitFor();
			const song = (await page
				.locator('[data-testid=user-recs] tbody tr td code')
				.first()
				.textContent())!;
			await page.getByLabel('Search songs').fill(song.slice(0, 12));
			await page
				.getByRole('list', { name: 'Matching songs' })
				.getByRole('button', { name: `Add ${song}` })
				.click();
			await page.getByRole('button', { name: 'Recommend for these songs' }).click();
			await page.locator('[data-testid=new-recs] tbody tr').first().waitFor();
			await page.getByLabel('Song (id or name)').fill(song);
			await page.getByRole('button', { name: 'Find similar' }).click();
			await page.locator('[data-testid=similar-songs] tbody tr').first().waitFor();
			live.push(await mainMemory(page));
			await nav(page, 'Models', '/models/');
			await page.getByRole('button', { name: 'Train', exact: true }).waitFor();
			away.push(await mainMemory(page));
		}
		console.log('main thread tfjs memory', JSON.stringify({ live, away }));
		for (const m of away) expect(m).toEqual(away[0]);
		for (const m of live) expect(m).toEqual(live[0]);
		// Control: the open page's model is seen (its factor tensors), so a session left
		// undisposed on leaving the page would add this much every cycle.
		const factorBytes = (1622 + 5772) * 10 * 4;
		expect(live[0].numTensors).toBeGreaterThanOrEqual(away[0].numTensors + 2);
		expect(live[0].numBytes - away[0].numBytes).toBeGreaterThanOrEqual(factorBytes);
		expect(app.errors).toEqual([]);
	});
});
