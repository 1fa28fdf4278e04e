import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fit } from '../../../src/lib/core/als/fit';
import {
	AlsCgKernel,
	exactRowLimit,
	planRows,
	splitByCost
} from '../../../src/lib/core/als/kernel/cg_kernel';
import { cgSolveOp, useAlsKernel } from '../../../src/lib/core/als/kernel/tf_kernel';
import { transpose, type Csr } from '../../../src/lib/core/data/csr';
import { startKernelThreads } from '../../../src/lib/node/kernel_threads';
import { KERNEL_MODULE, kernelModuleText } from '../../../scripts/build_kernels';
import {
	denseCP,
	denseLoss,
	denseSolve,
	denseSolveRows,
	maxAbsDiff,
	relativeError
} from '../../helpers/reference_als';
import { randomArray, randomCsr } from '../../helpers/random_csr';
import { onBackend, TF_BACKENDS } from '../../helpers/tf_node';

const LAMBDA = 0.3;
const ALPHA = 2;

/** Confidences of the hkv convention, c = 1 + alpha w. */
function confOf(m: Csr): Float32Array {
	return Float32Array.from(m.data, (w) => 1 + ALPHA * w);
}

/**
 * implicit's least_squares_cg for one row, written independently in float64 with explicit
 * loops: the reference the kernel must follow step by step.
 */
function referenceCg(
	m: Csr,
	fixed: ArrayLike<number>,
	gram: ArrayLike<number>,
	x0: ArrayLike<number>,
	f: number,
	steps: number
): Float64Array {
	const out = new Float64Array(m.rows * f);
	const conf = confOf(m);
	for (let u = 0; u < m.rows; u++) {
		const k0 = m.indptr[u];
		const k1 = m.indptr[u + 1];
		if (k0 === k1) continue;
		const x = Float64Array.from({ length: f }, (_, d) => x0[u * f + d]);
		const times = (v: Float64Array) => {
			const av = new Float64Array(f);
			for (let s = 0; s < f; s++) for (let t = 0; t < f; t++) av[s] += gram[s * f + t] * v[t];
			for (let k = k0; k < k1; k++) {
				const i = m.indices[k];
				let d = 0;
				for (let t = 0; t < f; t++) d += fixed[i * f + t] * v[t];
				for (let s = 0; s < f; s++) av[s] += (conf[k] - 1) * d * fixed[i * f + s];
			}
			return av;
		};
		const ax = times(x);
		const r = new Float64Array(f);
		for (let k = k0; k < k1; k++)
			for (let s = 0; s < f; s++) r[s] += conf[k] * fixed[m.indices[k] * f + s];
		for (let s = 0; s < f; s++) r[s] -= ax[s];
		const p = r.slice();
		const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, v, s) => acc + v * b[s], 0);
		let rsold = dot(r, r);
		for (let it = 0; it < steps && rsold >= 1e-20; it++) {
			const ap = times(p);
			const alpha = rsold / dot(p, ap);
			for (let s = 0; s < f; s++) {
				x[s] += alpha * p[s];
				r[s] -= alpha * ap[s];
			}
			const rsnew = dot(r, r);
			if (rsnew < 1e-20) break;
			for (let s = 0; s < f; s++) p[s] = r[s] + (rsnew / rsold) * p[s];
			rsold = rsnew;
		}
		out.set(x, u * f);
	}
	return out;
}

/** The kernel's input for matrix m against `fixed`: every row by CG unless `exact`. */
function cgInput(
	m: Csr,
	fixed: Float32Array,
	x0: Float32Array,
	f: number,
	steps: number,
	exact = false
) {
	return {
		indptr: m.indptr,
		indices: m.indices,
		conf: confOf(m),
		fixed,
		lambda: LAMBDA,
		x0,
		factors: f,
		steps,
		exactShortRows: exact
	};
}

/**
 * Row u's exact solution in float64, by Gaussian elimination on the normal equations
 * (F'F + lambda I + sum_i (c_i - 1) f_i f_i') x = sum_i c_i f_i.
 */
function exactRowReference(
	indptr: Int32Array,
	indices: Int32Array,
	conf: Float32Array,
	fixed: Float32Array,
	gram: Float64Array,
	f: number,
	u: number
): Float64Array {
	const a = gram.slice();
	const b = new Float64Array(f);
	for (let k = indptr[u]; k < indptr[u + 1]; k++) {
		const i = indices[k];
		for (let s = 0; s < f; s++) {
			b[s] += conf[k] * fixed[i * f + s];
			for (let t = 0; t < f; t++)
				a[s * f + t] += (conf[k] - 1) * fixed[i * f + s] * fixed[i * f + t];
		}
	}
	return denseSolve(a, b, f);
}

/** F'F + lambda I in float64. */
function gram64(fixed: Float32Array, n: number, f: number, lambda = LAMBDA): Float64Array {
	const g = new Float64Array(f * f);
	for (let i = 0; i < n; i++)
		for (let s = 0; s < f; s++)
			for (let t = 0; t < f; t++) g[s * f + t] += fixed[i * f + s] * fixed[i * f + t];
	for (let d = 0; d < f; d++) g[d * f + d] += lambda;
	return g;
}

/**
 * Rows of every length from 0 to 2 * maxLength (row u has u mod (2 maxLength + 1) distinct
 * columns) with confidences in [0.5, 4), every seventh exactly 1 (c - 1 = 0, no term in A).
 */
function mixedRows(rows: number, cols: number, maxLength: number, seed: number) {
	const indptr = new Int32Array(rows + 1);
	const indices: number[] = [];
	const conf: number[] = [];
	const draw = randomArray(rows * cols * 2, seed, 0, 1);
	let at = 0;
	for (let u = 0; u < rows; u++) {
		const k = u % (2 * maxLength + 1);
		const picked = new Set<number>();
		while (picked.size < k) picked.add(Math.floor(draw[at++ % draw.length] * cols));
		for (const i of [...picked].sort((x, y) => x - y)) {
			indices.push(i);
			conf.push(indices.length % 7 === 0 ? 1 : 0.5 + 3.5 * draw[at++ % draw.length]);
		}
		indptr[u + 1] = indices.length;
	}
	return { indptr, indices: Int32Array.from(indices), conf: Float32Array.from(conf) };
}

function problem(f: number, seed: number) {
	// rows 3 and 11 empty, column 5 never used; about 30 % dense
	const m = randomCsr(16, 48, 0.3, seed, [3, 11], [5]);
	const fixed = randomArray(48 * f, seed + 1, -0.5, 0.5);
	const x0 = randomArray(16 * f, seed + 2, -0.5, 0.5);
	return { m, fixed, x0, gram: gram64(fixed, 48, f) };
}

describe('fused CG kernel (WebAssembly SIMD)', () => {
	let kernel: AlsCgKernel;
	beforeAll(async () => {
		kernel = await AlsCgKernel.create();
	});

	// f = 10 and 6 are not multiples of 4 (padded lanes), 32 and 64 use the 32-float blocks
	it.each([6, 10, 32, 64])('follows float64 CG step by step at f = %i', (f) => {
		const { m, fixed, x0, gram } = problem(f, 10 + f);
		for (const steps of [1, 3]) {
			const got = kernel.solveRows(cgInput(m, fixed, x0, f, steps));
			const want = referenceCg(m, fixed, gram, x0, f, steps);
			expect(relativeError(got, want)).toBeLessThan(2e-5);
			// empty rows are zero, whatever the warm start
			for (const u of [3, 11])
				expect(Array.from(got.subarray(u * f, (u + 1) * f))).toEqual(new Array(f).fill(0));
		}
	});

	it('with 2f steps solves every row exactly (float64 normal equations)', () => {
		const f = 10;
		const { m, fixed, x0 } = problem(f, 3);
		const got = kernel.solveRows(cgInput(m, fixed, x0, f, 2 * f));
		const { c, p } = denseCP(m, ALPHA, 'hkv');
		const exact = denseSolveRows(c, p, m.rows, m.cols, fixed, f, LAMBDA);
		expect(relativeError(got, exact)).toBeLessThan(1e-4);
	});

	it('cost model: exact rows up to 19 entries at f = 64, 13 at 32, 7 at 12 (3 CG steps)', () => {
		// hand-evaluated from the costs in cg_kernel.ts: at f = 64, k = 19 costs 64 (3 * 19 +
		// 190) + 4 * 19^3 / 3 = 24,953 against CG's 4 (4096 + 2 * 19 * 64) = 26,112; k = 20:
		// 27,947 against 26,624
		expect(exactRowLimit(64, 3)).toBe(19);
		expect(exactRowLimit(32, 3)).toBe(13);
		expect(exactRowLimit(12, 3)).toBe(7);
		// one CG step is cheaper, so fewer rows go exact
		expect(exactRowLimit(32, 1)).toBe(8);
		// and a call whose short rows do not pay for H = F G^-1 solves none exactly
		// 100 one-entry rows save 100 * (16,896 - 257) multiply-adds: more than H and the inverse
		// cost for 2 fixed rows (2 * 64^2 + 4 * 64^3 = 1.06 M), less than for 100,000
		const ones = Int32Array.from({ length: 101 }, (_, u) => u);
		expect(planRows(ones, 100_000, 64, 3, true, 1).exactMax).toBe(0);
		expect(planRows(ones, 2, 64, 3, true, 1)).toMatchObject({ exactMax: 19, exactRows: 100 });
		expect(planRows(ones, 2, 64, 3, false, 1).exactMax).toBe(0);
		expect(Array.from(planRows(ones, 2, 64, 3, true, 4).bounds)).toEqual([0, 25, 50, 75, 100]);
	});

	// f = 10 exercises the padded lanes, 32 and 64 the 32-float blocks
	it.each([10, 32, 64])(
		'solves short rows exactly (float64 normal equations) and long ones by CG at f = %i',
		(f) => {
			const steps = 1;
			const limit = exactRowLimit((f + 3) & ~3, steps);
			const n = 90;
			// enough short rows to pay for H = F G^-1 (planRows)
			const rowsData = mixedRows(30 * (2 * limit + 1), n, limit, 70 + f);
			const fixed = randomArray(n * f, 71 + f, -0.5, 0.5);
			const gram = gram64(fixed, n, f);
			const x0 = randomArray((rowsData.indptr.length - 1) * f, 72 + f, -0.5, 0.5);
			const input = { ...rowsData, fixed, lambda: LAMBDA, x0, factors: f, steps };
			const got = kernel.solveRows(input);
			expect(kernel.lastSolve.exactMax).toBe(limit);
			const cg = kernel.solveRows({ ...input, exactShortRows: false });
			expect(kernel.lastSolve.exactMax).toBe(0);
			let exactRows = 0;
			for (let u = 0; u < rowsData.indptr.length - 1; u++) {
				const k = rowsData.indptr[u + 1] - rowsData.indptr[u];
				const row = got.subarray(u * f, (u + 1) * f);
				if (k === 0) {
					expect(Array.from(row)).toEqual(new Array(f).fill(0));
				} else if (k <= limit) {
					exactRows++;
					const want = exactRowReference(
						rowsData.indptr,
						rowsData.indices,
						rowsData.conf,
						fixed,
						gram,
						f,
						u
					);
					expect(relativeError(row, want)).toBeLessThan(1e-4);
					// one CG step from a random start is far from it: the exact path ran
					expect(relativeError(cg.subarray(u * f, (u + 1) * f), want)).toBeGreaterThan(1e-2);
				} else {
					// long rows: the CG steps, bit for bit as with exact rows off
					expect(Array.from(row)).toEqual(Array.from(cg.subarray(u * f, (u + 1) * f)));
				}
			}
			expect(exactRows).toBeGreaterThan(25 * limit);
		}
	);

	it('G^-1 and H = F G^-1 agree with float64, and a singular G falls back to CG', () => {
		const f = 10;
		const n = 120;
		const fixed = randomArray(n * f, 80, -1, 1);
		const got = kernel.inverseRows(fixed, f, LAMBDA);
		expect(got).toBeDefined();
		const g = gram64(fixed, n, f);
		for (let i = 0; i < n; i += 17) {
			const want = denseSolve(g, fixed.subarray(i * f, (i + 1) * f), f);
			expect(relativeError(got!.h.subarray(i * f, (i + 1) * f), want)).toBeLessThan(1e-4);
		}
		// lambda 0 and a factor column that is zero everywhere: G is singular, no exact rows
		const flat = fixed.map((v, j) => (j % f === 2 ? 0 : v));
		expect(kernel.inverseRows(flat, f, 0)).toBeUndefined();
		const rowsData = mixedRows(60, n, 5, 81);
		const x0 = randomArray(60 * f, 82, -0.5, 0.5);
		const input = { ...rowsData, fixed: flat, lambda: 0, x0, factors: f, steps: 2 };
		const a = kernel.solveRows(input);
		expect(kernel.lastSolve.exactMax).toBe(0);
		expect(maxAbsDiff(a, kernel.solveRows({ ...input, exactShortRows: false }))).toBe(0);
	});

	it('keeps the factors resident between half-sweeps: same bits, nothing copied twice', () => {
		const f = 12;
		const users = randomCsr(150, 90, 0.06, 51);
		const items = transpose(users);
		const side = (m: Csr) => ({ indptr: m.indptr, indices: m.indices, conf: confOf(m) });
		const problemOf = (m: Csr, fixed: Float32Array, x0: Float32Array) => ({
			...side(m),
			fixed,
			x0,
			lambda: LAMBDA,
			factors: f,
			steps: 3
		});
		let x = randomArray(150 * f, 52, -0.5, 0.5);
		let y = randomArray(90 * f, 53, -0.5, 0.5);
		// copied in every call
		const copied: Float32Array[] = [];
		for (let s = 0; s < 3; s++) {
			x = kernel.solveRows(problemOf(users, y, x)) as Float32Array;
			y = kernel.solveRows(problemOf(items, x, y)) as Float32Array;
			copied.push(x, y);
		}
		// keyed: from the second call on, both inputs are the kernel's own; zeros passed with
		// the right keys prove they are not read
		x = randomArray(150 * f, 52, -0.5, 0.5);
		y = randomArray(90 * f, 53, -0.5, 0.5);
		let kx: object = {};
		let ky: object = {};
		const userRows = [{}, {}, {}] as const;
		const itemRows = [{}, {}, {}] as const;
		const zx = new Float32Array(150 * f);
		const zy = new Float32Array(90 * f);
		for (let s = 0; s < 3; s++) {
			const first = s === 0;
			x = kernel.solveRows({
				...problemOf(users, first ? y : zy, first ? x : zx),
				keys: { fixed: ky, x0: kx, rows: userRows }
			}) as Float32Array;
			kx = {};
			kernel.keepResultAs(kx);
			y = kernel.solveRows({
				...problemOf(items, zx, first ? y : zy),
				keys: { fixed: kx, x0: ky, rows: itemRows }
			}) as Float32Array;
			ky = {};
			kernel.keepResultAs(ky);
			expect(maxAbsDiff(x, copied[2 * s])).toBe(0);
			expect(maxAbsDiff(y, copied[2 * s + 1])).toBe(0);
		}
		// an unknown key is copied in: zeros now give a different result
		const fresh = kernel.solveRows({
			...problemOf(users, zy, x),
			keys: { fixed: {}, x0: kx }
		});
		expect(maxAbsDiff(fresh, kernel.solveRows(problemOf(users, zy, x)))).toBe(0);
		expect(maxAbsDiff(fresh, kernel.solveRows(problemOf(users, y, x)))).toBeGreaterThan(1e-3);
		// rows known by their keys are not checked again; other indices are
		const indices = users.indices.slice();
		indices[3] = 90;
		const bad = { ...problemOf(users, y, x), indices };
		expect(() =>
			kernel.solveRows({
				...bad,
				keys: { fixed: {}, x0: {}, rows: [userRows[0], {}, userRows[2]] }
			})
		).toThrow(/index 90 at entry 3 is outside 0..89/);
	});

	it('observed loss plus the dense part equals the float64 objective', () => {
		const f = 10;
		const { m, fixed, x0 } = problem(f, 4);
		const observed = kernel.observedLoss(
			{ indptr: m.indptr, indices: m.indices, conf: confOf(m) },
			x0,
			fixed,
			f
		);
		// dense part sum_{all u,i} s^2 + lambda (|X|^2 + |Y|^2), in float64
		let dense = 0;
		for (let u = 0; u < m.rows; u++)
			for (let i = 0; i < m.cols; i++) {
				let s = 0;
				for (let d = 0; d < f; d++) s += x0[u * f + d] * fixed[i * f + d];
				dense += s * s;
			}
		for (const v of [...x0, ...fixed]) dense += LAMBDA * v * v;
		const want = denseLoss(m, x0, fixed, f, LAMBDA, ALPHA, 'hkv');
		expect(Math.abs(observed + dense - want) / want).toBeLessThan(1e-5);
	});

	it('refuses indices outside the fixed side before running', () => {
		const f = 4;
		const { m, fixed, x0 } = problem(f, 5);
		const indices = m.indices.slice();
		indices[7] = 48;
		expect(() => kernel.solveRows({ ...cgInput(m, fixed, x0, f, 3), indices })).toThrow(
			/index 48 at entry 7 is outside 0..47/
		);
	});

	// 4 x 8 blocks, the 4 x 4 edge (f = 12, 36), the upper triangle mirrored
	it.each([4, 6, 12, 32, 36, 64])("builds F'F + lambda I like float64 at f = %i", (f) => {
		const n = 301;
		const fixed = randomArray(n * f, 40 + f, -1, 1);
		const got = kernel.gram(fixed, f, LAMBDA);
		const want = new Float64Array(f * f);
		for (let i = 0; i < n; i++)
			for (let s = 0; s < f; s++)
				for (let t = 0; t < f; t++) want[s * f + t] += fixed[i * f + s] * fixed[i * f + t];
		for (let d = 0; d < f; d++) want[d * f + d] += LAMBDA;
		expect(maxAbsDiff(got, want)).toBeLessThan(1e-4 * n);
		// symmetric bit for bit
		for (let s = 0; s < f; s++)
			for (let t = 0; t < s; t++) expect(got[s * f + t]).toBe(got[t * f + s]);
	});

	it('splitByCost gives contiguous ranges of about equal cost', () => {
		const costs = Array.from({ length: 1000 }, (_, u) => 1 + ((u * 7919) % 97));
		const total = costs.reduce((a, b) => a + b, 0);
		for (const parts of [1, 2, 3, 4]) {
			const b = splitByCost(costs.length, parts, (u) => costs[u]);
			expect(b[0]).toBe(0);
			expect(b[parts]).toBe(1000);
			for (let p = 0; p < parts; p++) {
				const share = costs.slice(b[p], b[p + 1]).reduce((a, c) => a + c, 0);
				expect(Math.abs(share - total / parts)).toBeLessThanOrEqual(97);
			}
		}
		expect(splitByCost(1, 2, () => 5)).toEqual([0, 0, 1]);
		expect(splitByCost(0, 2, () => 5)).toEqual([0, 0, 0]);
	});
});

describe('fused CG kernel on two threads (worker_threads, shared memory)', () => {
	it('gives the same bits as one thread, and the loss too', async () => {
		const single = await AlsCgKernel.create();
		const threads = await startKernelThreads(1);
		try {
			const double = await AlsCgKernel.create(threads);
			expect(double.threadCount).toBe(2);
			const f = 32;
			const m = randomCsr(300, 200, 0.05, 21);
			const fixed = randomArray(200 * f, 22, -0.5, 0.5);
			const x0 = randomArray(300 * f, 23, -0.5, 0.5);
			const input = cgInput(m, fixed, x0, f, 3, true);
			const a = single.solveRows(input);
			const b = double.solveRows(input);
			// short rows were solved exactly (the gram and H built by both threads)
			expect(double.lastSolve.exactRows).toBeGreaterThan(100);
			expect(maxAbsDiff(a, b)).toBe(0);
			// and again, after the memory has grown for a bigger problem
			const big = randomCsr(2000, 300, 0.05, 24);
			const bigFixed = randomArray(300 * f, 25, -0.5, 0.5);
			const bigX0 = randomArray(2000 * f, 26, -0.5, 0.5);
			const bigInput = cgInput(big, bigFixed, bigX0, f, 3, true);
			expect(maxAbsDiff(single.solveRows(bigInput), double.solveRows(bigInput))).toBe(0);
			const rows = { indptr: m.indptr, indices: m.indices, conf: confOf(m) };
			const l1 = single.observedLoss(rows, x0, fixed, f);
			const l2 = double.observedLoss(rows, x0, fixed, f);
			expect(Math.abs(l1 - l2) / Math.abs(l1)).toBeLessThan(1e-12);
		} finally {
			await threads.close();
		}
	});
});

describe.each(TF_BACKENDS)('the kernel as a tfjs kernel on %s', (backend) => {
	onBackend(backend);
	beforeAll(async () => {
		await useAlsKernel();
	});

	it('runs through tf.engine().runKernel and equals the direct call', async () => {
		const f = 10;
		const { m, fixed, x0 } = problem(f, 6);
		const kernel = await useAlsKernel();
		const direct = kernel.solveRows(cgInput(m, fixed, x0, f, 3, true));
		const before = tf.memory().numTensors;
		const t = tf.tidy(() =>
			cgSolveOp(
				tf.tensor1d(m.indptr, 'int32'),
				tf.tensor1d(m.indices, 'int32'),
				tf.tensor1d(confOf(m)),
				tf.tensor2d(fixed, [48, f]),
				tf.tensor2d(x0, [16, f]),
				{ steps: 3, lambda: LAMBDA }
			)
		);
		expect(t.shape).toEqual([16, f]);
		expect(maxAbsDiff(await t.data(), direct)).toBe(0);
		t.dispose();
		expect(tf.memory().numTensors).toBe(before);
	});

	it('fit with the kernel matches fit with stock ops (loss and factors)', async () => {
		const m = randomCsr(60, 90, 0.08, 31);
		const params = { factors: 12, iterations: 6, regularization: 0.1, alpha: 3 };
		const run = async (solver: 'kernel' | 'ops', regularization = params.regularization) => {
			let used = '';
			const losses: number[] = [];
			const model = await fit(
				m,
				{ ...params, regularization },
				{
					solver,
					exactShortRows: false,
					onSolver: (s) => (used = s),
					onSweep: (s) => losses.push(s.loss)
				}
			);
			expect(used).toBe(solver);
			try {
				const y = (await model.itemFactors.data()) as Float32Array;
				const x = (await model.userFactors.data()) as Float32Array;
				return { losses, x, y };
			} finally {
				model.dispose();
			}
		};
		const k = await run('kernel');
		const o = await run('ops');
		// same math in a different float32 order: they agree to float32 drift over 6 sweeps...
		for (let s = 0; s < 6; s++) {
			expect(Math.abs(k.losses[s] - o.losses[s]) / o.losses[s]).toBeLessThan(1e-3);
		}
		expect(relativeError(k.y, o.y)).toBeLessThan(5e-3);
		expect(relativeError(k.x, o.x)).toBeLessThan(5e-3);
		// ...while a 10 % change of lambda moves them well beyond those tolerances
		const other = await run('ops', params.regularization * 1.1);
		expect(relativeError(other.y, o.y)).toBeGreaterThan(2e-2);
		expect(Math.abs(other.losses[5] - o.losses[5]) / o.losses[5]).toBeGreaterThan(1e-3);
	});
});

describe('the generated kernel module', () => {
	afterAll(() => undefined);
	it('equals a fresh compilation of als_cg.as.ts (run npm run build:kernels)', async () => {
		expect(readFileSync(KERNEL_MODULE, 'utf8')).toBe(await kernelModuleText());
	}, 60_000);
});
