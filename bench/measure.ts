import * as tf from '@tensorflow/tfjs-core';

/** Peak resident set size of this process so far, in MB (the kernel's high-water mark). */
export function peakRssMb(): number {
	return process.resourceUsage().maxRSS / 1024;
}

export function median(values: readonly number[]): number {
	if (values.length === 0) return NaN;
	const s = [...values].sort((a, b) => a - b);
	const mid = s.length >> 1;
	return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Dense matMul throughput on the current backend, as the yardstick for ALS efficiency: an
 * [rows x f] by [f x cols] product, the shape of the scoring step, best of `reps` runs.
 */
export async function matMulGflops(
	rows: number,
	f: number,
	cols: number,
	reps = 5
): Promise<number> {
	const a = tf.randomUniform([rows, f], -1, 1, 'float32', 1);
	const b = tf.randomUniform([f, cols], -1, 1, 'float32', 2);
	let best = Infinity;
	try {
		for (let r = 0; r < reps + 1; r++) {
			const start = performance.now();
			const c = tf.matMul(a, b);
			await c.data();
			const seconds = (performance.now() - start) / 1000;
			c.dispose();
			if (r > 0) best = Math.min(best, seconds); // the first run warms up
		}
	} finally {
		a.dispose();
		b.dispose();
	}
	return (2 * rows * f * cols) / best / 1e9;
}

export function round(value: number, digits = 4): number {
	if (!Number.isFinite(value)) return value;
	const p = 10 ** digits;
	return Math.round(value * p) / p;
}
