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
		paths: { base: basePath(), relative: true }
	}
};

export default config;
