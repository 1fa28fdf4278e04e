import { Sha256 } from '$lib/core/format/sha256';
import type { HashRequest, HashResponse } from '$lib/workers/hash.worker';

/** SHA-256 of a byte stream fed chunk by chunk. */
export interface StreamHash {
	update(bytes: Uint8Array): void;
	/** The hex digest of everything fed. */
	hex(): Promise<string>;
	/** Stop without a digest (frees the worker). */
	dispose(): void;
}

/**
 * SHA-256 computed in a worker of its own, so hashing a file runs on another core while the
 * caller parses it (it took about as long as the parse). Each chunk is copied to the worker
 * (the caller keeps reading its own). Where a worker cannot be started, the hash runs inline.
 */
export function parallelHash(): StreamHash {
	let worker: Worker | undefined;
	try {
		worker = new Worker(new URL('../workers/hash.worker.ts', import.meta.url), {
			type: 'module',
			name: 'musicrec-hash'
		});
	} catch (e) {
		console.warn(
			`musicrec: the hash worker did not start (${e instanceof Error ? e.message : String(e)}); hashing on this thread`
		);
		worker = undefined;
	}
	if (!worker) return inlineHash();
	const w = worker;
	let failed: unknown;
	const digest = new Promise<string>((resolve, reject) => {
		w.onmessage = (event: MessageEvent<HashResponse>) => resolve(event.data.hex);
		w.onerror = (event) => {
			failed = event;
			reject(new Error(`The hash worker failed: ${event.message}`));
		};
	});
	digest.catch(() => undefined); // reported by hex()
	return {
		update(bytes) {
			if (failed !== undefined) return;
			const copy = bytes.slice();
			const request: HashRequest = { type: 'bytes', bytes: copy };
			w.postMessage(request, [copy.buffer]);
		},
		async hex() {
			const request: HashRequest = { type: 'end' };
			w.postMessage(request);
			try {
				return await digest;
			} finally {
				w.terminate();
			}
		},
		dispose() {
			w.terminate();
		}
	};
}

/** The same, on the calling thread. */
function inlineHash(): StreamHash {
	const hash = new Sha256();
	return {
		update: (bytes) => void hash.update(bytes),
		hex: async () => hash.hex(),
		dispose: () => undefined
	};
}
