// Fused conjugate-gradient solve of implicit ALS rows, compiled to WebAssembly (SIMD) by
// AssemblyScript: `npm run build:kernels` writes src/lib/core/als/kernel/als_cg_wasm.ts.
//
// For every row u in [rowStart, rowEnd) it runs implicit's least_squares_cg, warm-started
// from x_u:
//   A_u = F'F + lambda I + sum_{i in u} (c_ui - 1) f_i f_i',   b_u = sum_{i in u} c_ui f_i
//   r = b_u - A_u x_u,  p = r,  then `steps` CG steps, stopping when r.r < 1e-20.
// A_u is never formed: A_u v = G v + sum_i (c_ui - 1)(f_i . v) f_i with G = F'F + lambda I.
// Rows without entries get x_u = 0.
//
// Rows with at most `exactMax` entries are solved exactly instead (exactRow below): with
// V the row's k fixed rows, D = diag(c - 1) and H = F G^-1 (rows h_i = G^-1 f_i, built once per
// half-sweep by mulRows), the Woodbury identity gives
//   A_u^-1 = G^-1 - H_u' (I + D S)^-1 D H_u,  S = V G^-1 V' (k x k, S_ab = f_a . h_b)
// so x_u = z - H_u' q with z = G^-1 b_u = sum_i c_ui h_i and (I + D S) q = D V z: about
// k^2 f / 2 multiply-adds against CG's (steps + 1) f^2, no f x f product per row.
//
// Memory is owned by the caller: every pointer is a byte offset into linear memory, float32
// rows are `f` floats long and `f` is a multiple of 4 (zero-padded by the caller; padded
// lanes stay zero). Nothing is allocated here, so several threads may run this function on
// disjoint row ranges of one shared memory, each with its own `scratch` (3 f floats and one
// per entry of the longest row).

const TOLERANCE: f32 = 1e-20;

/** First byte the caller may use. */
export function heapBase(): usize {
	return __heap_base;
}

function dot(a: usize, b: usize, f: i32): f32 {
	let acc0 = f32x4.splat(0);
	let acc1 = f32x4.splat(0);
	let j = 0;
	for (; j + 8 <= f; j += 8) {
		const o = (<usize>j) << 2;
		acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
		acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
	}
	if (j < f) {
		const o = (<usize>j) << 2;
		acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
	}
	const s = f32x4.add(acc0, acc1);
	return (
		f32x4.extract_lane(s, 0) +
		f32x4.extract_lane(s, 1) +
		(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3))
	);
}

/** out += s * a */
function axpy(out: usize, s: f32, a: usize, f: i32): void {
	const sv = f32x4.splat(s);
	for (let j = 0; j < f; j += 4) {
		const o = (<usize>j) << 2;
		v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.mul(sv, v128.load(a + o))));
	}
}

/**
 * out = G (s v) + sum_{k0 <= k < k1} w[k - k0] f_k, where f_k = fixed row indices[k]. That is
 * A v's two terms (or the residual's) in one pass: for each 32-float block of columns, eight
 * accumulators stay in registers while j runs over the rows of G (symmetric, so
 * G v = sum_j v_j G[j, :]) and then k over the row's entries.
 */
function combine(
	out: usize,
	s: f32,
	gram: usize,
	v: usize,
	f: i32,
	k0: i32,
	k1: i32,
	indices: usize,
	fixed: usize,
	w: usize
): void {
	const row = (<usize>f) << 2;
	let c = 0;
	for (; c + 32 <= f; c += 32) {
		const col = (<usize>c) << 2;
		let a0 = f32x4.splat(0);
		let a1 = f32x4.splat(0);
		let a2 = f32x4.splat(0);
		let a3 = f32x4.splat(0);
		let a4 = f32x4.splat(0);
		let a5 = f32x4.splat(0);
		let a6 = f32x4.splat(0);
		let a7 = f32x4.splat(0);
		let g = gram + col;
		for (let j = 0; j < f; j++, g += row) {
			const vj = f32x4.splat(s * load<f32>(v + ((<usize>j) << 2)));
			a0 = f32x4.add(a0, f32x4.mul(vj, v128.load(g, 0)));
			a1 = f32x4.add(a1, f32x4.mul(vj, v128.load(g, 16)));
			a2 = f32x4.add(a2, f32x4.mul(vj, v128.load(g, 32)));
			a3 = f32x4.add(a3, f32x4.mul(vj, v128.load(g, 48)));
			a4 = f32x4.add(a4, f32x4.mul(vj, v128.load(g, 64)));
			a5 = f32x4.add(a5, f32x4.mul(vj, v128.load(g, 80)));
			a6 = f32x4.add(a6, f32x4.mul(vj, v128.load(g, 96)));
			a7 = f32x4.add(a7, f32x4.mul(vj, v128.load(g, 112)));
		}
		for (let k = k0; k < k1; k++) {
			const wk = v128.load32_splat(w + ((<usize>(k - k0)) << 2));
			const fk = fixed + <usize>load<i32>(indices + ((<usize>k) << 2)) * row + col;
			a0 = f32x4.add(a0, f32x4.mul(wk, v128.load(fk, 0)));
			a1 = f32x4.add(a1, f32x4.mul(wk, v128.load(fk, 16)));
			a2 = f32x4.add(a2, f32x4.mul(wk, v128.load(fk, 32)));
			a3 = f32x4.add(a3, f32x4.mul(wk, v128.load(fk, 48)));
			a4 = f32x4.add(a4, f32x4.mul(wk, v128.load(fk, 64)));
			a5 = f32x4.add(a5, f32x4.mul(wk, v128.load(fk, 80)));
			a6 = f32x4.add(a6, f32x4.mul(wk, v128.load(fk, 96)));
			a7 = f32x4.add(a7, f32x4.mul(wk, v128.load(fk, 112)));
		}
		const o = out + col;
		v128.store(o, a0, 0);
		v128.store(o, a1, 16);
		v128.store(o, a2, 32);
		v128.store(o, a3, 48);
		v128.store(o, a4, 64);
		v128.store(o, a5, 80);
		v128.store(o, a6, 96);
		v128.store(o, a7, 112);
	}
	for (; c < f; c += 4) {
		const col = (<usize>c) << 2;
		let a = f32x4.splat(0);
		let g = gram + col;
		for (let j = 0; j < f; j++, g += row) {
			a = f32x4.add(a, f32x4.mul(f32x4.splat(s * load<f32>(v + ((<usize>j) << 2))), v128.load(g)));
		}
		for (let k = k0; k < k1; k++) {
			const fk = fixed + <usize>load<i32>(indices + ((<usize>k) << 2)) * row + col;
			a = f32x4.add(a, f32x4.mul(v128.load32_splat(w + ((<usize>(k - k0)) << 2)), v128.load(fk)));
		}
		v128.store(out + col, a);
	}
}

/** Rows of F per pass of gramOf: 128 rows of f <= 64 floats stay in L1/L2 for every block. */
const GRAM_CHUNK = 128;

/**
 * Work shared by threads is cut into chunks that every thread takes in turn: each calls the
 * same function with the same `next` (an i32 the caller zeroes) and takes the next chunk index
 * until none is left, so a thread that is slower (later to wake, colder cache, costlier rows)
 * takes fewer. What a chunk computes does not depend on which thread takes it.
 */
function takeChunk(next: usize): i32 {
	if (ASC_FEATURE_THREADS) return atomic.add<i32>(next, 1);
	const c = load<i32>(next);
	store<i32>(next, c + 1);
	return c;
}

/** First row of chunk c of `chunks` equal chunks of n rows. */
function chunkStart(c: i32, chunks: i32, n: i32): i32 {
	return <i32>((<i64>c * n) / chunks);
}

/**
 * G = F'F + lambda I for F = fixed [n, f] (f a multiple of 4) is built in `parts` pieces so that
 * threads can share the work and the sum does not depend on how many there are: gramChunks
 * writes the upper triangle of F_p'F_p for each part p it takes (rows [p n / parts,
 * (p + 1) n / parts)) to out + p f^2 floats; gramSum adds the parts in order, adds lambda I and
 * mirrors the lower triangle.
 */
export function gramChunks(
	next: usize,
	parts: i32,
	n: i32,
	f: i32,
	fixed: usize,
	out: usize
): void {
	const size = <usize>f * ((<usize>f) << 2);
	for (let p = takeChunk(next); p < parts; p = takeChunk(next)) {
		const gram = out + <usize>p * size;
		memory.fill(gram, 0, size);
		gramUpper(chunkStart(p, parts, n), chunkStart(p + 1, parts, n), f, fixed, gram);
	}
}

/** gram = sum of the `parts` upper triangles at `partsAt` + lambda I, mirrored (gramParts). */
export function gramSum(parts: i32, f: i32, lambda: f32, partsAt: usize, gram: usize): void {
	const row = (<usize>f) << 2;
	const size = <usize>f * row;
	memory.copy(gram, partsAt, size);
	for (let p = 1; p < parts; p++) {
		const part = partsAt + <usize>p * size;
		for (let o: usize = 0; o < size; o += 16) {
			v128.store(gram + o, f32x4.add(v128.load(gram + o), v128.load(part + o)));
		}
	}
	for (let a = 0; a < f; a++) {
		const ga = gram + <usize>a * row;
		for (let b = 0; b < a; b++) {
			store<f32>(ga + ((<usize>b) << 2), load<f32>(gram + <usize>b * row + ((<usize>a) << 2)));
		}
		store<f32>(ga + ((<usize>a) << 2), load<f32>(ga + ((<usize>a) << 2)) + lambda);
	}
}

/**
 * Adds F'F over rows [r0, r1) of F to the upper triangle of `gram` (only blocks touching it are
 * computed). F is read in chunks of GRAM_CHUNK rows; for each chunk, blocks of 4 rows x 8
 * columns of G (4 x 4 at the right edge) are loaded into registers, updated from every row of
 * the chunk (two loads and four splats feed eight multiply-adds) and stored back.
 */
function gramUpper(r0: i32, r1: i32, f: i32, fixed: usize, gram: usize): void {
	const row = (<usize>f) << 2;
	for (let i0 = r0; i0 < r1; i0 += GRAM_CHUNK) {
		const i1 = min(r1, i0 + GRAM_CHUNK);
		const first = fixed + <usize>i0 * row;
		for (let j = 0; j < f; j += 4) {
			const sj = (<usize>j) << 2;
			let c = (j >> 3) << 3;
			for (; c + 8 <= f; c += 8) {
				const sc = (<usize>c) << 2;
				const g = gram + <usize>j * row + sc;
				let a00 = v128.load(g);
				let a01 = v128.load(g, 16);
				let a10 = v128.load(g + row);
				let a11 = v128.load(g + row, 16);
				let a20 = v128.load(g + 2 * row);
				let a21 = v128.load(g + 2 * row, 16);
				let a30 = v128.load(g + 3 * row);
				let a31 = v128.load(g + 3 * row, 16);
				let r = first;
				for (let i = i0; i < i1; i++, r += row) {
					const b0 = v128.load(r + sc);
					const b1 = v128.load(r + sc, 16);
					const s0 = v128.load32_splat(r + sj);
					const s1 = v128.load32_splat(r + sj, 4);
					const s2 = v128.load32_splat(r + sj, 8);
					const s3 = v128.load32_splat(r + sj, 12);
					a00 = f32x4.add(a00, f32x4.mul(s0, b0));
					a01 = f32x4.add(a01, f32x4.mul(s0, b1));
					a10 = f32x4.add(a10, f32x4.mul(s1, b0));
					a11 = f32x4.add(a11, f32x4.mul(s1, b1));
					a20 = f32x4.add(a20, f32x4.mul(s2, b0));
					a21 = f32x4.add(a21, f32x4.mul(s2, b1));
					a30 = f32x4.add(a30, f32x4.mul(s3, b0));
					a31 = f32x4.add(a31, f32x4.mul(s3, b1));
				}
				v128.store(g, a00);
				v128.store(g, a01, 16);
				v128.store(g + row, a10);
				v128.store(g + row, a11, 16);
				v128.store(g + 2 * row, a20);
				v128.store(g + 2 * row, a21, 16);
				v128.store(g + 3 * row, a30);
				v128.store(g + 3 * row, a31, 16);
			}
			if (c < f) {
				const sc = (<usize>c) << 2;
				const g = gram + <usize>j * row + sc;
				let a0 = v128.load(g);
				let a1 = v128.load(g + row);
				let a2 = v128.load(g + 2 * row);
				let a3 = v128.load(g + 3 * row);
				let r = first;
				for (let i = i0; i < i1; i++, r += row) {
					const b = v128.load(r + sc);
					a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(r + sj), b));
					a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(r + sj, 4), b));
					a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(r + sj, 8), b));
					a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(r + sj, 12), b));
				}
				v128.store(g, a0);
				v128.store(g + row, a1);
				v128.store(g + 2 * row, a2);
				v128.store(g + 3 * row, a3);
			}
		}
	}
}

/**
 * Row u solved exactly by the Woodbury identity (header): z = sum_a c_a h_a into `z` (f
 * floats), the system (I + D S) q = D V z in float64 at `m` (k rows of k + 1: matrix, then
 * right-hand side), Gaussian elimination with partial pivoting, x_u = z - sum_a q_a h_a.
 * Returns false, leaving x_u untouched, when a pivot is (numerically) zero: the caller then
 * runs CG on the row.
 */
function exactRow(
	xu: usize,
	k0: i32,
	k1: i32,
	f: i32,
	indices: usize,
	conf: usize,
	fixed: usize,
	h: usize,
	z: usize,
	m: usize
): bool {
	const row = (<usize>f) << 2;
	const k = k1 - k0;
	const stride = (<usize>(k + 1)) << 3;
	memory.fill(z, 0, row);
	for (let a = k0; a < k1; a++) {
		const ha = h + <usize>load<i32>(indices + ((<usize>a) << 2)) * row;
		axpy(z, load<f32>(conf + ((<usize>a) << 2)), ha, f);
	}
	// M_ab = [a == b] + d_a S_ab with S_ab = f_a . h_b (symmetric: computed for b >= a);
	// right-hand side d_a (f_a . z)
	for (let a = 0; a < k; a++) {
		const ia = <usize>load<i32>(indices + ((<usize>(k0 + a)) << 2));
		const fa = fixed + ia * row;
		const ma = m + <usize>a * stride;
		const da = <f64>load<f32>(conf + ((<usize>(k0 + a)) << 2)) - 1;
		store<f64>(ma + ((<usize>k) << 3), da * <f64>dot(fa, z, f));
		for (let b = a; b < k; b++) {
			const ib = <usize>load<i32>(indices + ((<usize>(k0 + b)) << 2));
			const sab = <f64>dot(fa, h + ib * row, f);
			const db = <f64>load<f32>(conf + ((<usize>(k0 + b)) << 2)) - 1;
			store<f64>(ma + ((<usize>b) << 3), (a == b ? 1 : 0) + da * sab);
			if (b != a) store<f64>(m + <usize>b * stride + ((<usize>a) << 3), db * sab);
		}
	}
	for (let c = 0; c < k; c++) {
		let best = c;
		let top = abs(load<f64>(m + <usize>c * stride + ((<usize>c) << 3)));
		for (let a = c + 1; a < k; a++) {
			const v = abs(load<f64>(m + <usize>a * stride + ((<usize>c) << 3)));
			if (v > top) {
				top = v;
				best = a;
			}
		}
		if (!(top > 1e-9)) return false;
		const mc = m + <usize>c * stride;
		if (best != c) {
			const mb = m + <usize>best * stride;
			for (let j = c; j <= k; j++) {
				const o = (<usize>j) << 3;
				const t = load<f64>(mc + o);
				store<f64>(mc + o, load<f64>(mb + o));
				store<f64>(mb + o, t);
			}
		}
		const pivot = load<f64>(mc + ((<usize>c) << 3));
		for (let a = c + 1; a < k; a++) {
			const ma = m + <usize>a * stride;
			const l = load<f64>(ma + ((<usize>c) << 3)) / pivot;
			if (l == 0) continue;
			for (let j = c + 1; j <= k; j++) {
				const o = (<usize>j) << 3;
				store<f64>(ma + o, load<f64>(ma + o) - l * load<f64>(mc + o));
			}
		}
	}
	// back substitution into the right-hand-side column: q_a
	for (let a = k - 1; a >= 0; a--) {
		const ma = m + <usize>a * stride;
		let s = load<f64>(ma + ((<usize>k) << 3));
		for (let j = a + 1; j < k; j++) {
			s -= load<f64>(ma + ((<usize>j) << 3)) * load<f64>(m + <usize>j * stride + ((<usize>k) << 3));
		}
		store<f64>(ma + ((<usize>k) << 3), s / load<f64>(ma + ((<usize>a) << 3)));
	}
	memory.copy(xu, z, row);
	for (let a = 0; a < k; a++) {
		const q = <f32>load<f64>(m + <usize>a * stride + ((<usize>k) << 3));
		const ha = h + <usize>load<i32>(indices + ((<usize>(k0 + a)) << 2)) * row;
		axpy(xu, -q, ha, f);
	}
	return true;
}

/** dst_i = M src_i for the rows of [n, f] matrices, M symmetric [f, f], in `chunks` chunks. */
export function mulChunks(
	next: usize,
	chunks: i32,
	n: i32,
	f: i32,
	matrix: usize,
	src: usize,
	dst: usize
): void {
	const row = (<usize>f) << 2;
	for (let c = takeChunk(next); c < chunks; c = takeChunk(next)) {
		const end = chunkStart(c + 1, chunks, n);
		for (let i = chunkStart(c, chunks, n); i < end; i++) {
			const at = <usize>i * row;
			combine(dst + at, 1, matrix, src + at, f, 0, 0, 0, 0, 0);
		}
	}
}

/**
 * cgRows over `chunks` row ranges (bounds: chunks + 1 row indices), taken in turn. Returns the
 * sum of |x_u|^2 over the rows this thread solved: finite exactly when they are (barring
 * overflow), which spares the caller a pass over the result.
 */
export function cgChunks(
	next: usize,
	chunks: i32,
	bounds: usize,
	f: i32,
	steps: i32,
	indptr: usize,
	indices: usize,
	conf: usize,
	fixed: usize,
	gram: usize,
	x: usize,
	h: usize,
	exactMax: i32,
	scratch: usize
): f64 {
	const row = (<usize>f) << 2;
	let squares: f64 = 0;
	for (let c = takeChunk(next); c < chunks; c = takeChunk(next)) {
		const at = bounds + ((<usize>c) << 2);
		const start = load<i32>(at);
		const end = load<i32>(at, 4);
		cgRows(start, end, f, steps, indptr, indices, conf, fixed, gram, x, h, exactMax, scratch);
		for (let u = start; u < end; u++) {
			const xu = x + <usize>u * row;
			squares += <f64>dot(xu, xu, f);
		}
	}
	return squares;
}

function cgRows(
	rowStart: i32,
	rowEnd: i32,
	f: i32,
	steps: i32,
	indptr: usize,
	indices: usize,
	conf: usize,
	fixed: usize,
	gram: usize,
	x: usize,
	h: usize,
	exactMax: i32,
	scratch: usize
): void {
	const row = (<usize>f) << 2;
	const r = scratch;
	const p = scratch + row;
	const ap = p + row;
	// exactRow's float64 system: exactMax rows of exactMax + 1 (matrix and right-hand side)
	const solve = ap + row;
	// per-entry weights of the current row (the caller sizes scratch for the longest row)
	const w = solve + ((<usize>(exactMax * (exactMax + 1) * 8 + 15)) & ~15);
	for (let u = rowStart; u < rowEnd; u++) {
		const xu = x + <usize>u * row;
		const k0 = load<i32>(indptr + ((<usize>u) << 2));
		const k1 = load<i32>(indptr + ((<usize>(u + 1)) << 2));
		if (k0 == k1) {
			memory.fill(xu, 0, row);
			continue;
		}
		if (k1 - k0 <= exactMax && exactRow(xu, k0, k1, f, indices, conf, fixed, h, r, solve)) {
			continue;
		}
		// r = b - A x = sum_i (c - (c - 1)(f_i . x)) f_i - G x
		for (let k = k0; k < k1; k++) {
			const fi = fixed + <usize>load<i32>(indices + ((<usize>k) << 2)) * row;
			const c = load<f32>(conf + ((<usize>k) << 2));
			store<f32>(w + ((<usize>(k - k0)) << 2), c - (c - 1) * dot(fi, xu, f));
		}
		combine(r, -1, gram, xu, f, k0, k1, indices, fixed, w);
		memory.copy(p, r, row);
		let rsold = dot(r, r, f);
		if (rsold < TOLERANCE) continue;
		for (let it = 0; it < steps; it++) {
			// Ap = G p + sum_i (c - 1)(f_i . p) f_i
			for (let k = k0; k < k1; k++) {
				const fi = fixed + <usize>load<i32>(indices + ((<usize>k) << 2)) * row;
				const c = load<f32>(conf + ((<usize>k) << 2));
				store<f32>(w + ((<usize>(k - k0)) << 2), (c - 1) * dot(fi, p, f));
			}
			combine(ap, 1, gram, p, f, k0, k1, indices, fixed, w);
			const pap = dot(p, ap, f);
			const alpha: f32 = pap != 0 ? rsold / pap : 0;
			axpy(xu, alpha, p, f);
			axpy(r, -alpha, ap, f);
			const rsnew = dot(r, r, f);
			if (rsnew < TOLERANCE) break;
			// p = r + (rsnew / rsold) p
			const beta = f32x4.splat(rsnew / rsold);
			for (let j = 0; j < f; j += 4) {
				const o = (<usize>j) << 2;
				v128.store(p + o, f32x4.add(v128.load(r + o), f32x4.mul(beta, v128.load(p + o))));
			}
			rsold = rsnew;
		}
	}
}

/**
 * The observed-entry part of the ALS objective over rows [rowStart, rowEnd):
 *   sum_{u, i in u} [c_ui (1 - s_ui)^2 - s_ui^2],  s_ui = x_u . f_i
 * accumulated in float64 (loss.ts adds trace(X'X Y'Y) and the ridge terms).
 */
export function observedLoss(
	rowStart: i32,
	rowEnd: i32,
	f: i32,
	indptr: usize,
	indices: usize,
	conf: usize,
	fixed: usize,
	x: usize
): f64 {
	const row = (<usize>f) << 2;
	let total: f64 = 0;
	for (let u = rowStart; u < rowEnd; u++) {
		const xu = x + <usize>u * row;
		const k1 = load<i32>(indptr + ((<usize>(u + 1)) << 2));
		for (let k = load<i32>(indptr + ((<usize>u) << 2)); k < k1; k++) {
			const fi = fixed + <usize>load<i32>(indices + ((<usize>k) << 2)) * row;
			const s = <f64>dot(fi, xu, f);
			const c = <f64>load<f32>(conf + ((<usize>k) << 2));
			total += c * (1 - s) * (1 - s) - s * s;
		}
	}
	return total;
}

/** out[i] = f_i . x for the n rows of `items` [n, f]: one streaming pass over the matrix. */
export function scoreItems(n: i32, f: i32, items: usize, x: usize, out: usize): void {
	const row = (<usize>f) << 2;
	let r = items;
	for (let i = 0; i < n; i++, r += row) store<f32>(out + ((<usize>i) << 2), dot(r, x, f));
}

// Quantised candidate pass of the item scorer (src/lib/core/als/kernel/item_scorer.ts, which
// derives the error bound). Rows are int8 with one scale per row, `fq` bytes long (a multiple
// of 16, padded lanes zero); the factor vector is int16 (`fq` lanes) with one power-of-two step.

/**
 * q8 row i = round(y_i / s_i) with s_i = max_k |y_ik| / 127 (0 for a zero row) in scales[i];
 * so |y_ik - s_i q_ik| <= s_i / 2 up to float rounding. `items` is [n, f], f a multiple of 4.
 */
export function quantiseRows(
	n: i32,
	f: i32,
	items: usize,
	fq: i32,
	q8: usize,
	scales: usize
): void {
	const row = (<usize>f) << 2;
	for (let i = 0; i < n; i++) {
		const r = items + <usize>i * row;
		let m = f32x4.splat(0);
		for (let k = 0; k < f; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(r + ((<usize>k) << 2))));
		const top = max(
			max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
			max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3))
		);
		store<f32>(scales + ((<usize>i) << 2), top / 127);
		const inv = f32x4.splat(top > 0 ? <f32>127 / top : 0);
		const q = q8 + <usize>i * <usize>fq;
		// |y_ik * inv| <= 127 (1 + 2^-22), so the rounded values are in [-127, 127] and the
		// saturating narrowings below never clip.
		for (let k = 0; k < fq; k += 16) {
			const a = i16x8.narrow_i32x4_s(quarter(r, k, f, inv), quarter(r, k + 4, f, inv));
			const b = i16x8.narrow_i32x4_s(quarter(r, k + 8, f, inv), quarter(r, k + 12, f, inv));
			v128.store(q + <usize>k, i8x16.narrow_i16x8_s(a, b));
		}
	}
}

/** round(row[k..k+4) * inv) as int32 lanes; zero past the row's f floats. */
function quarter(r: usize, k: i32, f: i32, inv: v128): v128 {
	if (k >= f) return i32x4.splat(0);
	return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(r + ((<usize>k) << 2)), inv)));
}

/**
 * The candidate pass: a_i = scales[i] * (t * D_i) with D_i = q8 row i . xq exactly (int32),
 * into out[i], for the rows not flagged in `excluded` (one byte per row). With the bound
 * |e_i - a_i| <= c s_i, writes to `cand` (ascending) every such row whose upper bound
 * a_i + c s_i reaches tau, the k-th largest lower bound a_j - c s_j (-inf when fewer than k
 * rows qualify); returns their count. `heap`: k floats of scratch (a min-heap of the k best
 * lower bounds so far; its root is the running tau, which only rises, so the rows gathered on
 * the way are a superset that a last pass over them trims).
 */
export function candidatesQ8(
	n: i32,
	fq: i32,
	q8: usize,
	scales: usize,
	xq: usize,
	t: f32,
	c: f32,
	excluded: usize,
	k: i32,
	heap: usize,
	cand: usize,
	out: usize
): i32 {
	let size = 0;
	let tau: f32 = -Infinity;
	let m = 0;
	let r = q8;
	for (let i = 0; i < n; i++, r += <usize>fq) {
		if (load<u8>(excluded + <usize>i)) continue;
		let acc0 = i32x4.splat(0);
		let acc1 = i32x4.splat(0);
		for (let j = 0; j < fq; j += 16) {
			const b = v128.load(r + <usize>j);
			const x = xq + ((<usize>j) << 1);
			acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(b), v128.load(x)));
			acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(b), v128.load(x, 16)));
		}
		const sum = i32x4.add(acc0, acc1);
		const d =
			i32x4.extract_lane(sum, 0) +
			i32x4.extract_lane(sum, 1) +
			(i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3));
		const at = (<usize>i) << 2;
		const cs = c * load<f32>(scales + at);
		const a = load<f32>(scales + at) * (t * <f32>d);
		store<f32>(out + at, a);
		const l = a - cs;
		if (size < k) {
			heapPush(heap, size++, l);
			if (size == k) tau = load<f32>(heap);
		} else if (l > tau) {
			heapReplaceRoot(heap, k, l);
			tau = load<f32>(heap);
		}
		if (a + cs >= tau) {
			store<i32>(cand + ((<usize>m) << 2), i);
			m++;
		}
	}
	let kept = 0;
	for (let j = 0; j < m; j++) {
		const i = load<i32>(cand + ((<usize>j) << 2));
		const at = (<usize>i) << 2;
		if (load<f32>(out + at) + c * load<f32>(scales + at) >= tau) {
			store<i32>(cand + ((<usize>kept) << 2), i);
			kept++;
		}
	}
	return kept;
}

/** Min-heap of floats: add `v` to the `size` entries at `heap`. */
function heapPush(heap: usize, size: i32, v: f32): void {
	let j = size;
	while (j > 0) {
		const p = (j - 1) >> 1;
		const pv = load<f32>(heap + ((<usize>p) << 2));
		if (pv <= v) break;
		store<f32>(heap + ((<usize>j) << 2), pv);
		j = p;
	}
	store<f32>(heap + ((<usize>j) << 2), v);
}

/** Min-heap of `size` floats: replace the root (the least) by `v`. */
function heapReplaceRoot(heap: usize, size: i32, v: f32): void {
	let j = 0;
	for (;;) {
		const a = 2 * j + 1;
		if (a >= size) break;
		let c = a;
		let cv = load<f32>(heap + ((<usize>a) << 2));
		if (a + 1 < size) {
			const bv = load<f32>(heap + ((<usize>(a + 1)) << 2));
			if (bv < cv) {
				c = a + 1;
				cv = bv;
			}
		}
		if (cv >= v) break;
		store<f32>(heap + ((<usize>j) << 2), cv);
		j = c;
	}
	store<f32>(heap + ((<usize>j) << 2), v);
}

/** out[j] = f_{cand[j]} . x for m rows of `items` [n, f]: the same float32 sums as scoreItems. */
export function scoreRows(m: i32, cand: usize, f: i32, items: usize, x: usize, out: usize): void {
	const row = (<usize>f) << 2;
	for (let j = 0; j < m; j++) {
		const i = <usize>load<i32>(cand + ((<usize>j) << 2));
		store<f32>(out + ((<usize>j) << 2), dot(items + i * row, x, f));
	}
}
