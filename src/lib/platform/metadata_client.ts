/**
 * Main-thread side of the KKBox side-file worker. One worker lives for the page session so the
 * train dataset is read once however many side files follow.
 */
import type { MetadataResponse } from '$lib/workers/metadata.worker';
import { WorkerTaskError } from './worker_failure';

export type MetadataResult = Extract<MetadataResponse, { type: 'done' }>;

let worker: Worker | undefined;
let queue: Promise<unknown> = Promise.resolve();

function request(train: Blob, trainKey: string, file: Blob): Promise<MetadataResult> {
	worker ??= new Worker(new URL('../workers/metadata.worker.ts', import.meta.url), {
		type: 'module'
	});
	const w = worker;
	return new Promise<MetadataResult>((resolve, reject) => {
		w.onmessage = (e: MessageEvent<MetadataResponse>) => {
			if (e.data.type === 'done') resolve(e.data);
			else reject(new WorkerTaskError(e.data.code, e.data.message));
		};
		w.onerror = (e: ErrorEvent) => {
			w.terminate();
			if (worker === w) worker = undefined;
			reject(new WorkerTaskError('worker', e.message || 'the metadata worker failed'));
		};
		w.postMessage({ train, trainKey, file });
	});
}

/**
 * Parse a members.csv or songs.csv in the worker and join it with the train file `train`
 * (identified by `trainKey`); the join covers every side file read so far for that train file.
 * Calls run one after another.
 */
export function loadMetadataFile(
	train: Blob,
	trainKey: string,
	file: Blob
): Promise<MetadataResult> {
	const next = queue.then(() => request(train, trainKey, file));
	queue = next.catch(() => undefined);
	return next;
}
