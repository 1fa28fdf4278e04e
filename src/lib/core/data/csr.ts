/**
 * Compressed sparse rows: row r holds columns `indices[indptr[r] .. indptr[r+1])` with values
 * `data[...]`. Columns within a row are sorted ascending and unique (duplicates are summed
 * when the matrix is built), which the ALS segment sums and the metrics rely on.
 */
export interface Csr {
	readonly rows: number;
	readonly cols: number;
	readonly indptr: Int32Array;
	readonly indices: Int32Array;
	readonly data: Float32Array;
}

export function nnz(m: Csr): number {
	return m.indptr[m.rows];
}

/**
 * Build a CSR matrix from coordinate triplets; duplicate (row, col) pairs are summed.
 * `reduceExtra` optionally carries a parallel Int8 array (e.g. KKBox `target`), reduced by max.
 */
export function csrFromTriplets(
	rows: number,
	cols: number,
	rowIdx: Int32Array,
	colIdx: Int32Array,
	values: Float32Array,
	extra?: Int8Array
): { matrix: Csr; extra?: Int8Array } {
	const n = rowIdx.length;
	if (colIdx.length !== n || values.length !== n || (extra && extra.length !== n)) {
		throw new RangeError('csrFromTriplets: arrays differ in length');
	}
	// Two stable counting sorts (radix by column, then by row): each row's entries come out
	// ordered by column, duplicates of a pair in file order, so sums run in file order.
	const colStart = new Int32Array(cols + 1);
	const rowStart = new Int32Array(rows + 1);
	for (let k = 0; k < n; k++) {
		const r = rowIdx[k];
		if (r < 0 || r >= rows) throw new RangeError(`row index ${r} out of [0, ${rows})`);
		const c = colIdx[k];
		if (c < 0 || c >= cols) throw new RangeError(`column index ${c} out of [0, ${cols})`);
		rowStart[r + 1]++;
		colStart[c + 1]++;
	}
	for (let c = 0; c < cols; c++) colStart[c + 1] += colStart[c];
	for (let r = 0; r < rows; r++) rowStart[r + 1] += rowStart[r];
	const byCol = new Int32Array(n);
	for (let k = 0; k < n; k++) byCol[colStart[colIdx[k]]++] = k;
	const order = new Int32Array(n);
	const fill = rowStart.slice(0, rows);
	for (let j = 0; j < n; j++) {
		const k = byCol[j];
		order[fill[rowIdx[k]]++] = k;
	}

	const indptr = new Int32Array(rows + 1);
	const outIdx = new Int32Array(n);
	const outVal = new Float32Array(n);
	const outExtra = extra ? new Int8Array(n) : undefined;
	let w = 0;
	for (let r = 0; r < rows; r++) {
		const end = rowStart[r + 1];
		let last = -1;
		for (let j = rowStart[r]; j < end; j++) {
			const k = order[j];
			const c = colIdx[k];
			if (c === last) {
				outVal[w - 1] += values[k];
				if (outExtra && extra) outExtra[w - 1] = Math.max(outExtra[w - 1], extra[k]);
			} else {
				outIdx[w] = c;
				outVal[w] = values[k];
				if (outExtra && extra) outExtra[w] = extra[k];
				w++;
				last = c;
			}
		}
		indptr[r + 1] = w;
	}
	return {
		matrix: { rows, cols, indptr, indices: outIdx.slice(0, w), data: outVal.slice(0, w) },
		extra: outExtra?.slice(0, w)
	};
}

/** Transpose (rows become columns); the result's rows have sorted columns. */
export function transpose(m: Csr): Csr {
	const n = nnz(m);
	const indptr = new Int32Array(m.cols + 1);
	for (let k = 0; k < n; k++) indptr[m.indices[k] + 1]++;
	for (let c = 0; c < m.cols; c++) indptr[c + 1] += indptr[c];
	const fill = indptr.slice(0, m.cols);
	const indices = new Int32Array(n);
	const data = new Float32Array(n);
	for (let r = 0; r < m.rows; r++) {
		for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
			const dst = fill[m.indices[k]]++;
			indices[dst] = r;
			data[dst] = m.data[k];
		}
	}
	return { rows: m.cols, cols: m.rows, indptr, indices, data };
}

/** Row index of every stored entry (the COO row array), e.g. for segment sums. */
export function rowOfEntry(m: Csr): Int32Array {
	const out = new Int32Array(nnz(m));
	for (let r = 0; r < m.rows; r++) out.fill(r, m.indptr[r], m.indptr[r + 1]);
	return out;
}
