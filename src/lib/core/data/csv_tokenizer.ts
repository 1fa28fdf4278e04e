import { MusicrecError } from '../errors';

/** Field separators the tokenizer accepts. */
export type CsvDelimiter = ',' | '\t' | ';' | '|' | ' ';

/** Called once per record with its fields and the 1-based physical line where it starts. */
export type RecordHandler = (fields: string[], line: number) => void;

/**
 * Optional fast path: called instead of splitting for a non-empty record that is one whole
 * line `text[start, end)` of the current chunk with no quote (its line break excluded). The
 * handler may read the fields in place, or split the span itself and treat it as a record.
 */
export type LineHandler = (text: string, start: number, end: number, line: number) => void;

const QUOTE = 34;
const LF = 10;
const CR = 13;
const BOM = 0xfeff;

// Tokenizer states, kept between chunks so a record may be split at any character.
/** At the start of a record (nothing of it read yet). */
const START_RECORD = 0;
/** At the start of a field after a delimiter. */
const START_FIELD = 1;
/** Inside an unquoted field (or after the closing quote of a quoted one). */
const UNQUOTED = 2;
/** Inside a quoted field. */
const QUOTED = 3;
/** Just read a `"` inside a quoted field: either a doubled quote or the closing quote. */
const QUOTE_IN_QUOTED = 4;
/** Just ended a record on `\r`: a following `\n` belongs to the same line break. */
const AFTER_CR = 5;

/** Line breaks in `s`: `\r\n`, lone `\n` and lone `\r` count one each. */
function countBreaks(s: string): number {
	let lf = 0;
	for (let k = s.indexOf('\n'); k !== -1; k = s.indexOf('\n', k + 1)) lf++;
	let cr = 0;
	let crlf = 0;
	for (let k = s.indexOf('\r'); k !== -1; k = s.indexOf('\r', k + 1)) {
		cr++;
		if (s.charCodeAt(k + 1) === LF) crlf++;
	}
	return lf + cr - crlf;
}

/**
 * A copy of field `s` that shares no memory with the chunk it was cut from. Fields are
 * substrings, and an engine may keep the whole (megabyte-sized) chunk alive for as long as
 * one of them lives: copy anything kept beyond the record (vocabulary keys, EDA values).
 */
export function detachField(s: string): string {
	return s.length < 13 ? s : (' ' + s).slice(1);
}

/**
 * Streaming RFC 4180 tokenizer. Text arrives in chunks of any size through `push`; every
 * complete record is handed to `onRecord` as soon as its line break is read, and `end`
 * flushes the last record. Handles quoted fields with delimiters, line breaks and doubled
 * quotes (`""`) inside, CRLF / LF / lone CR line endings (mixed too) and a leading U+FEFF.
 * Fully empty lines are skipped. Text after a closing quote is appended to the field
 * (lenient, like most readers). Only the current chunk and the unfinished record are held.
 */
export class CsvTokenizer {
	private readonly delimiter: string;
	private readonly delimiterCode: number;
	private readonly onRecord: RecordHandler;
	private readonly onLine: LineHandler | undefined;
	private state = START_RECORD;
	private fields: string[] = [];
	private field = '';
	/** Physical line of the next character to read. */
	private line = 1;
	/** Line where the current record started. */
	private recordLine = 1;
	/** Line where the current quoted field opened (for the unterminated-quote error). */
	private quoteLine = 1;
	private started = false;
	private ended = false;

	/**
	 * `onLine`, when given, receives the unquoted whole lines in place (see `LineHandler`);
	 * every other record still goes to `onRecord`.
	 */
	constructor(delimiter: CsvDelimiter, onRecord: RecordHandler, onLine?: LineHandler) {
		this.delimiter = delimiter;
		this.delimiterCode = delimiter.charCodeAt(0);
		this.onRecord = onRecord;
		this.onLine = onLine;
	}

	/** Feed the next piece of text. */
	push(chunk: string): void {
		if (this.ended) throw new Error('CsvTokenizer.push after end');
		const s = chunk;
		const n = s.length;
		if (n === 0) return;
		let i = 0;
		if (!this.started) {
			this.started = true;
			if (s.charCodeAt(0) === BOM) i = 1;
		}
		const dc = this.delimiterCode;
		const delim = this.delimiter;
		const onLine = this.onLine;
		let state = this.state;
		let field = this.field;
		let fields = this.fields;
		let line = this.line;
		// Positions of the next '\n', '"' and '\r' at or after some earlier i (n when none),
		// recomputed only once passed, so each scan of the chunk is linear overall.
		let nextLf = -1;
		let nextQuote = -1;
		let nextCr = -1;

		while (i < n) {
			if (state === START_RECORD) {
				// Fast path: a whole line in this chunk with no quote and no lone CR is split
				// natively.
				if (nextLf < i) {
					nextLf = s.indexOf('\n', i);
					if (nextLf === -1) nextLf = n;
				}
				if (nextLf < n) {
					if (nextQuote < i) {
						nextQuote = s.indexOf('"', i);
						if (nextQuote === -1) nextQuote = n;
					}
					if (nextCr < i) {
						nextCr = s.indexOf('\r', i);
						if (nextCr === -1) nextCr = n;
					}
					if (nextQuote > nextLf && nextCr >= nextLf - 1) {
						const end = nextCr === nextLf - 1 ? nextCr : nextLf;
						if (end > i) {
							if (onLine) onLine(s, i, end, line);
							else this.onRecord(s.slice(i, end).split(delim), line);
						}
						line++;
						i = nextLf + 1;
						continue;
					}
				}
				this.recordLine = line;
				state = START_FIELD;
			} else if (state === START_FIELD) {
				if (s.charCodeAt(i) === QUOTE) {
					this.quoteLine = line;
					state = QUOTED;
					i++;
				} else {
					state = UNQUOTED;
				}
			} else if (state === UNQUOTED) {
				let j = i;
				let c = 0;
				for (; j < n; j++) {
					c = s.charCodeAt(j);
					if (c === dc || c === LF || c === CR) break;
				}
				if (j > i) field = field === '' ? s.slice(i, j) : field + s.slice(i, j);
				if (j === n) break; // the field continues in the next chunk
				i = j + 1;
				fields.push(field);
				field = '';
				if (c === dc) {
					state = START_FIELD;
				} else {
					if (fields.length > 1 || fields[0] !== '') this.onRecord(fields, this.recordLine);
					fields = [];
					line++;
					state = c === CR ? AFTER_CR : START_RECORD;
				}
			} else if (state === QUOTED) {
				const j = s.indexOf('"', i);
				if (j === -1) {
					field += s.slice(i); // the quoted field continues in the next chunk
					break;
				}
				field += s.slice(i, j);
				i = j + 1;
				state = QUOTE_IN_QUOTED;
			} else if (state === QUOTE_IN_QUOTED) {
				if (s.charCodeAt(i) === QUOTE) {
					field += '"';
					i++;
					state = QUOTED;
				} else {
					// Closing quote: line breaks inside the field advance the physical line.
					line += countBreaks(field);
					state = UNQUOTED;
				}
			} else {
				// AFTER_CR
				if (s.charCodeAt(i) === LF) i++;
				state = START_RECORD;
			}
		}
		this.state = state;
		this.field = field;
		this.fields = fields;
		this.line = line;
	}

	/** Flush the last record (one without a final line break). Throws on an open quote. */
	end(): void {
		if (this.ended) return;
		this.ended = true;
		const state = this.state;
		if (state === QUOTED) {
			throw new MusicrecError(
				'csv/unterminated-quote',
				`Line ${this.quoteLine}: a quoted field is never closed (missing '"' before the end of the file)`,
				{ line: this.quoteLine, recordLine: this.recordLine }
			);
		}
		if (state === START_FIELD || state === UNQUOTED || state === QUOTE_IN_QUOTED) {
			if (state === QUOTE_IN_QUOTED) this.line += countBreaks(this.field);
			const fields = this.fields;
			fields.push(this.field);
			this.fields = [];
			this.field = '';
			if (fields.length > 1 || fields[0] !== '') this.onRecord(fields, this.recordLine);
		}
	}
}
