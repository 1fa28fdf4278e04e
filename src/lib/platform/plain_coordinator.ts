/**
 * The coordinator's side of a plain round, over the federation database:
 *
 *   checkUpdates    (update files dropped: each gets its verdict, the list is saved)
 *   clearUpdates    (the round's list emptied)
 *   aggregateRound  (the accepted updates summed and solved: the next global is saved)
 *
 * The heavy parts run in the federation worker (`run`); the page keeps state and markup.
 */
import type { runFederationTask } from './federation_client';
import type {
	FederationStore,
	ReceivedUpdate,
	StoredGlobal,
	UpdateVerdict
} from './federation_store';
import type { IncomingFile } from './secure_coordinator';
import type { AggregateResult } from '$lib/workers/federation.worker';

export interface PlainDeps {
	readonly fedStore: FederationStore;
	readonly run: typeof runFederationTask;
	/** Stage events of the worker (for the page's progress line). */
	readonly onStage?: (stage: string) => void;
}

/** The coordinator's screening choices (robust screening, influence caps). */
export interface ScreeningChoice {
	readonly robust: boolean;
	readonly caps: boolean;
}

/**
 * Check `files` together with the round's earlier files against `latest` (robust screening
 * compares them with each other, so every verdict is computed again) and save the list.
 */
export async function checkUpdates(
	deps: PlainDeps,
	latest: StoredGlobal,
	received: readonly ReceivedUpdate[],
	files: readonly IncomingFile[],
	choice: ScreeningChoice
): Promise<ReceivedUpdate[]> {
	const all = [
		...received.map((r) => ({ fileName: r.fileName, text: r.text, bytes: r.bytes })),
		...files
	];
	const summary = await deps.run(
		{
			type: 'validate',
			globalText: latest.text,
			texts: all.map((a) => a.text),
			robust: choice.robust,
			caps: choice.caps
		},
		(e) => (e.type === 'stage' ? deps.onStage?.(e.stage) : undefined)
	);
	const list: ReceivedUpdate[] = all.map((a, index) => {
		const rejection = summary.rejected.find((r) => r.index === index);
		const clip = summary.clipped.find((c) => c.index === index);
		const flag = summary.flagged.find((c) => c.index === index);
		const cap = summary.capped.find((c) => c.index === index);
		let verdict: UpdateVerdict;
		if (rejection) {
			verdict = { status: 'rejected', code: rejection.code, reason: rejection.reason };
		} else if (flag) {
			verdict = { status: 'flagged', check: flag.check, reason: flag.reason };
		} else {
			verdict = {
				status: 'accepted',
				...(clip ? { clipped: { factor: clip.factor, reason: clip.reason } } : {}),
				...(cap ? { capped: { weight: cap.weight, songs: cap.songs, reason: cap.reason } } : {})
			};
		}
		return {
			federationId: latest.federationId,
			round: latest.round,
			index,
			fileName: a.fileName,
			bytes: a.bytes,
			text: a.text,
			clientId: rejection?.clientId ?? summary.clientIds[index],
			verdict
		};
	});
	await deps.fedStore.replaceReceived(latest.federationId, latest.round, list);
	return list;
}

/** "Clear this round's files": the saved list emptied. */
export async function clearUpdates(deps: PlainDeps, latest: StoredGlobal): Promise<void> {
	await deps.fedStore.replaceReceived(latest.federationId, latest.round, []);
}

/**
 * Aggregate the round's accepted updates into the next global and save it (with its score on
 * `dataset`, the coordinator's own data, when given). Returns the worker's result.
 */
export async function aggregateRound(
	deps: PlainDeps,
	latest: StoredGlobal,
	received: readonly ReceivedUpdate[],
	choice: ScreeningChoice,
	dataset?: Blob
): Promise<AggregateResult> {
	const result = await deps.run(
		{
			type: 'aggregate',
			globalText: latest.text,
			texts: received.map((r) => r.text),
			compactState: latest.compactState,
			robust: choice.robust,
			caps: choice.caps,
			dataset
		},
		(e) => (e.type === 'stage' ? deps.onStage?.(e.stage) : undefined)
	);
	const bytes = result.validation.accepted.reduce((s, i) => s + received[i].bytes, 0);
	await deps.fedStore.putGlobal({
		federationId: latest.federationId,
		round: result.round,
		text: result.text,
		checksum: result.checksum,
		createdAt: new Date().toISOString(),
		aggregatedFrom: {
			accepted: result.validation.accepted.length,
			bytes,
			addedSongs: result.addedSongs
		},
		compactState: result.compactState,
		metrics: result.metrics
	});
	return result;
}

/** What the page says after an aggregation. */
export function aggregationNotice(result: AggregateResult): string {
	const n = result.addedSongs;
	const added =
		n > 0
			? ` ${n.toLocaleString('en-US')} new song${n === 1 ? '' : 's'} proposed by clients joined the catalog.`
			: '';
	const scored = result.metrics
		? ` NDCG@10 on your data: ${result.metrics.ndcg.toFixed(3)}.`
		: result.metricsError
			? ` Could not score it on your data: ${result.metricsError}`
			: ' Load a dataset on the Data page to score each round on your own data.';
	return `Round ${result.round - 1} aggregated from ${result.validation.accepted.length} update(s). Global round ${result.round} is ready to download.${added}${scored}`;
}

/** A verdict in words, as the received-files table shows it. */
export function verdictText(v: UpdateVerdict): string {
	if (v.status === 'rejected') return 'Rejected';
	if (v.status === 'flagged') return `Flagged (${v.check} check), left out`;
	const parts = ['Accepted'];
	if (v.clipped) parts.push(`scaled by ${v.clipped.factor.toPrecision(3)}`);
	if (v.capped && v.capped.weight < 1)
		parts.push(`weight capped to ${v.capped.weight.toPrecision(3)}`);
	if (v.capped && v.capped.songs > 0)
		parts.push(`${v.capped.songs} song${v.capped.songs === 1 ? '' : 's'} capped`);
	return parts.join(', ');
}
