/**
 * A person's history matched against a model's catalogue names, at the level that finds more
 * of their plays: artists (a catalogue of artists, such as Last.fm's) or track titles (a
 * catalogue of songs, such as KKBox's with song_extra_info names).
 */
import { matchNames, type NameMatch } from './name_match';
import { playCounts, type Listen } from './personal_export';

export interface HistoryMatch extends NameMatch {
	readonly level: 'artist' | 'track';
	/** Distinct artists (or tracks) in the history. */
	readonly distinct: number;
	/** Plays in the history. */
	readonly plays: number;
}

/** Match `listens` to `catalog` (item index -> name, '' where unknown) by artist and by track. */
export function matchHistory(catalog: readonly string[], listens: readonly Listen[]): HistoryMatch {
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
