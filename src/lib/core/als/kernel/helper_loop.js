// The loop a kernel helper thread runs, shared by the Node helper (worker_threads) and the
// browser helper (a module Worker). Plain JavaScript with no imports, so Node can load it in a
// worker without a TypeScript loader.
//
// Jobs are handed over through two SharedArrayBuffers: `flags` (Int32, FLAG_SLOTS per helper:
// request generation, done generation, function id, 1 when the job failed) and `args` (Float64, ARG_SLOTS per helper:
// the kernel function's arguments, then its result in the last slot). The caller bumps the
// request generation and notifies; the helper runs the job, stores the generation in `done`
// and notifies back.

export const FLAG_SLOTS = 4;
export const ARG_SLOTS = 16;
export const FN_STOP = 0;
/**
 * How long a thread that waits for a flag first polls it before sleeping: jobs come in bursts
 * (gram, H, rows: one after another within a half-sweep), and waking a sleeping thread costs
 * about 0.1-0.2 ms, which is more than many jobs take.
 */
const SPIN_MS = 0.5;

/** performance (workers, Node), typed here without the DOM library. */
const clock = /** @type {{ performance: { now(): number } }} */ (
	/** @type {unknown} */ (globalThis)
).performance;

/**
 * Wait until flags[slot] differs from `value`: poll for SPIN_MS, then sleep (Atomics.wait).
 * @param {Int32Array} flags
 * @param {number} slot
 * @param {number} value
 */
export function waitForChange(flags, slot, value) {
	const until = clock.now() + SPIN_MS;
	while (Atomics.load(flags, slot) === value) {
		if (clock.now() > until) {
			Atomics.wait(flags, slot, value);
		}
	}
}
export const FN_CG_CHUNKS = 1;
export const FN_OBSERVED_LOSS = 2;
export const FN_MUL_CHUNKS = 3;
export const FN_GRAM_CHUNKS = 4;
/** The kernel export each function id runs. */
const JOBS = [undefined, 'cgChunks', 'observedLoss', 'mulChunks', 'gramChunks'];

/**
 * Serve jobs for helper `index` until told to stop. Blocks the calling thread (Atomics.wait),
 * so it must run in a worker.
 * @param {Record<string, (...args: number[]) => number | void>} kernel the kernel's exports
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
		waitForChange(flags, request, seen);
		const generation = Atomics.load(flags, request);
		const fn = flags[request + 2];
		if (fn === FN_STOP) {
			Atomics.store(flags, done, generation);
			Atomics.notify(flags, done);
			return;
		}
		const a = Array.from(args.subarray(base, base + ARG_SLOTS - 1));
		let result = 0;
		let failed = 0;
		try {
			const job = JOBS[fn];
			if (job) result = Number(kernel[job](...a) ?? 0);
			else failed = 1;
		} catch {
			failed = 1;
		}
		flags[request + 3] = failed;
		args[base + ARG_SLOTS - 1] = result;
		seen = generation;
		Atomics.store(flags, done, generation);
		Atomics.notify(flags, done);
	}
}
