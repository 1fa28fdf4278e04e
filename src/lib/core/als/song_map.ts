/**
 * A 2-D map of a model's song factors: an even sample of the catalogue projected on its top two
 * principal components (what the Recommend page draws).
 */
import { topEigenpair } from '../eigen';
import type { ModelRecord } from '../model_record';

/** A sample of songs and their 2-D positions. */
export interface SongMap {
	/** [songs x 2] positions, row-major. */
	readonly points: Float64Array;
	/** Catalogue index of each drawn song. */
	readonly index: number[];
	readonly ids: string[];
	/** Variance along each axis. */
	readonly variances: [number, number];
}

/** At most `maxSongs` songs (an even stride over the catalogue), projected by `pca2d`. */
export function songMap(
	record: Pick<ModelRecord, 'itemIds' | 'itemFactors'> & {
		meta: { params: { factors: number } };
	},
	maxSongs: number
): SongMap {
	const f = record.meta.params.factors;
	const items = record.itemIds.length;
	const stride = Math.max(1, Math.ceil(items / maxSongs));
	const index: number[] = [];
	for (let i = 0; i < items; i += stride) index.push(i);
	const data = new Float32Array(index.length * f);
	index.forEach((i, k) => data.set(record.itemFactors.subarray(i * f, (i + 1) * f), k * f));
	const { points, variances } = pca2d(data, index.length, f);
	return { points, variances, index, ids: index.map((i) => record.itemIds[i]) };
}

/**
 * Projection of the rows of `data` (rows x f, row-major) on their top-2 principal components:
 * centre the columns, form the covariance `C = Z'Z / rows` (f x f), find its leading
 * eigenvectors by power iteration (`topEigenpair`) (the second after deflating `C - l1 v1 v1'`) and return
 * `[z_r . v1, z_r . v2]` per row. Deterministic (fixed start vectors); signs are arbitrary.
 */
export function pca2d(
	data: Float32Array,
	rows: number,
	f: number,
	iterations = 200
): { points: Float64Array; variances: [number, number] } {
	const mean = new Float64Array(f);
	for (let r = 0; r < rows; r++) for (let a = 0; a < f; a++) mean[a] += data[r * f + a];
	for (let a = 0; a < f; a++) mean[a] /= Math.max(1, rows);
	const cov = new Float64Array(f * f);
	const z = new Float64Array(f);
	for (let r = 0; r < rows; r++) {
		for (let a = 0; a < f; a++) z[a] = data[r * f + a] - mean[a];
		for (let a = 0; a < f; a++) {
			const za = z[a];
			for (let b = a; b < f; b++) cov[a * f + b] += za * z[b];
		}
	}
	for (let a = 0; a < f; a++) {
		for (let b = a; b < f; b++) {
			cov[a * f + b] /= Math.max(1, rows);
			cov[b * f + a] = cov[a * f + b];
		}
	}
	const { value: l1, vector: v1 } = topEigenpair(cov, f, iterations);
	for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) cov[a * f + b] -= l1 * v1[a] * v1[b];
	const { value: l2, vector: v2 } = topEigenpair(cov, f, iterations);
	const points = new Float64Array(rows * 2);
	for (let r = 0; r < rows; r++) {
		let p1 = 0;
		let p2 = 0;
		for (let a = 0; a < f; a++) {
			const za = data[r * f + a] - mean[a];
			p1 += za * v1[a];
			p2 += za * v2[a];
		}
		points[2 * r] = p1;
		points[2 * r + 1] = p2;
	}
	return { points, variances: [l1, l2] };
}
