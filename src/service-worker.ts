/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />

/**
 * Offline support: precache the build (JS, CSS, the tfjs wasm binaries Vite emitted), the
 * static files (icons, manifest, the demo dataset) and the prerendered pages, so a second
 * visit works with the network off. A new version installs beside the old one and waits; the
 * page offers "update available" and posts SKIP_WAITING when the user accepts.
 */
import { build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `musicrec-${version}`;
const ASSETS = [...build, ...files, ...prerendered];

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

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;
	event.respondWith(
		(async () => {
			const cache = await caches.open(CACHE);
			// Precached files never change within a version: serve them from the cache.
			const cached = await cache.match(request, { ignoreSearch: true });
			if (cached) return cached;
			try {
				return await fetch(request);
			} catch (error) {
				// Offline and not precached: a navigation falls back to its prerendered page.
				if (request.mode === 'navigate') {
					const path = url.pathname.endsWith('/') ? url.pathname : url.pathname + '/';
					const page = (await cache.match(path)) ?? (await cache.match(path + 'index.html'));
					if (page) return page;
				}
				throw error;
			}
		})()
	);
});
