/**
 * A person's history matched against a model's catalogue names, at the level that finds more
 * of their plays: artists (a catalogue of artists, such as Last.fm's) or track titles (a
 * catalogue of songs, such as KKBox's with song_extra_info names).
 */
import { MusicrecError } from '../errors';
import { matchNames, type NameMatch } from './name_match';
import {
	playCounts,
	readPersonalExport,
	type Listen,
	type NamedBytes,
	type PersonalHistory
} from './personal_export';

export interface HistoryMatch extends NameMatch {
	readonly level: 'artist' | 'track';
	/** Distinct artists (or tracks) in the history. */
	readonly distinct: number;
	/** Plays in the history. */
	readonly plays: number;
}

/** Match `listens` to `catalog` (item index -> name, '' where unknown) by artist and by track. */
function matchHistory(catalog: readonly string[], listens: readonly Listen[]): HistoryMatch {
	const artists = playCounts(listens, 'artist');
	const tracks = playCounts(listens, 'track');
	const byArtist = matchNames(catalog, artists);
	const byTrack = matchNames(catalog, tracks);
	const track = byTrack.playShare > byArtist.playShare;
	return {
		...(track ? byTrack : byArtist),
		level: track ? 'track' : 'artist',
		distinct: track ? tracks.length : artists.length,
		plays: listens.length
	};
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
const field = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * The matched part of a history as a listening log of one listener, `user`: one row per
 * catalogue item with its plays (`user,item,weight`), ids as the model knows them, so it can be
 * stored as a dataset and used where a dataset is (a federation client of one person).
 */
export function historyLog(match: HistoryMatch, itemIds: readonly string[], user = 'me'): string {
	const rows = match.matched.map((m) => `${field(user)},${field(itemIds[m.item])},${m.plays}`);
	return ['user,item,weight', ...rows].join('\n') + '\n';
}

/** What was read from an export, without the plays themselves. */
export interface HistorySummary extends Omit<PersonalHistory, 'listens'> {
	/** Plays read (skips and podcasts not counted). */
	readonly plays: number;
}

/**
 * Read export `files` and match them to `catalog` (item index -> name). Throws
 * `file/bad-format` when no play is left, `model/no-overlap` when none is in the catalogue.
 */
export function matchExport(
	files: readonly NamedBytes[],
	catalog: readonly string[]
): { history: HistorySummary; match: HistoryMatch } {
	const { listens, ...read } = readPersonalExport(files);
	if (listens.length === 0) {
		throw new MusicrecError(
			'file/bad-format',
			`No plays in ${read.files.join(', ')}: ${read.skipped.short} were shorter than 30 s and ${read.skipped.notMusic} were not music`,
			{}
		);
	}
	const match = matchHistory(catalog, listens);
	if (match.matched.length === 0) {
		const n = match.distinct.toLocaleString('en-US');
		throw new MusicrecError(
			'model/no-overlap',
			`This model knows none of your ${n} ${match.level === 'artist' ? 'artists' : 'tracks'} (0 of ${n} matched by name)`,
			{ matched: 0, total: match.distinct }
		);
	}
	return { history: { ...read, plays: listens.length }, match };
}
