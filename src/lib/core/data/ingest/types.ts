import type { ColumnMapping } from '../column_mapping';
import type { EdaSummary } from '../eda';
import type { Interactions } from '../interactions';
import type { SchemaKind } from '../schema';
import type { Weighting } from '../weights';

/** The part of `AbortSignal` ingest reads (the core has no DOM types). */
export interface AbortSignalLike {
	readonly aborted: boolean;
	readonly reason?: unknown;
}

interface IngestProgress {
	/** Data rows read so far. */
	rows: number;
	/** Characters of text consumed so far (whole chunks, after decoding). */
	chars: number;
}

/**
 * A piece of the file: text, or UTF-8 bytes (any split, decoded in streaming mode). Bytes are
 * faster: an all-ASCII chunk's ids are hashed and compared as bytes in place.
 */
export type IngestChunk = string | Uint8Array;

/**
 * A streaming UTF-8 decoder: the part of the WHATWG TextDecoder ingest uses (the core has no
 * DOM types). Bytes that are not UTF-8 must become U+FFFD.
 */
export interface Utf8Decoder {
	decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}

export interface IngestOptions {
	/** The columns as the person said them; default: detected from the header. */
	columns?: ColumnMapping;
	/** Weight mapping; defaults to `one-plus-target` for KKBox and `raw` otherwise. */
	weighting?: Weighting;
	/** `error` (default) stops at the first bad data line; `skip` counts and skips them. */
	badLines?: 'error' | 'skip';
	onProgress?: (p: IngestProgress) => void;
	signal?: AbortSignalLike;
	/** Minimum rows between progress reports (reports come after chunks); default 50,000. */
	progressEvery?: number;
	/** Decoder for byte chunks; default a global `TextDecoder('utf-8')`. */
	decoder?: Utf8Decoder;
}

/** A data line that could not be read. */
export interface BadLine {
	/** 1-based physical line where the record starts. */
	line: number;
	reason: string;
	/** The record re-joined with its delimiter, truncated to BAD_LINE_CONTENT_CHARS. */
	content: string;
}

export interface IngestResult {
	schema: SchemaKind;
	/** Header names as written in the file. */
	columns: string[];
	/** Data rows read (bad ones included). */
	rows: number;
	/** Rows that entered the interaction matrix (after skipping bad lines and filtering). */
	rowsKept: number;
	badLines: { count: number; first?: BadLine };
	interactions: Interactions;
	eda: EdaSummary;
	/**
	 * Data rows by how they were read: `grouped` (in place, the rest of the line looked up as
	 * a whole), `inPlace` (in place, field by field) and `split` (cut into field strings: the
	 * head rows, lines with quotes or non-ASCII text, lines across chunks, odd rows).
	 */
	paths: { grouped: number; inPlace: number; split: number };
}

/**
 * A reader of one line held in place: `b[start, end)` are its bytes, `text` its characters
 * when it has one per byte (else undefined). False when the line must take another path.
 */
export interface InPlaceReader {
	read(text: string | undefined, b: Uint8Array, start: number, end: number): boolean;
}
