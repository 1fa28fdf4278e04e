/**
 * `npm run bench -- compare`: musicrec against implicit 0.7.2, side by side, on one split.
 *
 * The split is written once as two Matrix Market files (users x items, value = weight); then,
 * `--repeats R` times, implicit fits it (its reference runner, in a child process, after
 * building it from source when needed) and musicrec fits it (this process, the fused kernel on
 * `--threads T` threads), alternating, so both see the same machine in the same window (with
 * T > 1, implicit also fits on one thread each repeat, since its threads may not help). Times
 * are each program's own fit (data already in memory); the record keeps every repeat, their
 * minimum and median, and the ratio musicrec / implicit of the minima. Nothing is scaled.
 *
 * Quality: implicit's figures are `implicit.evaluation.ranking_metrics_at_k` on the test file;
 * musicrec's are its own evaluator on the same split (precision is implicit's pooled definition).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { fit } from '../src/lib/core/als/fit';
import { ALS_PARAM_SPEC, alsParams, type AlsParams } from '../src/lib/core/als/params';
import { nnz, type Csr } from '../src/lib/core/data/csr';
import { ingest } from '../src/lib/core/data/ingest';
import { matrixMarketChunks } from '../src/lib/core/data/matrix_market';
import type { Weighting } from '../src/lib/core/data/weights';
import { evaluateWithBaseline } from '../src/lib/core/eval/evaluate';
import { holdoutSplit } from '../src/lib/core/eval/split';
import { readTextChunks } from '../src/lib/node/files';
import { useNodeAlsKernel } from '../src/lib/node/kernel_threads';
import { useBackend } from '../src/lib/node/tf_backend';
import type { Options } from './args';
import {
	DATASETS,
	DatasetMissingError,
	loadDataset,
	type DatasetName,
	type LoadedDataset
} from './datasets';
import { median, peakRssMb, round } from './measure';

/** The reference cannot be run here (absent, or its build failed): the CLI exits with 3. */
export class ReferenceUnavailableError extends Error {}

export interface CompareRecord {
	suite: 'compare';
	reference: string;
	dataset: string;
	users: number;
	items: number;
	nnz_train: number;
	nnz_test: number;
	factors: number;
	threads: number;
	iterations: number;
	cg_steps: number;
	regularization: number;
	alpha: number;
	weighting: string;
	split_seed: number;
	repeats: number;
	/** Minimum fit time over the repeats, seconds. */
	implicit_fit_s: number;
	musicrec_fit_s: number;
	implicit_fit_s_median: number;
	musicrec_fit_s_median: number;
	implicit_fit_s_all: number[];
	musicrec_fit_s_all: number[];
	/** Median sweep time of the fastest repeat, seconds. */
	implicit_sweep_s: number;
	musicrec_sweep_s: number;
	/** musicrec_fit_s / implicit_fit_s (minima); ratio_median: of the medians. */
	ratio: number;
	ratio_median: number;
	/**
	 * With --threads above 1, implicit also fits on one thread in every repeat (its OpenMP
	 * threads do not always help): its minimum, and musicrec's ratio to implicit's faster setting.
	 */
	implicit_1_thread_fit_s?: number;
	ratio_to_best_implicit: number;
	implicit_precision_at_10: number;
	implicit_ndcg_at_10: number;
	implicit_map_at_10: number;
	implicit_auc_at_10: number;
	musicrec_precision_at_10: number;
	musicrec_ndcg_at_10: number;
	musicrec_map_at_10: number;
	/** musicrec_ndcg_at_10 - implicit_ndcg_at_10. */
	ndcg_diff: number;
	/** implicit's process high-water mark (GNU time), musicrec's (this process, whole run). */
	implicit_peak_rss_mb?: number;
	musicrec_peak_rss_mb: number;
	load_avg_before: number;
	load_avg_after: number;
}

/** What implicit_ref.py prints (one JSON object). */
interface ImplicitRun {
	fit_s_min: number;
	sweep_s_median: number | null;
	precision_at_10: number;
	ndcg_at_10: number;
	map_at_10: number;
	auc_at_10: number;
	rss_mb?: number;
}

/** Default factors per dataset, as in the `als` suite. */
const DEFAULT_FACTORS: Record<DatasetName, number> = { kkbox10k: 64, lastfm: 64, synthetic: 32 };

export async function compareSuite(options: Options): Promise<CompareRecord[]> {
	const datasetArg = options.string('dataset', 'lastfm');
	const named = (DATASETS as readonly string[]).includes(datasetArg)
		? (datasetArg as DatasetName)
		: undefined;
	const params = alsParams({
		factors: options.number('factors', named ? DEFAULT_FACTORS[named] : 64),
		iterations: options.number('iterations', ALS_PARAM_SPEC.iterations.default),
		regularization: options.number('regularization', ALS_PARAM_SPEC.regularization.default),
		alpha: options.number('alpha', ALS_PARAM_SPEC.alpha.default),
		cgSteps: options.number('cg-steps', ALS_PARAM_SPEC.cgSteps.default),
		convention: 'implicit',
		seed: options.number('init-seed', ALS_PARAM_SPEC.seed.default)
	});
	const threads = options.number('threads', 2);
	const repeats = options.number('repeats', 3);
	const splitSeed = options.number('seed', 1);
	const weighting = options.optionalString('weighting') as Weighting | undefined;
	const referenceDir = resolve(
		options.string(
			'reference',
			process.env.MUSICREC_IMPLICIT_REFERENCE ?? resolve('..', 'shared', 'reference')
		)
	);
	/** Keep the split's Matrix Market files here (default: a temporary directory, removed). */
	const keepDir = options.optionalString('keep-split');
	const synthetic = {
		users: options.number('users', 50_000),
		items: options.number('items', 100_000),
		nnz: options.number('nnz', 3_000_000)
	};
	options.assertAllUsed();
	if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats must be >= 1');

	// The reference first: if it cannot run, nothing else is worth doing.
	const implicitPath = buildImplicit(referenceDir);
	const dataset = named
		? await loadDataset(named, { weighting, synthetic, seed: splitSeed })
		: await loadFile(datasetArg, weighting);
	const split = holdoutSplit(dataset.interactions, { seed: splitSeed });
	const dir = keepDir ? resolve(keepDir) : mkdtempSync(join(tmpdir(), 'musicrec-compare-'));
	mkdirSync(dir, { recursive: true });
	try {
		const trainFile = join(dir, 'train.mtx');
		const testFile = join(dir, 'test.mtx');
		await writeMatrixMarket(split.train, trainFile);
		await writeMatrixMarket(split.test, testFile);

		await useBackend('wasm');
		const pool = await useNodeAlsKernel(threads);
		const loadBefore = loadavg()[0];
		const implicitRuns: ImplicitRun[] = [];
		const implicitOneThread: ImplicitRun[] = [];
		const ours: { fit: number; sweep: number }[] = [];
		let last: Awaited<ReturnType<typeof fit>> | undefined;
		try {
			for (let r = 0; r < repeats; r++) {
				implicitRuns.push(
					runImplicit(referenceDir, implicitPath, trainFile, testFile, params, threads)
				);
				if (threads > 1)
					implicitOneThread.push(
						runImplicit(referenceDir, implicitPath, trainFile, testFile, params, 1)
					);
				last?.dispose();
				const sweeps: number[] = [];
				const start = performance.now();
				last = await fit(split.train, params, {
					computeLoss: false,
					solver: 'kernel',
					onSweep: (s) => sweeps.push(s.seconds)
				});
				ours.push({ fit: (performance.now() - start) / 1000, sweep: median(sweeps) });
			}
			const loadAfter = loadavg()[0];
			const report = await evaluateWithBaseline(last!, split, { k: 10 });
			const m = report.model.ranking;
			const implicitFits = implicitRuns.map((x) => x.fit_s_min);
			const ourFits = ours.map((x) => x.fit);
			const bestImplicit = implicitRuns[argmin(implicitFits)];
			const bestOurs = ours[argmin(ourFits)];
			const lastImplicit = implicitRuns[implicitRuns.length - 1];
			const rss = implicitRuns.map((x) => x.rss_mb).filter((x): x is number => x !== undefined);
			const oneThread = implicitOneThread.map((x) => x.fit_s_min);
			const bestImplicit_s = Math.min(...implicitFits, ...oneThread);
			return [
				{
					suite: 'compare',
					reference: 'implicit-0.7.2',
					dataset: named ?? datasetArg,
					users: split.train.rows,
					items: split.train.cols,
					nnz_train: nnz(split.train),
					nnz_test: nnz(split.test),
					factors: params.factors,
					threads,
					iterations: params.iterations,
					cg_steps: params.cgSteps,
					regularization: params.regularization,
					alpha: params.alpha,
					weighting: weighting ?? defaultWeightingName(named),
					split_seed: splitSeed,
					repeats,
					implicit_fit_s: round(Math.min(...implicitFits)),
					musicrec_fit_s: round(Math.min(...ourFits)),
					implicit_fit_s_median: round(median(implicitFits)),
					musicrec_fit_s_median: round(median(ourFits)),
					implicit_fit_s_all: implicitFits.map((x) => round(x)),
					musicrec_fit_s_all: ourFits.map((x) => round(x)),
					implicit_sweep_s: round(bestImplicit.sweep_s_median ?? NaN),
					musicrec_sweep_s: round(bestOurs.sweep),
					ratio: round(Math.min(...ourFits) / Math.min(...implicitFits), 3),
					ratio_median: round(median(ourFits) / median(implicitFits), 3),
					...(oneThread.length > 0
						? { implicit_1_thread_fit_s: round(Math.min(...oneThread)) }
						: {}),
					ratio_to_best_implicit: round(Math.min(...ourFits) / bestImplicit_s, 3),
					implicit_precision_at_10: round(lastImplicit.precision_at_10),
					implicit_ndcg_at_10: round(lastImplicit.ndcg_at_10),
					implicit_map_at_10: round(lastImplicit.map_at_10),
					implicit_auc_at_10: round(lastImplicit.auc_at_10),
					musicrec_precision_at_10: round(m.pooledPrecision),
					musicrec_ndcg_at_10: round(m.ndcg),
					musicrec_map_at_10: round(m.map),
					ndcg_diff: round(m.ndcg - lastImplicit.ndcg_at_10),
					...(rss.length > 0 ? { implicit_peak_rss_mb: round(Math.max(...rss), 1) } : {}),
					musicrec_peak_rss_mb: round(peakRssMb(), 1),
					load_avg_before: round(loadBefore, 2),
					load_avg_after: round(loadAfter, 2)
				}
			];
		} finally {
			last?.dispose();
			await pool?.close();
		}
	} finally {
		if (!keepDir) rmSync(dir, { recursive: true, force: true });
	}
}

function argmin(values: readonly number[]): number {
	let best = 0;
	for (let k = 1; k < values.length; k++) if (values[k] < values[best]) best = k;
	return best;
}

function defaultWeightingName(named: DatasetName | undefined): string {
	return named === 'kkbox10k' ? 'all-ones' : named === 'lastfm' ? 'log1p' : 'file default';
}

async function loadFile(path: string, weighting: Weighting | undefined): Promise<LoadedDataset> {
	if (!existsSync(path)) {
		throw new DatasetMissingError(
			`--dataset ${path}: neither ${DATASETS.join(', ')} nor an existing file`
		);
	}
	const start = performance.now();
	const result = await ingest(readTextChunks(path), weighting ? { weighting } : {});
	return {
		name: path as DatasetName,
		interactions: result.interactions,
		load_s: (performance.now() - start) / 1000
	};
}

async function writeMatrixMarket(m: Csr, path: string): Promise<void> {
	const out = createWriteStream(path);
	for (const chunk of matrixMarketChunks(m)) {
		if (!out.write(chunk)) await once(out, 'drain');
	}
	out.end();
	await once(out, 'finish');
}

/** The reference's build directory (its script installs Debian packages and compiles once). */
function buildImplicit(referenceDir: string): string {
	const script = join(referenceDir, 'build-implicit.sh');
	const runner = join(referenceDir, 'implicit_ref.py');
	if (!existsSync(script) || !existsSync(runner)) {
		throw new ReferenceUnavailableError(
			`the implicit reference is absent: ${script} and ${runner} are needed (--reference DIR, or MUSICREC_IMPLICIT_REFERENCE)`
		);
	}
	const built = spawnSync('bash', [script], { encoding: 'utf8' });
	const dir = built.stdout.trim().split('\n').pop() ?? '';
	if (built.status !== 0 || !existsSync(dir)) {
		throw new ReferenceUnavailableError(
			`implicit could not be built (${script} exited with ${built.status}): ${built.stderr.trim().slice(-500)}`
		);
	}
	return dir;
}

/** One implicit fit (its runner with --repeats 1), with its peak RSS when GNU time is there. */
function runImplicit(
	referenceDir: string,
	implicitPath: string,
	trainFile: string,
	testFile: string,
	params: AlsParams,
	threads: number
): ImplicitRun {
	const args = [
		join(referenceDir, 'implicit_ref.py'),
		'--train',
		trainFile,
		'--test',
		testFile,
		'--factors',
		String(params.factors),
		'--regularization',
		String(params.regularization),
		'--alpha',
		String(params.alpha),
		'--iterations',
		String(params.iterations),
		'--cg-steps',
		String(params.cgSteps),
		'--threads',
		String(threads),
		'--repeats',
		'1'
	];
	const env: NodeJS.ProcessEnv = {
		...process.env,
		IMPLICIT_DISABLE_CUDA: '1',
		PYTHONPATH: implicitPath
	};
	// The reference's README: timing runs without the OpenBLAS core overrides.
	delete env.OPENBLAS_CORETYPE;
	delete env.OPENBLAS_L2_SIZE;
	const timed = existsSync('/usr/bin/time');
	const run = timed
		? spawnSync('/usr/bin/time', ['-f', 'MUSICREC_MAXRSS_KB %M', '/usr/bin/python3', ...args], {
				encoding: 'utf8',
				env
			})
		: spawnSync('/usr/bin/python3', args, { encoding: 'utf8', env });
	if (run.status !== 0) {
		throw new ReferenceUnavailableError(
			`implicit's runner failed (status ${run.status}): ${run.stderr.trim().slice(-500)}`
		);
	}
	const json = run.stdout.trim().split('\n').pop() ?? '';
	const parsed = JSON.parse(json) as ImplicitRun;
	const rss = /MUSICREC_MAXRSS_KB (\d+)/.exec(run.stderr);
	return rss ? { ...parsed, rss_mb: Number(rss[1]) / 1024 } : parsed;
}
