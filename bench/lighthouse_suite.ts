import {
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';
import { CONTENT_TYPES } from '../tools/static_server';
import { chromiumPath } from '../tools/browser';
import type { Options } from './args';
import { mendBlobSizes, type DevtoolsEvent } from './lighthouse_log';
import { round } from './measure';

/** Lighthouse scores (0-100) and the key metrics of one route of the built site. */
export interface LighthouseRecord {
	suite: 'lighthouse';
	route: string;
	lighthouse_version: string;
	form_factor: string;
	performance: number;
	accessibility: number;
	best_practices: number;
	/** First and Largest Contentful Paint, Total Blocking Time (ms), Cumulative Layout Shift. */
	fcp_ms: number;
	lcp_ms: number;
	tbt_ms: number;
	cls: number;
	speed_index_ms: number;
	/** Longest main-thread task as it ran (unthrottled), ms: none should pass 50. */
	longest_task_ms: number;
	/** Audits of the three categories that did not pass (score < 1), by id. */
	failed_audits: string[];
	/** blob: loads whose unknown size (-1) was read as 0 bytes before auditing (see mendBlobSizes). */
	blob_sizes_mended: number;
	/** Lighthouse runs it took (a run whose trace recording failed is run again, see RETRY). */
	attempts: number;
	run: number;
}

const ROUTES = ['/', '/models/', '/recommend/', '/federation/', '/settings/'];
const CATEGORIES = ['performance', 'accessibility', 'best-practices'];

/** The flags of tools/browser.ts, headless, for a Chromium that Lighthouse drives. */
const CHROME_FLAGS = [
	'--headless=new',
	'--no-sandbox',
	'--disable-gpu-sandbox',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

const COMPRESSIBLE = new Set([
	'.html',
	'.js',
	'.css',
	'.json',
	'.webmanifest',
	'.svg',
	'.csv',
	'.wasm'
]);

/**
 * The built site on 127.0.0.1 as a typical static host serves it: gzip for text and wasm,
 * and a year of caching for the content-hashed files under _app/immutable.
 */
async function serveLikeAHost(root: string): Promise<{ url: string; close(): Promise<void> }> {
	const absRoot = resolve(root);
	const gz = new Map<string, Uint8Array>();
	const server = createServer((req, res) => {
		const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
		let file = normalize(join(absRoot, path));
		if (!file.startsWith(absRoot)) return void res.writeHead(403).end();
		if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
		if (!existsSync(file)) return void res.writeHead(404).end('not found');
		const ext = extname(file);
		const headers: Record<string, string> = {
			'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
			'cache-control': path.includes('/_app/immutable/')
				? 'public, max-age=31536000, immutable'
				: 'no-cache'
		};
		let body: Uint8Array = readFileSync(file);
		if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(String(req.headers['accept-encoding']))) {
			if (!gz.has(file)) gz.set(file, gzipSync(body));
			body = gz.get(file)!;
			headers['content-encoding'] = 'gzip';
			headers['vary'] = 'accept-encoding';
		}
		res.writeHead(200, headers).end(body);
	});
	await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('no server address');
	return {
		url: `http://127.0.0.1:${address.port}/`,
		close: () => new Promise<void>((ok) => server.close(() => ok()))
	};
}

/**
 * Lighthouse (its Node API, default mobile configuration with simulated throttling) on every
 * route of the built site (`npx vite build` first) served on 127.0.0.1 with gzip and cache
 * headers as a static host would, a fresh Chromium
 * (CHROME_PATH or /usr/bin/chromium) per route.
 */
export async function lighthouseSuite(options: Options): Promise<LighthouseRecord[]> {
	const buildDir = options.string('build', 'build');
	const runs = options.number('runs', 1);
	const only = options.string('routes', ROUTES.join(','));
	/** Where to keep the full Lighthouse reports (JSON), when given. */
	const reports = options.string('reports', '');
	options.assertAllUsed();
	if (!existsSync(join(buildDir, 'index.html'))) {
		throw new Error(`${buildDir}/index.html not found: run npx vite build first`);
	}
	const chromePath = process.env.CHROME_PATH ?? chromiumPath();
	const root = mkdtempSync(join(tmpdir(), 'musicrec-lighthouse-site-'));
	cpSync(buildDir, root, { recursive: true });
	const server = await serveLikeAHost(root);
	const records: LighthouseRecord[] = [];
	try {
		for (let run = 1; run <= runs; run++) {
			for (const route of only.split(',')) {
				const url = new URL(route.slice(1), server.url).href;
				const { record, report } = await auditWithRetries(url, route, run, chromePath);
				records.push(record);
				if (reports) {
					mkdirSync(reports, { recursive: true });
					const name = route === '/' ? 'data' : route.replaceAll('/', '');
					writeFileSync(join(reports, `${name}-${run}.json`), report);
				}
			}
		}
		return records;
	} finally {
		await server.close();
		rmSync(root, { recursive: true, force: true });
	}
}

/** A Lighthouse run that produced no report: its runtimeError (code and message). */
class RuntimeError extends Error {
	constructor(
		url: string,
		readonly error: { code: string; message: string }
	) {
		super(`lighthouse on ${url}: ${error.message} (${error.code})`);
	}
}

/**
 * Runtime errors where Lighthouse lost the trace recording itself and asks to be run again
 * (it happens now and then on this machine, on any route): at most two more runs, in a fresh
 * browser. Any other error stops the suite.
 */
const RETRY = new Set(['NO_NAVSTART', 'NO_TRACING_STARTED', 'NO_RESOURCE_REQUEST']);
const MAX_ATTEMPTS = 3;

async function auditWithRetries(
	url: string,
	route: string,
	run: number,
	chromePath: string
): Promise<{ record: LighthouseRecord; report: string }> {
	for (let attempt = 1; ; attempt++) {
		try {
			const result = await audit(url, route, run, chromePath);
			result.record.attempts = attempt;
			return result;
		} catch (e) {
			if (!(e instanceof RuntimeError) || !RETRY.has(e.error.code) || attempt >= MAX_ATTEMPTS) {
				throw e;
			}
			console.error(`${e.message}: run ${attempt} of ${MAX_ATTEMPTS}, running again`);
		}
	}
}

async function audit(
	url: string,
	route: string,
	run: number,
	chromePath: string
): Promise<{ record: LighthouseRecord; report: string }> {
	const profile = mkdtempSync(join(tmpdir(), 'musicrec-lighthouse-profile-'));
	const artifacts = mkdtempSync(join(tmpdir(), 'musicrec-lighthouse-artifacts-'));
	const chrome = await chromeLauncher.launch({
		chromePath,
		chromeFlags: CHROME_FLAGS,
		userDataDir: profile
	});
	try {
		// A returning visit: the first visit installs the service worker, which then serves the
		// site cross-origin isolated (the app reloads once for that, which a Lighthouse trace
		// cannot follow). Lighthouse keeps that storage (disableStorageReset) and audits the
		// page as the installed app loads it.
		const warm = await chromium.connectOverCDP(`http://127.0.0.1:${chrome.port}`);
		try {
			const page = await warm.contexts()[0].newPage();
			await page.goto(url);
			const until = Date.now() + 60_000;
			for (;;) {
				// evaluate fails while the page reloads: try again
				const isolated = await page.evaluate(() => self.crossOriginIsolated).catch(() => false);
				if (isolated) break;
				if (Date.now() > until) throw new Error(`${url} did not become cross-origin isolated`);
				await new Promise((r) => setTimeout(r, 250));
			}
			await page.close();
		} finally {
			await warm.close();
		}
		const flags = {
			port: chrome.port,
			output: 'json' as const,
			logLevel: 'error' as const,
			onlyCategories: CATEGORIES,
			disableStorageReset: true
		};
		// Gather (the page load, its trace and DevTools log) and audit in two steps, as the
		// CLI's -G and -A do, with the blob: sizes mended in between.
		await lighthouse(url, { ...flags, gatherMode: artifacts });
		const logFile = join(artifacts, 'defaultPass.devtoolslog.json');
		const log = JSON.parse(readFileSync(logFile, 'utf8')) as DevtoolsEvent[];
		const mended = mendBlobSizes(log);
		writeFileSync(logFile, JSON.stringify(log));
		const result = await lighthouse(url, { ...flags, auditMode: artifacts });
		if (!result) throw new Error(`lighthouse returned nothing for ${url}`);
		const lhr = result.lhr;
		if (lhr.runtimeError) throw new RuntimeError(url, lhr.runtimeError);
		const score = (id: string) => Math.round((lhr.categories[id]?.score ?? 0) * 100);
		const metric = (id: string) => lhr.audits[id]?.numericValue ?? NaN;
		const failed = CATEGORIES.flatMap((c) =>
			lhr.categories[c].auditRefs
				.map((r) => lhr.audits[r.id])
				.filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative')
				.filter((a) => a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'notApplicable')
				.map((a) => a.id)
		);
		const record: LighthouseRecord = {
			suite: 'lighthouse',
			route,
			lighthouse_version: lhr.lighthouseVersion,
			form_factor: lhr.configSettings.formFactor,
			performance: score('performance'),
			accessibility: score('accessibility'),
			best_practices: score('best-practices'),
			fcp_ms: Math.round(metric('first-contentful-paint')),
			lcp_ms: Math.round(metric('largest-contentful-paint')),
			tbt_ms: Math.round(metric('total-blocking-time')),
			cls: round(metric('cumulative-layout-shift'), 3),
			speed_index_ms: Math.round(metric('speed-index')),
			longest_task_ms: Math.round(longestTask(lhr)),
			failed_audits: [...new Set(failed)],
			blob_sizes_mended: mended,
			attempts: 1,
			run
		};
		return { record, report: JSON.stringify(lhr) };
	} finally {
		chrome.kill();
		rmSync(profile, { recursive: true, force: true });
		rmSync(artifacts, { recursive: true, force: true });
	}
}

/** The longest top-level main-thread task of the trace as it ran (not the simulated one), ms. */
function longestTask(lhr: { audits: Record<string, { details?: unknown }> }): number {
	const details = lhr.audits['main-thread-tasks']?.details as
		{ items?: { duration?: number }[] } | undefined;
	return Math.max(0, ...(details?.items ?? []).map((t) => t.duration ?? 0));
}
