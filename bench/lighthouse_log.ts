/** The DevTools log that Lighthouse gathers, mended where Chromium reports no size. */

/**
 * Chromium reports the size of a worker script loaded from a blob: URL as -1 (unknown), both in
 * Network.responseReceived and in Network.loadingFinished. Lighthouse 12 keeps -1 as the
 * request's transferSize; its network analysis (Lantern) counts any non-zero transferSize as a
 * download, then finds no timing for it and fails with "No timing information available", so
 * every simulated metric (FCP, LCP, TBT, Speed Index) and the performance score is lost. tfjs-
 * wasm's pthread pool is such a set of blob: workers (the Settings page starts it in its
 * wasm-threads check). A blob: URL is read from memory, never from the network (0 bytes, as the
 * Resource Timing spec says for local resources): set those sizes to 0 in the gathered log,
 * nothing else. Returns the number of values changed.
 */
export function mendBlobSizes(log: DevtoolsEvent[]): number {
	const blobRequests = new Set<string>();
	let mended = 0;
	for (const event of log) {
		const params = event.params;
		if (params?.requestId === undefined) continue;
		if (event.method === 'Network.requestWillBeSent' && params.request?.url?.startsWith('blob:')) {
			blobRequests.add(params.requestId);
		}
		if (!blobRequests.has(params.requestId)) continue;
		for (const sized of [params, params.response]) {
			if (sized && typeof sized.encodedDataLength === 'number' && sized.encodedDataLength < 0) {
				sized.encodedDataLength = 0;
				mended++;
			}
		}
	}
	return mended;
}

/** The parts of a DevTools protocol event that mendBlobSizes reads or changes. */
export interface DevtoolsEvent {
	method: string;
	params?: {
		requestId?: string;
		request?: { url?: string };
		encodedDataLength?: number;
		response?: { encodedDataLength?: number };
	};
}
