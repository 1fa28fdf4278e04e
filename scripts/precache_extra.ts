/**
 * After `vite build`: add to the service worker's precache list every file under
 * build/_app/immutable that SvelteKit's `build` list leaves out (the workers' own assets, such
 * as the tfjs wasm binaries the training worker fetches and the kernel's helper worker), so
 * that training works offline after the first visit. Fails when the worker has no placeholder.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = process.argv[2] ?? 'build';
const MARKER = '__MUSICREC_EXTRA_PRECACHE__';

function filesUnder(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? filesUnder(path) : [path];
	});
}

const workerPath = join(ROOT, 'service-worker.js');
const worker = readFileSync(workerPath, 'utf8');
if (!worker.includes(MARKER)) {
	console.error(`${workerPath} has no ${MARKER} placeholder: was it written already?`);
	process.exit(1);
}
const missing = filesUnder(join(ROOT, '_app/immutable'))
	.map((f) => relative(ROOT, f).split('\\').join('/'))
	.filter((f) => !worker.includes(f))
	.sort();
writeFileSync(workerPath, worker.replace(MARKER, missing.join('|')));
console.log(`service worker: ${missing.length} more files precached`);
