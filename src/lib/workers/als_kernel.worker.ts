/**
 * A helper thread of the fused ALS kernel (started by platform/kernel_threads.ts from the
 * training worker): instantiates the shared-memory kernel on the memory it is given and serves
 * jobs until told to stop.
 */
import { serveKernelJobs } from '$lib/core/als/kernel/helper_loop.js';

interface Start {
	module: WebAssembly.Module;
	memory: WebAssembly.Memory;
	flags: SharedArrayBuffer;
	args: SharedArrayBuffer;
	index: number;
}

const scope = globalThis as unknown as {
	onmessage: ((e: MessageEvent<Start>) => void) | null;
	postMessage(message: unknown): void;
};
scope.onmessage = (e) => {
	scope.onmessage = null;
	const { module, memory, flags, args, index } = e.data;
	let kernel: Parameters<typeof serveKernelJobs>[0];
	try {
		const instance = new WebAssembly.Instance(module, { env: { memory } });
		kernel = instance.exports as unknown as Parameters<typeof serveKernelJobs>[0];
	} catch (err) {
		scope.postMessage(`kernel helper: ${err instanceof Error ? err.message : String(err)}`);
		return;
	}
	scope.postMessage('ready');
	serveKernelJobs(kernel, flags, args, index);
};
