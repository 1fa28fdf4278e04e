import { MusicrecError } from '../errors';

/**
 * Cholesky factor of a symmetric positive definite n x n matrix (row-major, float64):
 * returns L (lower triangle, row-major) with A = L L'. Throws 'als/not-finite' when A is not
 * positive definite, which for ALS systems means the regularization is too small.
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
	const l = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j <= i; j++) {
			let s = a[i * n + j];
			for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
			if (i === j) {
				if (!(s > 0)) {
					throw new MusicrecError(
						'als/not-finite',
						'linear system is not positive definite: increase regularization',
						{ row: i, pivot: s }
					);
				}
				l[i * n + i] = Math.sqrt(s);
			} else {
				l[i * n + j] = s / l[j * n + j];
			}
		}
	}
	return l;
}

/** Solve `L L' x = b` given the Cholesky factor L from `cholesky`. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
	const y = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		let s = b[i];
		for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
		y[i] = s / l[i * n + i];
	}
	const x = new Float64Array(n);
	for (let i = n - 1; i >= 0; i--) {
		let s = y[i];
		for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
		x[i] = s / l[i * n + i];
	}
	return x;
}

/**
 * The inverse of a symmetric positive definite n x n matrix (float64, row-major): with
 * A = L L', M = L^-1 (forward substitution, lower triangular) and A^-1 = M'M, so
 * (A^-1)_ij = sum_{k >= max(i, j)} M_ki M_kj, exactly symmetric.
 */
export function spdInverse(a: Float64Array, n: number): Float64Array {
	const l = cholesky(a, n);
	const m = new Float64Array(n * n);
	for (let j = 0; j < n; j++) {
		m[j * n + j] = 1 / l[j * n + j];
		for (let i = j + 1; i < n; i++) {
			let s = 0;
			for (let k = j; k < i; k++) s -= l[i * n + k] * m[k * n + j];
			m[i * n + j] = s / l[i * n + i];
		}
	}
	const inv = new Float64Array(n * n);
	for (let i = 0; i < n; i++) {
		for (let j = 0; j <= i; j++) {
			let s = 0;
			for (let k = i; k < n; k++) s += m[k * n + i] * m[k * n + j];
			inv[i * n + j] = s;
			inv[j * n + i] = s;
		}
	}
	return inv;
}
