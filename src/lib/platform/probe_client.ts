/**
 * Main-thread side of the backend probe worker: probe every backend in a fresh worker and
 * report each result as it arrives.
 */
import type { ProbeCommand, ProbeEvent } from '$lib/workers/probe.worker';
import type { ProbeResult } from './backend_choice';

/**
 * Probe the backends off the main thread (all of them unless `options` says otherwise);
 * resolves with the results in probe order.
 */
export function runProbe(
	onResult: (result: ProbeResult) => void,
	options: Omit<ProbeCommand, 'type'> = {}
): Promise<ProbeResult[]> {
	const worker = new Worker(new URL('../workers/probe.worker.ts', import.meta.url), {
		type: 'module'
	});
	const results: ProbeResult[] = [];
	return new Promise<ProbeResult[]>((resolve, reject) => {
		worker.onmessage = (e: MessageEvent<ProbeEvent>) => {
			if (e.data.type === 'result') {
				results.push(e.data.result);
				onResult(e.data.result);
			} else {
				worker.terminate();
				resolve(results);
			}
		};
		worker.onerror = (e: ErrorEvent) => {
			worker.terminate();
			reject(new Error(e.message || 'the probe worker failed'));
		};
		worker.postMessage({ type: 'probe', ...options } satisfies ProbeCommand);
	});
}
