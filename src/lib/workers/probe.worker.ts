/**
 * Backend probe worker: registers every tfjs backend, times a matMul on each and posts the
 * results, so the page stays responsive while the (slow) software backends are measured.
 */
import { BACKENDS, probeBackend, type ProbeResult } from '$lib/platform/tf_backends';

/** Worker to main thread: one result per backend as it finishes, then 'done'. */
export type ProbeEvent =
	{ readonly type: 'result'; readonly result: ProbeResult } | { readonly type: 'done' };

const scope = self as unknown as {
	onmessage: ((e: MessageEvent) => void) | null;
	postMessage(event: ProbeEvent): void;
};

scope.onmessage = async () => {
	for (const name of BACKENDS) {
		scope.postMessage({ type: 'result', result: await probeBackend(name) });
	}
	scope.postMessage({ type: 'done' });
};
