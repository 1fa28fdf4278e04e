import { MusicrecError } from '../errors';
import { csrFromTriplets } from './csr';
import { CsvTokenizer } from './csv_tokenizer';
import { EdaAccumulator } from './eda';
import type { EdaSummary } from './eda';
import { Growable } from './growable';
import { IdInterner } from './id_interner';
import type { Interactions } from './interactions';
import { detectSchema, sniffDelimiter } from './schema';
import type { Schema, SchemaKind } from './schema';
import { Vocabulary } from './vocabulary';
import { countWeight, kkboxWeight, resolveWeighting } from './weights';
import { decodeWtf8, encodeWtf8 } from './wtf8';
import type { CountWeighting, KkboxWeighting, Weighting } from './weights';

/** The part of `AbortSignal` ingest reads (the core has no DOM types). */
export interface AbortSignalLike {
	readonly aborted: boolean;
	readonly reason?: unknown;
}

export interface IngestProgress {
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

/** The part of the WHATWG TextEncoder ingest uses. */
interface Utf8Encoder {
	encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

let sharedEncoder: Utf8Encoder | undefined;

function utf8Encoder(): Utf8Encoder {
	const Encoder = (globalThis as unknown as { TextEncoder: new () => Utf8Encoder }).TextEncoder;
	return (sharedEncoder ??= new Encoder());
}

function utf8Decoder(): Utf8Decoder {
	const Decoder = (globalThis as unknown as { TextDecoder: new (label: string) => Utf8Decoder })
		.TextDecoder;
	return new Decoder('utf-8');
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

export interface IngestOptions {
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

export const BAD_LINE_CONTENT_CHARS = 200;
const ABORT_CHECK_ROWS = 16_384;
/** Most distinct line tails (all but user and item) read once and looked up after. */
const MAX_TAILS = 1 << 16;

function cancelled(signal: AbortSignalLike): MusicrecError {
	return new MusicrecError('data/cancelled', 'Reading the file was cancelled', {
		reason: signal.reason === undefined ? undefined : String(signal.reason)
	});
}

/**
 * Largest accepted weight. Weights are stored as float32 and duplicates of a pair are summed;
 * with fewer than 2^31 rows the sum stays below 2^31 * 1e15 ~ 2e24, far from float32's
 * 3.4e38, so no weight or sum becomes Infinity.
 */
export const MAX_WEIGHT = 1e15;

/** Raw-weight parse: a number in (0, MAX_WEIGHT], else NaN. */
function parseWeight(s: string): number {
	if (s.length === 0) return NaN;
	const x = Number(s);
	return x > 0 && x <= MAX_WEIGHT ? x : NaN;
}

/**
 * U+FFFD, which a UTF-8 decoder puts in place of bytes that are not UTF-8. Two ids that
 * differ only in such bytes would decode to the same string and merge silently, so an id
 * holding it makes the line bad.
 */
const REPLACEMENT = '\uFFFD';

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

/**
 * Reads the line `b[start, end)` in place (its text too when it has one character per byte);
 * false when the line must take another path.
 */
type InPlaceReader = (
	text: string | undefined,
	b: Uint8Array,
	start: number,
	end: number
) => boolean;

/** A field quoted in a reason, cut to 40 characters. */
function shown(field: string): string {
	return field.length > 40 ? field.slice(0, 40) + '…' : field;
}

/** A printable ASCII character other than space (nothing `trim` would remove). */
function plain(c: number): boolean {
	return c > 32 && c < 127;
}

/** KKBox target: 0 or 1, else -1. */
function parseTarget(s: string): number {
	if (s === '1') return 1;
	if (s === '0') return 0;
	const t = s.trim();
	if (t.length === 0) return -1;
	const x = Number(t);
	return x === 0 || x === 1 ? x : -1;
}

/**
 * Read a delimited text file streamed as chunks (any split) into Interactions plus EDA.
 * The delimiter is sniffed from the first line, the schema detected from the header; rows
 * are validated, mapped to weights, interned into user/item vocabularies and appended to
 * growable COO arrays; the CSR (duplicates summed, KKBox target max-reduced) is built at the
 * end and the COO arrays dropped. Only the current chunk and one record of text are held.
 */
export async function ingest(
	chunks: AsyncIterable<IngestChunk> | Iterable<IngestChunk>,
	options: IngestOptions = {}
): Promise<IngestResult> {
	const skipBad = options.badLines === 'skip';
	const signal = options.signal;
	const progressEvery = Math.max(1, options.progressEvery ?? 50_000);

	let schema: Schema | undefined;
	let eda: EdaAccumulator | undefined;
	let kkboxMode: KkboxWeighting = 'one-plus-target';
	let countMode: CountWeighting = 'raw';
	const users = new Vocabulary();
	const items = new Vocabulary();
	const rowIdx = new Growable(Int32Array, 1 << 16);
	const colIdx = new Growable(Int32Array, 1 << 16);
	const values = new Growable(Float32Array, 1 << 16);
	let targets: Growable<Int8Array> | undefined;

	let rows = 0;
	let groupedRows = 0;
	let inPlaceRows = 0;
	let lastUser = '';
	let lastUserIndex = -1;
	let rowsKept = 0;
	let badCount = 0;
	let firstBad: BadLine | undefined;

	const bad = (fields: string[], line: number, reason: string): void => {
		let content = fields.join(schema?.delimiter ?? ',');
		if (content.length > BAD_LINE_CONTENT_CHARS) {
			content = content.slice(0, BAD_LINE_CONTENT_CHARS) + '…';
		}
		if (!skipBad) {
			throw new MusicrecError('csv/bad-line', `Line ${line}: ${reason}: ${content}`, {
				line,
				reason,
				content
			});
		}
		badCount++;
		if (!firstBad) firstBad = { line, reason, content };
	};

	const onRecord = (fields: string[], line: number): void => {
		if (!schema) {
			schema = detectSchema(fields, delimiter);
			eda = new EdaAccumulator(schema);
			tailLayout = schema.userColumn + schema.itemColumn === 1;
			starts = new Int32Array(schema.fieldCount + 1);
			ends = new Int32Array(schema.fieldCount + 1);
			const mode = resolveWeighting(schema.kind, options.weighting);
			if (schema.kind === 'kkbox') {
				kkboxMode = mode as KkboxWeighting;
				targets = new Growable(Int8Array, 1 << 16);
			} else {
				countMode = mode as CountWeighting;
			}
			return;
		}
		rows++;
		if ((rows & (ABORT_CHECK_ROWS - 1)) === 0 && signal?.aborted) throw cancelled(signal);
		const s = schema;
		if (fields.length !== s.fieldCount) {
			return bad(fields, line, `expected ${s.fieldCount} fields, found ${fields.length}`);
		}
		const user = fields[s.userColumn].trim();
		if (user.length === 0) return bad(fields, line, `empty ${s.columns[s.userColumn]}`);
		const item = fields[s.itemColumn].trim();
		if (item.length === 0) return bad(fields, line, `empty ${s.columns[s.itemColumn]}`);
		if (user.includes(REPLACEMENT) || item.includes(REPLACEMENT)) {
			const name = s.columns[user.includes(REPLACEMENT) ? s.userColumn : s.itemColumn];
			return bad(
				fields,
				line,
				`${name} holds bytes that are not UTF-8 (shown as U+FFFD); save the file as UTF-8`
			);
		}

		let target = -1;
		let raw = NaN;
		let w = 1;
		if (s.targetColumn !== undefined) {
			const t = fields[s.targetColumn];
			target = parseTarget(t);
			if (target < 0) {
				const name = s.columns[s.targetColumn];
				return bad(
					fields,
					line,
					t.trim() === '' ? `empty ${name}` : `${name} must be 0 or 1, found '${shown(t)}'`
				);
			}
			w = kkboxWeight(kkboxMode, target);
		} else if (s.weightColumn !== undefined) {
			const t = fields[s.weightColumn];
			raw = parseWeight(t);
			if (raw !== raw) {
				const name = s.columns[s.weightColumn];
				return bad(
					fields,
					line,
					`${name} must be a positive number up to ${MAX_WEIGHT.toExponential()}, found '${shown(t)}'`
				);
			}
			w = countWeight(countMode, raw);
		}
		eda!.add(fields, target, raw);
		if (w < 0) return; // filtered out by the weighting (KKBox positive-only)
		// KKBox rows come in runs of one user: reuse the last lookup.
		if (user !== lastUser) {
			lastUser = user;
			lastUserIndex = users.add(user);
		}
		rowIdx.push(lastUserIndex);
		colIdx.push(items.add(item));
		values.push(w);
		if (targets) targets.push(target);
		rowsKept++;
	};

	// Fast path: a whole unquoted line of an all-ASCII chunk read in place. Field c is
	// text[starts[c], ends[c]), the same span of the chunk's bytes; ids are looked up by their
	// bytes. Only rows that need nothing beyond that (no trimming, target exactly 0 or 1, a
	// valid weight) are taken here, every other row goes through `onRecord` unchanged, so
	// results and errors are the same either way.
	let starts = new Int32Array(0);
	let ends = new Int32Array(0);
	/** The bytes of the chunk being pushed when they are all ASCII (then bytes[i] = text[i]). */
	let chunkBytes: Uint8Array | undefined;
	/** Position of a U+FFFD at or after the current line in a non-ASCII chunk (-1: none). */
	let replacementAt = -1;
	/** The UTF-8 of the current line of a non-ASCII chunk. */
	let lineBytes = new Uint8Array(1024);
	/** Whether the chunk being pushed was decoded from bytes (else given as a string). */
	let textFromBytes = false;
	/** Index of the user of the last row read in place (-1: none). */
	let runUser = -1;

	const asRecord = (text: string, start: number, end: number, line: number): void =>
		onRecord(text.slice(start, end).split(delimiter), line);

	// Fastest path, for files whose user and item are the first two columns (KKBox, Last.fm):
	// the rest of the line (the "tail": context columns, target or weight) takes few distinct
	// values, so each distinct tail is read once (fields checked, target or weight parsed, EDA
	// values resolved) and later rows with the same bytes are one lookup. Up to MAX_TAILS
	// tails; rows with a tail beyond that, or one that needs the field path, fall through.
	const tails = new IdInterner();
	/** Per tail: its EDA group, or -1 when its rows must take the per-field path. */
	const tailGroup = new Growable(Int32Array, 256);
	const tailTarget = new Growable(Int8Array, 256);
	const tailRaw = new Growable(Float64Array, 256);
	const tailWeight = new Growable(Float64Array, 256);
	let tailLayout = false;

	/** Resolve the new tail `t`, whose row's fields are in `starts`/`ends`. */
	const addTail = (b: Uint8Array, fields: number, s: Schema, e: EdaAccumulator): void => {
		let target = -1;
		let raw = NaN;
		let w = 1;
		let ok = fields === s.fieldCount;
		if (ok && s.targetColumn !== undefined) {
			const ta = starts[s.targetColumn];
			const c = b[ta];
			ok = ends[s.targetColumn] === ta + 1 && (c === 48 || c === 49);
			target = c - 48;
			w = kkboxWeight(kkboxMode, target);
		} else if (ok && s.weightColumn !== undefined) {
			raw = parseWeight(decodeWtf8(b, starts[s.weightColumn], ends[s.weightColumn]));
			ok = raw === raw;
			w = countWeight(countMode, raw);
		}
		tailGroup.push(ok ? e.addGroup(b, starts, ends, target) : -1);
		tailTarget.push(target);
		tailRaw.push(raw);
		tailWeight.push(w);
	};

	/**
	 * The next delimiter at or after `from` in the line ending at `end`, or -1: found in the
	 * line's text when it has one character per byte, else in its bytes.
	 */
	const find = (text: string | undefined, b: Uint8Array, end: number, from: number): number => {
		if (text !== undefined) return text.indexOf(delimiter, from);
		const code = delimiter === ',' ? 44 : 9;
		for (let k = from; k < end; k++) if (b[k] === code) return k;
		return -1;
	};

	/** The grouped path for one line; false when the line must take another path. */
	const tailLine: InPlaceReader = (text, b, start, end) => {
		const s = schema!;
		const n = s.fieldCount;
		const d1 = find(text, b, end, start);
		if (d1 === -1 || d1 >= end) return false;
		let d2 = find(text, b, end, d1 + 1);
		if (d2 === -1 || d2 >= end) d2 = end;
		if ((n === 2) !== (d2 === end)) return false;
		if (start === d1 || d1 + 1 === d2) return false;
		if (!plain(b[start]) || !plain(b[d1 - 1]) || !plain(b[d1 + 1]) || !plain(b[d2 - 1])) {
			return false;
		}
		const tailStart = n === 2 ? end : d2 + 1;
		let t = tails.findBytes(b, tailStart, end);
		if (t === -1) {
			if (tails.size >= MAX_TAILS) return false;
			t = tails.internBytes(b, tailStart, end);
			starts[0] = start;
			ends[0] = d1;
			starts[1] = d1 + 1;
			ends[1] = d2;
			let f = 2;
			if (n > 2) {
				// Split the tail; a delimiter after the last expected field means too many.
				let a = tailStart;
				while (f < n) {
					const k = find(text, b, end, a);
					starts[f] = a;
					if (k === -1 || k >= end) {
						ends[f++] = end;
						a = -1;
						break;
					}
					ends[f++] = k;
					a = k + 1;
				}
				if (a !== -1) f = n + 1;
			}
			addTail(b, f, s, eda!);
		}
		const group = tailGroup.at(t);
		if (group < 0) return false;
		rows++;
		if ((rows & (ABORT_CHECK_ROWS - 1)) === 0 && signal?.aborted) throw cancelled(signal);
		groupedRows++;
		eda!.addGrouped(group, tailRaw.at(t));
		const w = tailWeight.at(t);
		if (w < 0) return true;
		const userFirst = s.userColumn === 0;
		const ua = userFirst ? start : d1 + 1;
		const ub = userFirst ? d1 : d2;
		// KKBox rows come in runs of one user: compare with the last row's user before hashing.
		if (runUser < 0 || !users.bytesEqual(runUser, b, ua, ub)) runUser = users.addBytes(b, ua, ub);
		rowIdx.push(runUser);
		colIdx.push(userFirst ? items.addBytes(b, d1 + 1, d2) : items.addBytes(b, start, d1));
		values.push(w);
		if (targets) targets.push(tailTarget.at(t));
		rowsKept++;
		return true;
	};

	const onLine = (text: string, start: number, end: number, line: number): void => {
		if (schema === undefined || eda === undefined || eda.wantsHead) {
			return asRecord(text, start, end, line);
		}
		let b = chunkBytes;
		let t: string | undefined = text;
		let a = start;
		let e = end;
		if (b === undefined) {
			// A chunk with non-ASCII text: a line holding U+FFFD (bytes that were not UTF-8) is
			// split; any other is read in place from its UTF-8, with a one-byte-per-character
			// string of those bytes for the boundaries (a delimiter byte is never inside a
			// multi-byte character).
			if (replacementAt !== -1 && replacementAt < end) {
				if (replacementAt < start) replacementAt = text.indexOf(REPLACEMENT, start);
				if (replacementAt !== -1 && replacementAt < end) return asRecord(text, start, end, line);
			}
			if (lineBytes.length < 3 * (end - start)) {
				lineBytes = new Uint8Array(Math.max(3 * (end - start), 2 * lineBytes.length));
			}
			b = lineBytes;
			// Decoded text has no lone surrogates: the native encoder gives the same bytes.
			e = textFromBytes
				? utf8Encoder().encodeInto(text.slice(start, end), b).written
				: encodeWtf8(text, b, 0, start, end);
			t = undefined;
			a = 0;
		}
		if (tailLayout && tailLine(t, b, a, e)) return;
		if (!fieldLine(t, b, a, e)) asRecord(text, start, end, line);
	};

	/** The in-place path, field by field; false when the line must be split instead. */
	const fieldLine: InPlaceReader = (text, b, start, end) => {
		const s = schema!;
		const n = s.fieldCount;
		if (starts.length < n) {
			starts = new Int32Array(n);
			ends = new Int32Array(n);
		}
		let f = 0;
		let a = start;
		for (;;) {
			const k = find(text, b, end, a);
			if (k === -1 || k >= end) break;
			if (f === n - 1) return false; // too many fields
			starts[f] = a;
			ends[f] = k;
			f++;
			a = k + 1;
		}
		starts[f] = a;
		ends[f] = end;
		if (f !== n - 1) return false; // too few fields
		// Ids must start and end with a printable ASCII character (nothing to trim).
		const ua = starts[s.userColumn];
		const ub = ends[s.userColumn];
		const ia = starts[s.itemColumn];
		const ib = ends[s.itemColumn];
		if (
			ua === ub ||
			ia === ib ||
			!plain(b[ua]) ||
			!plain(b[ub - 1]) ||
			!plain(b[ia]) ||
			!plain(b[ib - 1])
		) {
			return false;
		}
		let target = -1;
		let raw = NaN;
		let w = 1;
		if (s.targetColumn !== undefined) {
			const ta = starts[s.targetColumn];
			if (ends[s.targetColumn] !== ta + 1) return false;
			const c = b[ta];
			if (c === 48) target = 0;
			else if (c === 49) target = 1;
			else return false;
			w = kkboxWeight(kkboxMode, target);
		} else if (s.weightColumn !== undefined) {
			raw = parseWeight(decodeWtf8(b, starts[s.weightColumn], ends[s.weightColumn]));
			if (raw !== raw) return false;
			w = countWeight(countMode, raw);
		}
		rows++;
		if ((rows & (ABORT_CHECK_ROWS - 1)) === 0 && signal?.aborted) throw cancelled(signal);
		inPlaceRows++;
		eda!.addByteSpans(b, starts, ends, target, raw);
		if (w < 0) return true;
		// KKBox rows come in runs of one user: compare with the last row's user before hashing.
		if (runUser < 0 || !users.bytesEqual(runUser, b, ua, ub)) runUser = users.addBytes(b, ua, ub);
		rowIdx.push(runUser);
		colIdx.push(items.addBytes(b, ia, ib));
		values.push(w);
		if (targets) targets.push(target);
		rowsKept++;
		return true;
	};

	let delimiter: ',' | '\t' = ',';
	let tokenizer: CsvTokenizer | undefined;
	const push = (text: string, bytes: Uint8Array | undefined, fromBytes: boolean): void => {
		chunkBytes = bytes;
		textFromBytes = fromBytes;
		replacementAt = bytes === undefined ? text.indexOf(REPLACEMENT) : -1;
		tokenizer!.push(text);
		chunkBytes = undefined;
	};
	// Text held back until the first non-empty line is complete, to sniff the delimiter, and
	// its bytes while every part of it had all-ASCII bytes.
	let pending = '';
	let pendingBytes: Uint8Array[] | undefined = [];
	let chars = 0;
	let lastReported = 0;
	let decoder: Utf8Decoder | undefined;
	/** Whether the bytes so far end on a whole character (an ASCII byte: nothing held back). */
	let decoderClear = true;

	/** The first non-empty line of `text`, or undefined while it is not complete. */
	const firstLine = (text: string, complete: boolean): string | undefined => {
		const m = /^[\r\n\uFEFF]*([^\r\n]*)([\r\n])?/.exec(text);
		if (!m || (!m[2] && !complete)) return undefined;
		return m[1];
	};

	for await (const chunk of chunks) {
		if (signal?.aborted) throw cancelled(signal);
		let text: string;
		let bytes: Uint8Array | undefined;
		if (typeof chunk === 'string') {
			text = chunk;
			bytes = asciiBytes(chunk);
		} else {
			decoder ??= options.decoder ?? utf8Decoder();
			text = decoder.decode(chunk, { stream: true });
			// Text and bytes line up when nothing was held back from the previous chunk and
			// every byte became one character: a byte >= 0x80 either joins others into fewer
			// characters or, not being UTF-8, becomes U+FFFD.
			const aligned =
				decoderClear && text.length === chunk.length && text.indexOf(REPLACEMENT) === -1;
			bytes = aligned ? chunk : undefined;
			decoderClear = chunk.length === 0 ? decoderClear : chunk[chunk.length - 1] < 0x80;
		}
		chars += text.length;
		if (!tokenizer) {
			pending += text;
			if (pendingBytes && bytes) pendingBytes.push(bytes);
			else pendingBytes = undefined;
			const line = firstLine(pending, false);
			if (line === undefined) continue;
			delimiter = sniffDelimiter(line);
			tokenizer = new CsvTokenizer(delimiter, onRecord, onLine);
			push(pending, pendingBytes && concatBytes(pendingBytes), decoder !== undefined);
			pending = '';
		} else {
			push(text, bytes, typeof chunk !== 'string');
		}
		if (options.onProgress && rows - lastReported >= progressEvery) {
			lastReported = rows;
			options.onProgress({ rows, chars });
		}
	}
	if (signal?.aborted) throw cancelled(signal);
	const rest = decoder?.decode() ?? '';
	chars += rest.length;
	if (!tokenizer) {
		pending += rest;
		delimiter = sniffDelimiter(firstLine(pending, true) ?? '');
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

	if (!schema || !eda) throw new MusicrecError('csv/empty', 'The file is empty', {});
	if (rows === 0) {
		throw new MusicrecError(
			'csv/empty',
			`The file has a header (${schema.columns.join(', ')}) but no data rows`,
			{ columns: schema.columns.slice() }
		);
	}
	options.onProgress?.({ rows, chars });

	const built = csrFromTriplets(
		users.size,
		items.size,
		rowIdx.view(),
		colIdx.view(),
		values.view(),
		targets?.view()
	);
	rowIdx.release();
	colIdx.release();
	values.release();
	targets?.release();

	const interactions: Interactions = {
		users,
		items,
		matrix: built.matrix,
		target: built.extra
	};
	return {
		schema: schema.kind,
		columns: schema.columns.slice(),
		rows,
		rowsKept,
		badLines: firstBad ? { count: badCount, first: firstBad } : { count: badCount },
		interactions,
		eda: eda.finish(interactions, rowsKept),
		paths: { grouped: groupedRows, inPlace: inPlaceRows, split: rows - groupedRows - inPlaceRows }
	};
}
