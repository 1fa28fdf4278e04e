/** Files larger than this (in characters) are gzipped when saved. */
const GZIP_THRESHOLD = 8 * 1024 * 1024;

/** Whether `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
	return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * A Blob to download for an envelope's text: gzipped (CompressionStream) when the text is
 * longer than `threshold` and the platform supports it, plain JSON otherwise.
 */
export async function envelopeBlob(text: string, threshold = GZIP_THRESHOLD): Promise<Blob> {
	const plain = new Blob([text], { type: 'application/json' });
	if (text.length <= threshold || typeof CompressionStream === 'undefined') return plain;
	const stream = plain.stream().pipeThrough(new CompressionStream('gzip'));
	return new Blob([await new Response(stream).arrayBuffer()], { type: 'application/gzip' });
}

/** The text of a file that may be gzipped (detected by its magic number, not its name). */
export async function readEnvelopeText(file: Blob): Promise<string> {
	const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
	if (!isGzip(head)) return file.text();
	const stream = file.stream().pipeThrough(new DecompressionStream('gzip'));
	return new Response(stream).text();
}
