import { describe, expect, it } from 'vitest';
import { initFactors } from '../../../src/lib/core/als/init';
import { Rng } from '../../../src/lib/core/random';

describe('initFactors', () => {
	it('is Rng(seed) times 0.01 in float32, user factors first, then item factors', () => {
		for (const seed of [0, 1, 42, 0xffffffff, -7]) {
			const { userFactors, itemFactors } = initFactors(5, 7, 3, seed);
			const rng = new Rng(seed);
			const want = Float32Array.from({ length: (5 + 7) * 3 }, () => rng.next() * 0.01);
			expect(userFactors).toEqual(want.subarray(0, 15));
			expect(itemFactors).toEqual(want.subarray(15));
		}
	});

	it('draws in [0, 0.01) and depends on the seed', () => {
		const a = initFactors(100, 100, 8, 1);
		const b = initFactors(100, 100, 8, 2);
		expect(Math.min(...a.userFactors, ...a.itemFactors)).toBeGreaterThanOrEqual(0);
		expect(Math.max(...a.userFactors, ...a.itemFactors)).toBeLessThan(0.01);
		expect(a.itemFactors).not.toEqual(b.itemFactors);
	});
});
