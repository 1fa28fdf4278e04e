import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import {
	compileAlsKernel,
	newSharedKernelMemory,
	stopHelpers,
	type KernelThreads
} from '../core/als/kernel/cg_kernel';
import { ARG_SLOTS, FLAG_SLOTS } from '../core/als/kernel/helper_loop.js';
import { useAlsKernel } from '../core/als/kernel/tf_kernel';

const HELPER = new URL('./als_kernel_helper.js', import.meta.url);

/**
 * Start `helpers` worker threads running the shared-memory ALS kernel. The workers are unref'd,
 * so they never keep the process alive; close() stops them.
 */
export async function startKernelThreads(helpers: number): Promise<KernelThreads> {
	const module = await compileAlsKernel(true);
	const memory = newSharedKernelMemory();
	const flags = new SharedArrayBuffer(Math.max(1, helpers) * FLAG_SLOTS * 4);
	const args = new SharedArrayBuffer(Math.max(1, helpers) * ARG_SLOTS * 8);
	const workers = await Promise.all(
		Array.from({ length: helpers }, async (_, index) => {
			const worker = new Worker(HELPER, { workerData: { module, memory, flags, args, index } });
			await new Promise<void>((resolve, reject) => {
				worker.once('message', () => resolve());
				worker.once('error', reject);
			});
			worker.unref();
			return worker;
		})
	);
	return {
		memory,
		module,
		helpers,
		flags,
		args,
		async close() {
			stopHelpers(flags, helpers);
			await Promise.all(workers.map((w) => w.terminate()));
		}
	};
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
