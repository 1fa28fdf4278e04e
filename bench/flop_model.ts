/**
 * Floating-point operations of one ALS sweep as the batched conjugate gradient performs it
 * (a multiply-add counts as 2). For the user half-step with `m` users, `n` items, `z` stored
 * entries, `f` factors and `s` CG steps:
 *
 *   Y'Y                        2 n f^2
 *   b = sum_i c_ui y_i         2 z f
 *   A v, once for the initial residual and once per step, where
 *   A v = (Y'Y + lambda I) v + sum_i (c_ui - 1)(y_i . v) y_i
 *                              (s + 1) (2 m f^2 + 4 z f)
 *   vector updates per step    (x, r, p: three axpys, two dots)  10 m f
 *
 * The item half-step is the same with m and n swapped. The gather of y_i rows moves memory
 * but does no arithmetic, so it is not counted: gflops is useful work per second, which is
 * what `peak_gflops` (a dense matMul on the same backend) is compared with.
 */
export function alsSweepFlops(
	users: number,
	items: number,
	nnz: number,
	f: number,
	cgSteps: number
): number {
	const half = (m: number, n: number) =>
		2 * n * f * f +
		2 * nnz * f +
		(cgSteps + 1) * (2 * m * f * f + 4 * nnz * f) +
		cgSteps * 10 * m * f;
	return half(users, items) + half(items, users);
}
