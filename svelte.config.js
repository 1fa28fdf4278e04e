import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * BASE_PATH lets the same build live under a sub-path of a static host, e.g. /musicrec.
 * @returns {'' | `/${string}`}
 */
function basePath() {
	const value = process.env.BASE_PATH ?? '';
	if (value !== '' && !value.startsWith('/')) throw new Error('BASE_PATH must start with /');
	return /** @type {'' | `/${string}`} */ (value);
}

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
		paths: { base: basePath(), relative: true },
		// Strict Content-Security-Policy, emitted as a <meta> tag in every prerendered page.
		// SvelteKit adds the sha256 hash of its own inline bootstrap script to script-src.
		csp: {
			mode: 'hash',
			directives: {
				'default-src': ['self'],
				// wasm-unsafe-eval: WebAssembly.compile/instantiate for the tfjs wasm backend.
				'script-src': ['self', 'wasm-unsafe-eval'],
				'worker-src': ['self'],
				'connect-src': ['self'],
				'img-src': ['self'],
				// Stylesheets only from the site; style="" attributes (app.html's wrapper, Svelte
				// templates, d3 charts) are allowed, <style> elements are not.
				'style-src': ['self'],
				'style-src-attr': ['unsafe-inline'],
				'font-src': ['self'],
				'manifest-src': ['self'],
				'object-src': ['none'],
				'base-uri': ['self'],
				'form-action': ['self']
			}
		}
	}
};

export default config;
