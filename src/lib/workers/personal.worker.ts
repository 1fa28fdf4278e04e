/// <reference lib="webworker" />
import { matchExport, type HistoryMatch, type HistorySummary } from '$lib/core/data/personal_match';
import { isMusicrecError } from '$lib/core/errors';

/** A person's export files and the catalogue names to match them to. */
export interface PersonalRequest {
	readonly files: readonly File[];
	readonly catalog: readonly string[];
}

export type PersonalResponse =
	| { type: 'done'; history: HistorySummary; match: HistoryMatch }
	| { type: 'error'; code: string; message: string; details: Record<string, unknown> };

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<PersonalRequest>) => {
	const { files, catalog } = event.data;
	let response: PersonalResponse;
	try {
		const bytes = await Promise.all(
			files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }))
		);
		response = { type: 'done', ...matchExport(bytes, catalog) };
	} catch (e) {
		response = isMusicrecError(e)
			? { type: 'error', code: e.code, message: e.message, details: { ...e.details } }
			: {
					type: 'error',
					code: 'file/read-failed',
					message: e instanceof Error ? e.message : String(e),
					details: {}
				};
	}
	scope.postMessage(response);
};
