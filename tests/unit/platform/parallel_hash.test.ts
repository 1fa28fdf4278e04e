import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { parallelHash } from '../../../src/lib/platform/parallel_hash';

describe('parallelHash', () => {
	it('hashes on the calling thread when no worker starts, says why, and gets SHA-256 right', async () => {
		// Node has no Worker global: constructing one throws, as a browser that refuses workers does.
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
		try {
			const hash = parallelHash();
			expect(warn).toHaveBeenCalledTimes(1);
			expect(String(warn.mock.calls[0][0])).toMatch(
				/^musicrec: the hash worker did not start \(.*Worker.*\); hashing on this thread$/
			);
			const bytes = new TextEncoder().encode('user,item\nu1,s1\n');
			hash.update(bytes.subarray(0, 5));
			hash.update(bytes.subarray(5));
			expect(await hash.hex()).toBe(createHash('sha256').update(bytes).digest('hex'));
		} finally {
			warn.mockRestore();
		}
	});
});
