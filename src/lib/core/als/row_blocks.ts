import * as tf from '@tensorflow/tfjs-core';
import type { Csr } from '../data/csr';
import { confidence, type AlsParams } from './params';

/**
 * One block of consecutive rows of the matrix being solved (users in the user step, items in
 * the item step) with its entries as resident tensors. Every ALS solve of these rows reuses
 * them, so they are built once per fit.
 */
export interface RowBlock {
	/** First row (global index) and number of rows. */
	readonly start: number;
	readonly rows: number;
	/** Stored entries in the block. */
	readonly entries: number;
	/** Number of leading rows the segment sum produces: last non-empty local row + 1. */
	readonly segmentRows: number;
	/** [entries, 1] int32: column of each entry (row of the fixed factors to gather). */
	readonly cols: tf.Tensor2D;
	/** [entries] int32: the same columns, flat (for tf.gather). */
	readonly colsFlat: tf.Tensor1D;
	/** [entries, 1] int32: local row of each entry (to gather the solved rows). */
	readonly localRows: tf.Tensor2D;
	/** [entries] int32: the same local rows, sorted, as segment ids. */
	readonly segmentIds: tf.Tensor1D;
	/** [entries] int32: 0 .. entries-1, the identity selection for sparseSegmentSum. */
	readonly entryIds: tf.Tensor1D;
	/** [entries, 1] float32: c - 1, the weight of y y' added to Y'Y. */
	readonly confMinusOne: tf.Tensor2D;
	/** [entries, 1] float32: c p = c, the weight of y in the right-hand side. */
	readonly conf: tf.Tensor2D;
	/** [rows, 1] float32: 1 for rows with entries, 0 for empty rows (their factors are 0). */
	readonly mask: tf.Tensor2D;
}

/** Live `entries x f` float32 temporaries of one block solve, for the memory budget. */
const LIVE_ENTRY_TENSORS = 6;

/**
 * Split rows into consecutive blocks whose `entries x factors` float32 temporaries
 * (LIVE_ENTRY_TENSORS of them) fit in `memoryBudgetBytes`; a block holds at least one row.
 */
export function planBlocks(
	indptr: Int32Array,
	factors: number,
	memoryBudgetBytes: number
): Array<{ start: number; end: number }> {
	const rows = indptr.length - 1;
	const maxEntries = Math.max(
		1,
		Math.floor(memoryBudgetBytes / (LIVE_ENTRY_TENSORS * factors * 4))
	);
	const blocks: Array<{ start: number; end: number }> = [];
	let start = 0;
	while (start < rows) {
		let end = start + 1;
		while (end < rows && indptr[end + 1] - indptr[start] <= maxEntries) end++;
		blocks.push({ start, end });
		start = end;
	}
	return blocks;
}

/** Resident tensors for each block of `matrix` (rows are solved, columns index the fixed side). */
export function buildRowBlocks(
	matrix: Csr,
	params: Pick<AlsParams, 'alpha' | 'convention' | 'factors'>,
	memoryBudgetBytes: number
): RowBlock[] {
	return planBlocks(matrix.indptr, params.factors, memoryBudgetBytes).map(({ start, end }) => {
		const e0 = matrix.indptr[start];
		const e1 = matrix.indptr[end];
		const n = e1 - e0;
		const rows = end - start;
		const local = new Int32Array(n);
		const cm1 = new Float32Array(n);
		const c = new Float32Array(n);
		const mask = new Float32Array(rows);
		let segmentRows = 0;
		for (let r = start; r < end; r++) {
			if (matrix.indptr[r + 1] > matrix.indptr[r]) {
				mask[r - start] = 1;
				segmentRows = r - start + 1;
			}
			for (let k = matrix.indptr[r]; k < matrix.indptr[r + 1]; k++) {
				local[k - e0] = r - start;
				const ck = confidence(matrix.data[k], params);
				c[k - e0] = ck;
				cm1[k - e0] = ck - 1;
			}
		}
		const entryIds = new Int32Array(n);
		for (let k = 0; k < n; k++) entryIds[k] = k;
		return {
			start,
			rows,
			entries: n,
			segmentRows,
			cols: tf.tensor2d(matrix.indices.slice(e0, e1), [n, 1], 'int32'),
			colsFlat: tf.tensor1d(matrix.indices.slice(e0, e1), 'int32'),
			localRows: tf.tensor2d(local, [n, 1], 'int32'),
			segmentIds: tf.tensor1d(local, 'int32'),
			entryIds: tf.tensor1d(entryIds, 'int32'),
			confMinusOne: tf.tensor2d(cm1, [n, 1]),
			conf: tf.tensor2d(c, [n, 1]),
			mask: tf.tensor2d(mask, [rows, 1])
		};
	});
}

/** Free a block's tensors. */
export function disposeRowBlock(b: RowBlock): void {
	tf.dispose([
		b.cols,
		b.colsFlat,
		b.localRows,
		b.segmentIds,
		b.entryIds,
		b.confMinusOne,
		b.conf,
		b.mask
	]);
}

/**
 * Rows `t[index[k]]`, given the indices both as [n, 1] and flat [n]. On wasm this is
 * tf.gatherND (tf.gather is about 100x slower there); on cpu tf.gather (2x faster than
 * gatherND there); other backends use tf.gather.
 */
export function gatherRows(t: tf.Tensor2D, index: tf.Tensor2D, flat: tf.Tensor1D): tf.Tensor2D {
	return (tf.getBackend() === 'wasm' ? tf.gatherND(t, index) : tf.gather(t, flat)) as tf.Tensor2D;
}

/**
 * Row scaling `t[k, :] * w[k]` for t [n, f] and w [n, 1]. The broadcast multiply is the fast
 * path on wasm; on cpu it is about 10x slower than a same-shape multiply, so there the
 * weights are first spread to [n, f] by an outer product with ones (about 4x faster overall).
 */
export function scaleRows(t: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
	if (tf.getBackend() !== 'cpu') return tf.mul(t, w);
	return tf.tidy(() => tf.mul(t, tf.matMul(w, tf.ones([1, t.shape[1]]))));
}
