import { describe, expect, it } from 'vitest';
import { pca2d, songMap } from '../../../src/lib/core/als/song_map';
import { Rng } from '../../../src/lib/core/random';

describe('pca2d', () => {
	it('finds the axes of an anisotropic cloud and projects onto them', () => {
		// Points x = 3 s e1' + 1 t e2' + 0.1 n e3' (+ offset) in a rotated 3-D basis.
		const rng = new Rng(3);
		const c = Math.SQRT1_2;
		const e1 = [c, c, 0];
		const e2 = [-c, c, 0];
		const e3 = [0, 0, 1];
		const rows = 500;
		const data = new Float32Array(rows * 3);
		const coords: [number, number][] = [];
		for (let r = 0; r < rows; r++) {
			const s = 3 * rng.normal();
			const t = rng.normal();
			const n = 0.1 * rng.normal();
			coords.push([s, t]);
			for (let a = 0; a < 3; a++) data[r * 3 + a] = 5 + s * e1[a] + t * e2[a] + n * e3[a];
		}
		const { points, variances } = pca2d(data, rows, 3);
		expect(variances[0]).toBeGreaterThan(variances[1]);
		// Variance along the first axis ~ 9, second ~ 1.
		expect(variances[0]).toBeGreaterThan(6);
		expect(variances[1]).toBeGreaterThan(0.6);
		expect(variances[1]).toBeLessThan(1.5);
		// Projections match the generating coordinates up to sign and the centring.
		const corr = (k: number, col: number) => {
			let sxy = 0;
			let sxx = 0;
			let syy = 0;
			for (let r = 0; r < rows; r++) {
				sxy += points[2 * r + k] * coords[r][col];
				sxx += points[2 * r + k] ** 2;
				syy += coords[r][col] ** 2;
			}
			return Math.abs(sxy) / Math.sqrt(sxx * syy);
		};
		expect(corr(0, 0)).toBeGreaterThan(0.99);
		expect(corr(1, 1)).toBeGreaterThan(0.99);
	});
});

describe('songMap', () => {
	it('samples the catalogue evenly and projects the sampled rows', () => {
		const f = 3;
		const rng = new Rng(5);
		const itemFactors = Float32Array.from({ length: 10 * f }, () => rng.normal());
		const record = {
			itemIds: Array.from({ length: 10 }, (_, i) => `s${i}`),
			itemFactors,
			meta: { params: { factors: f } }
		};
		const map = songMap(record, 4);
		expect(map.index).toEqual([0, 3, 6, 9]);
		expect(map.ids).toEqual(['s0', 's3', 's6', 's9']);
		const sample = new Float32Array(4 * f);
		map.index.forEach((i, k) => sample.set(itemFactors.subarray(i * f, (i + 1) * f), k * f));
		expect(Array.from(map.points)).toEqual(Array.from(pca2d(sample, 4, f).points));
		expect(songMap(record, 100).index).toHaveLength(10);
	});
});
