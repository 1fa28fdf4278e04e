/**
 * A person's own export (Spotify, Last.fm, ListenBrainz) turned into recommendations from the
 * active model, in this browser: read the files (personal_export.ts keeps only artist, track,
 * time and duration), match them to the model's item names, fold the person in, list top n.
 */
import { historyLog, matchHistory, type HistoryMatch } from '$lib/core/data/personal_match';
import {
	readPersonalExport,
	type NamedBytes,
	type PersonalHistory
} from '$lib/core/data/personal_export';
import { MusicrecError } from '$lib/core/errors';
import { datasetEntry, storeActiveDataset } from './active_dataset';
import type { ModelSession, Recommendation } from './model_session';
import { startParse } from './parse_client';
import type { DatasetEntry, Store } from './store_api';

export interface PersonalRecommendations {
	readonly history: PersonalHistory;
	readonly match: HistoryMatch;
	readonly recommendations: readonly Recommendation[];
}

/** The bytes of each file, with its name. */
export async function filesAsBytes(files: readonly File[]): Promise<NamedBytes[]> {
	return Promise.all(
		files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }))
	);
}

/**
 * Recommendations for the person whose export `files` are. Throws `model/no-names` when the
 * model has no item names, `model/no-overlap` (with the match) when none of the history's
 * artists or tracks is in the catalogue, and the reader's errors for files it cannot read.
 */
export async function recommendFromExport(
	session: ModelSession,
	files: readonly NamedBytes[],
	n: number
): Promise<PersonalRecommendations> {
	const names = session.record.itemNames;
	if (!names) {
		throw new MusicrecError(
			'model/no-names',
			'This model has no names for its items, so your history cannot be matched to it: train a model on data with names (the Last.fm demo has artist names) or import one that has them',
			{}
		);
	}
	const history = readPersonalExport(files);
	if (history.listens.length === 0) {
		throw new MusicrecError(
			'file/bad-format',
			`No plays in ${history.files.join(', ')}: ${history.skipped.short} were shorter than 30 s and ${history.skipped.notMusic} were not music`,
			{}
		);
	}
	const match = matchHistory(names, history.listens);
	if (match.matched.length === 0) {
		throw new MusicrecError(
			'model/no-overlap',
			`This model knows none of your ${match.distinct.toLocaleString('en-US')} ${match.level === 'artist' ? 'artists' : 'tracks'} (0 of ${match.distinct.toLocaleString('en-US')} matched by name)`,
			{ matched: 0, total: match.distinct }
		);
	}
	const recommendations = await session.recommendForPlays(match.matched, n);
	return { history, match, recommendations };
}

/** Performance measure from dropping an export to its list in the document. */
export const PERSONAL_SHOWN_MEASURE = 'musicrec:personal-shown';

/**
 * Keep the matched part of a history as a dataset of one listener, "me", and make it the active
 * dataset: read by the same parser as any file, stored in this browser only. A federation
 * client then takes part as one person (secure aggregation protects exactly that case).
 */
export async function keepAsDataset(
	store: Store,
	session: ModelSession,
	match: HistoryMatch
): Promise<DatasetEntry> {
	const file = new File([historyLog(match, session.record.itemIds)], 'my-listening.csv', {
		type: 'text/csv'
	});
	const out = await startParse(file).done;
	const { itemIds, itemNames } = session.record;
	const named = match.matched.filter((m) => itemNames?.[m.item]);
	const entry = datasetEntry(out, {
		source: session.record.meta.name,
		ids: named.map((m) => itemIds[m.item]),
		names: named.map((m) => itemNames![m.item])
	});
	await storeActiveDataset(store, entry);
	return entry;
}
