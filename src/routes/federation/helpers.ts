import type { Weighting } from '$lib/core/data/weights';
import type { GlobalModel } from '$lib/core/federation/global_file';
import type { ModelRecord } from '$lib/core/model_record';

/** File name of a published global. */
export function globalFileName(federationId: string, round: number): string {
	return `musicrec-global-${federationId}-r${round}.json`;
}

/** File name of a client's update. */
export function updateFileName(federationId: string, round: number, clientId: string): string {
	return `musicrec-update-${federationId}-r${round}-${clientId.slice(0, 8)}.json`;
}

/** Bytes of a text as UTF-8 (what a downloaded file weighs). */
export function textBytes(text: string): number {
	return new TextEncoder().encode(text).length;
}

export { formatBytes, paramsLine } from '$lib/components/format';

/** Thousands separators (the shared formatter, built once). */
export { formatInt as int } from '$lib/components/format';

/** "sha256:abcdef..." -> "abcdef12…". */
export function shortChecksum(checksum: string): string {
	return checksum.replace(/^sha256:/, '').slice(0, 12) + '…';
}

/** A fresh federation id such as "fed-3f9a1c". */
export function newFederationId(): string {
	const a = new Uint8Array(3);
	crypto.getRandomValues(a);
	return 'fed-' + Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A local model from a global: the global's catalog and item factors, and this browser's users
 * with their factors solved against exactly those item factors.
 */
export function federatedModelRecord(options: {
	id: string;
	name: string;
	createdAt: string;
	global: GlobalModel;
	weighting: Weighting;
	dataset: { name: string; fingerprint: string; users: number; items: number; nnz: number };
	userIds: readonly string[];
	userFactors: Float32Array;
}): ModelRecord {
	const { global } = options;
	let idBytes = 0;
	for (const id of options.userIds) idBytes += id.length;
	for (const id of global.catalog) idBytes += id.length;
	return {
		meta: {
			id: options.id,
			name: options.name,
			type: 'als',
			createdAt: options.createdAt,
			params: global.params,
			weighting: options.weighting,
			holdout: false,
			dataset: options.dataset,
			training: { seconds: 0, sweeps: 0, backend: 'federated', loss: [] },
			sizeBytes: options.userFactors.byteLength + global.itemFactors.byteLength + idBytes
		},
		userIds: [...options.userIds],
		itemIds: [...global.catalog],
		userFactors: options.userFactors,
		itemFactors: global.itemFactors
	};
}
