/// <reference lib="webworker" />
import { ingest } from '$lib/core/data/ingest';
import { zipEntryChunks } from '$lib/core/data/zip';
import { isMusicrecError } from '$lib/core/errors';
import type { BadLine } from '$lib/core/data/ingest';
import type { EdaSummary } from '$lib/core/data/eda';
import type { Weighting } from '$lib/core/data/weights';
import {
	columnsDirective,
	withoutColumnsDirective,
	type ColumnMapping
} from '$lib/core/data/column_mapping';
import { byteStreamChunks } from '$lib/platform/file_chunks';
import { parallelHash } from '$lib/platform/parallel_hash';
import type { StreamHash } from '$lib/platform/parallel_hash';

/** What the page asks the parse worker to do. */
export type ParseRequest =
	| {
			type: 'parse';
			/** A file picked or dropped, or a URL the worker fetches (the bundled demo). */
			source: { kind: 'blob'; blob: Blob } | { kind: 'url'; url: string };
			/** The file inside a zip archive to read (the source is then the archive). */
			zipEntry?: string;
			columns?: ColumnMapping;
			weighting?: Weighting;
			badLines?: 'error' | 'skip';
	  }
	| { type: 'cancel' };

/** What the parse worker reports back. */
export type ParseResponse =
	| { type: 'progress'; rows: number; bytes: number; totalBytes?: number; seconds: number }
	| {
			type: 'result';
			summary: EdaSummary;
			/** SHA-256 (hex) of the file bytes (of the file inside, for a zip). */
			fingerprint: string;
			/** The bytes read (the same Blob for a file; a new one for a URL or a zip's file). */
			file: Blob;
			rows: number;
			rowsKept: number;
			badLines: { count: number; first?: BadLine };
			seconds: number;
	  }
	| { type: 'error'; code: string; message: string; details: Record<string, unknown> };

const scope = self as unknown as DedicatedWorkerGlobalScope;
let controller: AbortController | undefined;

const PROGRESS_MS = 100;

function post(message: ParseResponse): void {
	scope.postMessage(message);
}

async function openSource(
	source: Extract<ParseRequest, { type: 'parse' }>['source'],
	signal: AbortSignal
): Promise<{ stream: ReadableStream<Uint8Array>; totalBytes?: number; blob?: Blob }> {
	if (source.kind === 'blob') {
		return { stream: source.blob.stream(), totalBytes: source.blob.size, blob: source.blob };
	}
	const response = await fetch(source.url, { signal });
	if (!response.ok || response.body === null) {
		throw new Error(`Could not load ${source.url}: HTTP ${response.status}`);
	}
	const length = Number(response.headers.get('content-length'));
	return {
		stream: response.body,
		totalBytes: Number.isFinite(length) && length > 0 ? length : undefined
	};
}

async function parse(request: Extract<ParseRequest, { type: 'parse' }>): Promise<void> {
	controller?.abort();
	const ctrl = new AbortController();
	controller = ctrl;
	const start = performance.now();
	const seconds = (): number => (performance.now() - start) / 1000;
	let hash: StreamHash | undefined;
	try {
		const { stream, totalBytes, blob } = await openSource(request.source, ctrl.signal);
		hash = parallelHash();
		const fileHash = hash;
		// A URL's bytes, a zip's file and a file read with chosen columns (a #musicrec-columns
		// line first, replacing one it had) are kept to store them; a Blob is stored as it is.
		const { zipEntry, columns } = request;
		const rewritten = zipEntry !== undefined || columns !== undefined;
		const parts: Uint8Array<ArrayBuffer>[] | undefined = blob && !rewritten ? undefined : [];
		let bytes = 0;
		let rows = 0;
		let lastPost = -Infinity;
		const report = (force: boolean): void => {
			const now = performance.now();
			if (!force && now - lastPost < PROGRESS_MS) return;
			lastPost = now;
			post({ type: 'progress', rows, bytes, totalBytes, seconds: seconds() });
		};
		const keep = (b: Uint8Array): void => {
			fileHash.update(b);
			parts?.push(b as Uint8Array<ArrayBuffer>);
		};
		const read = byteStreamChunks(stream, (b) => {
			if (!rewritten) keep(b);
			bytes += b.byteLength;
			report(false);
		});
		const unpacked = zipEntry ? zipEntryChunks(read, zipEntry) : read;
		const chunks = !rewritten ? read : tapped(columns ? mapped(unpacked, columns) : unpacked, keep);
		const result = await ingest(chunks, {
			weighting: request.weighting,
			badLines: request.badLines,
			signal: ctrl.signal,
			progressEvery: 2_000,
			onProgress: (p) => {
				rows = p.rows;
				report(false);
			}
		});
		rows = result.rows;
		report(true);
		const fingerprint = await fileHash.hex();
		hash = undefined;
		post({
			type: 'result',
			summary: result.eda,
			fingerprint,
			file: parts ? new Blob(parts, { type: 'text/csv' }) : blob!,
			rows: result.rows,
			rowsKept: result.rowsKept,
			badLines: result.badLines,
			seconds: seconds()
		});
	} catch (e) {
		if (isMusicrecError(e)) {
			post({ type: 'error', code: e.code, message: e.message, details: { ...e.details } });
		} else if (ctrl.signal.aborted) {
			post({
				type: 'error',
				code: 'data/cancelled',
				message: 'Reading the file was cancelled',
				details: {}
			});
		} else {
			post({
				type: 'error',
				code: 'data/read-failed',
				message: e instanceof Error ? e.message : String(e),
				details: {}
			});
		}
	} finally {
		hash?.dispose();
		if (controller === ctrl) controller = undefined;
	}
}

/** The bytes of a file read with `columns`: its #musicrec-columns line, then the file without its own. */
async function* mapped(
	chunks: AsyncIterable<Uint8Array>,
	columns: ColumnMapping
): AsyncGenerator<Uint8Array> {
	yield new TextEncoder().encode(columnsDirective(columns));
	for await (const c of withoutColumnsDirective(chunks).chunks) {
		yield typeof c === 'string' ? new TextEncoder().encode(c) : c;
	}
}

/** `chunks`, each handed to `onChunk` first. */
async function* tapped(
	chunks: AsyncIterable<Uint8Array>,
	onChunk: (b: Uint8Array) => void
): AsyncGenerator<Uint8Array> {
	for await (const b of chunks) {
		onChunk(b);
		yield b;
	}
}

scope.onmessage = (event: MessageEvent<ParseRequest>) => {
	const request = event.data;
	if (request.type === 'cancel') controller?.abort('cancelled by the user');
	else void parse(request);
};
