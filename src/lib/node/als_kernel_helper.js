// Node worker entry of an ALS kernel helper thread: instantiate the shared-memory kernel on the
// caller's memory and serve its jobs (src/lib/node/kernel_threads.ts starts it).
import { parentPort, workerData } from 'node:worker_threads';
import { serveKernelJobs } from '../core/als/kernel/helper_loop.js';

const { module, memory, flags, args, index } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
parentPort?.postMessage('ready');
serveKernelJobs(
	/** @type {Parameters<typeof serveKernelJobs>[0]} */ (/** @type {unknown} */ (instance.exports)),
	flags,
	args,
	index
);
