import { MusicrecError } from '../errors';
import { csrFromTriplets } from './csr';
import { CsvTokenizer, detachField } from './csv_tokenizer';
import { EdaAccumulator } from './eda';
import type { EdaSummary } from './eda';
import { Growable } from './growable';
import type { Interactions } from './interactions';
import { detectSchema, sniffDelimiter } from './schema';
import type { Schema, SchemaKind } from './schema';
import { Vocabulary } from './vocabulary';
import { countWeight, kkboxWeight, resolveWeighting } from './weights';
import type { CountWeighting, KkboxWeighting, Weighting } from './weights';

/** The part of `AbortSignal` ingest reads (the core has no DOM types). */
export interface AbortSignalLike {
	readonly aborted: boolean;
	readonly reason?: unknown;
}

export interface IngestProgress {
	/** Data rows read so far. */
	rows: number;
	/** Characters consumed so far (whole chunks). */
	chars: number;
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
}

export const BAD_LINE_CONTENT_CHARS = 200;
const ABORT_CHECK_ROWS = 16_384;

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
	chunks: AsyncIterable<string> | Iterable<string>,
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
			lastUserIndex = users.indexOf(user) ?? users.add(detachField(user));
		}
		rowIdx.push(lastUserIndex);
		colIdx.push(items.indexOf(item) ?? items.add(detachField(item)));
		values.push(w);
		if (targets) targets.push(target);
		rowsKept++;
	};

	// Fast path: a whole unquoted line read in place. Field c is text[starts[c], ends[c]); only
	// rows that need nothing beyond that (no trimming, no U+FFFD, target exactly 0 or 1, a valid
	// weight) are taken here, every other row goes through `onRecord` unchanged, so results and
	// errors are the same either way.
	let starts = new Int32Array(0);
	let ends = new Int32Array(0);
	/** Position of a U+FFFD at or after the current line in the chunk being pushed (-1: none). */
	let replacementAt = -1;

	// The user of the last row read in place: its span in `runText` and its index.
	let runText = '';
	let runStart = 0;
	let runEnd = 0;
	let runUser = -1;

	const asRecord = (text: string, start: number, end: number, line: number): void =>
		onRecord(text.slice(start, end).split(delimiter), line);

	const onLine = (text: string, start: number, end: number, line: number): void => {
		const s = schema;
		if (s === undefined || eda === undefined || eda.wantsHead) {
			return asRecord(text, start, end, line);
		}
		if (replacementAt !== -1 && replacementAt < end) {
			if (replacementAt < start) replacementAt = text.indexOf(REPLACEMENT, start);
			if (replacementAt !== -1 && replacementAt < end) return asRecord(text, start, end, line);
		}
		const n = s.fieldCount;
		if (starts.length !== n) {
			starts = new Int32Array(n);
			ends = new Int32Array(n);
		}
		let f = 0;
		let a = start;
		for (;;) {
			const k = text.indexOf(delimiter, a);
			if (k === -1 || k >= end) break;
			if (f === n - 1) return asRecord(text, start, end, line); // too many fields
			starts[f] = a;
			ends[f] = k;
			f++;
			a = k + 1;
		}
		starts[f] = a;
		ends[f] = end;
		if (f !== n - 1) return asRecord(text, start, end, line); // too few fields
		// Ids must start and end with a printable ASCII character (nothing to trim).
		const ua = starts[s.userColumn];
		const ub = ends[s.userColumn];
		const ia = starts[s.itemColumn];
		const ib = ends[s.itemColumn];
		if (
			ua === ub ||
			ia === ib ||
			!plain(text.charCodeAt(ua)) ||
			!plain(text.charCodeAt(ub - 1)) ||
			!plain(text.charCodeAt(ia)) ||
			!plain(text.charCodeAt(ib - 1))
		) {
			return asRecord(text, start, end, line);
		}
		let target = -1;
		let raw = NaN;
		let w = 1;
		if (s.targetColumn !== undefined) {
			const ta = starts[s.targetColumn];
			if (ends[s.targetColumn] !== ta + 1) return asRecord(text, start, end, line);
			const c = text.charCodeAt(ta);
			if (c === 48) target = 0;
			else if (c === 49) target = 1;
			else return asRecord(text, start, end, line);
			w = kkboxWeight(kkboxMode, target);
		} else if (s.weightColumn !== undefined) {
			raw = parseWeight(text.slice(starts[s.weightColumn], ends[s.weightColumn]));
			if (raw !== raw) return asRecord(text, start, end, line);
			w = countWeight(countMode, raw);
		}
		rows++;
		if ((rows & (ABORT_CHECK_ROWS - 1)) === 0 && signal?.aborted) throw cancelled(signal);
		eda.addSpans(text, starts, ends, target, raw);
		if (w < 0) return;
		// KKBox rows come in runs of one user: compare with the last row's user before hashing.
		if (text === runText && ub - ua === runEnd - runStart) {
			let k = 0;
			while (k < ub - ua && text.charCodeAt(ua + k) === text.charCodeAt(runStart + k)) k++;
			if (k !== ub - ua) runUser = users.addSpan(text, ua, ub);
		} else {
			runUser = users.addSpan(text, ua, ub);
		}
		runText = text;
		runStart = ua;
		runEnd = ub;
		rowIdx.push(runUser);
		colIdx.push(items.addSpan(text, ia, ib));
		values.push(w);
		if (targets) targets.push(target);
		rowsKept++;
	};

	let delimiter: ',' | '\t' = ',';
	let tokenizer: CsvTokenizer | undefined;
	const push = (text: string): void => {
		replacementAt = text.indexOf(REPLACEMENT);
		tokenizer!.push(text);
	};
	// Text held back until the first non-empty line is complete, to sniff the delimiter.
	let pending = '';
	let chars = 0;
	let lastReported = 0;

	/** The first non-empty line of `text`, or undefined while it is not complete. */
	const firstLine = (text: string, complete: boolean): string | undefined => {
		const m = /^[\r\n\uFEFF]*([^\r\n]*)([\r\n])?/.exec(text);
		if (!m || (!m[2] && !complete)) return undefined;
		return m[1];
	};

	for await (const chunk of chunks) {
		if (signal?.aborted) throw cancelled(signal);
		chars += chunk.length;
		if (!tokenizer) {
			pending += chunk;
			const line = firstLine(pending, false);
			if (line === undefined) continue;
			delimiter = sniffDelimiter(line);
			tokenizer = new CsvTokenizer(delimiter, onRecord, onLine);
			push(pending);
			pending = '';
		} else {
			push(chunk);
		}
		if (options.onProgress && rows - lastReported >= progressEvery) {
			lastReported = rows;
			options.onProgress({ rows, chars });
		}
	}
	if (signal?.aborted) throw cancelled(signal);
	if (!tokenizer) {
		delimiter = sniffDelimiter(firstLine(pending, true) ?? '');
		tokenizer = new CsvTokenizer(delimiter, onRecord, onLine);
		push(pending);
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
		eda: eda.finish(interactions, rowsKept)
	};
}
