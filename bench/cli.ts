import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { allSuite } from './all_suite';
import { alsSuite } from './als_suite';
import { compareSuite, ReferenceUnavailableError } from './compare_suite';
import { appWeightSuite } from './app_weight_suite';
import { Options, parseArgs } from './args';
import { browserFullSuite } from './browser_full_suite';
import { browserSuite } from './browser_suite';
import { DatasetMissingError } from './datasets';
import { federationSuite } from './federation_suite';
import { ingestBrowserSuite } from './ingest_browser_suite';
import { ingestSuite } from './ingest_suite';
import { lighthouseSuite } from './lighthouse_suite';
import { personalSuite } from './personal_suite';
import { recommendSuite } from './recommend_suite';
import { scalingSuite } from './scaling_suite';
import { tableSuite } from './report';
import { threadsSuite } from './threads_suite';
import { tuneSuite } from './tune_suite';

/**
 * npm run bench -- <suite> [--option value ...]
 *   als   --dataset kkbox10k|lastfm|synthetic [--factors F] [--iterations I] [--backend wasm|cpu]
 *         [--convention hkv|implicit] [--alpha A] [--regularization R] [--cg-steps S]
 *         [--weighting W] [--seeds N] [--seed S] [--users U --items I --nnz Z] [--out FILE]
 *         [--exact on|off]   (off by default: the FLOP model counts CG steps on every row)
 *   compare --dataset kkbox10k|lastfm|synthetic|FILE [--factors F] [--threads T] [--repeats R]
 *         [--iterations I] [--alpha A] [--regularization R] [--weighting W] [--seed S]
 *         [--reference DIR] [--keep-split DIR]   implicit 0.7.2 and musicrec alternating on one split written as
 *         Matrix Market; exits with 3 when the reference cannot be built
 *   scaling [--dataset lastfm|kkbox10k|synthetic] [--factors F] [--threads 1,2,4,8] [--repeats R]
 *         [--exact on|off|both]   the fused kernel's fit per thread count (counts the machine has),
 *         alternating, with exact short rows and with CG on every row: speedup over one thread
 *   app-weight [--build DIR]   first-load JS per route and precache size of the built site
 *   browser [--build DIR] [--runs N]   demo load, training beside the same fit in Node,
 *                              open-to-recommendations, long tasks, probe (headless Chromium)
 *   browser-full [--rows N] [--factors F] [--iterations I]   the full-size generated KKBox
 *         file parsed and trained in the app in headless Chromium (time, peak browser RSS)
 *   federation --dataset kkbox10k|lastfm|synthetic --clients K --rounds R --mode exact|compact
 *         [--split even|activity|tab] [--factors F] [--alpha A] [--regularization R]
 *         [--secure on|off] [--dropouts D] [--clip B] [--robust on|off] [--caps on|off [--client-cap X|off] [--song-cap X|off]]
 *         [--attack scaled|flipped|random|orthogonal|gram-noise|count-scaled|targeted
 *          --attacker K [--accomplice K2] [--attack-factor F]] [--target auto|none|SONG]
 *         [--out FILE]
 *   lighthouse [--build DIR] [--runs N] [--routes /,/models/,...]   Lighthouse scores and FCP,
 *         LCP, TBT, CLS per route of the built site (CHROME_PATH or /usr/bin/chromium)
 *   ingest [--rows N] [--file PATH] [--seed S] [--regenerate]   stream a (generated) KKBox CSV
 *         through ingest with EDA: rows/s, peak RSS
 *   ingest-browser [--rows 1000000,7377418] [--build DIR]   the same files chosen on the built
 *         Data page, parsed by the app's worker in headless Chromium: rows/s, peak JS heap
 *   tune  --dataset ... [--alphas 0.25,0.5,...] [--regularizations 0.01,...] [--convention C]
 *   personal [--build DIR] [--runs R] [--plays N] [--artists A] [--known K]   the Last.fm demo
 *         trained in the built app, then a generated Spotify export dropped on Recommend: drop to list
 *   recommend [--dataset lastfm|synthetic] [--items 100000] [--factors 64] [--iterations I]
 *         [--runs R]   wasm: single-user top-10 p50/p99 ms, all-users batch after a fit
 *   all [--only name,...]   every suite of bench/all_suite.ts PLAN, one process each, into one
 *         JSON file (browser suites need `npx vite build` first)
 *   table [--from FILE[,FILE]] [--doc docs/benchmarks.md]   rewrite the benchmark table from `all`
 *   threads [--build DIR] [--runs N] [--threads 1,2] [--size 1024] [--reps 5]   tfjs-wasm threads
 *         in headless Chromium (isolated by the service worker): matMul and the demo fit per count
 * Prints the records and writes them as a JSON array to --out (default bench/results/<suite>.json).
 */
async function main(): Promise<void> {
	const { suite, options: raw } = parseArgs(process.argv.slice(2));
	const options = new Options(raw);
	const out = options.string('out', `bench/results/${suite}.json`);
	let records: object[];
	switch (suite) {
		case 'als':
			records = await alsSuite(options);
			break;
		case 'compare':
			records = await compareSuite(options);
			break;
		case 'app-weight':
			records = appWeightSuite(options);
			break;
		case 'browser':
			records = await browserSuite(options);
			break;
		case 'browser-full':
			records = await browserFullSuite(options);
			break;
		case 'federation':
			records = await federationSuite(options);
			break;
		case 'ingest':
			records = await ingestSuite(options);
			break;
		case 'ingest-browser':
			records = await ingestBrowserSuite(options);
			break;
		case 'lighthouse':
			records = await lighthouseSuite(options);
			break;
		case 'personal':
			records = await personalSuite(options);
			break;
		case 'recommend':
			records = await recommendSuite(options);
			break;
		case 'scaling':
			records = await scalingSuite(options);
			break;
		case 'threads':
			records = await threadsSuite(options);
			break;
		case 'tune':
			records = await tuneSuite(options);
			break;
		case 'all':
			records = await allSuite(options);
			break;
		case 'table':
			records = await tableSuite(options);
			break;
		default:
			throw new Error(
				`unknown suite "${suite}" (known: all, table, als, compare, browser-full, tune, app-weight, browser, federation, ingest, personal, recommend, scaling, threads, ingest-browser, lighthouse)`
			);
	}
	mkdirSync(dirname(out), { recursive: true });
	writeFileSync(out, JSON.stringify(records, null, '\t') + '\n');
	for (const record of records) console.log(summarize(record));
	console.log(`wrote ${records.length} record(s) to ${out}`);
}

/** One line per record: its scalar fields (lists such as a tuning grid stay in the JSON). */
function summarize(record: object): string {
	return Object.entries(record)
		.filter(([, v]) => typeof v !== 'object' && v !== undefined)
		.map(([k, v]) => `${k}=${String(v)}`)
		.join(' ');
}

main().catch((e: unknown) => {
	if (e instanceof DatasetMissingError || e instanceof ReferenceUnavailableError) {
		console.error(e.message);
		process.exit(3);
	}
	console.error(e instanceof Error ? e.message : e);
	process.exit(1);
});
