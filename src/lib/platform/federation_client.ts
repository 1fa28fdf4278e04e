/**
 * Main-thread side of the federation worker: run one command in a fresh module worker and
 * resolve with its result; `onEvent` sees the stage and progress events.
 */
import type { GlobalEvaluation } from '$lib/core/federation/global_eval';
import type { RoundRecord } from '$lib/core/federation/simulate';
import type {
	AggregateResult,
	CatalogResult,
	ClientResult,
	FederationCommand,
	FederationEvent,
	SecureCheckResult,
	SecureFinishResult,
	SecureMaskResult,
	SecureRequestResult,
	ValidationSummary
} from '$lib/workers/federation.worker';
import { WorkerTaskError, workerFailureMessage } from './worker_failure';

type ResultOf<C extends FederationCommand['type']> = C extends 'client-update'
	? ClientResult
	: C extends 'validate'
		? ValidationSummary
		: C extends 'catalog'
			? CatalogResult
			: C extends 'simulate'
				? { backend: string; records: RoundRecord[] }
				: C extends 'evaluate'
					? GlobalEvaluation
					: C extends 'secure-mask'
						? SecureMaskResult
						: C extends 'secure-check'
							? SecureCheckResult
							: C extends 'secure-request'
								? SecureRequestResult
								: C extends 'secure-finish'
									? SecureFinishResult
									: AggregateResult;

/**
 * Run `command` in a worker; rejects with WorkerTaskError (code 'cancelled' when `signal`
 * aborts: the worker is terminated at once).
 */
export function runFederationTask<C extends FederationCommand>(
	command: C,
	onEvent: (event: FederationEvent) => void = () => undefined,
	signal?: AbortSignal
): Promise<ResultOf<C['type']>> {
	const worker = new Worker(new URL('../workers/federation.worker.ts', import.meta.url), {
		type: 'module'
	});
	return new Promise<ResultOf<C['type']>>((resolve, reject) => {
		signal?.addEventListener('abort', () => {
			worker.terminate();
			reject(new WorkerTaskError('cancelled', 'Stopped'));
		});
		worker.onmessage = (e: MessageEvent<FederationEvent>) => {
			const event = e.data;
			onEvent(event);
			if (event.type === 'error') {
				worker.terminate();
				// 'unknown': not one of the app's own errors, so a fault of the worker itself.
				const message =
					event.code === 'unknown'
						? `The federation worker stopped unexpectedly: ${event.message}`
						: event.message;
				reject(new WorkerTaskError(event.code, message));
			} else if (
				event.type === 'client-done' ||
				event.type === 'catalog-done' ||
				event.type === 'simulate-done' ||
				event.type === 'validate-done' ||
				event.type === 'evaluate-done' ||
				event.type === 'aggregate-done' ||
				event.type === 'secure-mask-done' ||
				event.type === 'secure-check-done' ||
				event.type === 'secure-request-done' ||
				event.type === 'secure-finish-done'
			) {
				worker.terminate();
				resolve(event.result as ResultOf<C['type']>);
			}
		};
		worker.onerror = (e: ErrorEvent) => {
			worker.terminate();
			reject(new WorkerTaskError('worker', workerFailureMessage('federation worker', e)));
		};
		worker.postMessage(command);
	});
}
