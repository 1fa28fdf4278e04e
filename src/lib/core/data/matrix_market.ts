/**
 * Matrix Market coordinate text of a CSR matrix (`%%MatrixMarket matrix coordinate real
 * general`, 1-based row and column indices, one `row col value` line per stored entry): the
 * format other programs (scipy.io.mmread, implicit's reference runner) read a split from.
 * Values are written with the shortest decimal that reads back as the same float32.
 */
import type { Csr } from './csr';
import { nnz } from './csr';

/** The text in chunks of about `rowsPerChunk` rows, so a large matrix is never one string. */
export function* matrixMarketChunks(m: Csr, rowsPerChunk = 4096): Generator<string> {
	yield `%%MatrixMarket matrix coordinate real general\n${m.rows} ${m.cols} ${nnz(m)}\n`;
	for (let r0 = 0; r0 < m.rows; r0 += rowsPerChunk) {
		const lines: string[] = [];
		const r1 = Math.min(m.rows, r0 + rowsPerChunk);
		for (let r = r0; r < r1; r++) {
			for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
				lines.push(`${r + 1} ${m.indices[k] + 1} ${shortestFloat32(m.data[k])}`);
			}
		}
		if (lines.length > 0) yield lines.join('\n') + '\n';
	}
}

/** The shortest decimal string `s` with `Math.fround(Number(s)) === v`. */
export function shortestFloat32(v: number): string {
	for (let digits = 1; digits < 17; digits++) {
		const s = String(Number(v.toPrecision(digits)));
		if (Math.fround(Number(s)) === v) return s;
	}
	return String(v);
}
