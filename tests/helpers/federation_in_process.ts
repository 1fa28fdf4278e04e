/**
 * Federation workflows in Node: the federation worker's command runner in this process (in
 * place of a Worker), and a coordinator's federation database holding a round-0 global.
 */
import {
	createInitialGlobal,
	publishGlobal,
	type PublishedGlobal
} from '../../src/lib/core/federation/global_file';
import type { runFederationTask } from '../../src/lib/platform/federation_client';
import {
	openFederationStore,
	type FederationStore,
	type StoredGlobal
} from '../../src/lib/platform/federation_store';
import {
	runFederationCommand,
	type FederationEvent
} from '../../src/lib/workers/federation.worker';

/** runFederationTask without a Worker: rejects with the worker's error message. */
export const runInProcess = (async (
	command: Parameters<typeof runFederationTask>[0],
	onEvent?: (e: FederationEvent) => void
) => {
	let result: unknown;
	let failure: string | undefined;
	await runFederationCommand(command, (e) => {
		onEvent?.(e);
		if (e.type === 'error') failure = e.message;
		else if ('result' in e) result = e.result;
	});
	if (failure !== undefined) throw new Error(failure);
	return result;
}) as typeof runFederationTask;

/**
 * A coordinator database `dbName` with federation `id` created from a fresh round-0 global over
 * `catalog` (exact mode, f = 4, the KKBox default weighting; secure when `secure` is given).
 */
export async function coordinatorWithGlobal(options: {
	readonly dbName: string;
	readonly id: string;
	readonly catalog: string[];
	readonly seed: number;
	readonly factors?: number;
	readonly secure?: { minCohort: number; scaleBits: number; clipPerUser: number | null };
}): Promise<{ fedStore: FederationStore; g0: PublishedGlobal; stored: StoredGlobal }> {
	const g0 = publishGlobal(
		createInitialGlobal({
			federationId: options.id,
			mode: 'exact',
			params: { factors: options.factors ?? 4, regularization: 0.1, alpha: 2, seed: options.seed },
			catalog: options.catalog,
			weighting: 'one-plus-target',
			...(options.secure ? { secure: options.secure } : {})
		})
	);
	const fedStore = await openFederationStore(options.dbName);
	await fedStore.createFederation(
		{
			id: options.id,
			mode: 'exact',
			params: g0.model.params,
			createdAt: '2026-12-01T00:00:00.000Z',
			source: 'test',
			catalogSize: options.catalog.length,
			...(g0.model.secure ? { secure: g0.model.secure } : {})
		},
		{ federationId: options.id, round: 0, text: g0.text, checksum: g0.checksum, createdAt: 'now' }
	);
	const [stored] = await fedStore.listGlobals(options.id);
	return { fedStore, g0, stored };
}
