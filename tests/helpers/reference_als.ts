/**
 * Plain-TypeScript float64 reference for implicit ALS, the one the tests compare the core and
 * the federation with. Nothing here calls src/lib/core (types only): it has its own Cholesky,
 * its own CSR transpose, and a second dense path (Gaussian elimination with partial pivoting on
 * the normal equations written out cell by cell) to cross-check the sparse one.
 *
 * Model (Hu, Koren, Volinsky 2008): preference p_ui = 1 on observed pairs, else 0; confidence
 * c_ui = 1 + alpha w (hkv) or alpha w (implicit) on observed pairs, else 1. Objective
 * `sum_ui c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 + |Y|^2)`.
 */
import type { Csr } from '../../src/lib/core/data/csr';

export type Convention = 'hkv' | 'implicit';

export interface ReferenceParams {
	factors: number;
	regularization: number;
	alpha: number;
	convention: Convention;
}

function conf(w: number, alpha: number, convention: Convention): number {
	return convention === 'hkv' ? 1 + alpha * w : alpha * w;
}

/**
 * Cholesky factor of a symmetric positive definite n x n matrix (row-major): the lower
 * triangular L with A = L L', column by column:
 * `L_jj = sqrt(A_jj - sum_{k<j} L_jk^2)`, `L_ij = (A_ij - sum_{k<j} L_ik L_jk) / L_jj` (i > j).
 */
export function referenceCholesky(a: ArrayLike<number>, n: number): Float64Array {
	const l = new Float64Array(n * n);
	for (let j = 0; j < n; j++) {
		let d = a[j * n + j];
		for (let k = 0; k < j; k++) d -= l[j * n + k] ** 2;
		if (!(d > 0)) throw new Error(`reference Cholesky: not positive definite at column ${j}`);
		const ljj = Math.sqrt(d);
		l[j * n + j] = ljj;
		for (let i = j + 1; i < n; i++) {
			let s = a[i * n + j];
			for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
			l[i * n + j] = s / ljj;
		}
	}
	return l;
}

/** Solve `L L' x = b`: forward substitution `L z = b`, then back substitution `L' x = z`. */
export function referenceCholeskySolve(
	l: Float64Array,
	n: number,
	b: ArrayLike<number>
): Float64Array {
	const z = Float64Array.from(b as ArrayLike<number>);
	for (let i = 0; i < n; i++) {
		for (let k = 0; k < i; k++) z[i] -= l[i * n + k] * z[k];
		z[i] /= l[i * n + i];
	}
	for (let i = n - 1; i >= 0; i--) {
		for (let k = i + 1; k < n; k++) z[i] -= l[k * n + i] * z[k];
		z[i] /= l[i * n + i];
	}
	return z;
}

/** The transpose of a CSR matrix (columns sorted within each row, as CSR requires). */
export function referenceTranspose(m: Csr): Csr {
	const count = new Int32Array(m.cols + 1);
	for (let e = 0; e < m.indptr[m.rows]; e++) count[m.indices[e] + 1]++;
	for (let c = 0; c < m.cols; c++) count[c + 1] += count[c];
	const indptr = count.slice();
	const next = count.slice(0, m.cols);
	const indices = new Int32Array(m.indptr[m.rows]);
	const data = new Float32Array(m.indptr[m.rows]);
	// Rows visited in ascending order, so each transposed row comes out sorted.
	for (let r = 0; r < m.rows; r++) {
		for (let e = m.indptr[r]; e < m.indptr[r + 1]; e++) {
			const slot = next[m.indices[e]]++;
			indices[slot] = r;
			data[slot] = m.data[e];
		}
	}
	return { rows: m.cols, cols: m.rows, indptr, indices, data };
}

/**
 * One exact half-step: for every row r of `m`, solve
 * `(F'F + sum_{j in r} (c_rj - 1) F_j F_j' + lambda I) z_r = sum_{j in r} c_rj F_j`
 * against the fixed factors F ([m.cols, f]); rows without entries get z_r = 0 (as implicit).
 */
export function exactHalfStep(m: Csr, fixed: ArrayLike<number>, p: ReferenceParams): Float64Array {
	const f = p.factors;
	const ftf = new Float64Array(f * f);
	for (let j = 0; j < m.cols; j++) {
		for (let a = 0; a < f; a++)
			for (let b = 0; b < f; b++) ftf[a * f + b] += fixed[j * f + a] * fixed[j * f + b];
	}
	const out = new Float64Array(m.rows * f);
	for (let r = 0; r < m.rows; r++) {
		if (m.indptr[r + 1] === m.indptr[r]) continue;
		const sys = ftf.slice();
		for (let a = 0; a < f; a++) sys[a * f + a] += p.regularization;
		const rhs = new Float64Array(f);
		for (let e = m.indptr[r]; e < m.indptr[r + 1]; e++) {
			const j = m.indices[e];
			const c = conf(m.data[e], p.alpha, p.convention);
			for (let a = 0; a < f; a++) {
				rhs[a] += c * fixed[j * f + a];
				for (let b = 0; b < f; b++) sys[a * f + b] += (c - 1) * fixed[j * f + a] * fixed[j * f + b];
			}
		}
		out.set(referenceCholeskySolve(referenceCholesky(sys, f), f, rhs), r * f);
	}
	return out;
}

/**
 * `sweeps` centralized exact sweeps (user step, then item step) from item factors `y0`. With
 * `roundItems` the item factors are rounded to float32 after every sweep, as a global file
 * stores them (default true).
 */
export function referenceAls(
	m: Csr,
	y0: ArrayLike<number>,
	sweeps: number,
	p: ReferenceParams,
	roundItems = true
): { x: Float64Array; y: Float64Array } {
	const mt = referenceTranspose(m);
	let y: Float64Array = Float64Array.from(y0 as ArrayLike<number>);
	let x: Float64Array = new Float64Array(m.rows * p.factors);
	for (let s = 0; s < sweeps; s++) {
		x = exactHalfStep(m, y, p);
		y = exactHalfStep(mt, x, p);
		if (roundItems) y = Float64Array.from(Float32Array.from(y));
	}
	return { x, y };
}

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
			c[r * m.cols + m.indices[k]] = conf(m.data[k], alpha, convention);
			p[r * m.cols + m.indices[k]] = 1;
		}
	}
	return { c, p };
}

/**
 * Exact least squares for every row r of the dense problem against fixed F (cols x f):
 * `(sum_i c_ri f_i f_i' + lambda I) x_r = sum_i c_ri p_ri f_i`, written straight from the
 * normal equations (no F'F trick). Rows with no observed entry get zeros, as in implicit.
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

/**
 * The same objective from the sparse entries only:
 * `sum_ui (x_u.y_i)^2 + sum_{observed} [c_ui (1 - s)^2 - s^2] + lambda(|X|^2 + |Y|^2)`,
 * s = x_u.y_i, with the first sum as `sum_{a,b} (X'X)_ab (Y'Y)_ab`; for matrices too large
 * for `denseLoss`.
 */
export function sparseLoss(
	m: Csr,
	x: ArrayLike<number>,
	y: ArrayLike<number>,
	p: ReferenceParams
): number {
	const f = p.factors;
	const gram = (v: ArrayLike<number>, n: number) => {
		const g = new Float64Array(f * f);
		for (let r = 0; r < n; r++)
			for (let a = 0; a < f; a++)
				for (let b = 0; b < f; b++) g[a * f + b] += v[r * f + a] * v[r * f + b];
		return g;
	};
	const gx = gram(x, m.rows);
	const gy = gram(y, m.cols);
	let loss = 0;
	for (let k = 0; k < f * f; k++) loss += gx[k] * gy[k];
	for (let u = 0; u < m.rows; u++) {
		for (let e = m.indptr[u]; e < m.indptr[u + 1]; e++) {
			const i = m.indices[e];
			let s = 0;
			for (let d = 0; d < f; d++) s += x[u * f + d] * y[i * f + d];
			loss += conf(m.data[e], p.alpha, p.convention) * (1 - s) ** 2 - s * s;
		}
	}
	let norms = 0;
	for (let k = 0; k < m.rows * f; k++) norms += x[k] ** 2;
	for (let k = 0; k < m.cols * f; k++) norms += y[k] ** 2;
	return loss + p.regularization * norms;
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
