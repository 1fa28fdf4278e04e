import { MusicrecError } from '../errors';
import { detachField } from './csv_tokenizer';
import type { CsvDelimiter } from './csv_tokenizer';

/** The input layouts musicrec reads. */
export type SchemaKind = 'kkbox' | 'lastfm' | 'generic';

/** A categorical column summarised by the EDA (KKBox source_* columns). */
export interface CategoricalColumn {
	/** Canonical (lower-case) name. */
	readonly key: string;
	/** Position in the record. */
	readonly index: number;
}

/** A detected schema: where each role sits in a record. */
export interface Schema {
	readonly kind: SchemaKind;
	readonly delimiter: CsvDelimiter;
	/** Header names as written in the file (an unnamed index column is ''). */
	readonly columns: string[];
	/** Fields every data record must have. */
	readonly fieldCount: number;
	readonly userColumn: number;
	readonly itemColumn: number;
	/** Numeric weight column (lastfm, generic with weight). */
	readonly weightColumn?: number;
	/** KKBox 0/1 target column. */
	readonly targetColumn?: number;
	readonly categorical: readonly CategoricalColumn[];
	/** An unnamed leading index column (as pandas writes), ignored. */
	readonly indexColumn?: number;
}

/** Columns each schema expects (matched case-insensitively, trimmed, in any order). */
export const EXPECTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
	kkbox: ['msno', 'song_id', 'source_system_tab', 'source_screen_name', 'source_type', 'target'],
	lastfm: ['userID', 'artistID', 'weight'],
	generic: ['user', 'item'],
	'generic (weighted)': ['user', 'item', 'weight']
};

const KKBOX_CATEGORICAL = ['source_system_tab', 'source_screen_name', 'source_type'];

/** Delimiter of a file from its first line: tab if the line holds a tab, else comma. */
export function sniffDelimiter(firstLine: string): CsvDelimiter {
	return firstLine.includes('\t') ? '\t' : ',';
}

/**
 * Positions of `expected` names in `names` (already lower-cased and trimmed), or undefined
 * unless the two are the same set.
 */
function matchColumns(names: string[], expected: readonly string[]): number[] | undefined {
	if (names.length !== expected.length) return undefined;
	const positions: number[] = [];
	for (const want of expected) {
		const k = names.indexOf(want.toLowerCase());
		if (k === -1 || positions.includes(k)) return undefined;
		positions.push(k);
	}
	return positions;
}

/**
 * Detect the schema from the header record. An unnamed first column (a pandas index) is
 * tolerated and ignored for every schema. Throws `csv/unknown-schema` naming the columns found
 * and the columns each schema expects.
 */
export function detectSchema(header: string[], delimiter: CsvDelimiter): Schema {
	const columns = header.map(detachField);
	const normalized = header.map((h) => h.trim().toLowerCase());
	const hasIndex = normalized.length > 1 && normalized[0] === '';
	const offset = hasIndex ? 1 : 0;
	const names = normalized.slice(offset);
	const base = {
		delimiter,
		columns,
		fieldCount: header.length,
		indexColumn: hasIndex ? 0 : undefined
	};

	const kk = matchColumns(names, EXPECTED_COLUMNS.kkbox);
	if (kk) {
		return {
			...base,
			kind: 'kkbox',
			userColumn: kk[0] + offset,
			itemColumn: kk[1] + offset,
			targetColumn: kk[5] + offset,
			categorical: KKBOX_CATEGORICAL.map((key, c) => ({ key, index: kk[c + 2] + offset }))
		};
	}
	const lf = matchColumns(names, EXPECTED_COLUMNS.lastfm);
	if (lf) {
		return {
			...base,
			kind: 'lastfm',
			userColumn: lf[0] + offset,
			itemColumn: lf[1] + offset,
			weightColumn: lf[2] + offset,
			categorical: []
		};
	}
	const gw = matchColumns(names, EXPECTED_COLUMNS['generic (weighted)']);
	if (gw) {
		return {
			...base,
			kind: 'generic',
			userColumn: gw[0] + offset,
			itemColumn: gw[1] + offset,
			weightColumn: gw[2] + offset,
			categorical: []
		};
	}
	const g = matchColumns(names, EXPECTED_COLUMNS.generic);
	if (g) {
		return {
			...base,
			kind: 'generic',
			userColumn: g[0] + offset,
			itemColumn: g[1] + offset,
			categorical: []
		};
	}

	const expected: Record<string, string[]> = {};
	for (const [k, v] of Object.entries(EXPECTED_COLUMNS)) expected[k] = v.slice();
	// Names cut to 40 characters and at most 12 of them, so a binary file yields a short message.
	const shown = header
		.slice(0, 12)
		.map((h) => h.trim())
		.map((h) => (h === '' ? '(unnamed)' : h.length > 40 ? h.slice(0, 40) + '…' : h));
	if (header.length > 12) shown.push(`… ${header.length - 12} more`);
	const listing = Object.entries(expected)
		.map(([k, v]) => `${k}: ${v.join(', ')}`)
		.join('; ');
	throw new MusicrecError(
		'csv/unknown-schema',
		`Unrecognised columns: found [${shown.join(', ')}]; expected one of: ${listing}` +
			' (names are matched case-insensitively, in any order; an unnamed leading index column is allowed)',
		{ found: header.map((h) => h.trim()), expected }
	);
}
