import { MusicrecError } from '../errors';
import { CsvTokenizer, type CsvDelimiter } from './csv_tokenizer';
import { GroupedReader } from './ingest/grouped_reader';
import { FieldSpanReader } from './ingest/in_place_reader';
import { decompressed } from './ingest/decompress';
import { cancelled, RowSink } from './ingest/row_sink';
import { SplitReader } from './ingest/split_reader';
import { REPLACEMENT } from './ingest/fields';
import type {
	IngestChunk,
	IngestOptions,
	IngestResult,
	InPlaceReader,
	Utf8Decoder
} from './ingest/types';
import { schemaFromMapping, withoutColumnsDirective } from './column_mapping';
import { detectSchema, sniffDelimiter } from './schema';
import { bomEncoding } from './text_encoding';
import { encodeWtf8 } from './wtf8';

export type {
	BadLine,
	IngestChunk,
	IngestOptions,
	IngestResult,
	Utf8Decoder
} from './ingest/types';

/** The part of the WHATWG TextEncoder ingest uses. */
interface Utf8Encoder {
	encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

let sharedEncoder: Utf8Encoder | undefined;

function utf8Encoder(): Utf8Encoder {
	const Encoder = (globalThis as unknown as { TextEncoder: new () => Utf8Encoder }).TextEncoder;
	return (sharedEncoder ??= new Encoder());
}

/** A global TextDecoder for `label` (its streaming `decode` is all ingest uses). */
function textDecoder(label: 'utf-8' | 'utf-16le' | 'utf-16be'): Utf8Decoder {
	const Decoder = (globalThis as unknown as { TextDecoder: new (label: string) => Utf8Decoder })
		.TextDecoder;
	return new Decoder(label);
}

/** The bytes of `text` when it is all ASCII (one byte per character), else undefined. */
function asciiBytes(text: string): Uint8Array | undefined {
	const n = text.length;
	const out = new Uint8Array(n);
	for (let i = 0; i < n; i++) {
		const c = text.charCodeAt(i);
		if (c > 127) return undefined;
		out[i] = c;
	}
	return out;
}

/** The parts joined into one array (the part itself when there is one). */
function concatBytes(parts: Uint8Array[]): Uint8Array {
	if (parts.length === 1) return parts[0];
	let n = 0;
	for (const p of parts) n += p.length;
	const out = new Uint8Array(n);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/** The first non-empty line of `text`, or undefined while it is not complete. */
function firstLine(text: string, complete: boolean): string | undefined {
	const m = /^[\r\n\uFEFF]*([^\r\n]*)([\r\n])?/.exec(text);
	if (!m || (!m[2] && !complete)) return undefined;
	return m[1];
}

/**
 * The row sink and its three readers once the header is read; each complete unquoted line
 * of a chunk goes to the first reader that takes it: grouped, field spans, then split.
 */
class Readers {
	readonly sink: RowSink;
	readonly split: SplitReader;
	readonly grouped: InPlaceReader | undefined;
	readonly fields: InPlaceReader;
	/** The bytes of the chunk being pushed when they are all ASCII (then bytes[i] = text[i]). */
	chunkBytes: Uint8Array | undefined;
	/** Whether the chunk being pushed was decoded from bytes (else given as a string). */
	textFromBytes = false;
	/** Position of a U+FFFD at or after the current line in a non-ASCII chunk (-1: none). */
	replacementAt = -1;
	/** The UTF-8 of the current line of a non-ASCII chunk. */
	private lineBytes = new Uint8Array(1024);

	constructor(sink: RowSink) {
		this.sink = sink;
		this.split = new SplitReader(sink);
		this.grouped = GroupedReader.suits(sink.schema) ? new GroupedReader(sink) : undefined;
		this.fields = new FieldSpanReader(sink);
	}

	line(text: string, start: number, end: number, lineNo: number): void {
		const delimiter = this.sink.schema.delimiter;
		if (this.sink.eda.wantsHead) {
			return this.split.record(text.slice(start, end).split(delimiter), lineNo);
		}
		let b = this.chunkBytes;
		let t: string | undefined = text;
		let a = start;
		let e = end;
		if (b === undefined) {
			// A chunk with non-ASCII text: a line holding U+FFFD (bytes that were not UTF-8) is
			// split; any other is read in place from its UTF-8, with a one-byte-per-character
			// string of those bytes for the boundaries (a delimiter byte is never inside a
			// multi-byte character).
			if (this.replacementAt !== -1 && this.replacementAt < end) {
				if (this.replacementAt < start) this.replacementAt = text.indexOf(REPLACEMENT, start);
				if (this.replacementAt !== -1 && this.replacementAt < end) {
					return this.split.record(text.slice(start, end).split(delimiter), lineNo);
				}
			}
			if (this.lineBytes.length < 3 * (end - start)) {
				this.lineBytes = new Uint8Array(Math.max(3 * (end - start), 2 * this.lineBytes.length));
			}
			b = this.lineBytes;
			// Decoded text has no lone surrogates: the native encoder gives the same bytes.
			e = this.textFromBytes
				? utf8Encoder().encodeInto(text.slice(start, end), b).written
				: encodeWtf8(text, b, 0, start, end);
			t = undefined;
			a = 0;
		}
		if (this.grouped?.read(t, b, a, e) || this.fields.read(t, b, a, e)) return;
		this.split.record(text.slice(start, end).split(delimiter), lineNo);
	}
}

/**
 * Read a delimited text file streamed as chunks (any split) into Interactions plus EDA.
 * The delimiter is sniffed from the first line, the schema detected from the header; rows
 * go through one of three readers (grouped, field spans, split: see `Readers`) into a
 * `RowSink`, which validates, weights and interns them into growable COO arrays; the CSR
 * (duplicates summed, KKBox target max-reduced) is built at the end and the COO arrays
 * dropped. Only the current chunk and one record of text are held.
 */
export async function ingest(
	chunks: AsyncIterable<IngestChunk> | Iterable<IngestChunk>,
	options: IngestOptions = {}
): Promise<IngestResult> {
	const signal = options.signal;
	const progressEvery = Math.max(1, options.progressEvery ?? 50_000);
	let columns = options.columns;
	let readers: Readers | undefined;
	let delimiter: CsvDelimiter = ',';
	let tokenizer: CsvTokenizer | undefined;

	/** The chunk being pushed: its bytes when all ASCII, whether decoded, its text. */
	let chunk: { bytes: Uint8Array | undefined; fromBytes: boolean; text: string } | undefined;
	const prime = (r: Readers): void => {
		r.chunkBytes = chunk?.bytes;
		r.textFromBytes = chunk?.fromBytes ?? false;
		r.replacementAt = chunk && chunk.bytes === undefined ? chunk.text.indexOf(REPLACEMENT) : -1;
	};
	const onRecord = (fields: string[], line: number): void => {
		if (readers) return readers.split.record(fields, line);
		// The header: the schema, the sink and its readers, set up for the rest of this chunk.
		const schema = columns ? schemaFromMapping(fields, columns) : detectSchema(fields, delimiter);
		readers = new Readers(new RowSink(schema, options));
		prime(readers);
		// A file without a header: its first line is a row too.
		if (readers.sink.schema.headerless) readers.split.record(fields, line);
	};
	const onLine = (text: string, start: number, end: number, line: number): void => {
		if (readers) readers.line(text, start, end, line);
		else onRecord(text.slice(start, end).split(delimiter), line);
	};
	const push = (text: string, bytes: Uint8Array | undefined, fromBytes: boolean): void => {
		chunk = { bytes, fromBytes, text };
		if (readers) prime(readers);
		tokenizer!.push(text);
		chunk = undefined;
		if (readers) readers.chunkBytes = undefined;
	};

	// Text held back until the first non-empty line is complete, to sniff the delimiter, and
	// its bytes while every part of it had all-ASCII bytes.
	let pending = '';
	let pendingBytes: Uint8Array[] | undefined = [];
	let chars = 0;
	let lastReported = 0;
	let decoder: Utf8Decoder | undefined;
	/** Set when the bytes start with a UTF-16 byte order mark. */
	let utf16: 'utf-16le' | 'utf-16be' | undefined;
	/** Whether the bytes so far end on a whole character (an ASCII byte: nothing held back). */
	let decoderClear = true;
	const rows = (): number => readers?.sink.rows ?? 0;

	// A stored file mapped by the person starts with its #musicrec-columns line.
	const stripped = withoutColumnsDirective(chunks);
	for await (const piece of decompressed(stripped.chunks)) {
		columns ??= stripped.mapping();
		if (signal?.aborted) throw cancelled(signal);
		let text: string;
		let bytes: Uint8Array | undefined;
		if (typeof piece === 'string') {
			text = piece;
			bytes = asciiBytes(piece);
		} else {
			if (!decoder) {
				const encoding = bomEncoding(piece);
				utf16 = encoding === 'utf-8' ? undefined : encoding;
				decoder = utf16 ? textDecoder(utf16) : (options.decoder ?? textDecoder('utf-8'));
			}
			text = decoder.decode(piece, { stream: true });
			// Text and bytes line up when nothing was held back from the previous chunk and
			// every byte became one character: a byte >= 0x80 either joins others into fewer
			// characters or, not being UTF-8, becomes U+FFFD.
			const aligned =
				!utf16 && decoderClear && text.length === piece.length && text.indexOf(REPLACEMENT) === -1;
			bytes = aligned ? piece : undefined;
			decoderClear = piece.length === 0 ? decoderClear : piece[piece.length - 1] < 0x80;
		}
		chars += text.length;
		if (!tokenizer) {
			pending += text;
			if (pendingBytes && bytes) pendingBytes.push(bytes);
			else pendingBytes = undefined;
			const line = firstLine(pending, false);
			if (line === undefined) continue;
			delimiter = columns?.delimiter ?? sniffDelimiter(line);
			tokenizer = new CsvTokenizer(delimiter, onRecord, onLine);
			push(pending, pendingBytes && concatBytes(pendingBytes), decoder !== undefined);
			pending = '';
		} else {
			push(text, bytes, typeof piece !== 'string');
		}
		if (options.onProgress && rows() - lastReported >= progressEvery) {
			lastReported = rows();
			options.onProgress({ rows: rows(), chars });
		}
	}
	if (signal?.aborted) throw cancelled(signal);
	const rest = decoder?.decode() ?? '';
	chars += rest.length;
	if (!tokenizer) {
		pending += rest;
		columns ??= stripped.mapping();
		delimiter = columns?.delimiter ?? sniffDelimiter(firstLine(pending, true) ?? '');
		tokenizer = new CsvTokenizer(delimiter, onRecord, onLine);
		push(
			pending,
			rest.length === 0 && pendingBytes ? concatBytes(pendingBytes) : undefined,
			decoder !== undefined
		);
	} else if (rest.length > 0) {
		push(rest, undefined, true);
	}
	tokenizer.end();

	if (!readers) throw new MusicrecError('csv/empty', 'The file is empty', {});
	const result = readers.sink.result();
	options.onProgress?.({ rows: result.rows, chars });
	return result;
}
