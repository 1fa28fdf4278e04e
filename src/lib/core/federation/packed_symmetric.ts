/**
 * Symmetric f x f matrices stored as their packed upper triangle, row by row:
 * `(0,0) (0,1) .. (0,f-1) (1,1) .. (1,f-1) .. (f-1,f-1)`, `f(f+1)/2` values.
 */

/** Values in the packed upper triangle of an f x f matrix: `f(f+1)/2`. */
export function packedSize(f: number): number {
	return (f * (f + 1)) / 2;
}

/** Position of entry (r, c), r <= c, in the packed upper triangle: `r f - r(r-1)/2 + (c - r)`. */
export function packedIndex(f: number, r: number, c: number): number {
	return r * f - (r * (r - 1)) / 2 + (c - r);
}

/** `out[offset..] += s x x'` on the packed upper triangle. */
export function addScaledOuterPacked(
	out: Float64Array,
	offset: number,
	x: ArrayLike<number>,
	s: number,
	f: number
): void {
	let k = offset;
	for (let r = 0; r < f; r++) {
		const sx = s * x[r];
		for (let c = r; c < f; c++) out[k++] += sx * x[c];
	}
}

/** `out += packed` as a full row-major f x f matrix (both triangles). */
export function addPackedToFull(
	out: Float64Array,
	packed: ArrayLike<number>,
	offset: number,
	f: number
): void {
	let k = offset;
	for (let r = 0; r < f; r++) {
		out[r * f + r] += packed[k++];
		for (let c = r + 1; c < f; c++) {
			const v = packed[k++];
			out[r * f + c] += v;
			out[c * f + r] += v;
		}
	}
}
