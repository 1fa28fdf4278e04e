import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
		// BASE_PATH lets the same build live under a sub-path of a static host.
		paths: { base: process.env.BASE_PATH ?? '', relative: true }
	}
};

export default config;
