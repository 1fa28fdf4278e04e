import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Utf8Decoder } from '../core/data/ingest';

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

/** Stream a file as byte chunks of about `chunkBytes` bytes (for `ingest`, which decodes). */
export async function* readByteChunks(
	path: string,
	chunkBytes: number = 1 << 20
): AsyncIterable<Uint8Array> {
	const stream = createReadStream(path, { highWaterMark: chunkBytes });
	try {
		for await (const chunk of stream) yield chunk as Buffer;
	} finally {
		stream.destroy();
	}
}

/**
 * Node's streaming UTF-8 decoder in `ingest`'s shape: about twice as fast as Node's
 * TextDecoder (0.8 against 1.5 ms per MB here), with the same U+FFFD for bytes that are not UTF-8.
 */
export function nodeUtf8Decoder(): Utf8Decoder {
	const decoder = new StringDecoder('utf8');
	return {
		decode: (input, options) => {
			const text = input === undefined ? '' : decoder.write(input as Buffer);
			return options?.stream ? text : text + decoder.end();
		}
	};
}
