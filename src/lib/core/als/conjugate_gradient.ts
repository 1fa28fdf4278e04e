import * as tf from '@tensorflow/tfjs-core';
import { gatherRows, scaleRows, type RowBlock } from './row_blocks';

/** Rows whose squared residual falls below this stop iterating (as in implicit). */
const CG_TOLERANCE = 1e-20;

/**
 * Per-row sums of entry rows: out[r] = sum_{k: row(k) = r} t[k]. The block's rows are sorted,
 * so sparseSegmentSum applies (unsortedSegmentSum is missing on wasm); it returns only up to
 * the last non-empty row, so trailing empty rows are padded back with zeros.
 */
function rowSum(block: RowBlock, t: tf.Tensor2D): tf.Tensor2D {
	// webgpu's sparseSegmentSum reads the segment ids back synchronously (a canvas read that,
	// in a Chromium worker, leaves the device unusable); entryIds is 0..n-1, so the unsorted
	// sum over the same segment ids is the same sum, all rows included.
	if (tf.getBackend() === 'webgpu') {
		return tf.unsortedSegmentSum(t, block.segmentIds, block.rows) as tf.Tensor2D;
	}
	const s = tf.sparse.sparseSegmentSum(t, block.entryIds, block.segmentIds) as tf.Tensor2D;
	if (block.segmentRows === block.rows) return s;
	return tf.pad(s, [
		[0, block.rows - block.segmentRows],
		[0, 0]
	]);
}

/** Per stored entry (r, i): the dot product `f_i . v_r`, as an [entries, 1] tensor. */
function entryDots(block: RowBlock, gathered: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor {
	return tf.sum(tf.mul(gathered, gatherRows(v, block.localRows, block.segmentIds)), 1, true);
}

/**
 * A v for every row without forming A: `(F'F + lambda I) v_r + sum_{i in r} (c_ri - 1)(f_i . v_r) f_i`.
 * `gathered` are the fixed-side rows f_i of the block's entries.
 */
function applyA(
	block: RowBlock,
	gram: tf.Tensor2D,
	gathered: tf.Tensor2D,
	v: tf.Tensor2D
): tf.Tensor2D {
	return tf.tidy(() => {
		const dots = entryDots(block, gathered, v);
		const sparse = rowSum(block, scaleRows(gathered, tf.mul(dots, block.confMinusOne)));
		return tf.add(tf.matMul(v, gram), sparse);
	});
}

/**
 * Residual `r = b - A x = sum_{i in r} (c_ri - (c_ri - 1)(f_i . x_r)) f_i - (F'F + lambda I) x_r`
 * (b = F' C_r p_r = sum c_ri f_i), with one weighted segment sum as in implicit.
 */
function residual(
	block: RowBlock,
	gram: tf.Tensor2D,
	gathered: tf.Tensor2D,
	x: tf.Tensor2D
): tf.Tensor2D {
	return tf.tidy(() => {
		const dots = entryDots(block, gathered, x);
		const weights = tf.sub(block.conf, tf.mul(dots, block.confMinusOne));
		return tf.sub(rowSum(block, scaleRows(gathered, weights as tf.Tensor2D)), tf.matMul(x, gram));
	});
}

/**
 * Solve `(F'F + F'(C_r - I)F + lambda I) x_r = F' C_r p_r` for every row of the block by
 * conjugate gradient, `steps` steps warm-started from `x0` (implicit's least_squares_cg,
 * batched: each row keeps its own alpha, beta and stopping mask). `gram` is F'F + lambda I,
 * `fixed` is F. Rows without entries get zero factors. Returns a new [rows, f] tensor.
 */
export function solveBlock(
	block: RowBlock,
	gram: tf.Tensor2D,
	fixed: tf.Tensor2D,
	x0: tf.Tensor2D,
	steps: number
): tf.Tensor2D {
	if (block.entries === 0) return tf.zeros([block.rows, fixed.shape[1]]);
	const gathered = gatherRows(fixed, block.cols, block.colsFlat);
	try {
		// r = b - A x, p = r, rsold = r.r; rows already converged (or empty) are inactive.
		let state = tf.tidy(() => {
			const x = tf.mul(x0, block.mask) as tf.Tensor2D;
			const r = residual(block, gram, gathered, x);
			const rs = tf.sum(tf.square(r), 1, true) as tf.Tensor2D;
			const active = tf.cast(tf.greaterEqual(rs, CG_TOLERANCE), 'float32') as tf.Tensor2D;
			return { x, r, p: r, rs, active };
		});
		for (let it = 0; it < steps; it++) {
			const prev = state;
			state = tf.tidy(() => {
				const { x, r, p, rs, active } = prev;
				const ap = applyA(block, gram, gathered, p);
				// alpha = rsold / p.Ap, zero for inactive rows (numerator masked, 0/0 -> 0).
				const alpha = tf.divNoNan(tf.mul(rs, active), tf.sum(tf.mul(p, ap), 1, true));
				const xNew = tf.add(x, tf.mul(alpha, p)) as tf.Tensor2D;
				const rNew = tf.sub(r, tf.mul(alpha, ap)) as tf.Tensor2D;
				const rsNew = tf.sum(tf.square(rNew), 1, true) as tf.Tensor2D;
				const stillActive = tf.mul(
					active,
					tf.cast(tf.greaterEqual(rsNew, CG_TOLERANCE), 'float32')
				) as tf.Tensor2D;
				// p = r + (rsnew / rsold) p for active rows; inactive rows never move again.
				const beta = tf.divNoNan(tf.mul(rsNew, stillActive), rs);
				const pNew = tf.add(rNew, tf.mul(beta, p)) as tf.Tensor2D;
				return { x: xNew, r: rNew, p: pNew, rs: rsNew, active: stillActive };
			});
			tf.dispose([prev.x, prev.r, prev.p, prev.rs, prev.active]);
		}
		tf.dispose([state.r, state.p, state.rs, state.active]);
		return state.x;
	} finally {
		gathered.dispose();
	}
}

/** Squared residual `|b - A x|^2` of every row of the block, [rows]; for tests and diagnostics. */
export function blockResiduals(
	block: RowBlock,
	gram: tf.Tensor2D,
	fixed: tf.Tensor2D,
	x: tf.Tensor2D
): tf.Tensor1D {
	if (block.entries === 0) {
		return tf.tidy(() => tf.sum(tf.square(tf.matMul(x, gram)), 1));
	}
	const gathered = gatherRows(fixed, block.cols, block.colsFlat);
	try {
		return tf.tidy(() => tf.sum(tf.square(residual(block, gram, gathered, x)), 1));
	} finally {
		gathered.dispose();
	}
}

/** `F'F + lambda I`, with F transposed explicitly (a transposed matMul skips XNNPACK on wasm). */
export function gramPlusRidge(fixed: tf.Tensor2D, lambda: number): tf.Tensor2D {
	return tf.tidy(() => {
		const f = fixed.shape[1];
		return tf.add(tf.matMul(tf.transpose(fixed), fixed), tf.mul(tf.eye(f), lambda));
	});
}
