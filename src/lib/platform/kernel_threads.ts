/**
 * The fused ALS kernel in the browser: on several threads when the page is cross-origin
 * isolated (SharedArrayBuffer and shared WebAssembly memory available), on one otherwise.
 * Runs in a worker (the training worker): the calling thread waits for its helpers with
 * Atomics.wait, which the main thread may not do.
 */
import { helperStart, kernelThreads, type KernelThreads } from '$lib/core/als/kernel/cg_kernel';
import { useAlsKernel } from '$lib/core/als/kernel/tf_kernel';
import { maxTrainingThreads } from './thread_count';

let ready: Promise<LoadedKernel> | undefined;

/** Threads the kernel may use here: 1 unless isolated and in a worker. */
export function kernelThreadsAvailable(): number {
	const g = globalThis as {
		crossOriginIsolated?: boolean;
		navigator?: { hardwareConcurrency?: number };
		WorkerGlobalScope?: unknown;
	};
	if (!g.crossOriginIsolated || typeof g.WorkerGlobalScope === 'undefined') return 1;
	if (typeof SharedArrayBuffer === 'undefined') return 1;
	return maxTrainingThreads(g.navigator?.hardwareConcurrency ?? 1);
}

/** The kernel as loaded: its thread count, and why it has fewer threads than asked for. */
export interface LoadedKernel {
	readonly threads: number;
	readonly problem?: string;
}

/**
 * Load the kernel (once per worker) with as many threads as available. If helpers cannot start
 * (e.g. workers refused), it runs on one thread and `problem` says why.
 */
export function useBrowserAlsKernel(
	threads = kernelThreadsAvailable(),
	startHelpers: (helpers: number) => Promise<KernelThreads> = startBrowserKernelThreads
): Promise<LoadedKernel> {
	ready ??= (async () => {
		let problem: string | undefined;
		if (threads > 1) {
			try {
				await useAlsKernel(await startHelpers(threads - 1));
				return { threads };
			} catch (e) {
				problem = `${threads - 1} kernel helper thread(s) did not start (${e instanceof Error ? e.message : String(e)}); the kernel runs on one thread`;
			}
		}
		await useAlsKernel();
		return problem ? { threads: 1, problem } : { threads: 1 };
	})();
	return ready;
}

/** Start `helpers` module workers sharing one kernel memory. */
async function startBrowserKernelThreads(helpers: number): Promise<KernelThreads> {
	const start = await helperStart(helpers);
	const workers: Worker[] = [];
	try {
		for (let index = 0; index < helpers; index++) {
			const worker = new Worker(new URL('../workers/als_kernel.worker.ts', import.meta.url), {
				type: 'module'
			});
			workers.push(worker);
			await new Promise<void>((resolve, reject) => {
				worker.onmessage = (e) =>
					e.data === 'ready' ? resolve() : reject(new Error(String(e.data)));
				worker.onerror = (e) => reject(new Error(e.message || 'kernel helper failed to start'));
				worker.postMessage({ ...start, index });
			});
		}
	} catch (e) {
		workers.forEach((w) => w.terminate());
		throw e;
	}
	return kernelThreads(start, helpers, () => workers.forEach((w) => w.terminate()));
}
