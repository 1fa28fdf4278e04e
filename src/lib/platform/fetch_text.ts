/**
 * Stream a URL's body as decoded text chunks, so a large CSV is never held whole in memory.
 * `onBytes` reports the bytes received so far (for progress against Content-Length).
 */
export async function* fetchTextChunks(
	url: string,
	onBytes?: (received: number, total: number | undefined) => void
): AsyncGenerator<string> {
	const response = await fetch(url);
	if (!response.ok || response.body === null) {
		throw new Error(`could not load ${url}: HTTP ${response.status}`);
	}
	const length = Number(response.headers.get('content-length'));
	const total = Number.isFinite(length) && length > 0 ? length : undefined;
	const reader = response.body.getReader();
	const decoder = new TextDecoder('utf-8');
	let received = 0;
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			received += value.byteLength;
			onBytes?.(received, total);
			const text = decoder.decode(value, { stream: true });
			if (text.length > 0) yield text;
		}
		const rest = decoder.decode();
		if (rest.length > 0) yield rest;
	} finally {
		reader.releaseLock();
	}
}
