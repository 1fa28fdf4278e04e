import { availableParallelism, loadavg } from 'node:os';
import { fit } from '../src/lib/core/als/fit';
import { AlsCgKernel, type KernelThreads } from '../src/lib/core/als/kernel/cg_kernel';
import { useAlsKernelInstance } from '../src/lib/core/als/kernel/tf_kernel';
import { ALS_PARAM_SPEC, alsParams } from '../src/lib/core/als/params';
import { holdoutSplit } from '../src/lib/core/eval/split';
import { startKernelThreads } from '../src/lib/node/kernel_threads';
import { useBackend } from '../src/lib/node/tf_backend';
import type { Options } from './args';
import { DATASETS, loadDataset, type DatasetName } from './datasets';
import { median, round } from './measure';
import { parallelCapacity } from './threads_suite';

/**
 * The fused kernel's thread scaling in Node: one fit of the training split per thread count
 * and repeat, the counts alternating within each repeat (1, 2, 4, 8, 1, 2, ...), counts above
 * the machine's cores left out. Each record: one thread count and row mode (exact short rows
 * on, or CG on every row), min and median fit and sweep, and the speedup over one thread
 * (minimum over minimum, same run).
 */
export interface ScalingRecord {
	suite: 'scaling';
	dataset: DatasetName;
	factors: number;
	iterations: number;
	exact_short_rows: boolean;
	threads: number;
	cores: number;
	repeats: number;
	fit_s_min: number;
	fit_s_median: number;
	sweep_s_median: number;
	/** fit_s_min at 1 thread over this one; sweep_speedup the same for median sweeps. */
	speedup: number;
	sweep_speedup: number;
	/** Two busy-loop units on one thread over one on each of two, just before the run. */
	parallel_capacity: number;
	load_avg_before: number;
	load_avg_after: number;
}

export async function scalingSuite(options: Options): Promise<ScalingRecord[]> {
	const name = options.choice('dataset', DATASETS, 'lastfm');
	const params = alsParams({
		factors: options.number('factors', 64),
		iterations: options.number('iterations', ALS_PARAM_SPEC.iterations.default),
		regularization: options.number('regularization', ALS_PARAM_SPEC.regularization.default),
		alpha: options.number('alpha', ALS_PARAM_SPEC.alpha.default),
		cgSteps: options.number('cg-steps', ALS_PARAM_SPEC.cgSteps.default),
		convention: 'implicit'
	});
	const cores = availableParallelism();
	const counts = options
		.string('threads', '1,2,4,8')
		.split(',')
		.map(Number)
		.filter((t) => Number.isInteger(t) && t >= 1 && t <= cores);
	if (!counts.includes(1)) counts.unshift(1);
	const repeats = options.number('repeats', 5);
	const modes = { on: [true], off: [false], both: [true, false] }[
		options.choice('exact', ['on', 'off', 'both'] as const, 'both')
	];
	const seed = options.number('seed', 1);
	options.assertAllUsed();

	const dataset = await loadDataset(name, {
		seed,
		synthetic: { users: 50_000, items: 100_000, nnz: 3_000_000 }
	});
	const train = holdoutSplit(dataset.interactions, { seed }).train;
	await useBackend('wasm');
	const pools: KernelThreads[] = [];
	const kernels = new Map<number, AlsCgKernel>();
	try {
		for (const t of counts) {
			const pool = t > 1 ? await startKernelThreads(t - 1) : undefined;
			if (pool) pools.push(pool);
			kernels.set(t, await AlsCgKernel.create(pool));
		}
		const capacity = cores > 1 ? await parallelCapacity() : 1;
		const loadBefore = loadavg()[0];
		const runs = new Map<string, { fit: number; sweep: number }[]>();
		for (let r = 0; r < repeats; r++) {
			for (const exact of modes) {
				for (const t of counts) {
					useAlsKernelInstance(kernels.get(t)!);
					await settle();
					const sweeps: number[] = [];
					const start = performance.now();
					const model = await fit(train, params, {
						computeLoss: false,
						solver: 'kernel',
						exactShortRows: exact,
						onSweep: (s) => sweeps.push(s.seconds)
					});
					const seconds = (performance.now() - start) / 1000;
					model.dispose();
					const key = `${exact} ${t}`;
					runs.set(key, [...(runs.get(key) ?? []), { fit: seconds, sweep: median(sweeps) }]);
				}
			}
		}
		const loadAfter = loadavg()[0];
		const records: ScalingRecord[] = [];
		for (const exact of modes) {
			const one = runs.get(`${exact} 1`)!;
			const oneFit = Math.min(...one.map((x) => x.fit));
			const oneSweep = median(one.map((x) => x.sweep));
			for (const t of counts) {
				const these = runs.get(`${exact} ${t}`)!;
				const fitMin = Math.min(...these.map((x) => x.fit));
				const sweep = median(these.map((x) => x.sweep));
				records.push({
					suite: 'scaling',
					dataset: name,
					factors: params.factors,
					iterations: params.iterations,
					exact_short_rows: exact,
					threads: t,
					cores,
					repeats,
					fit_s_min: round(fitMin, 4),
					fit_s_median: round(median(these.map((x) => x.fit)), 4),
					sweep_s_median: round(sweep, 5),
					speedup: round(oneFit / fitMin, 2),
					sweep_speedup: round(oneSweep / sweep, 2),
					parallel_capacity: round(capacity, 2),
					load_avg_before: round(loadBefore, 2),
					load_avg_after: round(loadAfter, 2)
				});
			}
		}
		return records;
	} finally {
		for (const pool of pools) await pool.close();
	}
}

/**
 * A pause between fits, as the compare suite has while implicit runs: the previous fit's
 * garbage (tens of MB) is collected in it, not in the middle of the next fit.
 */
function settle(): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, 500));
}
