import type { BadLine } from '$lib/core/data/ingest';
import type { EdaSummary } from '$lib/core/data/eda';
import type { Weighting } from '$lib/core/data/weights';
import type { ColumnMapping } from '$lib/core/data/column_mapping';
import { isZip, zipEntries, type ZipEntry } from '$lib/core/data/zip';
import type { ParseRequest, ParseResponse } from '$lib/workers/parse.worker';
import { WorkerTaskError, workerFailureMessage } from './worker_failure';

/** Progress of a parse, for a progress bar. */
export interface ParseProgress {
	rows: number;
	bytes: number;
	/** File size when known (a File, or a URL with Content-Length). */
	totalBytes?: number;
	rowsPerSecond: number;
	/** Seconds left, from the byte rate: `(total - bytes) / (bytes / elapsed)`. */
	etaSeconds?: number;
}

/** A finished parse. */
export interface ParseOutcome {
	name: string;
	summary: EdaSummary;
	/** SHA-256 (hex) of the file bytes. */
	fingerprint: string;
	file: Blob;
	rows: number;
	rowsKept: number;
	badLines: { count: number; first?: BadLine };
	seconds: number;
}

export interface ParseOptions {
	/** The columns as the person said them (the column-mapping step); default: from the header. */
	columns?: ColumnMapping;
	/** For a zip archive: the file inside to read (zipEntriesOf lists them). */
	zipEntry?: string;
	weighting?: Weighting;
	badLines?: 'error' | 'skip';
	onProgress?: (p: ParseProgress) => void;
}

export interface ParseJob {
	readonly done: Promise<ParseOutcome>;
	/** Stop now: the worker is terminated and `done` rejects with code `data/cancelled`. */
	cancel(): void;
}

/** Rows per second and a bytes-based ETA from a worker progress report. */
function progressFrom(
	rows: number,
	bytes: number,
	totalBytes: number | undefined,
	seconds: number
): ParseProgress {
	const rowsPerSecond = seconds > 0 ? rows / seconds : 0;
	const bytesPerSecond = seconds > 0 ? bytes / seconds : 0;
	const etaSeconds =
		totalBytes !== undefined && bytesPerSecond > 0
			? Math.max(0, (totalBytes - bytes) / bytesPerSecond)
			: undefined;
	return { rows, bytes, totalBytes, rowsPerSecond, etaSeconds };
}

/**
 * Parse a file (or the file at a URL) in a dedicated worker with the core's streaming
 * `ingest`. The main thread only receives progress reports and the JSON summary.
 */
export function startParse(
	source: File | Blob | { url: string; name: string },
	options: ParseOptions = {}
): ParseJob {
	const file =
		source instanceof File ? source.name : source instanceof Blob ? 'data.csv' : source.name;
	// A zip's file is named by itself (its path inside the archive, without folders).
	const name = options.zipEntry ? (options.zipEntry.split('/').pop() ?? file) : file;
	const worker = new Worker(new URL('../workers/parse.worker.ts', import.meta.url), {
		type: 'module'
	});
	let settle: { resolve(o: ParseOutcome): void; reject(e: WorkerTaskError): void } | undefined;
	const done = new Promise<ParseOutcome>((resolve, reject) => (settle = { resolve, reject }));
	const finish = (): void => {
		worker.terminate();
		settle = undefined;
	};

	worker.onmessage = (event: MessageEvent<ParseResponse>) => {
		const m = event.data;
		if (!settle) return;
		if (m.type === 'progress') {
			options.onProgress?.(progressFrom(m.rows, m.bytes, m.totalBytes, m.seconds));
		} else if (m.type === 'result') {
			const { resolve } = settle;
			finish();
			resolve({
				name,
				summary: m.summary,
				fingerprint: m.fingerprint,
				file: m.file,
				rows: m.rows,
				rowsKept: m.rowsKept,
				badLines: m.badLines,
				seconds: m.seconds
			});
		} else {
			const { reject } = settle;
			finish();
			reject(new WorkerTaskError(m.code, m.message, m.details));
		}
	};
	worker.onerror = (event: ErrorEvent) => {
		if (!settle) return;
		const { reject } = settle;
		finish();
		reject(new WorkerTaskError('data/worker-failed', workerFailureMessage('file reader', event)));
	};

	const request: ParseRequest = {
		type: 'parse',
		source:
			source instanceof Blob
				? { kind: 'blob', blob: source }
				: // The worker resolves relative URLs against its own script: make it absolute.
					{ kind: 'url', url: new URL(source.url, location.href).href },
		zipEntry: options.zipEntry,
		columns: options.columns,
		weighting: options.weighting,
		badLines: options.badLines
	};
	worker.postMessage(request);

	return {
		done,
		cancel() {
			if (!settle) return;
			const { reject } = settle;
			finish();
			reject(new WorkerTaskError('data/cancelled', 'Reading the file was cancelled'));
		}
	};
}

/**
 * The files of a zip archive, largest first, or undefined when `file` is not a zip. Reads the
 * whole archive (its central directory is at the end); nothing is unpacked.
 */
export async function zipEntriesOf(file: Blob): Promise<ZipEntry[] | undefined> {
	if (!isZip(new Uint8Array(await file.slice(0, 4).arrayBuffer()))) return undefined;
	return zipEntries(new Uint8Array(await file.arrayBuffer()), 'The archive');
}

/**
 * Whether a parse failed because the header was not recognised (and the file is not a KKBox
 * side file, which has its own place): the person is then asked which columns are which.
 */
export function columnsUnknown(e: unknown): e is WorkerTaskError {
	return e instanceof WorkerTaskError && e.code === 'csv/unknown-schema' && !e.details.sideFile;
}
