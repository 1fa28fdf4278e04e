import { describe, expect, it } from 'vitest';
import { mendBlobSizes, type DevtoolsEvent } from '../../../bench/lighthouse_log';

/** The events Chromium logs for one request (shapes as in a gathered Lighthouse log). */
function request(id: string, url: string, size: number): DevtoolsEvent[] {
	return [
		{ method: 'Network.requestWillBeSent', params: { requestId: id, request: { url } } },
		{
			method: 'Network.responseReceived',
			params: { requestId: id, response: { encodedDataLength: size } }
		},
		{ method: 'Network.dataReceived', params: { requestId: id, encodedDataLength: 0 } },
		{ method: 'Network.loadingFinished', params: { requestId: id, encodedDataLength: size } }
	];
}

const sizes = (log: DevtoolsEvent[], id: string) =>
	log
		.filter((e) => e.params?.requestId === id && e.method !== 'Network.requestWillBeSent')
		.map((e) => e.params?.response?.encodedDataLength ?? e.params?.encodedDataLength);

describe('mendBlobSizes', () => {
	it('reads the unknown size (-1) of a blob: worker script as 0 bytes, and nothing else', () => {
		const log = [
			// a worker script from a blob: URL (tfjs-wasm's pthread pool): size unknown
			...request('A1', 'blob:http://127.0.0.1:4173/797f55e2', -1),
			// the blob the pthread worker imports: size already 0
			...request('28518.32', 'blob:http://127.0.0.1:4173/3305e0e1', 0),
			// an http request with an unknown size is Lighthouse's to judge: untouched
			...request('B2', 'http://127.0.0.1:4173/_app/immutable/app.js', -1),
			...request('C3', 'http://127.0.0.1:4173/settings/', 5861),
			{ method: 'Page.frameNavigated' } as DevtoolsEvent
		];
		expect(mendBlobSizes(log)).toBe(2);
		expect(sizes(log, 'A1')).toEqual([0, 0, 0]);
		expect(sizes(log, '28518.32')).toEqual([0, 0, 0]);
		expect(sizes(log, 'B2')).toEqual([-1, 0, -1]);
		expect(sizes(log, 'C3')).toEqual([5861, 0, 5861]);
		// a second pass finds nothing left
		expect(mendBlobSizes(log)).toBe(0);
	});
});
