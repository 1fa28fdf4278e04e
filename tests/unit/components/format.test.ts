import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { formatBytes, formatInt, paramsLine } from '../../../src/lib/components/format';

describe('display formatting', () => {
	it('sizes in B, kB and MB at 1,024 steps', () => {
		expect(formatBytes(0)).toBe('0 B');
		expect(formatBytes(1023)).toBe('1023 B');
		expect(formatBytes(1024)).toBe('1.0 kB');
		expect(formatBytes(798_515)).toBe('779.8 kB');
		expect(formatBytes(2_170_552)).toBe('2.07 MB');
	});

	it('parameters on one line, with or without iterations and weighting', () => {
		const p = alsParams({ factors: 16, iterations: 3, regularization: 0.05, alpha: 1 });
		expect(paramsLine(p)).toBe('f=16 it=3 λ=0.05 α=1 (hkv)');
		expect(paramsLine(p, { weighting: 'one-plus-target' })).toBe(
			'f=16 it=3 λ=0.05 α=1 (hkv), one-plus-target'
		);
		expect(paramsLine(p, { iterations: false })).toBe('f=16 λ=0.05 α=1 (hkv)');
		expect(formatInt(1234567)).toBe('1,234,567');
	});
});
