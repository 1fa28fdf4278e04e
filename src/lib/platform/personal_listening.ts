/**
 * A person's own export (Spotify, Last.fm, ListenBrainz) turned into recommendations from the
 * active model, in this browser: read the files (personal_export.ts keeps only artist, track,
 * time and duration), match them to the model's item names, fold the person in, list top n.
 */
import { historyLog, type HistoryMatch, type HistorySummary } from '$lib/core/data/personal_match';
import { MusicrecError } from '$lib/core/errors';
import type { PersonalRequest, PersonalResponse } from '$lib/workers/personal.worker';
import { datasetEntry, storeActiveDataset } from './active_dataset';
import type { ModelSession, Recommendation } from './model_session';
import { startParse } from './parse_client';
import type { DatasetEntry, Store } from './store_api';
import { WorkerTaskError, workerFailureMessage } from './worker_failure';

export interface PersonalRecommendations {
	readonly history: HistorySummary;
	readonly match: HistoryMatch;
	readonly recommendations: readonly Recommendation[];
}

/** Reads a person's export and matches it to catalogue names (in a worker, or here in tests). */
export type ExportMatcher = (
	catalog: readonly string[]
) => Promise<{ history: HistorySummary; match: HistoryMatch }>;

/** The export `files` read and matched in a worker of its own: the page stays responsive. */
export function matchInWorker(files: readonly File[]): ExportMatcher {
	return (catalog) =>
		new Promise((resolve, reject) => {
			const worker = new Worker(new URL('../workers/personal.worker.ts', import.meta.url), {
				type: 'module'
			});
			worker.onmessage = (e: MessageEvent<PersonalResponse>) => {
				worker.terminate();
				if (e.data.type === 'done') resolve(e.data);
				else reject(new WorkerTaskError(e.data.code, e.data.message, e.data.details));
			};
			worker.onerror = (e: ErrorEvent) => {
				worker.terminate();
				reject(new WorkerTaskError('worker', workerFailureMessage('history reader', e)));
			};
			const request: PersonalRequest = { files: [...files], catalog: [...catalog] };
			worker.postMessage(request);
		});
}

/**
 * Recommendations for the person whose export `read` reads. Throws `model/no-names` when the
 * model has no item names, and the reader's errors (no plays, none of them in the catalogue,
 * files it cannot read).
 */
export async function recommendFromExport(
	session: ModelSession,
	read: ExportMatcher,
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
	const { history, match } = await read(names);
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
