/**
 * How many threads training uses: the fused ALS kernel runs on the calling thread plus helper
 * threads, up to one per logical core the browser reports (`navigator.hardwareConcurrency`,
 * helpers up to that minus one), capped; a setting chooses fewer.
 */

/** Most kernel threads ever used (the work per half-sweep is split in row blocks per thread). */
export const MAX_KERNEL_THREADS = 16;

/** Threads a training may use where `cores` logical cores are reported: 1 to this. */
export function maxTrainingThreads(cores: number): number {
	const n = Number.isFinite(cores) ? Math.floor(cores) : 1;
	return Math.max(1, Math.min(MAX_KERNEL_THREADS, n));
}

/**
 * Threads for a training: the setting when there is one (clamped to 1..maxTrainingThreads),
 * else every core up to the cap.
 */
export function trainingThreads(setting: number | undefined, cores: number): number {
	const max = maxTrainingThreads(cores);
	if (setting === undefined || !Number.isFinite(setting)) return max;
	return Math.max(1, Math.min(max, Math.floor(setting)));
}
