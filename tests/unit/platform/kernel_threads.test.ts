import { describe, expect, it } from 'vitest';
import { useBrowserAlsKernel } from '../../../src/lib/platform/kernel_threads';

describe('useBrowserAlsKernel', () => {
	it('runs the kernel on one thread when helpers do not start, and says why', async () => {
		let asked = 0;
		const loaded = await useBrowserAlsKernel(3, (helpers) => {
			asked = helpers;
			return Promise.reject(new Error('Worker construction refused'));
		});
		expect(asked).toBe(2);
		expect(loaded).toEqual({
			threads: 1,
			problem:
				'2 kernel helper thread(s) did not start (Worker construction refused); the kernel runs on one thread'
		});
	});
});
