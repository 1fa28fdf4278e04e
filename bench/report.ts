import { readFileSync, writeFileSync } from 'node:fs';
import { POISON_ATTACKS, type AllResults, type RunResult } from './all_suite';
import * as prettier from 'prettier';
import type { Options } from './args';

interface TableRow {
	readonly measure: string;
	readonly value: string;
	readonly target: string;
	/** true: target met, false: missed, undefined: no target. */
	readonly met?: boolean;
}

type Rec = Record<string, unknown>;
const num = (r: Rec | undefined, k: string) =>
	r && typeof r[k] === 'number' ? (r[k] as number) : NaN;
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** The records of run `name` when it ran; `pick` selects one (default: the first). */
function rec(
	all: AllResults,
	name: string,
	pick: (r: Rec) => boolean = () => true
): Rec | undefined {
	const run: RunResult | undefined = all.runs.find((r) => r.name === name && r.status === 'ok');
	return run?.records.map((r) => r as Rec).find(pick);
}

/**
 * A `compare` run's row: musicrec's and implicit's fit times, each the minimum of the same
 * number of alternating fits on one split in one process window, and their ratio.
 */
function compareRow(all: AllResults, name: string, label: string, target?: number): TableRow {
	const r = rec(all, name);
	const ratio = num(r, 'ratio');
	// Judged against implicit's faster setting: on some machines its threads slow it down.
	const best = num(r, 'ratio_to_best_implicit');
	const judged = Number.isFinite(best) ? best : ratio;
	const one = num(r, 'implicit_1_thread_fit_s');
	return {
		measure: `${label}: fit, musicrec / implicit 0.7.2 side by side (min of ${r ? num(r, 'repeats') : 'R'} alternating runs each, same split)`,
		value: r
			? `${f(num(r, 'musicrec_fit_s'))} s / ${f(num(r, 'implicit_fit_s'))} s = ${f(ratio)}x` +
				(Number.isFinite(one) ? `; implicit on 1 thread ${f(one)} s: ${f(best)}x` : '')
			: 'not run',
		target: target === undefined ? '' : `<= ${target.toFixed(1)}x`,
		met: target === undefined || !r ? undefined : judged <= target
	};
}

/** A percentage with its sign, one decimal. */
function signed(v: number): string {
	return `${v > 0 ? '+' : ''}${f(v, 1)}`;
}

/** The benchmark table's rows (docs/benchmarks.md), from one `bench all` file. */
function tableRows(all: AllResults): TableRow[] {
	const rows: TableRow[] = [
		compareRow(all, 'compare-lastfm-f64-t1', 'ALS Last.fm f=64, 1 thread', 1.0),
		compareRow(all, 'compare-lastfm-f64-t2', 'ALS Last.fm f=64, 2 threads', 0.7),
		compareRow(all, 'compare-lastfm-f32-t1', 'ALS Last.fm f=32, 1 thread'),
		compareRow(all, 'compare-lastfm-f32-t2', 'ALS Last.fm f=32, 2 threads'),
		compareRow(all, 'compare-kkbox-f64-t1', 'ALS KKBox 10k f=64, 1 thread')
	];
	const speedup = (exact: boolean) =>
		rec(all, 'scaling-lastfm-f64', (r) => r.threads === 2 && r.exact_short_rows === exact);
	const [exact2, cg2] = [speedup(true), speedup(false)];
	if (exact2 && cg2) {
		rows.push({
			measure: `ALS Last.fm f=64, fused kernel 1 -> 2 threads: fit speedup (min of ${num(exact2, 'repeats')} alternating fits each), exact short rows (default) / CG on every row`,
			value: `${f(num(exact2, 'speedup'))}x / ${f(num(cg2, 'speedup'))}x (sweeps ${f(num(exact2, 'sweep_speedup'))}x / ${f(num(cg2, 'sweep_speedup'))}x)`,
			target: '>= 1.7x',
			met: num(exact2, 'speedup') >= 1.7
		});
	}
	const q = rec(all, 'compare-lastfm-f64-t1');
	if (q) {
		const diff = num(q, 'ndcg_diff');
		const trio = (who: string) =>
			`${f(num(q, `${who}_ndcg_at_10`), 3)} / ${f(num(q, `${who}_precision_at_10`), 3)} / ${f(num(q, `${who}_map_at_10`), 3)}`;
		rows.push({
			measure:
				'Quality, Last.fm f=64, the same split: NDCG@10 / P@10 / MAP@10, musicrec (its evaluator) vs implicit (ranking_metrics_at_k)',
			value: `${trio('musicrec')} vs ${trio('implicit')}`,
			target: 'NDCG@10 within 0.005',
			met: Math.abs(diff) <= 0.005
		});
	}
	const t1 = rec(all, 'als-lastfm-f64-t1');
	if (t1) {
		const eff = num(t1, 'efficiency');
		rows.push({
			measure: `Efficiency, Last.fm f=64 1 thread${t1.exact_short_rows === false ? ', CG on every row' : ''} (gflops / peak_gflops of the same run, FLOP model bench/flop_model.ts)`,
			value: `${f(100 * eff, 0)} % (${f(num(t1, 'gflops'), 1)} of ${f(num(t1, 'peak_gflops'), 1)} GFLOP/s)`,
			target: '>= 50 %',
			met: eff >= 0.5
		});
	}
	for (const name of [
		'compare-synthetic-f32-t1',
		'compare-synthetic-f32-t2',
		'compare-synthetic-f64-t1',
		'compare-synthetic-f64-t2'
	]) {
		const r = rec(all, name);
		if (!r) continue;
		const ratio = num(r, 'ratio');
		const best = num(r, 'ratio_to_best_implicit');
		const judged = Number.isFinite(best) ? best : ratio;
		const one = num(r, 'implicit_1_thread_fit_s');
		const rss = num(r, 'musicrec_peak_rss_mb');
		rows.push({
			measure: `ALS synthetic 50k x 100k x 3M f=${num(r, 'factors')}, ${num(r, 'threads')} thread(s): fit, musicrec / implicit side by side; peak RSS musicrec / implicit`,
			value: `${f(num(r, 'musicrec_fit_s'), 1)} s / ${f(num(r, 'implicit_fit_s'), 1)} s = ${f(ratio)}x${Number.isFinite(one) ? ` (implicit on 1 thread ${f(one, 1)} s: ${f(best)}x)` : ''}; ${f(rss, 0)} / ${f(num(r, 'implicit_peak_rss_mb'), 0)} MB`,
			target: '<= 2x, <= 2048 MB',
			met: judged <= 2 && rss <= 2048
		});
	}
	const ingest = rec(all, 'ingest-full');
	if (ingest) {
		const rps = num(ingest, 'rows_per_s');
		rows.push({
			measure: `Ingest with EDA, Node, ${num(ingest, 'rows').toLocaleString('en')} rows: rows/s, peak RSS`,
			value: `${f(rps / 1e6)} M rows/s, ${f(num(ingest, 'peak_rss_mb'), 0)} MB`,
			target: '>= 1 M rows/s',
			met: rps >= 1e6
		});
	}
	const latency = rec(all, 'recommend', (r) => 'p50_ms' in r);
	if (latency) {
		rows.push({
			measure: 'Recommend top-10, one user, 100k songs, f=64, Node: p50 / p99',
			value: `${f(num(latency, 'p50_ms'))} / ${f(num(latency, 'p99_ms'))} ms`,
			target: '< 5 / < 20 ms',
			met: num(latency, 'p50_ms') < 5 && num(latency, 'p99_ms') < 20
		});
	}
	const batch = rec(all, 'recommend', (r) => 'batch_s' in r);
	if (batch) {
		rows.push({
			measure: `Recommend top-10 for all ${num(batch, 'users')} Last.fm users, Node`,
			value: `${f(num(batch, 'batch_s'), 3)} s`,
			target: '< 1 s',
			met: num(batch, 'batch_s') < 1
		});
	}
	const weightRun = all.runs.find((r) => r.name === 'app-weight' && r.status === 'ok');
	const routes = (weightRun?.records ?? [])
		.map((r) => r as Rec)
		.filter((r) => 'js_gzip_bytes' in r);
	if (routes.length) {
		const worst = Math.max(...routes.map((r) => num(r, 'js_gzip_bytes')));
		rows.push({
			measure: 'First-load JS of the heaviest route (gzip)',
			value: `${f(worst / 1000, 1)} kB`,
			target: '<= 400 kB',
			met: worst <= 400_000
		});
	}
	const browser = all.runs.find((r) => r.name === 'browser' && r.status === 'ok');
	if (browser?.records.length) {
		const b = browser.records.map((r) => r as Rec);
		const med = (k: string) => median(b.map((r) => num(r, k)));
		const ratio = med('browser_train_s') / med('node_train_s');
		rows.push({
			measure: `Training in headless Chromium vs Node, KKBox demo f=64, fused kernel on ${num(b[0], 'train_threads')} thread(s) in both (median of ${b.length})`,
			value: `${f(med('browser_train_s'))} s vs ${f(med('node_train_s'))} s (${f(ratio)}x)`,
			target: '<= 1.5x',
			met: ratio <= 1.5
		});
		const worstOf = (k: string) => Math.max(...b.map((r) => num(r, k)));
		const parse = worstOf('worst_long_task_parse_ms');
		const train = worstOf('worst_long_task_train_ms');
		rows.push({
			measure: `Worst main-thread long task while parsing / training, all ${b.length} runs (page start-up apart: ${f(worstOf('worst_long_task_startup_ms'), 0)} ms)`,
			value: `${f(parse, 0)} / ${f(train, 0)} ms`,
			target: '<= 50 ms',
			met: parse <= 50 && train <= 50
		});
		const p50 = med('recommend_p50_ms');
		const p99 = med('recommend_p99_ms');
		rows.push({
			measure: `Recommend top-10, one user, ${num(b[0], 'recommend_items')} songs, f=${num(b[0], 'recommend_factors')}, in headless Chromium (${String(b[0].recommend_backend)}): p50 / p99, median of ${b.length} runs`,
			value: `${f(p50)} / ${f(p99)} ms`,
			target: '< 5 / < 20 ms',
			met: p50 < 5 && p99 < 20
		});
		if (b.some((r) => typeof r.recommend_shown_p50_ms === 'number')) {
			rows.push({
				measure: `… the same, from the form's submit until the list is in the document: p50 / p99, median of ${b.length} runs`,
				value: `${f(med('recommend_shown_p50_ms'))} / ${f(med('recommend_shown_p99_ms'))} ms`,
				target: 'reported'
			});
		}
	}
	const lastRound = (name: string) => {
		const run = all.runs.find((r) => r.name === name && r.status === 'ok');
		const recs = (run?.records ?? []).map((x) => x as Rec);
		return { last: recs[recs.length - 1], recs };
	};
	const clean = lastRound('poison-kkbox-none-robust-on').last;
	for (const { key } of POISON_ATTACKS.filter((a) => a.key !== 'none')) {
		const on = lastRound(`poison-kkbox-${key}-robust-on`);
		const off = lastRound(`poison-kkbox-${key}-robust-off`).last;
		if (!clean || !on.last) continue;
		const attackers = key.endsWith('-pair') ? [0, 1] : [0];
		const base = num(clean, 'ndcg_at_10');
		const drop = 1 - num(on.last, 'ndcg_at_10') / base;
		const clients = (r: Rec, field: 'flagged' | 'capped') =>
			((r[field] ?? []) as { client: number }[]).map((c) => c.client);
		const flaggedRounds = on.recs.filter((r) =>
			attackers.every((a) => clients(r, 'flagged').includes(a))
		).length;
		const cappedRounds = on.recs.filter((r) =>
			attackers.some((a) => clients(r, 'capped').includes(a))
		).length;
		const honest = on.recs.reduce(
			(n, r) => n + clients(r, 'flagged').filter((c) => !attackers.includes(c)).length,
			0
		);
		const rate = (r: Rec | undefined) =>
			r && typeof r.target_top10_rate === 'number' ? r.target_top10_rate : undefined;
		const cleanRate = rate(clean) ?? 0;
		const onRate = rate(on.last);
		const offRate = rate(off);
		const targeted = key.startsWith('targeted');
		// Goal: <= 5 % of NDCG@10 lost; a pushed song in at most 2x its clean top-10 rate (with
		// half a point of slack, since the clean rate is often 0).
		const rateMet = !targeted || (onRate !== undefined && onRate <= 2 * cleanRate + 0.005);
		rows.push({
			measure: `Poisoning, KKBox 10 clients exact 10 rounds, ${key} ${attackers.length > 1 ? 'clients' : 'client'}: NDCG@10 vs clean with robust aggregation (without)${targeted ? "; the song's top-10 rate (clean)" : ''}`,
			value:
				`${signed(-100 * drop)} % (${off ? signed(-100 * (1 - num(off, 'ndcg_at_10') / base)) : 'n/a'} %)` +
				(targeted && onRate !== undefined
					? `; ${f(100 * onRate, 1)} % (${offRate !== undefined ? f(100 * offRate, 1) : 'n/a'} %; clean ${f(100 * cleanRate, 1)} %)`
					: '') +
				`; flagged ${flaggedRounds}/${on.recs.length} rounds, capped ${cappedRounds}/${on.recs.length}, honest flagged ${honest}`,
			// The goal is about one attacker; a pair is measured and reported.
			target:
				attackers.length > 1 ? '' : targeted ? '>= -5 %, <= 2x clean rate + 0.5 pt' : '>= -5 %',
			met: attackers.length > 1 ? undefined : drop <= 0.05 && rateMet
		});
	}
	const lh = all.runs.find((r) => r.name === 'lighthouse' && r.status === 'ok');
	const lhRecs = (lh?.records ?? []).map((x) => x as Rec);
	for (const route of [...new Set(lhRecs.map((r) => String(r.route)))]) {
		const rs = lhRecs.filter((r) => r.route === route);
		// a trace without a first contentful paint scores 0: say so instead of a score
		const timed = rs.filter((r) => typeof r.fcp_ms === 'number');
		const m = (k: string, from = rs) => median(from.map((r) => num(r, k)));
		const perf = timed.length ? f(m('performance', timed), 0) : 'not measured';
		rows.push({
			measure: `Lighthouse ${String(rs[0].lighthouse_version)} \`${route}\`, returning visit: performance / accessibility / best practices (median of ${rs.length})`,
			value: `${perf} / ${m('accessibility')} / ${m('best_practices')}${timed.length < rs.length ? ` (${rs.length - timed.length} of ${rs.length} traces had no timing information)` : ''}`,
			target: '>= 90 / 95 / 95',
			met: timed.length
				? m('performance', timed) >= 90 && m('accessibility') >= 95 && m('best_practices') >= 95
				: undefined
		});
	}
	const threads = all.runs.find((r) => r.name === 'threads' && r.status === 'ok');
	for (const r of (threads?.records ?? []).map((x) => x as Rec).filter((x) => x.summary)) {
		if (num(r, 'threads') === 1) continue;
		rows.push({
			measure: `Headless Chromium, cross-origin isolated: ${num(r, 'threads')} threads vs 1 (median of ${num(r, 'runs')}), 1024^2 matMul / KKBox demo fit`,
			value: `${f(num(r, 'matmul_speedup'))}x / ${f(num(r, 'train_speedup'))}x faster`,
			target: ''
		});
	}
	const ib = all.runs.find((r) => r.name === 'ingest-browser' && r.status === 'ok');
	for (const r of (ib?.records ?? []).map((x) => x as Rec)) {
		rows.push({
			measure: `Ingest with EDA in headless Chromium (Data page, parse worker), ${num(r, 'rows').toLocaleString('en')} rows`,
			value: `${f(num(r, 'rows_per_s') / 1e6)} M rows/s, worker buffers ${f(num(r, 'worker_peak_backing_mb'), 0)} MB`,
			target: 'reported'
		});
	}
	const full = rec(all, 'browser-full');
	if (full) {
		rows.push({
			measure: `Full-size training in headless Chromium: ${num(full, 'rows').toLocaleString('en')} rows, f=${num(full, 'factors')}, ${num(full, 'iterations')} sweeps (${String(full.solver)}, ${num(full, 'threads')} thread(s))`,
			value: `${f(num(full, 'train_s'), 1)} s (train click to saved ${f(num(full, 'click_to_saved_s'), 1)} s), peak Chromium RSS ${f(num(full, 'peak_browser_rss_mb'), 0)} MB`,
			target: 'completes',
			met: true
		});
	}
	return rows;
}

function median(values: number[]): number {
	const s = values.filter(Number.isFinite).sort((a, b) => a - b);
	if (!s.length) return NaN;
	return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Node version and processors of a run file. */
function machineOf(all: AllResults): string {
	return `Node ${all.node}, ${all.cpus} × ${all.cpu_model}`;
}

function markdownTable(all: AllResults): string {
	const lines = [
		`Generated by \`npm run bench -- table --from FILE[,FILE]\` from \`npm run bench -- all\` of ${all.date.slice(0, 10)} (${machineOf(all)}; load average before each run in the JSON)${(all.later ?? []).map((l) => `; ${l.names.length} runs (${l.names[0]} …) from \`all --only\` of ${l.date.slice(0, 10)}${l.machine ? ` (${l.machine})` : ''}`).join('')}. Every ratio to implicit comes from one \`compare\` run, both programs alternating on one split; none is scaled.`,
		'',
		'| Measure | Value | Target | Met |',
		'| --- | --- | --- | --- |',
		...tableRows(all).map(
			(r) =>
				`| ${r.measure} | ${r.value} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`
		)
	];
	const reruns = all.runs.filter((r) => 'rerun_at' in r);
	if (reruns.length) {
		lines.push(
			'',
			`Run again after a fix to the suite, on the same machine: ${reruns.map((r) => `${r.name} (${String((r as { rerun_at?: string }).rerun_at).slice(11, 16)} UTC)`).join(', ')}.`
		);
	}
	const failed = all.runs.filter((r) => r.status !== 'ok');
	if (failed.length) {
		lines.push('', `Not in the table: ${failed.map((r) => `${r.name} (${r.status})`).join(', ')}.`);
	}
	return lines.join('\n');
}

/**
 * Several `all` files as one: the first, with each later file's runs replacing the runs of the
 * same name (or added); `later` says which runs came from which date.
 */
function mergeResults(files: readonly AllResults[]): AllResults {
	const [first, ...rest] = files;
	let runs = [...first.runs];
	const later: { date: string; names: string[]; machine: string }[] = [];
	for (const next of rest) {
		const names = next.runs.map((r) => r.name);
		runs = [...runs.filter((r) => !names.includes(r.name)), ...next.runs];
		later.push({ date: next.date, names, machine: machineOf(next) });
	}
	return later.length === 0 ? first : { ...first, runs, later };
}

const START = '<!-- bench-table:start -->';
const END = '<!-- bench-table:end -->';

/** `npm run bench -- table --from FILE [--doc docs/benchmarks.md]`: rewrite the generated table. */
export async function tableSuite(options: Options): Promise<object[]> {
	const from = options.string('from', 'bench/results/all.json');
	const doc = options.string('doc', 'docs/benchmarks.md');
	options.assertAllUsed();
	const all = mergeResults(
		from.split(',').map((file) => (JSON.parse(readFileSync(file, 'utf8')) as AllResults[])[0])
	);
	const text = readFileSync(doc, 'utf8');
	const a = text.indexOf(START);
	const b = text.indexOf(END);
	if (a < 0 || b < a) throw new Error(`${doc} has no ${START} ... ${END} markers`);
	const table = markdownTable(all);
	const next = `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`;
	// formatted as `npm run lint` expects (prettier pads markdown tables)
	const config = (await prettier.resolveConfig(doc)) ?? {};
	writeFileSync(doc, await prettier.format(next, { ...config, filepath: doc }));
	return tableRows(all).map((r) => ({ suite: 'table', ...r }));
}
