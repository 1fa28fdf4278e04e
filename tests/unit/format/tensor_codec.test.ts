import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/lib/core/format/canonical_json';
import { decodeTensor, encodeTensor, shapeSize } from '../../../src/lib/core/format/tensor_codec';

describe('tensor codec', () => {
	it('round-trips float32 and int32 bit for bit, little-endian', () => {
		const f = new Float32Array([1.5, -0, NaN, Infinity, 3.4e38, 1e-45]);
		const rec = encodeTensor(f, [2, 3]);
		expect(rec.dtype).toBe('float32');
		// little-endian 1.5 = 0x3fc00000 -> bytes 00 00 c0 3f
		expect(Buffer.from(rec.data, 'base64').subarray(0, 4)).toEqual(Buffer.from([0, 0, 0xc0, 0x3f]));
		const back = decodeTensor(rec, 100);
		expect(back.shape).toEqual([2, 3]);
		expect(new Uint8Array(back.array.buffer)).toEqual(new Uint8Array(f.buffer));
		const i = new Int32Array([0, -1, 2147483647]);
		expect(decodeTensor(encodeTensor(i, [3]), 3).array).toEqual(i);
	});

	it('refuses bad records before allocating, saying why', () => {
		const ok = encodeTensor(new Float32Array(4), [2, 2]);
		expect(() => decodeTensor({ ...ok, dtype: 'float64' }, 10)).toThrow(/unknown dtype/);
		expect(() => decodeTensor({ ...ok, shape: [2, -2] }, 10)).toThrow(/non-negative integers/);
		expect(() => decodeTensor({ ...ok, shape: [2, 2.5] }, 10)).toThrow(/non-negative integers/);
		expect(() => decodeTensor({ ...ok, shape: [1e9, 1e9] }, 1e6)).toThrow(/more than the limit/);
		expect(() => decodeTensor({ ...ok, shape: [1e300, 1e300] }, 1e6)).toThrow(
			/more than the limit/
		);
		expect(() => decodeTensor({ ...ok, shape: '4' }, 10)).toThrow(/non-negative integers/);
		expect(() => decodeTensor({ ...ok, shape: [3, 2] }, 10)).toThrow(
			/needs 24 bytes, data holds 16/
		);
		expect(() => decodeTensor({ ...ok, data: 'abc' }, 10)).toThrow(/malformed base64/);
		expect(() => decodeTensor(null, 10)).toThrow(/not an object/);
		expect(() => encodeTensor(new Float32Array(3), [2, 2])).toThrow(/holds 4 values/);
		expect(shapeSize([])).toBe(1);
	});

	it('writes canonical JSON with sorted keys at every depth', () => {
		expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }], e: undefined })).toBe(
			'{"a":[{"c":null,"d":"x"}],"b":1}'
		);
		expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite/);
	});
});
