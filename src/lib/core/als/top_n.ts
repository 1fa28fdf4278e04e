import * as tf from '@tensorflow/tfjs-core';
import type { TopN } from '../eval/ranker';

/**
 * Set `scores[rows[k], cols[k]] = -Infinity` (excluded items can then never be picked).
 * Returns a new tensor; `scores` is left alone.
 */
export function excludeCells(scores: tf.Tensor2D, rows: Int32Array, cols: Int32Array): tf.Tensor2D {
	if (rows.length === 0) return tf.clone(scores);
	return tf.tidy(() => {
		const idx = new Int32Array(rows.length * 2);
		for (let k = 0; k < rows.length; k++) {
			idx[2 * k] = rows[k];
			idx[2 * k + 1] = cols[k];
		}
		return tf.tensorScatterUpdate(
			scores,
			tf.tensor2d(idx, [rows.length, 2], 'int32'),
			tf.fill([rows.length], -Infinity)
		);
	});
}

/**
 * Top-n of every row of `scores` (rows x items), best first. Cells scored -Infinity are
 * excluded; a row with fewer than n eligible items is padded with item -1 and score -Infinity.
 * Ties keep tf.topk's order (lower index first).
 */
export async function topNOfScores(scores: tf.Tensor2D, n: number): Promise<TopN> {
	const [rows, items] = scores.shape;
	const k = Math.min(n, items);
	const out: TopN = {
		n,
		items: new Int32Array(rows * n).fill(-1),
		scores: new Float32Array(rows * n).fill(-Infinity)
	};
	if (k === 0 || rows === 0) return out;
	const { values, indices } = tf.topk(scores, k);
	try {
		const [v, i] = await Promise.all([values.data(), indices.data()]);
		for (let r = 0; r < rows; r++) {
			for (let j = 0; j < k; j++) {
				const s = v[r * k + j];
				if (s === -Infinity) break;
				out.items[r * n + j] = i[r * k + j];
				out.scores[r * n + j] = s;
			}
		}
		return out;
	} finally {
		tf.dispose([values, indices]);
	}
}
