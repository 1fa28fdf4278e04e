/**
 * Federation worker: the seconds-long parts of a round, off the main thread. A client reads
 * its dataset file and computes its update against a global (its user factors come back too,
 * for a local model, and never go into the update); a coordinator validates a round's update
 * files and aggregates the accepted ones into the next global.
 */
import type { AlsParams } from '$lib/core/als/params';
import { ingest } from '$lib/core/data/ingest';
import { resolveWeighting, type Weighting } from '$lib/core/data/weights';
import { isMusicrecError } from '$lib/core/errors';
import { aggregate, createCompactState, type CompactState } from '$lib/core/federation/aggregate';
import { computeClientUpdate } from '$lib/core/federation/client_update';
import { evaluateGlobal, type GlobalEvaluation } from '$lib/core/federation/global_eval';
import type { FederationMode } from '$lib/core/federation/fields';
import type { PartitionKind } from '$lib/core/federation/partition';
import { simulate, type RoundRecord } from '$lib/core/federation/simulate';
import {
	publishGlobal,
	readGlobalFile,
	type PublishedGlobal
} from '$lib/core/federation/global_file';
import { encodeUpdateFile, type UpdateCounts } from '$lib/core/federation/update_file';
import type { RobustFlag } from '$lib/core/federation/robust';
import type { ValidationResult } from '$lib/core/federation/validate';
import { screenRound, type ScreenedRound } from '$lib/core/federation/plain_round';
import { blobByteChunks } from '$lib/platform/file_chunks';

/** Main thread to worker. */
export type FederationCommand =
	| {
			readonly type: 'client-update';
			readonly globalText: string;
			readonly file: Blob;
			/** Overrides the global's weighting (tests); absent = the global's, else the default. */
			readonly weighting?: Weighting;
			/** Also send statistics of local songs the catalog lacks (their song ids leave). */
			readonly proposeNewSongs?: boolean;
	  }
	| {
			readonly type: 'catalog';
			readonly file: Blob;
			/** The weighting the new federation will write into its globals (checked here). */
			readonly weighting?: Weighting;
	  }
	| {
			readonly type: 'simulate';
			readonly file: Blob;
			readonly clients: number;
			readonly rounds: number;
			readonly mode: FederationMode;
			readonly split: PartitionKind;
			readonly params: Partial<AlsParams>;
	  }
	| {
			readonly type: 'validate';
			readonly globalText: string;
			readonly texts: string[];
			/** Also screen the valid updates against each other (robust aggregation). */
			readonly robust?: boolean;
	  }
	/** Score a global on a dataset file (`evaluateGlobal`, seeded by the global's params.seed). */
	| { readonly type: 'evaluate'; readonly globalText: string; readonly dataset: Blob }
	| {
			readonly type: 'aggregate';
			readonly globalText: string;
			readonly texts: string[];
			/** Compact mode: the coordinator's per-item step state from the previous round. */
			readonly compactState?: CompactState;
			/** Leave out updates that robust aggregation flags (`screenUpdates`). */
			readonly robust?: boolean;
			/**
			 * The coordinator's own dataset file: when given, the new global is scored on a seeded
			 * per-user holdout of it (`evaluateGlobal`).
			 */
			readonly dataset?: Blob;
	  };

/** A client's round result: the update file and what stays local. */
export interface ClientResult {
	readonly updateText: string;
	readonly counts: UpdateCounts;
	readonly factors: number;
	readonly catalogSize: number;
	/** Local interactions with songs missing from the catalog (sent only when proposed). */
	readonly unknownSongEntries: number;
	/** Songs missing from the catalog whose ids and statistics the update proposes. */
	readonly proposedSongs: number;
	readonly weighting: Weighting;
	readonly dataset: { readonly users: number; readonly items: number; readonly nnz: number };
	/** Local user ids and their factors [users, f] (float32): kept in this browser. */
	readonly userIds: string[];
	readonly userFactors: Float32Array;
}

/** The songs of a dataset (a fresh federation's catalog) and the weighting that applies. */
export interface CatalogResult {
	readonly itemIds: string[];
	readonly weighting: Weighting;
}

/**
 * Validation without the decoded updates: which file indices were accepted (valid and, with
 * robust aggregation, not flagged).
 */
export interface ValidationSummary {
	readonly accepted: number[];
	readonly rejected: ValidationResult['rejected'];
	readonly clipped: ValidationResult['clipped'];
	/** Valid updates robust aggregation leaves out (`index` = file position); empty when off. */
	readonly flagged: RobustFlag[];
}

export interface AggregateResult {
	readonly text: string;
	readonly checksum: string;
	readonly round: number;
	readonly validation: ValidationSummary;
	/** Compact mode: the step state to keep for the next round. */
	readonly compactState?: CompactState;
	/** Songs added to the catalog from client proposals this round. */
	readonly addedSongs: number;
	/** The new global on the coordinator's data (when a dataset was given and could be read). */
	readonly metrics?: GlobalEvaluation;
	/** Why the metrics could not be computed (the aggregation itself succeeded). */
	readonly metricsError?: string;
}

export type FederationStage =
	| 'reading'
	| 'solving'
	| 'encoding'
	| 'validating'
	| 'aggregating'
	| 'evaluating'
	| 'backend'
	| 'simulating';

/** Registers and picks a tfjs backend (the simulation's evaluation needs one). */
export type BackendPicker = () => Promise<{ backend: string }>;

async function defaultBackend(): Promise<{ backend: string }> {
	const backends = await import('$lib/platform/tf_backends');
	return backends.selectBackend();
}

/** Worker to main thread. */
export type FederationEvent =
	| { readonly type: 'stage'; readonly stage: FederationStage }
	| { readonly type: 'progress'; readonly rows: number; readonly fraction: number }
	| { readonly type: 'client-done'; readonly result: ClientResult }
	| { readonly type: 'catalog-done'; readonly result: CatalogResult }
	| { readonly type: 'sim-round'; readonly record: RoundRecord }
	| {
			readonly type: 'simulate-done';
			readonly result: { readonly backend: string; readonly records: RoundRecord[] };
	  }
	| { readonly type: 'validate-done'; readonly result: ValidationSummary }
	| { readonly type: 'evaluate-done'; readonly result: GlobalEvaluation }
	| { readonly type: 'aggregate-done'; readonly result: AggregateResult }
	| { readonly type: 'error'; readonly code: string; readonly message: string };

/** Uniform [0, 1) from the platform's cryptographic generator. */
function cryptoRandom(): number {
	const a = new Uint32Array(1);
	crypto.getRandomValues(a);
	return a[0] / 2 ** 32;
}

function summarize(r: ScreenedRound): ValidationSummary {
	return {
		accepted: r.keptPositions,
		rejected: r.validation.rejected,
		clipped: r.validation.clipped,
		flagged: [...r.flagged]
	};
}

/** The global on a dataset file read with the global's weighting (see `evaluateGlobal`). */
async function scoreOn(global: PublishedGlobal, file: Blob): Promise<GlobalEvaluation> {
	const data = await ingest(blobByteChunks(file), {
		weighting: global.model.weighting,
		badLines: 'skip'
	});
	return evaluateGlobal(global, data.interactions, { seed: global.model.params.seed });
}

/** Run one command to the end, posting stages and exactly one 'done' or 'error' event. */
export async function runFederationCommand(
	command: FederationCommand,
	post: (event: FederationEvent, transfer?: Transferable[]) => void,
	random: () => number = cryptoRandom,
	pickBackend: BackendPicker = defaultBackend
): Promise<void> {
	try {
		if (command.type === 'simulate') {
			post({ type: 'stage', stage: 'backend' });
			const { backend } = await pickBackend();
			post({ type: 'stage', stage: 'reading' });
			const data = await ingest(blobByteChunks(command.file), { badLines: 'skip' });
			post({ type: 'stage', stage: 'simulating' });
			const records = await simulate({
				interactions: data.interactions,
				clients: command.clients,
				rounds: command.rounds,
				mode: command.mode,
				split: command.split,
				params: command.params,
				onRound: (record) => post({ type: 'sim-round', record })
			});
			post({ type: 'simulate-done', result: { backend, records } });
			return;
		}
		if (command.type === 'catalog') {
			post({ type: 'stage', stage: 'reading' });
			const data = await ingest(blobByteChunks(command.file), {
				weighting: command.weighting,
				badLines: 'skip'
			});
			post({
				type: 'catalog-done',
				result: {
					itemIds: data.interactions.items.toArray(),
					weighting: resolveWeighting(data.schema, command.weighting)
				}
			});
			return;
		}
		const global = readGlobalFile(command.globalText);
		if (command.type === 'client-update') {
			post({ type: 'stage', stage: 'reading' });
			const size = Math.max(1, command.file.size);
			// The global's mapping from plays to weights, so every client matches the coordinator.
			const weighting = command.weighting ?? global.model.weighting;
			const data = await ingest(blobByteChunks(command.file), {
				weighting,
				badLines: 'skip',
				progressEvery: 20_000,
				onProgress: ({ rows, chars }) =>
					post({ type: 'progress', rows, fraction: Math.min(1, chars / size) })
			});
			post({ type: 'stage', stage: 'solving' });
			const round = computeClientUpdate(global, data.interactions, {
				random,
				proposeNewSongs: command.proposeNewSongs === true
			});
			post({ type: 'stage', stage: 'encoding' });
			const updateText = encodeUpdateFile(round.update);
			const m = data.interactions.matrix;
			const userFactors = Float32Array.from(round.userFactors);
			const result: ClientResult = {
				updateText,
				counts: round.update.counts,
				factors: round.update.factors,
				catalogSize: global.model.catalog.length,
				unknownSongEntries: round.unknownSongEntries,
				proposedSongs: round.update.proposals?.songIds.length ?? 0,
				weighting: resolveWeighting(data.schema, weighting),
				dataset: { users: m.rows, items: m.cols, nnz: m.indptr[m.rows] },
				userIds: data.interactions.users.toArray(),
				userFactors
			};
			post({ type: 'client-done', result }, [userFactors.buffer as ArrayBuffer]);
			return;
		}
		if (command.type === 'evaluate') {
			post({ type: 'stage', stage: 'evaluating' });
			post({ type: 'evaluate-done', result: await scoreOn(global, command.dataset) });
			return;
		}
		post({ type: 'stage', stage: 'validating' });
		const screened = screenRound(global, command.texts, { robust: command.robust });
		const summary = summarize(screened);
		if (command.type === 'validate') {
			post({ type: 'validate-done', result: summary });
			return;
		}
		post({ type: 'stage', stage: 'aggregating' });
		// Compact mode takes per-item secant steps, which need the previous round's state.
		const compactState =
			global.model.mode === 'compact' ? (command.compactState ?? createCompactState()) : undefined;
		const next = publishGlobal(aggregate(global, screened.kept, { compactState }));
		let metrics: GlobalEvaluation | undefined;
		let metricsError: string | undefined;
		if (command.dataset !== undefined) {
			post({ type: 'stage', stage: 'evaluating' });
			try {
				metrics = await scoreOn(next, command.dataset);
			} catch (e) {
				metricsError = e instanceof Error ? e.message : String(e);
			}
		}
		post({
			type: 'aggregate-done',
			result: {
				text: next.text,
				checksum: next.checksum,
				round: next.model.round,
				validation: summary,
				compactState,
				addedSongs: next.model.catalog.length - global.model.catalog.length,
				...(metrics === undefined ? {} : { metrics }),
				...(metricsError === undefined ? {} : { metricsError })
			}
		});
	} catch (e) {
		post({
			type: 'error',
			code: isMusicrecError(e) ? e.code : 'unknown',
			message: e instanceof Error ? e.message : String(e)
		});
	}
}

interface WorkerScope {
	onmessage: ((event: MessageEvent<FederationCommand>) => void) | null;
	postMessage(message: unknown, transfer?: Transferable[]): void;
}

// Wire the protocol when running as a dedicated worker (not when imported by tests).
const scope = globalThis as unknown as Partial<WorkerScope> & { WorkerGlobalScope?: unknown };
if (typeof scope.WorkerGlobalScope !== 'undefined') {
	const worker = scope as WorkerScope;
	worker.onmessage = (event) => {
		void runFederationCommand(event.data, (message, transfer) =>
			worker.postMessage(message, transfer ?? [])
		);
	};
}
