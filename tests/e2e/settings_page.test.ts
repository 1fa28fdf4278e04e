import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemo, useApp } from './app_fixture';

describe('Settings page (built static site, headless Chromium)', () => {
	const app = useApp();
	const errors = app.errors;
	let page: Page;

	beforeAll(() => {
		page = app.page;
	});

	const select = () => page.locator('[data-testid=backend-select]');
	const probeCell = (name: string) =>
		page.locator(`[data-testid=probe-table] tr[data-backend=${name}] [data-testid=probe-ok]`);

	/** True once tfjs-core ran in the page's main thread (its engine registers this global). */
	const tfjsOnMainThread = () =>
		page.evaluate(() => (globalThis as { _tfengine?: unknown })._tfengine !== undefined);

	it('shows isolation and wasm threads without loading tfjs on the main thread', async () => {
		// First visit (reloads once for isolation), then a returning visit.
		for (const visit of ['first', 'returning']) {
			if (visit === 'first') await page.goto(new URL('settings/', app.url).href);
			else await page.reload();
			const line = page.getByTestId('isolation');
			// the threads come from tfjs-wasm started in the probe worker
			await line.filter({ hasText: /wasm threads:\s*\d+/ }).waitFor({ timeout: 60_000 });
			expect((await line.textContent())?.replace(/\s+/g, ' ')).toMatch(
				/^Cross-origin isolated: yes, wasm threads: [1-8] *$/
			);
			expect(await tfjsOnMainThread()).toBe(false);
		}
		// The check sees tfjs where a page does load it on the main thread (Recommend scores there).
		await page.getByRole('link', { name: 'Recommend' }).click();
		await page.waitForURL(/\/recommend\/$/);
		await expect.poll(tfjsOnMainThread).toBe(true);
	});

	it('probes, remembers the chosen backend and training uses it', async () => {
		// The demo dataset is stored on the first visit of the Data page.
		await loadDemo(page, app.url);

		await page.getByRole('link', { name: 'Settings' }).click();
		await page.waitForURL(/\/settings\/$/);
		await expect.poll(() => select().isEnabled()).toBe(true);
		expect(await select().inputValue()).toBe('');

		await page.getByRole('button', { name: 'Run probe' }).click();
		await page.locator('[data-testid=probe-winner]').waitFor({ timeout: 120_000 });
		for (const name of ['webgpu', 'webgl', 'wasm', 'cpu']) {
			await expect(
				page.locator(`[data-testid=probe-table] tr[data-backend=${name}]`).count()
			).resolves.toBe(1);
		}
		expect(await probeCell('wasm').textContent()).toBe('ok');
		expect(await probeCell('cpu').textContent()).toBe('ok');
		// No GPU here: the winner is a CPU-side backend, never a software adapter.
		const winner = await page.locator('[data-testid=probe-winner] strong').textContent();
		expect(['wasm', 'cpu']).toContain(winner);
		await page.screenshot({ path: 'test-results/settings.png', fullPage: true });

		// The winner is remembered for Automatic.
		await expect
			.poll(() => page.locator('[data-testid=remembered-probe] strong').textContent())
			.toBe(winner);

		// Choose cpu; it survives a reload.
		await select().selectOption('cpu');
		await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
		await page.reload();
		await expect.poll(() => select().isEnabled()).toBe(true);
		await expect.poll(() => select().inputValue()).toBe('cpu');
		expect(await page.locator('[data-testid=remembered-probe] strong').textContent()).toBe(winner);

		// Training on /models uses it: the header shows cpu.
		await page.getByRole('link', { name: 'Models' }).click();
		await page.locator('form button[type=submit]', { hasText: 'Train' }).waitFor();
		await page.getByLabel('Name').fill('cpu model');
		// The form's minimum is 10 factors.
		await page.getByLabel('Factors').fill('10');
		await page.getByLabel('Iterations').fill('2');
		// No holdout evaluation: the cpu backend is slow and only the backend matters here.
		await page.getByLabel(/Hold out/).uncheck();
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		await expect
			.poll(() => page.locator('[data-testid=status-backend]').textContent(), { timeout: 60_000 })
			.toBe('cpu');
		await page
			.locator('[data-testid=model-list] tbody tr', { hasText: 'cpu model' })
			.waitFor({ timeout: 170_000 });
		expect((await page.locator('[data-testid=status-backend]').textContent())?.trim()).toBe('cpu');

		// Back to Automatic; remembered too.
		await page.getByRole('link', { name: 'Settings' }).click();
		await expect.poll(() => select().inputValue()).toBe('cpu');
		await select().selectOption('');
		await page.getByRole('status').filter({ hasText: 'chosen by the probe' }).waitFor();
		await page.reload();
		await expect.poll(() => select().isEnabled()).toBe(true);
		expect(await select().inputValue()).toBe('');
		expect(errors).toEqual([]);
	});

	it('training threads: the setting is kept, and training runs on that many', async () => {
		const threads = page.locator('select[name=training-threads]');
		const cores = await page.evaluate(() => navigator.hardwareConcurrency);
		const engineOf = async (name: string, choice: string) => {
			await page.goto(new URL('settings/', app.url).href);
			await threads.selectOption(choice);
			await page.getByTestId('threads-saved').waitFor();
			await page.reload();
			await expect.poll(() => threads.inputValue()).toBe(choice);
			await page.goto(new URL('models/', app.url).href);
			await page.getByLabel('Name').fill(name);
			await page.getByLabel('Factors').fill('10');
			await page.getByLabel('Iterations').fill('2');
			await page.getByRole('button', { name: 'Train', exact: true }).click();
			const row = page.locator('[data-testid=model-list] tbody tr', { hasText: name });
			await row.waitFor({ timeout: 170_000 });
			// "Saved “name” (0.4 s on wasm, fused kernel on 2 threads)."
			return (await page.getByText(`Saved “${name}”`).textContent()) ?? '';
		};
		const one = await engineOf('one thread', '1');
		expect(one).toContain('fused kernel');
		expect(one).not.toMatch(/on \d+ threads/);
		const all = await engineOf('every core', '');
		if (cores > 1) expect(all).toContain(`fused kernel on ${Math.min(cores, 16)} threads`);
		expect(errors).toEqual([]);
	});
});
