import { MusicrecError } from '../errors';
import { detachField } from './csv_tokenizer';
import type { CsvDelimiter } from './csv_tokenizer';

/** The input layouts musicrec reads. */
export type SchemaKind = 'kkbox' | 'lastfm' | 'generic';

/** A categorical column summarised by the EDA (KKBox source_* columns). */
interface CategoricalColumn {
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
	/** The file has no header: its first line is data and `columns` are role names. */
	readonly headerless?: boolean;
}

/**
 * Other names of each role, compared after lower-casing and dropping everything but letters
 * and digits (so `artistID`, `artist_id` and `Artist ID` are one name).
 */
const COLUMN_ALIASES: Readonly<Record<'user' | 'item' | 'weight' | 'target', string[]>> = {
	user: ['user', 'userid', 'msno', 'listener', 'listenerid', 'username'],
	item: ['item', 'itemid', 'song', 'songid', 'track', 'trackid', 'artist', 'artistid'],
	weight: ['weight', 'plays', 'playcount', 'count', 'msplayed', 'listens', 'listencount'],
	target: ['target']
};

/** The role a column name is an alias of (user, item, weight or target), or undefined. */
export function columnRole(name: string): keyof typeof COLUMN_ALIASES | undefined {
	const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
	for (const [role, names] of Object.entries(COLUMN_ALIASES)) {
		if (names.includes(key)) return role as keyof typeof COLUMN_ALIASES;
	}
	return undefined;
}

/**
 * Roles of 2 or 3 named columns: a user and an item column, and a weight or a (KKBox 0/1)
 * target column; undefined unless every name is an alias of a different role.
 */
function matchAliases(
	names: string[]
): { user: number; item: number; weight?: number; target?: number } | undefined {
	if (names.length < 2 || names.length > 3) return undefined;
	const at: Partial<Record<keyof typeof COLUMN_ALIASES, number>> = {};
	for (const [k, name] of names.entries()) {
		const role = columnRole(name);
		if (role === undefined || at[role] !== undefined) return undefined;
		at[role] = k;
	}
	if (at.user === undefined || at.item === undefined) return undefined;
	if (at.weight !== undefined && at.target !== undefined) return undefined;
	return { user: at.user, item: at.item, weight: at.weight, target: at.target };
}

/** A field that reads as a positive number (a play count, not a column name). */
function numeric(field: string): boolean {
	const t = field.trim();
	return t !== '' && Number(t) > 0;
}

/** Columns each schema expects (matched case-insensitively, trimmed, in any order). */
const EXPECTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
	kkbox: ['msno', 'song_id', 'source_system_tab', 'source_screen_name', 'source_type', 'target'],
	lastfm: ['userID', 'artistID', 'weight'],
	generic: ['user', 'item'],
	'generic (weighted)': ['user', 'item', 'weight']
};

const KKBOX_CATEGORICAL = ['source_system_tab', 'source_screen_name', 'source_type'];

/** KKBox's side files, joined to a listening log on the Data page (metadata.ts reads them). */
export type MetadataKind = 'members' | 'songs';

/** The columns each side file must have (any order, extra columns ignored). */
export const METADATA_COLUMNS: Readonly<Record<MetadataKind, readonly string[]>> = {
	members: ['msno', 'city', 'bd', 'gender', 'registered_via'],
	songs: ['song_id', 'song_length', 'genre_ids', 'artist_name', 'language']
};

/** Which side file a header belongs to, or undefined. */
export function detectMetadataKind(header: readonly string[]): MetadataKind | undefined {
	const names = new Set(header.map((h) => h.trim()));
	for (const kind of ['members', 'songs'] as const) {
		if (METADATA_COLUMNS[kind].every((c) => names.has(c))) return kind;
	}
	return undefined;
}

/** Delimiters sniffed, in order of preference when a line holds as many of two. */
const DELIMITERS: readonly CsvDelimiter[] = ['\t', ',', ';', '|'];

/**
 * Delimiter of a file from its first line: the one of tab, comma, semicolon and pipe that
 * occurs most often outside double quotes (ties in that order); a single space when the line
 * holds none of them but a space (the Audioscrobbler layout); else comma.
 */
export function sniffDelimiter(firstLine: string): CsvDelimiter {
	const counts = new Map<string, number>();
	let quoted = false;
	for (const c of firstLine) {
		if (c === '"') quoted = !quoted;
		else if (!quoted) counts.set(c, (counts.get(c) ?? 0) + 1);
	}
	let best: CsvDelimiter | undefined;
	for (const d of DELIMITERS) {
		if ((counts.get(d) ?? 0) > (best === undefined ? 0 : (counts.get(best) ?? 0))) best = d;
	}
	if (best) return best;
	return firstLine.trim().includes(' ') ? ' ' : ',';
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

	const aliased = matchAliases(names);
	if (aliased) {
		const at = (k: number | undefined) => (k === undefined ? undefined : k + offset);
		return {
			...base,
			kind: aliased.target !== undefined ? 'kkbox' : 'generic',
			userColumn: aliased.user + offset,
			itemColumn: aliased.item + offset,
			weightColumn: at(aliased.weight),
			targetColumn: at(aliased.target),
			categorical: []
		};
	}
	// No header: 2 or 3 fields, the last a positive number (user, item[, plays]).
	const cells = header.map((h) => h.trim());
	if (
		(cells.length === 2 || cells.length === 3) &&
		cells.every((c) => c !== '') &&
		numeric(cells[cells.length - 1])
	) {
		return {
			delimiter,
			columns: cells.length === 3 ? ['user', 'item', 'weight'] : ['user', 'item'],
			fieldCount: cells.length,
			kind: 'generic',
			userColumn: 0,
			itemColumn: 1,
			weightColumn: cells.length === 3 ? 2 : undefined,
			categorical: [],
			headerless: true
		};
	}

	const side = detectMetadataKind(header);
	if (side) {
		throw new MusicrecError(
			'csv/unknown-schema',
			`This is KKBox's ${side}.csv (${side === 'members' ? 'listener profiles' : 'song facts'}), not a listening log: load a listening log here, then add this file under "KKBox members and songs" below it to join it`,
			{ found: header.map((h) => h.trim()), sideFile: side }
		);
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
			' (names are matched case-insensitively, in any order; an unnamed leading index column is allowed)' +
			'; also read: 2-3 columns named like user_id, song_id / track_id / artist_id, plays / play_count / target (any case, spaces and underscores ignored), and files without a header whose last column is a number',
		{ found: header.map((h) => h.trim()), expected }
	);
}
