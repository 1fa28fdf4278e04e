import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { helperStart, kernelThreads, type KernelThreads } from '../core/als/kernel/cg_kernel';
import { useAlsKernel } from '../core/als/kernel/tf_kernel';

const HELPER = new URL('./als_kernel_helper.js', import.meta.url);

/**
 * Start `helpers` worker threads running the shared-memory ALS kernel. The workers are unref'd,
 * so they never keep the process alive; close() stops them.
 */
export async function startKernelThreads(helpers: number): Promise<KernelThreads> {
	const start = await helperStart(helpers);
	const workers = await Promise.all(
		Array.from({ length: helpers }, async (_, index) => {
			const worker = new Worker(HELPER, { workerData: { ...start, index } });
			await new Promise<void>((resolve, reject) => {
				worker.once('message', () => resolve());
				worker.once('error', reject);
			});
			worker.unref();
			return worker;
		})
	);
	return kernelThreads(start, helpers, () => Promise.all(workers.map((w) => w.terminate())));
}

/**
 * Use the fused ALS kernel in this process with `threads` threads in all (default: every
 * core); returns the helper threads (undefined for one thread) for closing.
 */
export async function useNodeAlsKernel(
	threads = availableParallelism()
): Promise<KernelThreads | undefined> {
	if (threads <= 1) {
		await useAlsKernel();
		return undefined;
	}
	const pool = await startKernelThreads(threads - 1);
	await useAlsKernel(pool);
	return pool;
}
