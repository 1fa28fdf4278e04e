import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

/** Content types of the built site's files, as a static host sends them. */
export const CONTENT_TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript',
	'.mjs': 'text/javascript',
	'.css': 'text/css',
	'.json': 'application/json',
	'.webmanifest': 'application/manifest+json',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.wasm': 'application/wasm',
	'.csv': 'text/csv; charset=utf-8',
	'.txt': 'text/plain; charset=utf-8'
};

/**
 * A plain static file server for the built site on 127.0.0.1: what any static host does, with
 * the site mounted under `basePath` so sub-path deployment is exercised too.
 */
export async function serveStatic(
	root: string,
	basePath = '',
	/** A deployment changing under the browser: bytes served instead of a file's (path below basePath). */
	replace?: (path: string) => Buffer | undefined
): Promise<{ url: string; close(): Promise<void> }> {
	const absRoot = resolve(root);
	const server: Server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		let path = decodeURIComponent(url.pathname);
		if (!path.startsWith(basePath + '/')) {
			res.writeHead(404).end('not found');
			return;
		}
		path = path.slice(basePath.length);
		let file = normalize(join(absRoot, path));
		if (!file.startsWith(absRoot)) {
			res.writeHead(403).end('forbidden');
			return;
		}
		const replaced = replace?.(path);
		if (replaced) {
			res.writeHead(200, {
				'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream'
			});
			res.end(replaced);
			return;
		}
		if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
		if (!existsSync(file)) {
			res.writeHead(404).end('not found');
			return;
		}
		res.writeHead(200, {
			'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream'
		});
		createReadStream(file).pipe(res);
	});
	await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('no server address');
	return {
		url: `http://127.0.0.1:${address.port}${basePath}/`,
		close: () => new Promise<void>((ok) => server.close(() => ok()))
	};
}
