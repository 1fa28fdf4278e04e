import { describe, expect, it } from 'vitest';
import { topEigenpair } from '../../src/lib/core/eigen';

describe('topEigenpair', () => {
	it('finds the leading eigenpair of a hand-computed symmetric matrix', () => {
		// [[2, 1], [1, 2]]: eigenvalues 3 (along (1, 1)) and 1 (along (1, -1)).
		const { value, vector } = topEigenpair(Float64Array.from([2, 1, 1, 2]), 2, 100);
		expect(value).toBeCloseTo(3, 10);
		expect(Math.abs(vector[0])).toBeCloseTo(Math.SQRT1_2, 10);
		expect(vector[0] * vector[1]).toBeGreaterThan(0);
	});

	it('reads a rank-1 matrix x x\u2032 back as |x|^2 and x / |x| (up to sign)', () => {
		const x = [3, -1, 2];
		const m = Float64Array.from({ length: 9 }, (_, k) => x[Math.floor(k / 3)] * x[k % 3]);
		const { value, vector } = topEigenpair(m, 3, 50);
		expect(value).toBeCloseTo(14, 10);
		const dot = vector[0] * x[0] + vector[1] * x[1] + vector[2] * x[2];
		expect(Math.abs(dot)).toBeCloseTo(Math.sqrt(14), 10);
	});

	it('a zero matrix gives value 0 and a unit vector', () => {
		const { value, vector } = topEigenpair(new Float64Array(4), 2, 10);
		expect(value).toBe(0);
		expect(Math.hypot(vector[0], vector[1])).toBeCloseTo(1, 12);
	});
});
