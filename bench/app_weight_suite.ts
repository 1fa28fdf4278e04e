import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Options } from './args';

export interface RouteWeightRecord {
	suite: 'app-weight';
	route: string;
	/** JavaScript a first visit to the route loads before it is interactive (static imports). */
	js_files: number;
	js_bytes: number;
	js_gzip_bytes: number;
	css_gzip_bytes: number;
}

export interface PrecacheRecord {
	suite: 'app-weight';
	route: 'service-worker precache';
	files: number;
	bytes: number;
	gzip_bytes: number;
}

const STATIC_IMPORT =
	/(?:^|[;\s}{)])(?:import|export)\s*(?:[\w*{}\s,$]*?from\s*)?["']([^"']+\.js)["']/g;

function staticImports(file: string): string[] {
	const text = readFileSync(file, 'utf8');
	const out: string[] = [];
	for (const m of text.matchAll(STATIC_IMPORT)) out.push(join(dirname(file), m[1]));
	return out;
}

function walk(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? walk(path) : [path];
	});
}

const gzipSize = (path: string) => gzipSync(readFileSync(path), { level: 9 }).length;

/**
 * First-load weight of each prerendered route of the built site (`npm run build` first): the
 * closure of static imports from the page's entry scripts (lazy `import()` chunks such as tfjs
 * and the workers are not counted: they load when used), gzip level 9; plus the size of what
 * the service worker precaches.
 */
export function appWeightSuite(options: Options): (RouteWeightRecord | PrecacheRecord)[] {
	const root = options.string('build', 'build');
	options.assertAllUsed();
	if (!existsSync(join(root, 'index.html')))
		throw new Error(`${root}/index.html not found: run npm run build`);
	const pages = walk(root).filter((p) => p.endsWith('index.html'));
	const records: (RouteWeightRecord | PrecacheRecord)[] = pages.map((page) => {
		const html = readFileSync(page, 'utf8');
		const entries = [
			...html.matchAll(/<link href="([^"]+\.js)" rel="modulepreload">/g),
			...html.matchAll(/import\("([^"]+\.js)"\)/g)
		].map((m) => join(dirname(page), m[1]));
		const seen = new Set<string>();
		const queue = [...entries];
		while (queue.length > 0) {
			const file = queue.pop() as string;
			if (seen.has(file) || !existsSync(file)) continue;
			seen.add(file);
			queue.push(...staticImports(file));
		}
		const css = [...html.matchAll(/<link href="([^"]+\.css)" rel="stylesheet">/g)].map((m) =>
			join(dirname(page), m[1])
		);
		const route = '/' + posix.dirname(relative(root, page).split('\\').join('/'));
		return {
			suite: 'app-weight',
			route: route === '/.' ? '/' : route + '/',
			js_files: seen.size,
			js_bytes: [...seen].reduce((a, f) => a + statSync(f).size, 0),
			js_gzip_bytes: [...seen].reduce((a, f) => a + gzipSize(f), 0),
			css_gzip_bytes: css.filter(existsSync).reduce((a, f) => a + gzipSize(f), 0)
		};
	});
	const precached = walk(root).filter((p) => !p.endsWith('service-worker.js'));
	records.push({
		suite: 'app-weight',
		route: 'service-worker precache',
		files: precached.length,
		bytes: precached.reduce((a, f) => a + statSync(f).size, 0),
		gzip_bytes: precached.reduce((a, f) => a + gzipSize(f), 0)
	});
	return records;
}
