import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/lib/core/random';
import {
	decodeBase64,
	decodedBase64Length,
	encodeBase64
} from '../../../src/lib/core/format/base64';

describe('base64', () => {
	it('agrees with Node Buffer both ways for every length up to 100 and a large buffer', () => {
		const rng = new Rng(3);
		for (const len of [...Array(100).keys(), 3 * 4096 + 1, 50_000]) {
			const bytes = new Uint8Array(len).map(() => rng.int(256));
			const ours = encodeBase64(bytes);
			expect(ours).toBe(Buffer.from(bytes).toString('base64'));
			expect(decodedBase64Length(ours)).toBe(len);
			expect(Buffer.from(decodeBase64(ours)).equals(Buffer.from(bytes))).toBe(true);
		}
	});

	it('rejects malformed text with a position', () => {
		expect(() => decodeBase64('abc')).toThrow(/multiple of 4/);
		expect(() => decodeBase64('ab!d')).toThrow(/invalid character at 2/);
		expect(() => decodeBase64('a=bc')).toThrow(/invalid character at 1/);
		expect(() => decodeBase64('ab=c')).toThrow(/misplaced padding/);
		expect(() => decodeBase64('ab==abcd')).toThrow(/invalid character at 2/);
		expect(() => decodeBase64('ab\u00e9d')).toThrow(/invalid character at 2/);
		expect(decodedBase64Length('abc')).toBeUndefined();
	});
});
