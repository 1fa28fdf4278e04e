// The loop a kernel helper thread runs, shared by the Node helper (worker_threads) and the
// browser helper (a module Worker). Plain JavaScript with no imports, so Node can load it in a
// worker without a TypeScript loader.
//
// Jobs are handed over through two SharedArrayBuffers: `flags` (Int32, FLAG_SLOTS per helper:
// request generation, done generation, function id) and `args` (Float64, ARG_SLOTS per helper:
// the kernel function's arguments, then its result in the last slot). The caller bumps the
// request generation and notifies; the helper runs the job, stores the generation in `done`
// and notifies back.

export const FLAG_SLOTS = 4;
export const ARG_SLOTS = 16;
export const FN_STOP = 0;
export const FN_CG_ROWS = 1;
export const FN_OBSERVED_LOSS = 2;

/**
 * Serve jobs for helper `index` until told to stop. Blocks the calling thread (Atomics.wait),
 * so it must run in a worker.
 * @param {{ cgRows: (...args: number[]) => void; observedLoss: (...args: number[]) => number }} kernel
 * @param {SharedArrayBuffer} flagsBuffer
 * @param {SharedArrayBuffer} argsBuffer
 * @param {number} index
 */
export function serveKernelJobs(kernel, flagsBuffer, argsBuffer, index) {
	const flags = new Int32Array(flagsBuffer);
	const args = new Float64Array(argsBuffer);
	const request = index * FLAG_SLOTS;
	const done = request + 1;
	const base = index * ARG_SLOTS;
	let seen = Atomics.load(flags, done);
	for (;;) {
		Atomics.wait(flags, request, seen);
		const generation = Atomics.load(flags, request);
		if (generation === seen) continue;
		const fn = flags[request + 2];
		if (fn === FN_STOP) {
			Atomics.store(flags, done, generation);
			Atomics.notify(flags, done);
			return;
		}
		const a = Array.from(args.subarray(base, base + ARG_SLOTS - 1));
		let result = 0;
		try {
			if (fn === FN_CG_ROWS) kernel.cgRows(...a);
			else if (fn === FN_OBSERVED_LOSS) result = kernel.observedLoss(...a);
			else result = NaN;
		} catch {
			result = NaN;
		}
		args[base + ARG_SLOTS - 1] = result;
		seen = generation;
		Atomics.store(flags, done, generation);
		Atomics.notify(flags, done);
	}
}
