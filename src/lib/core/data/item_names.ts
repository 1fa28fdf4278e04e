/**
 * Names of a dataset's items, read from a side file: Last.fm's artists.dat (id, name, …),
 * KKBox's song_extra_info.csv (song_id, name, isrc) or any table with an id column and a name
 * column. The Recommend page shows them instead of ids and matches a person's own listening
 * history against them (name_match.ts).
 */
import { MusicrecError } from '../errors';
import { CsvTokenizer, detachField } from './csv_tokenizer';
import { sniffDelimiter } from './schema';

/** Names by item id, as two aligned lists (cheap to store and to clone to a worker). */
export interface ItemNames {
	/** The file the names came from. */
	readonly source: string;
	readonly ids: readonly string[];
	readonly names: readonly string[];
}

/** Header names of the id column and of the name column, compared as in `key`. */
const ID_COLUMNS = ['id', 'itemid', 'item', 'artistid', 'songid', 'trackid'];
const NAME_COLUMNS = ['name', 'artistname', 'artist', 'title', 'songname', 'trackname', 'track'];

const key = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Columns of the id and the name in a header, or undefined. */
function nameColumns(header: readonly string[]): { id: number; name: number } | undefined {
	const keys = header.map((h) => key(h.trim()));
	for (const idName of ID_COLUMNS) {
		const id = keys.indexOf(idName);
		if (id === -1) continue;
		for (const nameName of NAME_COLUMNS) {
			const name = keys.indexOf(nameName);
			if (name !== -1 && name !== id) return { id, name };
		}
	}
	return undefined;
}

/**
 * Parse a names file streamed as text chunks (any split). Tab-separated files are cut at tabs
 * only (Last.fm names hold quotes: `"Weird Al" Yankovic`); other delimiters follow CSV quoting.
 * A repeated id keeps its first name; rows without an id or a name are skipped. Throws
 * `csv/empty`, or `csv/unknown-schema` naming the columns found.
 */
export async function parseItemNames(
	chunks: AsyncIterable<string> | Iterable<string>,
	source: string
): Promise<ItemNames> {
	const byId = new Map<string, string>();
	let columns: { id: number; name: number } | undefined;
	let seenHeader = false;
	const onRecord = (fields: string[]): void => {
		if (!seenHeader) {
			seenHeader = true;
			columns = nameColumns(fields);
			if (!columns) {
				throw new MusicrecError(
					'csv/unknown-schema',
					`Not a names file: found columns [${fields
						.slice(0, 12)
						.map((f) => f.trim().slice(0, 40))
						.join(
							', '
						)}]; a names file has an id column (id, artistID, song_id, item…) and a name column (name, title, artist_name…)`,
					{ found: fields.slice(0, 12).map((f) => f.trim()) }
				);
			}
			return;
		}
		const c = columns!;
		if (fields.length <= Math.max(c.id, c.name)) return;
		const id = fields[c.id].trim();
		const name = fields[c.name].trim();
		if (id === '' || name === '' || byId.has(id)) return;
		byId.set(detachField(id), detachField(name));
	};

	let tokenizer: { push(s: string): void; end(): void } | undefined;
	let pending = '';
	const start = (firstLine: string): void => {
		const delimiter = sniffDelimiter(firstLine);
		tokenizer = delimiter === '\t' ? tabLines(onRecord) : new CsvTokenizer(delimiter, onRecord);
	};
	for await (const chunk of chunks) {
		if (!tokenizer) {
			pending += chunk;
			const lf = pending.search(/\r|\n/);
			if (lf === -1) continue;
			start(pending.slice(0, lf).replace(/^\uFEFF/, ''));
			tokenizer!.push(pending.replace(/^\uFEFF/, ''));
			pending = '';
		} else {
			tokenizer.push(chunk);
		}
	}
	if (!tokenizer && pending.trim() !== '') {
		start(pending.replace(/^\uFEFF/, ''));
		tokenizer!.push(pending.replace(/^\uFEFF/, ''));
	}
	tokenizer?.end();
	if (!seenHeader) throw new MusicrecError('csv/empty', 'The file is empty.', {});
	return { source, ids: [...byId.keys()], names: [...byId.values()] };
}

/**
 * A line splitter cutting at tabs only (no quoting), fed text in any split. Lines end at LF
 * (a CR before it is dropped); a file with CR line ends only is cut at the end.
 */
function tabLines(onRecord: (fields: string[]) => void): { push(s: string): void; end(): void } {
	let rest = '';
	const line = (l: string): void => {
		const t = l.endsWith('\r') ? l.slice(0, -1) : l;
		if (t.trim() !== '') onRecord(t.split('\t'));
	};
	return {
		push(s: string): void {
			const lines = (rest + s).split('\n');
			rest = lines.pop() ?? '';
			for (const l of lines) line(l);
		},
		end(): void {
			for (const l of rest.split('\r')) line(l);
			rest = '';
		}
	};
}

/** The name of each of `itemIds` ('' where `names` has none). */
export function namesForItems(itemIds: readonly string[], names: ItemNames): string[] {
	const byId = new Map<string, string>();
	names.ids.forEach((id, k) => byId.set(id, names.names[k]));
	return itemIds.map((id) => byId.get(id) ?? '');
}
