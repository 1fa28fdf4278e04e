/**
 * The leading eigenpair of a symmetric f x f matrix (row-major) by power iteration:
 * `v <- M v / |M v|` from a start vector with a component along every axis, then the Rayleigh
 * quotient `v' M v`. Used by the song map's PCA and by the adversary reading a client's G.
 */
export function topEigenpair(
	m: Float64Array,
	f: number,
	iterations: number
): { value: number; vector: Float64Array } {
	let v: Float64Array = new Float64Array(f);
	for (let a = 0; a < f; a++) v[a] = 1 + a / f;
	normalize(v);
	for (let it = 0; it < iterations; it++) {
		const w = multiply(m, f, v);
		if (normalize(w) === 0) break;
		v = w;
	}
	const mv = multiply(m, f, v);
	let value = 0;
	for (let a = 0; a < f; a++) value += v[a] * mv[a];
	return { value, vector: v };
}

function multiply(m: Float64Array, f: number, v: Float64Array): Float64Array {
	const w = new Float64Array(f);
	for (let a = 0; a < f; a++) {
		let s = 0;
		for (let b = 0; b < f; b++) s += m[a * f + b] * v[b];
		w[a] = s;
	}
	return w;
}

/** Scale `v` to unit length in place; returns its length before (0: left as is). */
function normalize(v: Float64Array): number {
	let n = 0;
	for (const x of v) n += x * x;
	n = Math.sqrt(n);
	if (n > 0) for (let a = 0; a < v.length; a++) v[a] /= n;
	return n;
}
