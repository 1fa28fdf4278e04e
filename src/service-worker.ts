/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />

/**
 * Offline support: precache the build (JS, CSS, the tfjs wasm binaries Vite emitted), the
 * static files (icons, manifest, the demo dataset) and the prerendered pages, so a second
 * visit works with the network off. A new version installs beside the old one and waits; the
 * page offers "update available" and posts SKIP_WAITING when the user accepts.
 *
 * Cross-origin isolation on a static host that sends no special headers: every response this
 * worker serves (pages, scripts, workers, wasm, data) gets `Cross-Origin-Opener-Policy:
 * same-origin` and `Cross-Origin-Embedder-Policy: require-corp`, so a page it controls is
 * crossOriginIsolated (SharedArrayBuffer, threaded wasm). Everything the app loads is
 * same-origin, which require-corp allows without CORP headers. The first visit is not
 * controlled yet: src/lib/platform/isolation.ts reloads it once when this worker takes over.
 */
import { build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `musicrec-${version}`;
/**
 * Files of the build that `build` does not list: what the workers' own bundles emit (the tfjs
 * wasm binaries the training worker loads, the kernel's helper worker). Written in after
 * `vite build` by scripts/precache_extra.ts as '|'-separated paths below the app's base.
 */
const EXTRA = '__MUSICREC_EXTRA_PRECACHE__';
const BASE = new URL('./', sw.location.href).pathname;
const EXTRA_ASSETS = EXTRA.startsWith('__') ? [] : EXTRA.split('|').map((p) => BASE + p);
const ASSETS = [...build, ...files, ...prerendered, ...EXTRA_ASSETS];

sw.addEventListener('install', (event) => {
	event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
			await sw.clients.claim();
		})()
	);
});

sw.addEventListener('message', (event) => {
	if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

/** The response with the isolation headers added (an opaque response cannot be changed). */
function withIsolationHeaders(response: Response): Response {
	if (response.status === 0) return response;
	const headers = new Headers(response.headers);
	headers.set('Cross-Origin-Opener-Policy', 'same-origin');
	headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
	return new Response(response.body, {
		status: response.status,
		statusText: response.statusText,
		headers
	});
}

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	// A devtools-style request that may only be answered from the HTTP cache.
	if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;
	event.respondWith(
		(async () => {
			const cache = await caches.open(CACHE);
			// Precached files never change within a version: serve them from the cache.
			const cached = await cache.match(request, { ignoreSearch: true });
			if (cached) return withIsolationHeaders(cached);
			try {
				return withIsolationHeaders(await fetch(request));
			} catch (error) {
				// Offline and not precached: a navigation falls back to its prerendered page.
				if (request.mode === 'navigate') {
					const path = url.pathname.endsWith('/') ? url.pathname : url.pathname + '/';
					const page = (await cache.match(path)) ?? (await cache.match(path + 'index.html'));
					if (page) return withIsolationHeaders(page);
				}
				throw error;
			}
		})()
	);
});
