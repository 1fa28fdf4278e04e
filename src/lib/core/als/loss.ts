import * as tf from '@tensorflow/tfjs-core';
import { gatherRows, type RowBlock } from './row_blocks';

/**
 * The ALS objective, raw (not normalised; implicit divides by the total confidence mass):
 *
 *   L = sum_{all u,i} c_ui (p_ui - x_u.y_i)^2 + lambda (|X|^2 + |Y|^2)
 *
 * computed without the dense users x items matrix. With s_ui = x_u.y_i, unobserved cells
 * contribute s^2 and observed ones c (1 - s)^2, so
 *
 *   L = sum(X'X o Y'Y) + sum_{observed} [c (1 - s)^2 - s^2] + lambda (|X|^2 + |Y|^2)
 *
 * since sum_{all u,i} s_ui^2 = trace(X'X Y'Y). `userBlocks` are the user-side row blocks.
 * Partial sums are accumulated in float64.
 */
export async function alsLoss(
	userBlocks: readonly RowBlock[],
	userFactors: tf.Tensor2D,
	itemFactors: tf.Tensor2D,
	lambda: number
): Promise<number> {
	const parts: tf.Scalar[] = [];
	try {
		parts.push(denseLoss(userFactors, itemFactors, lambda));
		for (const b of userBlocks) {
			if (b.entries === 0) continue;
			parts.push(
				tf.tidy(() => {
					const xb = tf.slice(userFactors, [b.start, 0], [b.rows, -1]);
					const s = tf.sum(
						tf.mul(
							gatherRows(xb, b.localRows, b.segmentIds),
							gatherRows(itemFactors, b.cols, b.colsFlat)
						),
						1,
						true
					);
					const observed = tf.mul(b.conf, tf.square(tf.sub(1, s)));
					return tf.sum(tf.sub(observed, tf.square(s))) as tf.Scalar;
				})
			);
		}
		let total = 0;
		for (const p of parts) total += (await p.data())[0];
		return total;
	} finally {
		tf.dispose(parts);
	}
}

/** The part of L without observed entries: sum(X'X o Y'Y) + lambda (|X|^2 + |Y|^2). */
export function denseLoss(x: tf.Tensor2D, y: tf.Tensor2D, lambda: number): tf.Scalar {
	return tf.tidy(() => {
		const xtx = tf.matMul(tf.transpose(x), x);
		const yty = tf.matMul(tf.transpose(y), y);
		const norms = tf.add(tf.sum(tf.square(x)), tf.sum(tf.square(y)));
		return tf.add(tf.sum(tf.mul(xtx, yty)), tf.mul(norms, lambda)) as tf.Scalar;
	});
}
