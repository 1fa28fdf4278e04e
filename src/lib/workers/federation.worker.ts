/**
 * Federation worker: the seconds-long parts of a round, off the main thread. A client reads
 * its dataset file and computes its update against a global (its user factors come back too,
 * for a local model, and never go into the update); a coordinator validates a round's update
 * files and aggregates the accepted ones into the next global.
 */
import type { AlsParams } from '$lib/core/als/params';
import { ingest } from '$lib/core/data/ingest';
import { resolveWeighting, type Weighting } from '$lib/core/data/weights';
import { isMusicrecError, MusicrecError } from '$lib/core/errors';
import {
	aggregate,
	aggregateSums,
	createCompactState,
	type CompactState
} from '$lib/core/federation/aggregate';
import { clientStatistics, computeClientUpdate } from '$lib/core/federation/client_update';
import { maskStatistics, type SecureClientState } from '$lib/core/federation/secure/client';
import {
	buildUnmaskRequest,
	checkMaskedUpdates,
	unmaskSum,
	type SecureRejection
} from '$lib/core/federation/secure/coordinator';
import { vectorLayout } from '$lib/core/federation/secure/statistics_vector';
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
import {
	DEFAULT_ROBUST_OPTIONS,
	sumConsistency,
	sumEnergy,
	type RobustFlag
} from '$lib/core/federation/robust';
import type { ValidationResult } from '$lib/core/federation/validate';
import type { CappedClient } from '$lib/core/federation/influence_caps';
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
			/** Cap the kept updates' influence (`capInfluence`). */
			readonly caps?: boolean;
	  }
	/** Score a global on a dataset file (`evaluateGlobal`, seeded by the global's params.seed). */
	| { readonly type: 'evaluate'; readonly globalText: string; readonly dataset: Blob }
	/** Secure round, client: statistics of the dataset file, clipped, masked for the roster. */
	| {
			readonly type: 'secure-mask';
			readonly globalText: string;
			readonly rosterText: string;
			readonly file: Blob;
			readonly state: SecureClientState;
	  }
	/** Secure round, coordinator: verdicts on the masked updates received so far. */
	| {
			readonly type: 'secure-check';
			readonly globalText: string;
			readonly rosterText: string;
			readonly maskedTexts: string[];
	  }
	/** Secure round, coordinator: the unmask request and the sum of the masked updates. */
	| {
			readonly type: 'secure-request';
			readonly globalText: string;
			readonly rosterText: string;
			readonly maskedTexts: string[];
	  }
	/** Secure round, coordinator: unmask the sum, aggregate, and score the next global. */
	| {
			readonly type: 'secure-finish';
			readonly globalText: string;
			readonly rosterText: string;
			readonly requestText: string;
			readonly maskedSum: ArrayBuffer;
			readonly shareTexts: string[];
			readonly compactState?: CompactState;
			readonly dataset?: Blob;
	  }
	| {
			readonly type: 'aggregate';
			readonly globalText: string;
			readonly texts: string[];
			/** Compact mode: the coordinator's per-item step state from the previous round. */
			readonly compactState?: CompactState;
			/** Leave out the updates that robust aggregation flags (`screenUpdates`). */
			readonly robust?: boolean;
			/** Cap the kept updates' influence (`capInfluence`). */
			readonly caps?: boolean;
			/**
			 * The coordinator's own dataset file: when given, the new global is scored on a seeded
			 * per-user holdout of it (`evaluateGlobal`).
			 */
			readonly dataset?: Blob;
	  };

/** A client's round result: the update file and what stays local. */
export interface ClientResult {
	readonly updateText: string;
	/** The update's random client id. */
	readonly clientId: string;
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
	/** Kept updates robust aggregation's influence caps scale down (`index` = file position). */
	readonly capped: CappedClient[];
	/** Client id of each file where it could be read (file order). */
	readonly clientIds: (string | undefined)[];
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

/** A client's masked update and what stays local (secure-mask). */
export interface SecureMaskResult {
	readonly maskedText: string;
	/** The client's round state after masking (the roster it masked for). */
	readonly state: SecureClientState;
	/** Factor its statistics were scaled by to meet the global's clip (1: within it). */
	readonly clipFactor: number;
	/** Never sent in the clear: they are summed inside the masked vector. */
	readonly counts: UpdateCounts;
	readonly factors: number;
	readonly catalogSize: number;
	/** Numbers in the masked vector (the same for every client of the round). */
	readonly vectorLength: number;
	readonly unknownSongEntries: number;
	readonly weighting: Weighting;
	readonly dataset: { readonly users: number; readonly items: number; readonly nnz: number };
	readonly userIds: string[];
	readonly userFactors: Float32Array;
}

/** Masked updates judged before the unmask request (secure-check): file positions. */
export interface SecureCheckResult {
	readonly accepted: { index: number; clientId: string }[];
	readonly rejected: SecureRejection[];
}

/** The coordinator's unmask request (secure-request). */
export interface SecureRequestResult {
	readonly requestText: string;
	/** Sum of the survivors' masked vectors (ring words), kept until the unmasking. */
	readonly maskedSum: ArrayBuffer;
	/** Positions of the masked files used, and those refused with a reason. */
	readonly accepted: number[];
	readonly rejected: SecureRejection[];
	readonly survivors: string[];
	readonly dropped: string[];
}

/** The next global from an unmasked sum (secure-finish). */
export interface SecureFinishResult {
	readonly text: string;
	readonly checksum: string;
	readonly round: number;
	/** Clients whose answers were used, and the answer files refused. */
	readonly responders: string[];
	readonly rejected: SecureRejection[];
	readonly survivors: string[];
	readonly dropped: string[];
	/** The only per-round numbers the coordinator learns: totals over the survivors. */
	readonly users: number;
	readonly interactions: number;
	/** Relative mismatch of the sum's consistency identity (robust.ts, check 1). */
	readonly consistency: number;
	/** Exact mode: the sum's E / C (robust.ts, `sumEnergy`); at most 1 for honest sums. */
	readonly energy?: number;
	readonly compactState?: CompactState;
	readonly metrics?: GlobalEvaluation;
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
	| 'simulating'
	| 'masking'
	| 'unmasking';

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
	| { readonly type: 'secure-mask-done'; readonly result: SecureMaskResult }
	| { readonly type: 'secure-check-done'; readonly result: SecureCheckResult }
	| { readonly type: 'secure-request-done'; readonly result: SecureRequestResult }
	| { readonly type: 'secure-finish-done'; readonly result: SecureFinishResult }
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
		flagged: [...r.flagged],
		capped: [...r.capped],
		clientIds: r.clientIds
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

/** A client's dataset file read with the global's weighting (or `override`), with progress. */
async function readLocal(
	global: PublishedGlobal,
	file: Blob,
	post: (event: FederationEvent) => void,
	override?: Weighting
) {
	post({ type: 'stage', stage: 'reading' });
	const size = Math.max(1, file.size);
	// The global's mapping from plays to weights, so every client matches the coordinator.
	const weighting = override ?? global.model.weighting;
	const data = await ingest(blobByteChunks(file), {
		weighting,
		badLines: 'skip',
		progressEvery: 20_000,
		onProgress: ({ rows, chars }) =>
			post({ type: 'progress', rows, fraction: Math.min(1, chars / size) })
	});
	return { data, weighting };
}

/** The new global scored on the coordinator's dataset, when it gave one (never fatal). */
async function scoreIfGiven(
	next: PublishedGlobal,
	dataset: Blob | undefined,
	post: (event: FederationEvent) => void
): Promise<{ metrics?: GlobalEvaluation; metricsError?: string }> {
	if (dataset === undefined) return {};
	post({ type: 'stage', stage: 'evaluating' });
	try {
		return { metrics: await scoreOn(next, dataset) };
	} catch (e) {
		return { metricsError: e instanceof Error ? e.message : String(e) };
	}
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
			const { data, weighting } = await readLocal(global, command.file, post, command.weighting);
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
				clientId: round.update.clientId,
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
		if (command.type === 'secure-mask') {
			const { data, weighting } = await readLocal(global, command.file, post);
			post({ type: 'stage', stage: 'solving' });
			const stats = clientStatistics(global, data.interactions);
			post({ type: 'stage', stage: 'masking' });
			const masked = await maskStatistics(command.state, global, command.rosterText, stats);
			const m = data.interactions.matrix;
			const userFactors = Float32Array.from(stats.userFactors);
			const result: SecureMaskResult = {
				maskedText: masked.maskedText,
				state: masked.state,
				clipFactor: masked.clipFactor,
				counts: {
					users: stats.users,
					interactions: stats.interactions,
					touchedItems: stats.touchedItems
				},
				factors: stats.factors,
				catalogSize: stats.catalogSize,
				vectorLength: vectorLayout(global.model).length,
				unknownSongEntries: stats.unknownSongEntries,
				weighting: resolveWeighting(data.schema, weighting),
				dataset: { users: m.rows, items: m.cols, nnz: m.indptr[m.rows] },
				userIds: data.interactions.users.toArray(),
				userFactors
			};
			post({ type: 'secure-mask-done', result }, [userFactors.buffer as ArrayBuffer]);
			return;
		}
		if (command.type === 'secure-check') {
			post({ type: 'stage', stage: 'validating' });
			const r = checkMaskedUpdates(global, command.rosterText, command.maskedTexts);
			post({ type: 'secure-check-done', result: r });
			return;
		}
		if (command.type === 'secure-request') {
			post({ type: 'stage', stage: 'validating' });
			const r = buildUnmaskRequest(global, command.rosterText, command.maskedTexts);
			const maskedSum = r.maskedSum.buffer as ArrayBuffer;
			post(
				{
					type: 'secure-request-done',
					result: {
						requestText: r.text,
						maskedSum,
						accepted: r.accepted,
						rejected: r.rejected,
						survivors: [...r.request.survivors],
						dropped: [...r.request.dropped]
					}
				},
				[maskedSum]
			);
			return;
		}
		if (command.type === 'secure-finish') {
			post({ type: 'stage', stage: 'unmasking' });
			const sum = await unmaskSum(
				global,
				command.rosterText,
				command.requestText,
				new Uint32Array(command.maskedSum),
				command.shareTexts
			);
			// The one screen a masked round allows: the sum's consistency identity (robust.ts).
			const consistency = sumConsistency(global, sum.sums);
			if (!(consistency <= DEFAULT_ROBUST_OPTIONS.consistencyTolerance)) {
				throw new MusicrecError(
					'federation/inconsistent-sum',
					`The unmasked sum fails the consistency check (relative mismatch ${consistency.toPrecision(3)}, limit ${DEFAULT_ROBUST_OPTIONS.consistencyTolerance}): at least one client's statistics were not computed against this global. The round is not aggregated; masked updates cannot be screened one by one.`,
					{ consistency }
				);
			}
			// And its energy bound (exact mode): no honest sum exceeds its confidence total.
			const energy = sumEnergy(global, sum.sums, sum.confidence);
			if (!(energy <= 1 + DEFAULT_ROBUST_OPTIONS.energyTolerance) && !Number.isNaN(energy)) {
				throw new MusicrecError(
					'federation/inconsistent-sum',
					`The unmasked sum exceeds the energy bound (sum_i b_i' (A_i + G)^-1 b_i is ${energy.toPrecision(3)} times the summed confidence total, and no sum of honest clients exceeds 1): at least one client sent statistics larger than its plays allow. The round is not aggregated; masked updates cannot be screened one by one.`,
					{ energy }
				);
			}
			post({ type: 'stage', stage: 'aggregating' });
			const compactState =
				global.model.mode === 'compact'
					? (command.compactState ?? createCompactState())
					: undefined;
			const next = publishGlobal(aggregateSums(global, sum.sums, { compactState }));
			const scored = await scoreIfGiven(next, command.dataset, post);
			post({
				type: 'secure-finish-done',
				result: {
					text: next.text,
					checksum: next.checksum,
					round: next.model.round,
					responders: [...sum.responders],
					rejected: [...sum.rejected],
					survivors: [...sum.survivors],
					dropped: [...sum.dropped],
					users: sum.users,
					interactions: sum.interactions,
					consistency,
					...(Number.isNaN(energy) ? {} : { energy }),
					compactState,
					...scored
				}
			});
			return;
		}
		if (command.type === 'evaluate') {
			post({ type: 'stage', stage: 'evaluating' });
			post({ type: 'evaluate-done', result: await scoreOn(global, command.dataset) });
			return;
		}
		post({ type: 'stage', stage: 'validating' });
		const screened = screenRound(global, command.texts, {
			robust: command.robust,
			caps: command.caps
		});
		const summary = summarize(screened);
		if (command.type === 'validate') {
			post({ type: 'validate-done', result: summary });
			return;
		}
		post({ type: 'stage', stage: 'aggregating' });
		// Compact mode takes per-item secant steps, which need the previous round's state.
		const compactState =
			global.model.mode === 'compact' ? (command.compactState ?? createCompactState()) : undefined;
		const next = publishGlobal(aggregate(global, screened.toAggregate, { compactState }));
		const scored = await scoreIfGiven(next, command.dataset, post);
		post({
			type: 'aggregate-done',
			result: {
				text: next.text,
				checksum: next.checksum,
				round: next.model.round,
				validation: summary,
				compactState,
				addedSongs: next.model.catalog.length - global.model.catalog.length,
				...scored
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
