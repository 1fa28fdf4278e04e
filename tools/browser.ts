import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); CHROMIUM_PATH overrides. */
export function chromiumPath(): string {
	const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
	if (!existsSync(path)) {
		throw new Error(
			`Chromium not found at ${path}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`
		);
	}
	return path;
}

/**
 * A headless Chromium with a fresh temporary profile. The flags keep it off the network it
 * cannot reach here and give it a (software) WebGPU adapter.
 */
export async function launchBrowser(): Promise<{
	context: BrowserContext;
	close(): Promise<void>;
}> {
	const profile = mkdtempSync(join(tmpdir(), 'musicrec-e2e-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: chromiumPath(),
		headless: true,
		viewport: { width: 1280, height: 900 },
		args: [
			'--no-sandbox',
			'--disable-gpu-sandbox',
			'--enable-unsafe-webgpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync'
		]
	});
	return {
		context,
		async close() {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		}
	};
}
