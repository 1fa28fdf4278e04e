import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModelFile } from '../../src/lib/core/format/model_file';
import type { ModelRecord } from '../../src/lib/core/model_record';
import { Rng } from '../../src/lib/core/random';
import { useApp } from './app_fixture';

/**
 * The GPU backends against wasm in headless Chromium (SwiftShader: software WebGPU and
 * WebGL, slow but the same shaders): the app trains the same small model on each backend
 * chosen on the Settings page, and the exported factors and top-10 lists agree with wasm's.
 */

const FACTORS = 10;
const ITERATIONS = 3;
const USERS = 40;
const ITEMS = 60;
const TOP = 10;
/** Agreement with wasm: |difference| <= TOLERANCE x the largest |value| of wasm's. */
/** Factors of the kernel (wasm) against stock ops (GPU): see the test. */
const FACTOR_TOLERANCE = 5e-3;
const TOLERANCE = 1e-3;

/** A seeded user,item,weight file: 8 distinct songs per user, play counts 1-5. */
function tinyCsv(): string {
	const rng = new Rng(2024);
	const lines = ['user,item,weight'];
	for (let u = 0; u < USERS; u++) {
		const items = new Set<number>();
		while (items.size < 8) items.add(rng.int(ITEMS));
		for (const i of items) lines.push(`user${u},song${i},${1 + rng.int(5)}`);
	}
	return lines.join('\n') + '\n';
}

/** Rows of X Y' (users x items), both row-major with `f` columns. */
function scores(r: ModelRecord): Float64Array {
	const f = r.meta.params.factors;
	const users = r.userIds.length;
	const items = r.itemIds.length;
	const out = new Float64Array(users * items);
	for (let u = 0; u < users; u++) {
		for (let i = 0; i < items; i++) {
			let s = 0;
			for (let a = 0; a < f; a++) s += r.userFactors[u * f + a] * r.itemFactors[i * f + a];
			out[u * items + i] = s;
		}
	}
	return out;
}

const maxAbs = (a: ArrayLike<number>): number => {
	let m = 0;
	for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
	return m;
};

/** Largest |a - b| relative to the largest |a|. */
function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let m = 0;
	for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
	return m / maxAbs(a);
}

/** Indices of the n largest values of row u (ties: lower index first). */
function topOf(s: Float64Array, u: number, items: number, n: number): number[] {
	const row = Array.from({ length: items }, (_, i) => i);
	return row.sort((a, b) => s[u * items + b] - s[u * items + a] || a - b).slice(0, n);
}

describe('GPU backends agree with wasm (built static site, headless Chromium)', () => {
	const app = useApp();
	let page: Page;
	const models = new Map<string, ModelRecord>();

	beforeAll(async () => {
		page = app.page;
		await page.goto(app.url);
		await page.getByTestId('dataset-schema').waitFor({ timeout: 120_000 });
		await page.getByTestId('file-input').setInputFiles({
			name: 'tiny.csv',
			mimeType: 'text/csv',
			buffer: Buffer.from(tinyCsv())
		});
		await page.getByTestId('dataset-name').filter({ hasText: 'tiny.csv' }).waitFor();
		await page.getByTestId('save-status').filter({ hasText: 'Saved' }).waitFor();
	});

	/** Choose `backend` on Settings, train on /models, check the header, export the model. */
	async function trainOn(backend: string): Promise<ModelRecord> {
		await page.goto(new URL('settings/', app.url).href);
		const select = page.getByTestId('backend-select');
		await expect.poll(() => select.isEnabled()).toBe(true);
		await select.selectOption(backend);
		await page
			.getByRole('status')
			.filter({ hasText: `use ${backend}` })
			.waitFor();
		if (backend === 'wasm') {
			// the GPU backends run CG steps on every row: have the kernel run the same iterations
			await page.locator('select[name=short-rows]').selectOption('cg');
			await page.getByTestId('rows-saved').filter({ hasText: 'conjugate-gradient' }).waitFor();
		}

		await page.goto(new URL('models/', app.url).href);
		const name = `${backend} model`;
		await page.getByLabel('Name').fill(name);
		await page.getByLabel('Factors').fill(String(FACTORS));
		await page.getByLabel('Iterations').fill(String(ITERATIONS));
		await page.getByLabel(/Hold out/).uncheck();
		await page.getByRole('button', { name: 'Train', exact: true }).click();
		const row = page.locator('[data-testid=model-list] tbody tr', { hasText: name });
		await row.waitFor({ timeout: 240_000 });
		const [download] = await Promise.all([
			page.waitForEvent('download'),
			row.getByRole('button', { name: 'Export' }).click()
		]);
		const record = decodeModelFile(readFileSync((await download.path())!, 'utf8'));
		models.set(backend, record);
		return record;
	}

	it('reports a SwiftShader WebGPU adapter in this Chromium', async () => {
		const adapter = await page.evaluate(async () => {
			const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
			if (!gpu) return 'navigator.gpu is undefined';
			const a = (await gpu.requestAdapter()) as { info?: { architecture: string } } | null;
			return a ? `architecture ${a.info?.architecture}` : 'requestAdapter() returned null';
		});
		expect(adapter).toBe('architecture swiftshader');
	});

	it('trains on wasm', async () => {
		const wasm = await trainOn('wasm');
		expect(wasm.meta.training.backend).toBe('wasm');
		expect(wasm.meta.training.exactShortRows).toBe(false);
		expect(wasm.userIds).toHaveLength(USERS);
		expect(wasm.meta.training.sweeps).toBe(ITERATIONS);
	});

	for (const backend of ['webgpu', 'webgl']) {
		it(`trains on ${backend} to the same factors and top-${TOP} lists as wasm`, async () => {
			const wasm = models.get('wasm')!;
			const other = await trainOn(backend);
			// The model says which backend computed it; the header showed it too.
			expect(other.meta.training.backend).toBe(backend);
			expect((await page.getByTestId('status-backend').textContent())?.trim()).toBe(backend);
			expect(other.userIds).toEqual(wasm.userIds);
			expect(other.itemIds).toEqual(wasm.itemIds);

			// Same seed, same iterations (CG on every row, chosen on Settings): wasm runs the fused
			// kernel, the GPU backends the stock ops, so the factors differ by float32 rounding in
			// another order only (the unit test of the kernel against ops allows the same 5e-3).
			expect(wasm.meta.training.solver).toBe('kernel');
			expect(other.meta.training.solver).toBe('ops');
			expect('exactShortRows' in other.meta.training).toBe(false);
			expect(relativeDiff(wasm.userFactors, other.userFactors)).toBeLessThan(FACTOR_TOLERANCE);
			expect(relativeDiff(wasm.itemFactors, other.itemFactors)).toBeLessThan(FACTOR_TOLERANCE);
			const loss = other.meta.training.loss;
			wasm.meta.training.loss.forEach((l, k) =>
				expect(Math.abs(loss[k] - l)).toBeLessThanOrEqual(TOLERANCE * Math.abs(l))
			);

			// Top-10: every song of the backend's list is within tolerance of wasm's 10th score.
			const sw = scores(wasm);
			const so = scores(other);
			const scale = maxAbs(sw);
			// Songs that occur in the file (the catalogue of the model).
			const items = wasm.itemIds.length;
			for (let u = 0; u < USERS; u++) {
				const tenth = sw[u * items + topOf(sw, u, items, TOP)[TOP - 1]];
				for (const i of topOf(so, u, items, TOP)) {
					expect(sw[u * items + i]).toBeGreaterThanOrEqual(tenth - TOLERANCE * scale);
				}
			}
			expect(app.errors).toEqual([]);
		});
	}
});
