import { describe, expect, it } from 'vitest';
import { csrFromTriplets } from '../../../src/lib/core/data/csr';
import { matrixMarketChunks, shortestFloat32 } from '../../../src/lib/core/data/matrix_market';

describe('Matrix Market coordinate text', () => {
	it('writes the header and every entry 1-based, rows in order, written by hand', () => {
		// 3 x 4: (0,1)=2, (0,3)=0.5, (2,0)=1 (row 1 empty); (0,1) given twice sums to 2.
		const { matrix } = csrFromTriplets(
			3,
			4,
			Int32Array.from([2, 0, 0, 0]),
			Int32Array.from([0, 3, 1, 1]),
			Float32Array.from([1, 0.5, 1.5, 0.5])
		);
		expect([...matrixMarketChunks(matrix, 1)].join('')).toBe(
			'%%MatrixMarket matrix coordinate real general\n3 4 3\n1 2 2\n1 4 0.5\n3 1 1\n'
		);
		// Chunking does not change the text.
		expect([...matrixMarketChunks(matrix, 2)].join('')).toBe(
			[...matrixMarketChunks(matrix, 100)].join('')
		);
	});

	it('values read back as the same float32, in the fewest digits', () => {
		for (const v of [Math.fround(Math.log1p(3)), Math.fround(0.1), 1e-7, 123456.789, 1, 3e38]) {
			const f = Math.fround(v);
			const s = shortestFloat32(f);
			expect(Math.fround(Number(s))).toBe(f);
			expect(s.replace(/^-|\.|e.*$/g, '').length).toBeLessThanOrEqual(9);
		}
		expect(shortestFloat32(Math.fround(0.1))).toBe('0.1');
		expect(shortestFloat32(Math.fround(Math.log1p(1)))).toBe('0.6931472');
	});
});
