/**
 * Main-thread side of the training worker: start a training, follow its events, cancel it.
 * The result is the trained ModelRecord (not yet stored) or undefined when cancelled.
 */
import type { ModelRecord } from '$lib/core/model_record';
import type { TrainCommand, TrainEvent } from '$lib/workers/train.worker';
import { WorkerTaskError, workerFailureMessage } from './worker_failure';

export type TrainRequest = Omit<Extract<TrainCommand, { type: 'train' }>, 'type'>;

export interface TrainingHandle {
	/** Resolves with the record, undefined when cancelled; rejects with WorkerTaskError. */
	readonly result: Promise<ModelRecord | undefined>;
	/** Ask the worker to stop after the current sweep; terminate it if it does not answer. */
	cancel(): void;
}

/** Milliseconds a cancelled worker gets to stop by itself before it is terminated. */
const CANCEL_GRACE_MS = 5000;

/** Start training in a fresh module worker; `onEvent` sees every event in order. */
export function startTraining(
	request: TrainRequest,
	onEvent: (event: TrainEvent) => void
): TrainingHandle {
	const worker = new Worker(new URL('../workers/train.worker.ts', import.meta.url), {
		type: 'module'
	});
	let settle: ((record: ModelRecord | undefined) => void) | undefined;
	let fail: ((error: Error) => void) | undefined;
	let graceTimer: ReturnType<typeof setTimeout> | undefined;
	const result = new Promise<ModelRecord | undefined>((resolve, reject) => {
		settle = resolve;
		fail = reject;
	});
	const finish = (): void => {
		if (graceTimer !== undefined) clearTimeout(graceTimer);
		worker.terminate();
	};
	worker.onmessage = (e: MessageEvent<TrainEvent>) => {
		const event = e.data;
		onEvent(event);
		if (event.type === 'done') {
			finish();
			settle?.(event.record);
		} else if (event.type === 'cancelled') {
			finish();
			settle?.(undefined);
		} else if (event.type === 'error') {
			finish();
			fail?.(new WorkerTaskError(event.code, event.message));
		}
	};
	worker.onerror = (e: ErrorEvent) => {
		finish();
		fail?.(new WorkerTaskError('worker', workerFailureMessage('training worker', e)));
	};
	const command: TrainCommand = { type: 'train', ...request };
	worker.postMessage(command);
	return {
		result,
		cancel() {
			worker.postMessage({ type: 'cancel' } satisfies TrainCommand);
			graceTimer ??= setTimeout(() => {
				worker.terminate();
				onEvent({ type: 'cancelled' });
				settle?.(undefined);
			}, CANCEL_GRACE_MS);
		}
	};
}
