/**
 * Decode a byte stream as UTF-8 text chunks for the streaming parser, handing every byte
 * chunk to `onBytes` first (for hashing, progress and keeping a copy). Multi-byte characters
 * split across chunks are decoded correctly (the decoder runs in streaming mode).
 */
async function* byteStreamTextChunks(
	stream: ReadableStream<Uint8Array>,
	onBytes?: (bytes: Uint8Array) => void
): AsyncGenerator<string> {
	const reader = stream.getReader();
	const decoder = new TextDecoder('utf-8');
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			onBytes?.(value);
			const text = decoder.decode(value, { stream: true });
			if (text.length > 0) yield text;
		}
		const rest = decoder.decode();
		if (rest.length > 0) yield rest;
	} finally {
		reader.releaseLock();
	}
}

/** A Blob (or File) as text chunks; `onBytes` sees each byte chunk as it is read. */
export function blobTextChunks(
	blob: Blob,
	onBytes?: (bytes: Uint8Array) => void
): AsyncGenerator<string> {
	return byteStreamTextChunks(blob.stream(), onBytes);
}

/**
 * A byte stream's chunks as they are, for `ingest` (which decodes them and reads all-ASCII
 * chunks in place), handing every chunk to `onBytes` first.
 */
export async function* byteStreamChunks(
	stream: ReadableStream<Uint8Array>,
	onBytes?: (bytes: Uint8Array) => void
): AsyncGenerator<Uint8Array> {
	const reader = stream.getReader();
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			onBytes?.(value);
			yield value;
		}
	} finally {
		reader.releaseLock();
	}
}

/** A Blob (or File) as byte chunks for `ingest`. */
export function blobByteChunks(blob: Blob): AsyncGenerator<Uint8Array> {
	return byteStreamChunks(blob.stream());
}
