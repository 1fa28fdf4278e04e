import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest } from '../../../src/lib/core/data/ingest';
import { nodeUtf8Decoder, readByteChunks } from '../../../src/lib/node/files';
import { KKBOX_FULL_ROWS, writeKkboxCsv } from '../../../src/lib/node/kkbox_generator';
import type { KkboxGeneratedCounts } from '../../../src/lib/node/kkbox_generator';

/** V8 heap plus memory outside it (array buffers) of this process, in bytes. */
function heapBytes(): number {
	const m = process.memoryUsage();
	return m.heapUsed + m.external;
}

describe('a 1 GB KKBox-schema file generated at test time', () => {
	const dir = mkdtempSync(join(tmpdir(), 'musicrec-1gb-'));
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	it('is ingested with bounded memory, counts equal to what the generator wrote', async () => {
		const file = join(dir, 'train.csv');
		let generated: KkboxGeneratedCounts | undefined;
		const bytes = writeKkboxCsv(file, { rows: KKBOX_FULL_ROWS, seed: 7 }, (c) => (generated = c));
		expect(bytes).toBe(statSync(file).size);
		expect(bytes).toBeGreaterThan(990e6);
		const g = generated!;

		const before = heapBytes();
		let peak = before;
		const r = await ingest(readByteChunks(file), {
			decoder: nodeUtf8Decoder(),
			progressEvery: 250_000,
			onProgress: () => (peak = Math.max(peak, heapBytes()))
		});
		peak = Math.max(peak, heapBytes());
		// The file is 1 GB; holding it (or a large part) would show here. What stays is the
		// COO arrays (13 bytes a row, doubling), the vocabularies and the CSR being built.
		expect(peak - before).toBeLessThan(600e6);

		expect(r.schema).toBe('kkbox');
		expect(r.rows).toBe(g.rows);
		expect(r.rowsKept).toBe(g.rows);
		expect(r.badLines.count).toBe(0);
		expect(r.eda.target?.counts).toEqual({ '0': g.rows - g.positives, '1': g.positives });

		// Every generated user and song that occurs is in the vocabulary, each with its exact
		// one-plus-target weight sum (row sums and column sums of the matrix).
		const { users, items, matrix } = r.interactions;
		const rowSum = new Float64Array(matrix.rows);
		const colSum = new Float64Array(matrix.cols);
		let total = 0;
		for (let u = 0; u < matrix.rows; u++) {
			for (let k = matrix.indptr[u]; k < matrix.indptr[u + 1]; k++) {
				rowSum[u] += matrix.data[k];
				colSum[matrix.indices[k]] += matrix.data[k];
				total += matrix.data[k];
			}
		}
		expect(total).toBe(g.rows + g.positives);
		const check = (
			ids: string[],
			weight: Float64Array,
			vocab: typeof users,
			sums: Float64Array
		): void => {
			let present = 0;
			let mismatches = 0;
			for (let i = 0; i < ids.length; i++) {
				const index = vocab.indexOf(ids[i]);
				if (weight[i] === 0) {
					if (index !== undefined) mismatches++;
					continue;
				}
				present++;
				if (index === undefined || sums[index] !== weight[i]) mismatches++;
			}
			expect(mismatches).toBe(0);
			expect(vocab.size).toBe(present);
		};
		check(g.userIds, g.userWeight, users, rowSum);
		check(g.songIds, g.songWeight, items, colSum);
		expect(users.size).toBeGreaterThan(29_000);
		expect(items.size).toBeGreaterThan(300_000);

		// source_system_tab value counts split by target, and its empty fields as missing.
		const tab = r.eda.categorical.find((c) => c.key === 'source_system_tab')!;
		const expected = [...g.tabs]
			.filter(([value]) => value !== '')
			.map(([value, t]) => ({ value, total: t.rows, target1: t.positives }));
		const seen = tab.valueCounts.map((v) => ({
			value: v.value,
			total: v.total,
			target1: v.target1
		}));
		expect(seen.sort((a, b) => (a.value < b.value ? -1 : 1))).toEqual(
			expected.sort((a, b) => (a.value < b.value ? -1 : 1))
		);
		expect(r.eda.missing['source_system_tab']).toBe(g.tabs.get('')?.rows ?? 0);
	});
});
