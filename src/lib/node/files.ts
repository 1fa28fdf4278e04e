import { createReadStream } from 'node:fs';

/**
 * Stream a UTF-8 text file as string chunks of about `chunkBytes` bytes. Decoding is
 * streaming, so a multi-byte character split across two reads comes out whole.
 */
export async function* readTextChunks(
	path: string,
	chunkBytes: number = 1 << 20
): AsyncIterable<string> {
	const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: chunkBytes });
	try {
		for await (const chunk of stream) yield chunk as string;
	} finally {
		stream.destroy();
	}
}
