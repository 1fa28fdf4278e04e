import * as tf from '@tensorflow/tfjs-core';
import { fit } from '../src/lib/core/als/fit';
import { ALS_PARAM_SPEC, alsParams, type AlsParams } from '../src/lib/core/als/params';
import { nnz } from '../src/lib/core/data/csr';
import { evaluateWithBaseline } from '../src/lib/core/eval/evaluate';
import { holdoutSplit } from '../src/lib/core/eval/split';
import { useBackend } from '../src/lib/node/tf_backend';
import { useNodeAlsKernel } from '../src/lib/node/kernel_threads';
import type { AlsSolver } from '../src/lib/core/als/fit';
import type { Options } from './args';
import { DATASETS, loadDataset, type DatasetName, type LoadedDataset } from './datasets';
import { alsSweepFlops } from './flop_model';
import { matMulGflops, median, peakRssMb, round } from './measure';

/** One fit + evaluation: the record `npm run bench -- als` writes, one per split seed. */
export interface AlsRecord {
	suite: 'als';
	dataset: DatasetName;
	users: number;
	items: number;
	nnz_train: number;
	backend: string;
	/** 'kernel' (fused WebAssembly CG) or 'ops' (stock tfjs ops). */
	solver: AlsSolver;
	/** Threads of the fused kernel (the process's own plus helpers); 1 for ops. */
	threads: number;
	/** The kernel solved short rows exactly (--exact on): gflops is then CG-equivalent work. */
	exact_short_rows: boolean;
	factors: number;
	iterations: number;
	cg_steps: number;
	regularization: number;
	alpha: number;
	convention: AlsParams['convention'];
	weighting: string;
	split_seed: number;
	load_s: number;
	fit_s: number;
	sweep_s: number;
	gflops: number;
	peak_gflops: number;
	efficiency: number;
	precision_at_10: number;
	precision_per_user_at_10: number;
	recall_at_10: number;
	ndcg_at_10: number;
	map_at_10: number;
	auc?: number;
	popularity_precision_at_10: number;
	popularity_ndcg_at_10: number;
	popularity_map_at_10: number;
	popularity_auc?: number;
	eval_users: number;
	peak_rss_mb: number;
}

interface AlsRunConfig {
	dataset: LoadedDataset;
	backend: 'wasm' | 'cpu';
	params: AlsParams;
	weighting: string;
	splitSeed: number;
	peakGflops: number;
	solver: AlsSolver | 'auto';
	threads: number;
	/** The kernel solves short rows exactly: gflops then counts CG work it did not do. */
	exactShortRows: boolean;
}

/** Split, fit on train, evaluate on test beside the popularity baseline. */
async function runAls(config: AlsRunConfig): Promise<AlsRecord> {
	const { dataset, params } = config;
	const split = holdoutSplit(dataset.interactions, { seed: config.splitSeed });
	const sweeps: number[] = [];
	const start = performance.now();
	let solver = 'ops' as AlsSolver;
	const model = await fit(split.train, params, {
		computeLoss: false,
		solver: config.solver,
		exactShortRows: config.exactShortRows,
		onSolver: (s) => (solver = s),
		onSweep: (s) => sweeps.push(s.seconds)
	});
	const fitSeconds = (performance.now() - start) / 1000;
	try {
		const report = await evaluateWithBaseline(model, split, { k: 10 });
		const m = report.model.ranking;
		const pop = report.popularity.ranking;
		const sweepSeconds = median(sweeps);
		const flops = alsSweepFlops(
			split.train.rows,
			split.train.cols,
			nnz(split.train),
			params.factors,
			params.cgSteps
		);
		const gflops = flops / sweepSeconds / 1e9;
		return {
			suite: 'als',
			dataset: dataset.name,
			users: split.train.rows,
			items: split.train.cols,
			nnz_train: nnz(split.train),
			backend: tf.getBackend(),
			solver,
			threads: solver === 'kernel' ? config.threads : 1,
			exact_short_rows: solver === 'kernel' && config.exactShortRows,
			factors: params.factors,
			iterations: params.iterations,
			cg_steps: params.cgSteps,
			regularization: params.regularization,
			alpha: params.alpha,
			convention: params.convention,
			weighting: config.weighting,
			split_seed: config.splitSeed,
			load_s: round(dataset.load_s),
			fit_s: round(fitSeconds),
			sweep_s: round(sweepSeconds),
			gflops: round(gflops, 3),
			peak_gflops: round(config.peakGflops, 3),
			efficiency: round(gflops / config.peakGflops, 3),
			precision_at_10: round(m.pooledPrecision),
			precision_per_user_at_10: round(m.precision),
			recall_at_10: round(m.recall),
			ndcg_at_10: round(m.ndcg),
			map_at_10: round(m.map),
			auc: report.model.auc ? round(report.model.auc.auc) : undefined,
			popularity_precision_at_10: round(pop.pooledPrecision),
			popularity_ndcg_at_10: round(pop.ndcg),
			popularity_map_at_10: round(pop.map),
			popularity_auc: report.popularity.auc ? round(report.popularity.auc.auc) : undefined,
			eval_users: m.users,
			peak_rss_mb: round(peakRssMb(), 1)
		};
	} finally {
		model.dispose();
	}
}

/** Reference settings per dataset (those of the implicit runs in docs/benchmarks.md). */
const DEFAULT_FACTORS: Record<DatasetName, number> = { kkbox10k: 64, lastfm: 64, synthetic: 32 };

export async function alsSuite(options: Options): Promise<AlsRecord[]> {
	const name = options.choice('dataset', DATASETS, 'lastfm');
	const backend = options.choice('backend', ['wasm', 'cpu'] as const, 'wasm');
	const seeds = options.number('seeds', 1);
	const firstSeed = options.number('seed', 1);
	const params = alsParams({
		factors: options.number('factors', DEFAULT_FACTORS[name]),
		iterations: options.number('iterations', ALS_PARAM_SPEC.iterations.default),
		regularization: options.number('regularization', ALS_PARAM_SPEC.regularization.default),
		alpha: options.number('alpha', ALS_PARAM_SPEC.alpha.default),
		cgSteps: options.number('cg-steps', ALS_PARAM_SPEC.cgSteps.default),
		convention: options.choice('convention', ['hkv', 'implicit'] as const, 'implicit'),
		seed: options.number('init-seed', ALS_PARAM_SPEC.seed.default)
	});
	const weighting = options.optionalString('weighting');
	const solver = options.choice('solver', ['auto', 'kernel', 'ops'] as const, 'auto');
	const threads = options.number('threads', 1);
	// The FLOP model counts CG steps on every row, so by default the kernel runs them all
	const exactShortRows = options.choice('exact', ['on', 'off'] as const, 'off') === 'on';
	const synthetic = {
		users: options.number('users', 50_000),
		items: options.number('items', 100_000),
		nnz: options.number('nnz', 3_000_000)
	};
	options.assertAllUsed();

	await useBackend(backend);
	const pool = solver === 'ops' ? undefined : await useNodeAlsKernel(threads);
	try {
		return await runSeeds();
	} finally {
		await pool?.close();
	}

	async function runSeeds(): Promise<AlsRecord[]> {
		const dataset = await loadDataset(name, {
			weighting: weighting as never,
			synthetic,
			seed: firstSeed
		});
		const m = dataset.interactions.matrix;
		const peakGflops = await matMulGflops(
			Math.min(m.rows, 4096),
			params.factors,
			Math.min(m.cols, 8192)
		);
		const records: AlsRecord[] = [];
		for (let s = 0; s < seeds; s++) {
			records.push(
				await runAls({
					dataset,
					backend,
					params,
					weighting: weighting ?? defaultWeightingName(name),
					splitSeed: firstSeed + s,
					peakGflops,
					solver,
					threads,
					exactShortRows
				})
			);
		}
		return records;
	}
}

function defaultWeightingName(name: DatasetName): string {
	return name === 'kkbox10k' ? 'all-ones' : name === 'lastfm' ? 'log1p' : 'synthetic';
}
