/**
 * The columns of a file, said by the person when the header is not recognised: which column
 * holds the user, the item and the weight (or a KKBox 0/1 target), the delimiter, and whether
 * the first line is a header. `guessColumns` fills the form in from the file's first lines.
 */
import { MusicrecError } from '../errors';
import { CsvTokenizer, detachField, type CsvDelimiter } from './csv_tokenizer';
import { columnRole, sniffDelimiter, type Schema } from './schema';

export interface ColumnMapping {
	readonly delimiter: CsvDelimiter;
	/** The first line holds column names (else it is a row). */
	readonly header: boolean;
	readonly user: number;
	readonly item: number;
	readonly weight?: number;
	/** A KKBox-style 0/1 target column (then the KKBox weightings apply). */
	readonly target?: number;
}

/** The delimiters a person can choose, with their names. */
export const DELIMITER_NAMES: Readonly<Record<CsvDelimiter, string>> = {
	',': 'comma',
	'\t': 'tab',
	';': 'semicolon',
	'|': 'pipe',
	' ': 'space'
};

/** The schema of a file read with `m`, given its first record `first`. */
export function schemaFromMapping(first: readonly string[], m: ColumnMapping): Schema {
	const n = first.length;
	const roles = [m.user, m.item, m.weight, m.target].filter((c): c is number => c !== undefined);
	if (roles.some((c) => !Number.isInteger(c) || c < 0 || c >= n)) {
		throw new MusicrecError(
			'data/bad-options',
			`The chosen columns do not exist: the first line has ${n} field${n === 1 ? '' : 's'} with this delimiter`,
			{ fields: n }
		);
	}
	if (new Set(roles).size !== roles.length) {
		throw new MusicrecError('data/bad-options', 'Each column can have one role only', {});
	}
	if (m.weight !== undefined && m.target !== undefined) {
		throw new MusicrecError('data/bad-options', 'Choose a weight or a target column, not both', {});
	}
	return {
		kind: m.target !== undefined ? 'kkbox' : 'generic',
		delimiter: m.delimiter,
		columns: m.header ? first.map(detachField) : first.map((_, k) => `column ${k + 1}`),
		fieldCount: n,
		userColumn: m.user,
		itemColumn: m.item,
		weightColumn: m.weight,
		targetColumn: m.target,
		categorical: [],
		headerless: !m.header
	};
}

/** Up to `n` records of `text` (whole lines only) split with `delimiter`. */
export function splitRows(text: string, delimiter: CsvDelimiter, n: number): string[][] {
	const rows: string[][] = [];
	const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
	const whole = lastBreak === -1 ? text : text.slice(0, lastBreak + 1);
	const tokenizer = new CsvTokenizer(delimiter, (fields) => {
		if (rows.length < n && fields.some((f) => f.trim() !== '')) rows.push(fields);
	});
	try {
		tokenizer.push(whole.replace(/^\uFEFF/, ''));
		tokenizer.end();
	} catch {
		// A quote left open in the head: the rows read so far are the preview.
	}
	return rows;
}

const isNumber = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s.trim()));

/**
 * A first guess from the head of a file: the sniffed delimiter; a header when the first line's
 * names are known roles, or when it has text where the rows below have numbers; the user and
 * item columns by name, else the first two; the weight by name, else the last column when it
 * holds numbers in every row and there are more than two columns.
 */
export function guessColumns(text: string): ColumnMapping {
	const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/, 1)[0] ?? '';
	const delimiter = sniffDelimiter(firstLine);
	const rows = splitRows(text, delimiter, 50);
	const first = rows[0] ?? [];
	const body = rows.slice(1);
	const numericColumn = (k: number) => body.length > 0 && body.every((r) => isNumber(r[k] ?? ''));
	const roles = first.map((name) => columnRole(name));
	const named = roles.filter((r) => r !== undefined).length >= 2;
	const header =
		named || first.some((cell, k) => !isNumber(cell) && cell.trim() !== '' && numericColumn(k));
	const at = (role: string) => {
		const k = roles.indexOf(role as (typeof roles)[number]);
		return header && k !== -1 ? k : undefined;
	};
	const user = at('user') ?? 0;
	const item = at('item') ?? (user === 1 ? 0 : 1);
	const target = at('target');
	let weight = at('weight');
	const last = first.length - 1;
	if (weight === undefined && target === undefined && last >= 2 && ![user, item].includes(last)) {
		if (numericColumn(last) && (header || isNumber(first[last]))) weight = last;
	}
	return { delimiter, header, user, item, weight, target };
}

/**
 * A dataset stored after the column-mapping step starts with one line saying its columns, so
 * every reader of the stored file (training, recommending, federation) reads it the same way:
 * `#musicrec-columns {"delimiter":",","header":false,"user":0,"item":1,"weight":2}`.
 */
const DIRECTIVE = '#musicrec-columns ';

/** The line (with its line feed) that makes a file read with `m`. */
export function columnsDirective(m: ColumnMapping): string {
	return DIRECTIVE + JSON.stringify(m) + '\n';
}

const MAX_DIRECTIVE = 1024;

function directiveMapping(line: string): ColumnMapping {
	const bad = (why: string) =>
		new MusicrecError('csv/unknown-schema', `The #musicrec-columns line is not valid: ${why}`, {});
	let raw: unknown;
	try {
		raw = JSON.parse(line.slice(DIRECTIVE.length));
	} catch {
		throw bad('not JSON');
	}
	const o = (raw ?? {}) as Record<string, unknown>;
	const column = (k: string, optional: boolean): number | undefined => {
		const v = o[k];
		if (v === undefined && optional) return undefined;
		if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1000) {
			throw bad(`${k} must be a column number`);
		}
		return v;
	};
	if (typeof o.delimiter !== 'string' || !(o.delimiter in DELIMITER_NAMES)) {
		throw bad('delimiter must be one of , tab ; | space');
	}
	if (typeof o.header !== 'boolean') throw bad('header must be true or false');
	const weight = column('weight', true);
	const target = column('target', true);
	return {
		delimiter: o.delimiter as CsvDelimiter,
		header: o.header,
		user: column('user', false)!,
		item: column('item', false)!,
		...(weight === undefined ? {} : { weight }),
		...(target === undefined ? {} : { target })
	};
}

type Chunk = string | Uint8Array;

/**
 * `chunks` without a leading #musicrec-columns line; `mapping()` gives that line's columns once
 * the first chunk has been read (undefined when there is none). The rest may be compressed.
 */
export function withoutColumnsDirective(chunks: AsyncIterable<Chunk> | Iterable<Chunk>): {
	chunks: AsyncGenerator<Chunk>;
	mapping: () => ColumnMapping | undefined;
} {
	let mapping: ColumnMapping | undefined;
	async function* strip(): AsyncGenerator<Chunk> {
		const it =
			Symbol.asyncIterator in chunks
				? (chunks as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
				: (chunks as Iterable<Chunk>)[Symbol.iterator]();
		// The head as text (bytes read as Latin-1: the line is ASCII) until it is decided.
		let head = '';
		const held: Chunk[] = [];
		for (;;) {
			const decided = head.length >= DIRECTIVE.length && !head.startsWith(DIRECTIVE);
			if (decided || head.includes('\n') || head.length > MAX_DIRECTIVE) break;
			const next = await it.next();
			if (next.done) break;
			held.push(next.value);
			head +=
				typeof next.value === 'string'
					? next.value
					: String.fromCharCode(...next.value.subarray(0, MAX_DIRECTIVE + 1 - head.length));
		}
		if (!head.startsWith(DIRECTIVE)) {
			yield* held;
		} else {
			const lf = head.indexOf('\n');
			if (lf === -1) throw directiveTooLong();
			mapping = directiveMapping(head.slice(0, lf).replace(/\r$/, ''));
			// Drop the line's characters (one per byte: it is ASCII) from the held chunks.
			let drop = lf + 1;
			for (const c of held) {
				if (drop >= c.length) {
					drop -= c.length;
					continue;
				}
				yield c.slice(drop);
				drop = 0;
			}
		}
		for (;;) {
			const next = await it.next();
			if (next.done) return;
			yield next.value;
		}
	}
	return { chunks: strip(), mapping: () => mapping };
}

function directiveTooLong(): MusicrecError {
	return new MusicrecError(
		'csv/unknown-schema',
		`The #musicrec-columns line is not valid: longer than ${MAX_DIRECTIVE} characters`,
		{}
	);
}
