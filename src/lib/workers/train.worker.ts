/**
 * Training worker: reads a stored dataset file, fits implicit ALS on the best tfjs backend,
 * evaluates it on a holdout split and posts back a ModelRecord (factor buffers transferred).
 * Nothing is stored here: the main thread saves the record in one transaction, so a cancelled
 * or failed training leaves nothing behind.
 */
import { engine } from '@tensorflow/tfjs-core';
import { fit } from '$lib/core/als/fit';
import type { AlsModel } from '$lib/core/als/model';
import { alsParams, type AlsParams } from '$lib/core/als/params';
import type { Csr } from '$lib/core/data/csr';
import { ingest } from '$lib/core/data/ingest';
import type { Weighting } from '$lib/core/data/weights';
import { isMusicrecError } from '$lib/core/errors';
import { evaluateWithBaseline } from '$lib/core/eval/evaluate';
import { holdoutSplit, type HoldoutSplit } from '$lib/core/eval/split';
import type { ModelMetrics, ModelRecord } from '$lib/core/model_record';
import { blobByteChunks } from '$lib/platform/file_chunks';
import type { BackendName, ProbeResult } from '$lib/platform/tf_backends';

/** Main thread to worker. */
export type TrainCommand =
	| {
			readonly type: 'train';
			readonly file: Blob;
			readonly dataset: { readonly name: string; readonly fingerprint: string };
			readonly name: string;
			readonly weighting: Weighting;
			readonly params: Partial<AlsParams>;
			readonly holdout: boolean;
			readonly backend?: BackendName;
			/**
			 * Threads of tfjs-wasm and of the fused ALS kernel (default: one per core, capped, when
			 * cross-origin isolated; else 1).
			 */
			readonly wasmThreads?: number;
			/**
			 * With the fused kernel, solve rows with few entries exactly (default true); false:
			 * CG steps on every row, the iterations of the stock-ops solver and implicit.
			 */
			readonly exactShortRows?: boolean;
	  }
	| { readonly type: 'cancel' }
	/** Diagnostics: answer with the worker's live tfjs tensors (leak tests read it). */
	| { readonly type: 'memory' };

export type TrainStage = 'backend' | 'reading' | 'splitting' | 'training' | 'evaluating';

/** Worker to main thread. */
export type TrainEvent =
	| {
			readonly type: 'backend';
			readonly backend: string;
			readonly probes: ProbeResult[];
			/** Threads of the wasm backend when it was started (1 = single-threaded binary). */
			readonly wasmThreads?: number;
	  }
	| { readonly type: 'stage'; readonly stage: TrainStage }
	/** A fallback taken, in words (also kept in the record's `training.notes`). */
	| { readonly type: 'notice'; readonly message: string }
	| {
			readonly type: 'progress';
			readonly sweep: number;
			readonly iterations: number;
			readonly loss: number;
			readonly seconds: number;
			/** Mean sweep time so far times the sweeps left. */
			readonly etaSeconds: number;
	  }
	| { readonly type: 'done'; readonly record: ModelRecord }
	| { readonly type: 'cancelled' }
	| { readonly type: 'error'; readonly code: string; readonly message: string }
	| { readonly type: 'memory'; readonly numTensors: number; readonly numBytes: number };

export interface TrainDeps {
	post(event: TrainEvent, transfer?: Transferable[]): void;
	selectBackend(
		preferred?: BackendName,
		wasmThreads?: number
	): Promise<{ backend: string; probes: ProbeResult[]; wasmThreads?: number }>;
	/**
	 * Load the fused ALS kernel with at most `threads` threads (default: what the page allows);
	 * resolves to the thread count and, when it runs on fewer threads than it could, why
	 * (absent: fit loads the single-threaded kernel itself).
	 */
	prepareKernel?(threads?: number): Promise<{ threads: number; problem?: string }>;
	/** Set by a 'cancel' command; read after each sweep and during reading. */
	readonly signal: { readonly aborted: boolean };
	/** Fresh model id (crypto.randomUUID by default). */
	newId?(): string;
	now?(): Date;
}

/** Seed of the holdout split, fixed so that models of one dataset share a test set. */
export const SPLIT_SEED = 20260101;

function metricsOf(report: Awaited<ReturnType<typeof evaluateWithBaseline>>): ModelMetrics {
	const m = report.model.ranking;
	const p = report.popularity.ranking;
	return {
		k: m.k,
		precision: m.precision,
		recall: m.recall,
		ndcg: m.ndcg,
		map: m.map,
		auc: report.model.auc?.auc,
		popularity: {
			precision: p.precision,
			recall: p.recall,
			ndcg: p.ndcg,
			map: p.map,
			auc: report.popularity.auc?.auc
		},
		evalUsers: m.users
	};
}

function idsBytes(ids: readonly string[]): number {
	let n = 0;
	for (const id of ids) n += id.length;
	return n;
}

/**
 * Run one training request to the end, posting events through `deps.post`; ends with exactly
 * one of 'done', 'cancelled' or 'error'.
 */
export async function runTraining(
	command: Extract<TrainCommand, { type: 'train' }>,
	deps: TrainDeps
): Promise<void> {
	let model: AlsModel | undefined;
	try {
		const params = alsParams(command.params);
		deps.post({ type: 'stage', stage: 'backend' });
		const { backend, probes, wasmThreads } = await deps.selectBackend(
			command.backend,
			command.wasmThreads
		);
		deps.post({ type: 'backend', backend, probes, wasmThreads });

		deps.post({ type: 'stage', stage: 'reading' });
		const data = await ingest(blobByteChunks(command.file), {
			weighting: command.weighting,
			badLines: 'skip',
			signal: deps.signal
		});
		const { matrix, target, users, items } = data.interactions;

		let split: HoldoutSplit | undefined;
		let train: Csr = matrix;
		if (command.holdout) {
			deps.post({ type: 'stage', stage: 'splitting' });
			split = holdoutSplit({ matrix, target }, { seed: SPLIT_SEED });
			train = split.train;
		}

		deps.post({ type: 'stage', stage: 'training' });
		const notes: string[] = [];
		const note = (message: string): void => {
			notes.push(message);
			deps.post({ type: 'notice', message });
		};
		let threads = 1;
		try {
			const loaded = await deps.prepareKernel?.(command.wasmThreads);
			threads = loaded?.threads ?? 1;
			if (loaded?.problem) note(loaded.problem);
		} catch (e) {
			// No kernel (e.g. WebAssembly refused): fit tries once more, then stock ops.
			note(
				`the fused WebAssembly kernel did not load (${e instanceof Error ? e.message : String(e)})`
			);
		}
		const losses: number[] = [];
		let elapsed = 0;
		let solver = 'ops' as 'kernel' | 'ops';
		const exactShortRows = command.exactShortRows ?? true;
		model = await fit(train, params, {
			signal: deps.signal,
			exactShortRows,
			onSolver: (s) => (solver = s),
			onFallback: note,
			onSweep({ sweep, loss, seconds }) {
				losses.push(loss);
				elapsed += seconds;
				deps.post({
					type: 'progress',
					sweep,
					iterations: params.iterations,
					loss,
					seconds,
					etaSeconds: (elapsed / sweep) * (params.iterations - sweep)
				});
			}
		});

		let metrics: ModelMetrics | undefined;
		if (split) {
			deps.post({ type: 'stage', stage: 'evaluating' });
			metrics = metricsOf(await evaluateWithBaseline(model, split));
		}
		if (deps.signal.aborted) {
			deps.post({ type: 'cancelled' });
			return;
		}

		const arrays = await model.readArrays();
		const userIds = users.toArray();
		const itemIds = items.toArray();
		const record: ModelRecord = {
			meta: {
				id: deps.newId?.() ?? crypto.randomUUID(),
				name: command.name,
				type: 'als',
				createdAt: (deps.now?.() ?? new Date()).toISOString(),
				params,
				weighting: command.weighting,
				holdout: command.holdout,
				dataset: {
					name: command.dataset.name,
					fingerprint: command.dataset.fingerprint,
					users: matrix.rows,
					items: matrix.cols,
					nnz: matrix.indptr[matrix.rows]
				},
				metrics,
				training: {
					seconds: elapsed,
					sweeps: losses.length,
					backend,
					solver,
					threads: solver === 'kernel' ? threads : 1,
					...(solver === 'kernel' ? { exactShortRows } : {}),
					...(notes.length ? { notes } : {}),
					loss: losses
				},
				sizeBytes:
					arrays.userFactors.byteLength +
					arrays.itemFactors.byteLength +
					idsBytes(userIds) +
					idsBytes(itemIds)
			},
			userIds,
			itemIds,
			userFactors: arrays.userFactors,
			itemFactors: arrays.itemFactors
		};
		deps.post({ type: 'done', record }, [
			arrays.userFactors.buffer as ArrayBuffer,
			arrays.itemFactors.buffer as ArrayBuffer
		]);
	} catch (e) {
		if (isMusicrecError(e, 'als/cancelled') || isMusicrecError(e, 'data/cancelled')) {
			deps.post({ type: 'cancelled' });
		} else {
			deps.post({
				type: 'error',
				code: isMusicrecError(e) ? e.code : 'unknown',
				message: e instanceof Error ? e.message : String(e)
			});
		}
	} finally {
		model?.dispose();
	}
}

interface WorkerScope {
	onmessage: ((event: MessageEvent<TrainCommand>) => void) | null;
	postMessage(message: unknown, transfer?: Transferable[]): void;
}

// Wire the protocol when running as a dedicated worker (not when imported by tests).
const scope = globalThis as unknown as Partial<WorkerScope> & { WorkerGlobalScope?: unknown };
if (typeof scope.WorkerGlobalScope !== 'undefined') {
	const worker = scope as WorkerScope;
	const flag = { aborted: false };
	worker.onmessage = (event) => {
		const command = event.data;
		if (command.type === 'cancel') {
			flag.aborted = true;
			return;
		}
		if (command.type === 'memory') {
			// The engine's counters (tf.memory() would first pick a backend, and none may be set yet).
			const { numTensors, numBytes } = engine().state;
			worker.postMessage({ type: 'memory', numTensors, numBytes } satisfies TrainEvent);
			return;
		}
		flag.aborted = false;
		void runTraining(command, {
			post: (message, transfer) => worker.postMessage(message, transfer ?? []),
			selectBackend: async (preferred, wasmThreads) => {
				const backends = await import('$lib/platform/tf_backends');
				const selected = await backends.selectBackend(preferred, wasmThreads);
				return { ...selected, wasmThreads: backends.wasmThreadsInUse() };
			},
			prepareKernel: async (threads) => {
				const kernel = await import('$lib/platform/kernel_threads');
				return kernel.useBrowserAlsKernel(
					Math.min(threads ?? Infinity, kernel.kernelThreadsAvailable())
				);
			},
			signal: flag
		});
	};
}
