import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { envelopeBlob, isGzip, readEnvelopeText } from '../../../src/lib/platform/gzip';

describe('gzip helpers', () => {
	it('keeps small files as JSON and gzips large ones, reading both back', async () => {
		const small = '{"a":1}';
		const smallBlob = await envelopeBlob(small, 100);
		expect(smallBlob.type).toBe('application/json');
		expect(await readEnvelopeText(smallBlob)).toBe(small);

		const large = JSON.stringify({ data: 'ünï ♪ '.repeat(5000) });
		const blob = await envelopeBlob(large, 100);
		const bytes = new Uint8Array(await blob.arrayBuffer());
		expect(blob.type).toBe('application/gzip');
		expect(isGzip(bytes)).toBe(true);
		expect(bytes.length).toBeLessThan(large.length / 10);
		// independent decoder: node's zlib
		expect(gunzipSync(bytes).toString('utf8')).toBe(large);
		expect(await readEnvelopeText(blob)).toBe(large);
	});
});
