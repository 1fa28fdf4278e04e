/** The encodings the readers accept: UTF-8, or UTF-16 named by its byte order mark. */
export type TextEncodingLabel = 'utf-8' | 'utf-16le' | 'utf-16be';

/**
 * The encoding of bytes that start with a UTF-16 byte order mark (what spreadsheets save as
 * "Unicode text"): little or big endian; anything else is read as UTF-8.
 */
export function bomEncoding(bytes: Uint8Array): TextEncodingLabel {
	if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
	if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
	return 'utf-8';
}

/** The text of whole UTF-8 or UTF-16 (with its mark) bytes, without a byte order mark. */
export function decodeByBom(bytes: Uint8Array): string {
	const Decoder = (
		globalThis as unknown as {
			TextDecoder: new (label: string) => { decode(b: Uint8Array): string };
		}
	).TextDecoder;
	return new Decoder(bomEncoding(bytes)).decode(bytes).replace(/^\uFEFF/, '');
}
