/// <reference lib="webworker" />
import { Sha256 } from '$lib/core/format/sha256';

/** Bytes to hash, in order, then `end` for the digest. */
export type HashRequest = { type: 'bytes'; bytes: Uint8Array } | { type: 'end' };
/** The SHA-256 (hex) of every byte received. */
export type HashResponse = { type: 'digest'; hex: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
const hash = new Sha256();

scope.onmessage = (event: MessageEvent<HashRequest>) => {
	const request = event.data;
	if (request.type === 'bytes') {
		hash.update(request.bytes);
	} else {
		const response: HashResponse = { type: 'digest', hex: hash.hex() };
		scope.postMessage(response);
	}
};
