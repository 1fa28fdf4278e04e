import { dev } from '$app/environment';
import { base } from '$app/paths';
import type { ClientInit } from '@sveltejs/kit';
import { browserIsolationEnv, ensureIsolation } from '$lib/platform/isolation';

/**
 * Before the app starts: on a first visit, wait for the service worker and reload once into
 * cross-origin isolation (threaded wasm); see $lib/platform/isolation.ts.
 */
export const init: ClientInit = async () => {
	if (dev) return;
	let outcome;
	try {
		outcome = await ensureIsolation(browserIsolationEnv(), `${base}/service-worker.js`);
	} catch (e) {
		// Whatever goes wrong here, the app starts (single-threaded); Settings shows the state.
		console.warn(
			`musicrec: cross-origin isolation could not be set up (${e instanceof Error ? e.message : String(e)}); threads stay off`
		);
		return;
	}
	// The reload is under way: do not start the app in the page that is going away.
	if (outcome === 'reloading') await new Promise((resolve) => setTimeout(resolve, 5000));
};
