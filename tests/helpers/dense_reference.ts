/**
 * Plain-TypeScript float64 reference for ALS: dense matrices, Gaussian elimination with partial
 * pivoting (deliberately a different method from the core's Cholesky), and one exact sweep.
 */
import type { Csr } from '../../src/lib/core/data/csr';

export type Convention = 'hkv' | 'implicit';

/** Solve the dense n x n system A x = b (row-major) by Gaussian elimination, partial pivoting. */
export function denseSolve(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
	const m = Float64Array.from(a as ArrayLike<number>);
	const x = Float64Array.from(b as ArrayLike<number>);
	for (let col = 0; col < n; col++) {
		let piv = col;
		for (let r = col + 1; r < n; r++) {
			if (Math.abs(m[r * n + col]) > Math.abs(m[piv * n + col])) piv = r;
		}
		if (piv !== col) {
			for (let c = 0; c < n; c++) {
				const t = m[col * n + c];
				m[col * n + c] = m[piv * n + c];
				m[piv * n + c] = t;
			}
			const t = x[col];
			x[col] = x[piv];
			x[piv] = t;
		}
		for (let r = col + 1; r < n; r++) {
			const factor = m[r * n + col] / m[col * n + col];
			if (factor === 0) continue;
			for (let c = col; c < n; c++) m[r * n + c] -= factor * m[col * n + c];
			x[r] -= factor * x[col];
		}
	}
	for (let r = n - 1; r >= 0; r--) {
		let s = x[r];
		for (let c = r + 1; c < n; c++) s -= m[r * n + c] * x[c];
		x[r] = s / m[r * n + r];
	}
	return x;
}

/** Dense confidence C and preference P (rows x cols, row-major) from a weight matrix. */
export function denseCP(
	m: Csr,
	alpha: number,
	convention: Convention
): { c: Float64Array; p: Float64Array } {
	const c = new Float64Array(m.rows * m.cols).fill(1);
	const p = new Float64Array(m.rows * m.cols);
	for (let r = 0; r < m.rows; r++) {
		for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
			const w = m.data[k];
			c[r * m.cols + m.indices[k]] = convention === 'hkv' ? 1 + alpha * w : alpha * w;
			p[r * m.cols + m.indices[k]] = 1;
		}
	}
	return { c, p };
}

/**
 * Exact least squares for every row r of the dense problem against fixed F (cols x f):
 * `(sum_i c_ri f_i f_i' + lambda I) x_r = sum_i c_ri p_ri f_i`, written straight from the
 * normal equations (no Y'Y trick). Rows with no observed entry get zeros, as in implicit.
 * `c`, `p` are rows x cols; `transposed` reads them as cols x rows.
 */
export function denseSolveRows(
	c: Float64Array,
	p: Float64Array,
	rows: number,
	cols: number,
	fixed: ArrayLike<number>,
	f: number,
	lambda: number,
	transposed = false
): Float64Array {
	const out = new Float64Array(rows * f);
	const at = (r: number, i: number) => (transposed ? i * rows + r : r * cols + i);
	for (let r = 0; r < rows; r++) {
		let observed = false;
		for (let i = 0; i < cols; i++) if (p[at(r, i)] !== 0) observed = true;
		if (!observed) continue;
		const a = new Float64Array(f * f);
		const b = new Float64Array(f);
		for (let d = 0; d < f; d++) a[d * f + d] = lambda;
		for (let i = 0; i < cols; i++) {
			const cri = c[at(r, i)];
			for (let s = 0; s < f; s++) {
				b[s] += cri * p[at(r, i)] * fixed[i * f + s];
				for (let t = 0; t < f; t++) a[s * f + t] += cri * fixed[i * f + s] * fixed[i * f + t];
			}
		}
		out.set(denseSolve(a, b, f), r * f);
	}
	return out;
}

/** One exact ALS sweep on the dense problem: every user, then every item. */
export function denseSweep(
	m: Csr,
	x: ArrayLike<number>,
	y: ArrayLike<number>,
	f: number,
	lambda: number,
	alpha: number,
	convention: Convention
): { x: Float64Array; y: Float64Array } {
	void x; // the exact user step does not depend on the previous user factors
	const { c, p } = denseCP(m, alpha, convention);
	const xNew = denseSolveRows(c, p, m.rows, m.cols, y, f, lambda);
	const yNew = denseSolveRows(c, p, m.cols, m.rows, xNew, f, lambda, true);
	return { x: xNew, y: yNew };
}

/** The full dense objective `sum c (p - x.y)^2 + lambda(|X|^2 + |Y|^2)` in float64. */
export function denseLoss(
	m: Csr,
	x: ArrayLike<number>,
	y: ArrayLike<number>,
	f: number,
	lambda: number,
	alpha: number,
	convention: Convention
): number {
	const { c, p } = denseCP(m, alpha, convention);
	let loss = 0;
	for (let u = 0; u < m.rows; u++) {
		for (let i = 0; i < m.cols; i++) {
			let s = 0;
			for (let d = 0; d < f; d++) s += x[u * f + d] * y[i * f + d];
			loss += c[u * m.cols + i] * (p[u * m.cols + i] - s) ** 2;
		}
	}
	let norms = 0;
	for (let k = 0; k < m.rows * f; k++) norms += x[k] ** 2;
	for (let k = 0; k < m.cols * f; k++) norms += y[k] ** 2;
	return loss + lambda * norms;
}

/** Largest absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
	if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
	let m = 0;
	for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
	return m;
}

/** Relative error |a - b| / |b| in the Euclidean norm. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let num = 0;
	let den = 0;
	for (let k = 0; k < a.length; k++) {
		num += (a[k] - b[k]) ** 2;
		den += b[k] ** 2;
	}
	return Math.sqrt(num / den);
}
