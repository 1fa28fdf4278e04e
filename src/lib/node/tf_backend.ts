import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/** Folder holding the tfjs wasm binaries, with a trailing slash (Node reads them with fs). */
function wasmDistDir(): string {
	const main = require.resolve('@tensorflow/tfjs-backend-wasm');
	return join(dirname(main), '/');
}

let wasmPathsSet = false;

/**
 * Select and initialise a tfjs backend in Node (tests, bench, CLI). For wasm the binaries are
 * loaded from the installed package; tfjs-wasm runs single-threaded in Node.
 */
export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
	if (name === 'wasm' && !wasmPathsSet) {
		setWasmPaths(wasmDistDir());
		wasmPathsSet = true;
	}
	if (tf.getBackend() !== name) {
		const ok = await tf.setBackend(name);
		if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
	}
	await tf.ready();
}
