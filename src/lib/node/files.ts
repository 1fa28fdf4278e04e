import { createReadStream } from 'node:fs';
import { isAscii } from 'node:buffer';
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
 * Node's streaming UTF-8 decoder in `ingest`'s shape, with the same U+FFFD for bytes that are
 * not UTF-8. An all-ASCII chunk (checked by `isAscii`, SIMD) with nothing held back from the
 * one before is copied as Latin-1, a quarter of the time of UTF-8 decoding (0.22 against 0.95 ms
 * per MB here; Node's TextDecoder takes 1.5).
 */
export function nodeUtf8Decoder(): Utf8Decoder {
	const decoder = new StringDecoder('utf8');
	// Whether the last chunk the decoder saw ended with a non-ASCII byte (it may hold it back).
	let holding = false;
	return {
		decode: (input, options) => {
			let text = '';
			if (input !== undefined && input.length > 0) {
				const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
				if (!holding && isAscii(b)) {
					text = b.toString('latin1');
				} else {
					text = decoder.write(b);
					holding = b[b.length - 1] >= 0x80;
				}
			}
			if (!options?.stream) {
				text += decoder.end();
				holding = false;
			}
			return text;
		}
	};
}
