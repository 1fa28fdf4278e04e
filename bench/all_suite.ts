import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Options } from './args';

/** The poisoning suite of the table: one attacker (client 0) of 10, or a pair (0 and 1). */
export const POISON_ATTACKS: readonly { key: string; args: readonly string[] }[] = [
	{ key: 'none', args: [] },
	...['scaled', 'flipped', 'random', 'orthogonal', 'gram-noise', 'count-scaled', 'targeted'].map(
		(kind) => ({ key: kind, args: ['--attack', kind, '--attacker', '0'] })
	),
	{ key: 'scaled-x2.5', args: ['--attack', 'scaled', '--attacker', '0', '--attack-factor', '2.5'] },
	{
		key: 'orthogonal-pair',
		args: ['--attack', 'orthogonal', '--attacker', '0', '--accomplice', '1']
	},
	{ key: 'targeted-pair', args: ['--attack', 'targeted', '--attacker', '0', '--accomplice', '1'] }
];

/** One invocation of a suite in the `all` plan. */
interface PlannedRun {
	/** Stable key the benchmark table reads (bench/report.ts). */
	readonly name: string;
	readonly suite: string;
	readonly args: readonly string[];
	/** What the run needs: the built site in build/ (browser suites). */
	readonly needsBuild?: boolean;
}

export interface RunResult {
	readonly name: string;
	readonly suite: string;
	readonly args: readonly string[];
	/** 'ok', or 'skipped' (data absent, exit status 3) or 'failed'. */
	readonly status: 'ok' | 'skipped' | 'failed';
	readonly seconds: number;
	readonly load_before: number;
	readonly records: object[];
	readonly message?: string;
}

export interface AllResults {
	readonly suite: 'all';
	readonly date: string;
	readonly node: string;
	readonly cpus: number;
	readonly cpu_model: string;
	readonly runs: RunResult[];
	/** Set by `mergeResults` (report.ts): runs that came from later `all --only` files. */
	readonly later?: readonly { date: string; names: string[]; machine?: string }[];
}

/** Every figure the benchmark table (docs/benchmarks.md) shows, in the order it shows them. */
const PLAN: readonly PlannedRun[] = [
	...(
		[
			['lastfm', 64, 1],
			['lastfm', 64, 2],
			['lastfm', 32, 1],
			['lastfm', 32, 2],
			['kkbox10k', 64, 1],
			['synthetic', 32, 1],
			['synthetic', 32, 2],
			['synthetic', 64, 1],
			['synthetic', 64, 2]
		] as const
	).map(([dataset, factors, threads]) => ({
		name: `compare-${dataset === 'kkbox10k' ? 'kkbox' : dataset}-f${factors}-t${threads}`,
		suite: 'compare',
		args: [
			...['--dataset', dataset, '--factors', String(factors), '--threads', String(threads)],
			...['--repeats', '3']
		]
	})),
	// The kernel's thread scaling, counts alternating (exact short rows, and CG on every row).
	{
		name: 'scaling-lastfm-f64',
		suite: 'scaling',
		args: ['--dataset', 'lastfm', '--factors', '64', '--repeats', '5']
	},
	// The kernel's arithmetic rate against a matMul of the same run (no implicit figure).
	{ name: 'als-lastfm-f64-t1', suite: 'als', args: ['--dataset', 'lastfm', '--factors', '64'] },
	...POISON_ATTACKS.flatMap(({ key, args }) =>
		(key === 'none' ? ['on'] : ['on', 'off']).map((robust) => ({
			name: `poison-kkbox-${key}-robust-${robust}`,
			suite: 'federation',
			args: [
				...['--dataset', 'kkbox10k', '--clients', '10', '--rounds', '10', '--mode', 'exact'],
				...args,
				...['--target', 'auto'],
				// Robust aggregation with both influence caps (the per-song cap is a core option the
				// app leaves off: docs/federation.md, poisoning).
				...(robust === 'on'
					? ['--robust', 'on', '--caps', 'on', '--song-cap', '3']
					: ['--robust', 'off'])
			]
		}))
	),
	{ name: 'ingest-full', suite: 'ingest', args: [] },
	{ name: 'recommend', suite: 'recommend', args: [] },
	{ name: 'app-weight', suite: 'app-weight', args: [], needsBuild: true },
	{ name: 'browser', suite: 'browser', args: ['--runs', '3'], needsBuild: true },
	{ name: 'lighthouse', suite: 'lighthouse', args: ['--runs', '3'], needsBuild: true },
	{ name: 'threads', suite: 'threads', args: ['--runs', '3'], needsBuild: true },
	{ name: 'ingest-browser', suite: 'ingest-browser', args: [], needsBuild: true },
	{ name: 'browser-full', suite: 'browser-full', args: [], needsBuild: true }
];

/**
 * `npm run bench -- all [--only name,name] [--out FILE]`: every suite of PLAN, each in its own
 * process (one suite's threads, backends and heap never affect the next), into one JSON file.
 */
export async function allSuite(options: Options): Promise<AllResults[]> {
	const only = options.optionalString('only')?.split(',');
	options.assertAllUsed();
	const runs: RunResult[] = [];
	const plan = PLAN.filter((r) => !only || only.includes(r.name));
	if (plan.some((r) => r.needsBuild) && !existsSync('build/index.html')) {
		throw new Error('the browser suites need the built site: run `npx vite build` first');
	}
	const dir = mkdtempSync(join(tmpdir(), 'musicrec-bench-'));
	try {
		for (const run of plan) {
			const out = join(dir, `${run.name}.json`);
			const load = loadavg()[0];
			const start = performance.now();
			console.log(`[all] ${run.name}: npm run bench -- ${run.suite} ${run.args.join(' ')}`);
			const child = spawnSync(
				process.execPath,
				[...process.execArgv, 'bench/cli.ts', run.suite, ...run.args, '--out', out],
				{ stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' }
			);
			const seconds = Math.round((performance.now() - start) / 100) / 10;
			const status = child.status === 0 ? 'ok' : child.status === 3 ? 'skipped' : 'failed';
			const records =
				status === 'ok' ? (JSON.parse(readFileSync(out, 'utf8')) as object[]) : ([] as object[]);
			const message = status === 'ok' ? undefined : (child.stderr ?? '').trim().slice(-2000);
			if (message) console.error(`[all] ${run.name} ${status}: ${message}`);
			runs.push({ ...run, status, seconds, load_before: round2(load), records, message });
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return [
		{
			suite: 'all',
			date: new Date().toISOString(),
			node: process.version,
			cpus: cpus().length,
			cpu_model: cpus()[0]?.model ?? 'unknown',
			runs
		}
	];
}

const round2 = (x: number) => Math.round(x * 100) / 100;
