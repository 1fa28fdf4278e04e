/**
 * KKBox side files: `members.csv` (one row per user) and `songs.csv` (one row per song),
 * detected by their header, parsed streaming into compact maps and joined with a loaded train
 * dataset: interactions by city, age bucket, first genre and language (split by target), plus
 * the share of users and songs that have metadata.
 */
import { MusicrecError } from '../errors';
import { CsvTokenizer, detachField } from './csv_tokenizer';
import type { Interactions } from './interactions';
import { detectMetadataKind, METADATA_COLUMNS, sniffDelimiter, type MetadataKind } from './schema';

export { detectMetadataKind, type MetadataKind } from './schema';

/** One member; `age` is undefined when `bd` is 0, not a number or outside 1..100. */
export interface MemberInfo {
	readonly city: string;
	readonly age?: number;
	readonly gender: string;
	readonly registeredVia: string;
}

/** One song; `songLength` in milliseconds, undefined when missing. */
export interface SongInfo {
	readonly genreIds: string;
	readonly artistName: string;
	readonly language: string;
	readonly songLength?: number;
}

/** A parsed side file. `rows` counts data rows read, `kept` those stored in the map. */
export type MetadataTable =
	| {
			readonly kind: 'members';
			readonly members: Map<string, MemberInfo>;
			readonly rows: number;
			readonly kept: number;
	  }
	| {
			readonly kind: 'songs';
			readonly songs: Map<string, SongInfo>;
			readonly rows: number;
			readonly kept: number;
	  };

/** Age from KKBox `bd`: 0, non-numbers and values outside 1..100 are missing. */
export function ageOf(bd: string): number | undefined {
	const v = Number(bd.trim());
	return bd.trim() !== '' && Number.isInteger(v) && v >= 1 && v <= 100 ? v : undefined;
}

/** Age buckets of the join chart, in display order. */
export const AGE_BUCKETS = ['<18', '18–24', '25–34', '35–44', '45–54', '55+', 'unknown'] as const;

/** The bucket of an age (undefined → 'unknown'). */
export function ageBucket(age: number | undefined): (typeof AGE_BUCKETS)[number] {
	if (age === undefined) return 'unknown';
	if (age < 18) return '<18';
	if (age < 25) return '18–24';
	if (age < 35) return '25–34';
	if (age < 45) return '35–44';
	if (age < 55) return '45–54';
	return '55+';
}

/** First genre id of a `genre_ids` field such as `465|958` ('unknown' when empty). */
export function firstGenre(genreIds: string): string {
	const g = genreIds.split('|')[0].trim();
	return g === '' ? 'unknown' : g;
}

export interface ParseMetadataOptions {
	/** Keep only rows whose id passes (e.g. ids of the train dataset), to keep the map small. */
	keep?: (id: string) => boolean;
}

/**
 * Parse a members or songs file streamed as text chunks (any split). The kind is detected
 * from the header; rows with too few fields or an empty id are skipped; a repeated id keeps
 * its first row. Throws `csv/empty` or `csv/unknown-schema`.
 */
export async function parseMetadata(
	chunks: AsyncIterable<string> | Iterable<string>,
	options: ParseMetadataOptions = {}
): Promise<MetadataTable> {
	const keep = options.keep;
	let kind: MetadataKind | undefined;
	let col: Record<string, number> = {};
	let width = 0;
	let rows = 0;
	const members = new Map<string, MemberInfo>();
	const songs = new Map<string, SongInfo>();
	let tokenizer: CsvTokenizer | undefined;
	let pending = '';

	const onRecord = (fields: string[]): void => {
		if (kind === undefined) {
			kind = detectMetadataKind(fields);
			if (!kind) {
				throw new MusicrecError(
					'csv/unknown-schema',
					'Not a KKBox members.csv or songs.csv file: the header lacks the expected columns.',
					{ header: fields.slice(0, 20), expected: METADATA_COLUMNS }
				);
			}
			col = Object.fromEntries(fields.map((f, k) => [f.trim(), k]));
			width = Math.max(...METADATA_COLUMNS[kind].map((c) => col[c])) + 1;
			return;
		}
		rows++;
		if (fields.length < width) return;
		if (kind === 'members') {
			const id = fields[col.msno];
			if (id === '' || members.has(id) || (keep && !keep(id))) return;
			members.set(detachField(id), {
				city: detachField(fields[col.city].trim() || 'unknown'),
				age: ageOf(fields[col.bd]),
				gender: detachField(fields[col.gender].trim() || 'unknown'),
				registeredVia: detachField(fields[col.registered_via].trim() || 'unknown')
			});
		} else {
			const id = fields[col.song_id];
			if (id === '' || songs.has(id) || (keep && !keep(id))) return;
			const length = Number(fields[col.song_length]);
			songs.set(detachField(id), {
				genreIds: detachField(fields[col.genre_ids].trim()),
				artistName: detachField(fields[col.artist_name].trim()),
				language: detachField(fields[col.language].trim() || 'unknown'),
				songLength:
					fields[col.song_length].trim() !== '' && Number.isFinite(length) ? length : undefined
			});
		}
	};

	for await (const chunk of chunks) {
		if (!tokenizer) {
			// The delimiter is sniffed from the first line, which may span chunks.
			pending += chunk;
			const lf = pending.search(/\r|\n/);
			if (lf === -1) continue;
			tokenizer = new CsvTokenizer(sniffDelimiter(pending.slice(0, lf)), onRecord);
			tokenizer.push(pending);
			pending = '';
		} else {
			tokenizer.push(chunk);
		}
	}
	if (!tokenizer && pending.trim() !== '') {
		tokenizer = new CsvTokenizer(sniffDelimiter(pending), onRecord);
		tokenizer.push(pending);
	}
	tokenizer?.end();
	if (kind === undefined) throw new MusicrecError('csv/empty', 'The file is empty.', {});
	return kind === 'members'
		? { kind, members, rows, kept: members.size }
		: { kind, songs, rows, kept: songs.size };
}

/** Interactions of one group, split by target (`total` also counts rows without a target). */
export interface JoinGroup {
	key: string;
	target0: number;
	target1: number;
	total: number;
}

/** How much of the train dataset a side file covers. */
export interface Coverage {
	/** Distinct users (songs) of the train dataset with a metadata row. */
	covered: number;
	total: number;
	/** covered / total (0 when total is 0). */
	share: number;
	/** Interactions whose user (song) has metadata. */
	interactionsCovered: number;
	interactions: number;
	interactionShare: number;
}

/** Join charts; plain JSON. Groups hold only interactions with metadata. */
export interface MetadataJoin {
	members?: { byCity: JoinGroup[]; byAge: JoinGroup[]; coverage: Coverage };
	songs?: { byGenre: JoinGroup[]; byLanguage: JoinGroup[]; coverage: Coverage };
}

export interface JoinOptions {
	/** Most groups per chart for city, genre and language (the rest pooled as 'other'). */
	maxGroups?: number;
}

class GroupCounter {
	private readonly groups = new Map<string, JoinGroup>();

	add(key: string, target: number | undefined): void {
		let g = this.groups.get(key);
		if (!g) {
			g = { key, target0: 0, target1: 0, total: 0 };
			this.groups.set(key, g);
		}
		g.total++;
		if (target === 1) g.target1++;
		else if (target === 0) g.target0++;
	}

	/** Groups by total descending (ties by key), the tail beyond `max` pooled as 'other'. */
	top(max: number): JoinGroup[] {
		const all = [...this.groups.values()].sort(
			(a, b) => b.total - a.total || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
		);
		if (all.length <= max) return all;
		const other: JoinGroup = { key: 'other', target0: 0, target1: 0, total: 0 };
		for (const g of all.slice(max - 1)) {
			other.target0 += g.target0;
			other.target1 += g.target1;
			other.total += g.total;
		}
		return [...all.slice(0, max - 1), other];
	}

	/** Groups in the given key order (keys without interactions omitted). */
	ordered(keys: readonly string[]): JoinGroup[] {
		return keys.flatMap((k) => this.groups.get(k) ?? []);
	}
}

function coverage(
	covered: number,
	total: number,
	iCovered: number,
	interactions: number
): Coverage {
	return {
		covered,
		total,
		share: total > 0 ? covered / total : 0,
		interactionsCovered: iCovered,
		interactions,
		interactionShare: interactions > 0 ? iCovered / interactions : 0
	};
}

/**
 * Join side files with a train dataset. Each stored (user, song) entry of the interaction
 * matrix counts once (duplicate rows were merged by ingest, target = max), in the group of its
 * user's city and age bucket and of its song's first genre and language.
 */
export function joinMetadata(
	interactions: Interactions,
	tables: { members?: Map<string, MemberInfo>; songs?: Map<string, SongInfo> },
	options: JoinOptions = {}
): MetadataJoin {
	const maxGroups = Math.max(2, options.maxGroups ?? 15);
	const { users, items, matrix, target } = interactions;
	const memberOf: (MemberInfo | undefined)[] = [];
	const songOf: (SongInfo | undefined)[] = [];
	let usersCovered = 0;
	let songsCovered = 0;
	if (tables.members) {
		for (let u = 0; u < users.size; u++) {
			memberOf.push(tables.members.get(users.idAt(u)));
			if (memberOf[u]) usersCovered++;
		}
	}
	if (tables.songs) {
		for (let i = 0; i < items.size; i++) {
			songOf.push(tables.songs.get(items.idAt(i)));
			if (songOf[i]) songsCovered++;
		}
	}
	const city = new GroupCounter();
	const age = new GroupCounter();
	const genre = new GroupCounter();
	const language = new GroupCounter();
	let memberEntries = 0;
	let songEntries = 0;
	const entries = matrix.indptr[matrix.rows];
	for (let u = 0; u < matrix.rows; u++) {
		const m = memberOf[u];
		for (let k = matrix.indptr[u]; k < matrix.indptr[u + 1]; k++) {
			const t = target?.[k];
			if (m) {
				memberEntries++;
				city.add(m.city, t);
				age.add(ageBucket(m.age), t);
			}
			const s = songOf[matrix.indices[k]];
			if (s) {
				songEntries++;
				genre.add(firstGenre(s.genreIds), t);
				language.add(s.language, t);
			}
		}
	}
	const join: MetadataJoin = {};
	if (tables.members) {
		join.members = {
			byCity: city.top(maxGroups),
			byAge: age.ordered(AGE_BUCKETS),
			coverage: coverage(usersCovered, users.size, memberEntries, entries)
		};
	}
	if (tables.songs) {
		join.songs = {
			byGenre: genre.top(maxGroups),
			byLanguage: language.top(maxGroups),
			coverage: coverage(songsCovered, items.size, songEntries, entries)
		};
	}
	return join;
}
