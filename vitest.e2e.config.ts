import { defineConfig } from 'vitest/config';

// End-to-end tests drive the built static site (npm run build first) in headless Chromium.
export default defineConfig({
	test: {
		include: ['tests/e2e/**/*.test.ts'],
		environment: 'node',
		testTimeout: 180_000,
		hookTimeout: 180_000,
		fileParallelism: false
	}
});
