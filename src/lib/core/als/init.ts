import { Rng } from '../random';

/**
 * Initial factors as in implicit: uniform [0, 1) times 0.01, float32, row-major. User factors
 * are drawn first, then item factors, from one seeded stream, so a seed fixes both.
 */
export function initFactors(
	users: number,
	items: number,
	factors: number,
	seed: number
): { userFactors: Float32Array; itemFactors: Float32Array } {
	const rng = new Rng(seed);
	const userFactors = new Float32Array(users * factors);
	for (let k = 0; k < userFactors.length; k++) userFactors[k] = rng.next() * 0.01;
	const itemFactors = new Float32Array(items * factors);
	for (let k = 0; k < itemFactors.length; k++) itemFactors[k] = rng.next() * 0.01;
	return { userFactors, itemFactors };
}
