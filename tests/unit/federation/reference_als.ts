// Plain float64 implicit ALS with exact (Cholesky) solves: the centralized reference the
// federated rounds are compared with. Independent of src/lib/core/federation.
import { cholesky, choleskySolve } from '../../../src/lib/core/als/cholesky';
import { transpose, type Csr } from '../../../src/lib/core/data/csr';

export interface ReferenceParams {
	factors: number;
	regularization: number;
	alpha: number;
	convention: 'hkv' | 'implicit';
}

function conf(w: number, p: ReferenceParams): number {
	return p.convention === 'hkv' ? 1 + p.alpha * w : p.alpha * w;
}

/**
 * One half-step: for every row r of `m`, solve
 * `(F'F + sum_{j in r} (c_rj - 1) F_j F_j' + lambda I) z_r = sum_{j in r} c_rj F_j`
 * against the fixed factors F ([m.cols, f]); rows without entries get z_r = 0.
 */
export function exactHalfStep(m: Csr, fixed: Float64Array, p: ReferenceParams): Float64Array {
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
			const c = conf(m.data[e], p);
			for (let a = 0; a < f; a++) {
				rhs[a] += c * fixed[j * f + a];
				for (let b = 0; b < f; b++) sys[a * f + b] += (c - 1) * fixed[j * f + a] * fixed[j * f + b];
			}
		}
		out.set(choleskySolve(cholesky(sys, f), f, rhs), r * f);
	}
	return out;
}

/**
 * `sweeps` centralized sweeps (user step, then item step) from item factors `y0`. Item factors
 * are rounded to float32 after every sweep, as a global file stores them.
 */
export function referenceAls(
	m: Csr,
	y0: Float32Array,
	sweeps: number,
	p: ReferenceParams
): { x: Float64Array; y: Float64Array } {
	const mt = transpose(m);
	let y: Float64Array = Float64Array.from(y0);
	let x: Float64Array = new Float64Array(m.rows * p.factors);
	for (let s = 0; s < sweeps; s++) {
		x = exactHalfStep(m, y, p);
		y = Float64Array.from(Float32Array.from(exactHalfStep(mt, x, p)));
	}
	return { x, y };
}
