/**
 * Backend probe worker: registers every tfjs backend, times a matMul on each and posts the
 * results, so the page stays responsive while the (slow) software backends are measured.
 * The wasm backend runs threaded when the page is cross-origin isolated (see tf_backends.ts).
 */
import {
	BACKENDS,
	probeBackend,
	registerBackends,
	type BackendName,
	type ProbeResult
} from '$lib/platform/tf_backends';

/** Main thread to worker; every field is optional (defaults: the Settings page's probe). */
export interface ProbeCommand {
	readonly type: 'probe';
	/** Backends to probe, in order (default: all). */
	readonly backends?: readonly BackendName[];
	/** Side of the square matMul (default 256). */
	readonly size?: number;
	/** Timed runs after the warm-up; the best is reported (default 2). */
	readonly reps?: number;
	/** Wasm threads (default: one per core when isolated); only the worker's first command counts. */
	readonly wasmThreads?: number;
}

/** Worker to main thread: one result per backend as it finishes, then 'done'. */
export type ProbeEvent =
	{ readonly type: 'result'; readonly result: ProbeResult } | { readonly type: 'done' };

const scope = self as unknown as {
	onmessage: ((e: MessageEvent<ProbeCommand | undefined>) => void) | null;
	postMessage(event: ProbeEvent): void;
};

scope.onmessage = async (e) => {
	const command = e.data;
	await registerBackends(command?.wasmThreads);
	for (const name of command?.backends ?? BACKENDS) {
		const result = await probeBackend(name, command?.size, command?.reps);
		scope.postMessage({ type: 'result', result });
	}
	scope.postMessage({ type: 'done' });
};
