import { describe, expect, it } from 'vitest';
import { log2Histogram, quantileSorted, WEIGHT_SAMPLE_SIZE } from '../../../src/lib/core/data/eda';
import { ingest } from '../../../src/lib/core/data/ingest';
import { Rng } from '../../../src/lib/core/random';

const KKBOX =
	',msno,song_id,source_system_tab,source_screen_name,source_type,target\n' +
	'0,u1,s1,my library,Local,local-library,1\n' +
	'1,u1,s2,discover,,online-playlist,0\n' +
	'2,u2,s1,my library,Local,,1\n' +
	'3,u3,s2,,Radio,radio,0\n' +
	'4,u3,s3,my library,Radio,radio,1\n';

describe('EDA on a hand-made KKBox file', () => {
	it('counts missing fields per column', async () => {
		const { eda } = await ingest([KKBOX]);
		expect(eda.rows).toBe(5);
		expect(eda.missing).toEqual({
			'': 0,
			msno: 0,
			song_id: 0,
			source_system_tab: 1,
			source_screen_name: 1,
			source_type: 1,
			target: 0
		});
	});

	it('keeps the head with the original column names', async () => {
		const { eda } = await ingest([KKBOX]);
		expect(eda.columns).toEqual([
			'',
			'msno',
			'song_id',
			'source_system_tab',
			'source_screen_name',
			'source_type',
			'target'
		]);
		expect(eda.head).toHaveLength(5);
		expect(eda.head[1]).toEqual({
			'': '1',
			msno: 'u1',
			song_id: 's2',
			source_system_tab: 'discover',
			source_screen_name: '',
			source_type: 'online-playlist',
			target: '0'
		});
	});

	it('describes categorical columns and splits value counts by target', async () => {
		const { eda } = await ingest([KKBOX]);
		const byKey = Object.fromEntries(eda.categorical.map((c) => [c.key, c]));
		expect(Object.keys(byKey)).toEqual(['source_system_tab', 'source_screen_name', 'source_type']);
		expect(byKey.source_system_tab.describe).toEqual({
			count: 4,
			unique: 2,
			top: 'my library',
			freq: 3
		});
		expect(byKey.source_system_tab.valueCounts).toEqual([
			{ value: 'my library', total: 3, target0: 0, target1: 3 },
			{ value: 'discover', total: 1, target0: 1, target1: 0 }
		]);
		// Tie on total: ordered by value.
		expect(byKey.source_screen_name.valueCounts).toEqual([
			{ value: 'Local', total: 2, target0: 0, target1: 2 },
			{ value: 'Radio', total: 2, target0: 1, target1: 1 }
		]);
		expect(byKey.source_type.describe).toEqual({ count: 4, unique: 3, top: 'radio', freq: 2 });
		expect(byKey.source_type.valueCounts.map((v) => [v.value, v.total])).toEqual([
			['radio', 2],
			['local-library', 1],
			['online-playlist', 1]
		]);
	});

	it('normalises the target distribution', async () => {
		const { eda } = await ingest([KKBOX]);
		expect(eda.target).toEqual({ counts: { '0': 2, '1': 3 }, share: { '0': 0.4, '1': 0.6 } });
		expect(eda.weight).toBeUndefined();
	});

	it('summarises the matrix with log2 degree histograms', async () => {
		const { eda } = await ingest([KKBOX]);
		const m = eda.matrix;
		expect(m.users).toBe(3);
		expect(m.items).toBe(3);
		expect(m.nnz).toBe(5);
		expect(m.rowsKept).toBe(5);
		expect(m.density).toBeCloseTo(5 / 9, 12);
		expect(m.sparsity).toBeCloseTo(4 / 9, 12);
		// Items per user: u1 2, u2 1, u3 2. Users per item: s1 2, s2 2, s3 1.
		expect(m.itemsPerUser).toEqual([
			{ lo: 1, hi: 2, count: 1 },
			{ lo: 2, hi: 4, count: 2 }
		]);
		expect(m.usersPerItem).toEqual([
			{ lo: 1, hi: 2, count: 1 },
			{ lo: 2, hi: 4, count: 2 }
		]);
	});

	it('is plain JSON', async () => {
		const { eda } = await ingest([KKBOX]);
		expect(JSON.parse(JSON.stringify(eda))).toEqual(eda);
		expect(structuredClone(eda)).toEqual(eda);
	});

	it('caps head at 50 rows', async () => {
		const rows = Array.from({ length: 120 }, (_, k) => `u${k},i${k % 7}`);
		const { eda } = await ingest(['user,item\n' + rows.join('\n')]);
		expect(eda.head).toHaveLength(50);
		expect(eda.head[49]).toEqual({ user: 'u49', item: 'i0' });
	});
});

describe('EDA of a weight column', () => {
	it('describes weights exactly on a small file (pandas conventions)', async () => {
		const text = 'userID\tartistID\tweight\n1\t1\t4\n1\t2\t1\n2\t1\t10\n2\t3\t3\n3\t1\t2\n';
		const { eda } = await ingest([text]);
		const w = eda.weight!;
		expect(w.count).toBe(5);
		expect(w.mean).toBeCloseTo(4, 12);
		// Sample std: squared deviations 0 + 9 + 36 + 1 + 4 = 50, / (5 - 1).
		expect(w.std).toBeCloseTo(Math.sqrt(12.5), 12);
		expect([w.min, w.q25, w.median, w.q75, w.max]).toEqual([1, 2, 3, 4, 10]);
		expect(w.quartiles).toBe('exact');
		expect(eda.target).toBeUndefined();
		expect(eda.categorical).toEqual([]);
	});

	it('estimates quartiles from a sample beyond the sample size, moments stay exact', async () => {
		const n = WEIGHT_SAMPLE_SIZE + 50_000;
		const values = new Int32Array(n);
		for (let k = 0; k < n; k++) values[k] = k + 1;
		new Rng(3).shuffle(values);
		const lines: string[] = ['user,item,weight'];
		for (let k = 0; k < n; k++) lines.push(`u${k % 1000},i${k},${values[k]}`);
		const { eda } = await ingest([lines.join('\n')]);
		const w = eda.weight!;
		expect(w.quartiles).toBe('sample');
		expect(w.count).toBe(n);
		expect(w.mean).toBeCloseTo((n + 1) / 2, 6);
		// Std of 1..n: sqrt(n (n + 1) / 12).
		expect(w.std).toBeCloseTo(Math.sqrt((n * (n + 1)) / 12), 3);
		expect(w.min).toBe(1);
		expect(w.max).toBe(n);
		expect(Math.abs(w.median - n / 2) / n).toBeLessThan(0.01);
		expect(Math.abs(w.q25 - n / 4) / n).toBeLessThan(0.01);
		expect(Math.abs(w.q75 - (3 * n) / 4) / n).toBeLessThan(0.01);
	});
});

describe('EDA helpers', () => {
	it('bins by powers of two, keeping empty middle bins and a zero bin', () => {
		const values = [1, 2, 3, 4, 7, 8, 0, 100, 1];
		const bins = log2Histogram(values);
		expect(bins.map((b) => [b.lo, b.hi])).toEqual([
			[0, 1],
			[1, 2],
			[2, 4],
			[4, 8],
			[8, 16],
			[16, 32],
			[32, 64],
			[64, 128]
		]);
		for (const b of bins) {
			expect(b.count).toBe(values.filter((v) => v >= b.lo && v < b.hi).length);
		}
		expect(log2Histogram([])).toEqual([]);
	});

	it('interpolates quantiles linearly', () => {
		const a = Float64Array.from([10, 20, 30, 40]);
		expect(quantileSorted(a, 0)).toBe(10);
		expect(quantileSorted(a, 0.5)).toBe(25);
		expect(quantileSorted(a, 0.25)).toBe(17.5);
		expect(quantileSorted(a, 1)).toBe(40);
		expect(quantileSorted(new Float64Array(0), 0.5)).toBeNaN();
	});
});
