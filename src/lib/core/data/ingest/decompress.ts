import { MusicrecError } from '../../errors';
import type { IngestChunk } from './types';

/** The parts of the web streams API used here (the core has no DOM types). */
interface ByteStreams {
	DecompressionStream: new (format: 'gzip') => {
		readonly writable: { getWriter(): StreamWriter };
		readonly readable: { getReader(): StreamReader };
	};
}
interface StreamWriter {
	write(chunk: Uint8Array): Promise<void>;
	close(): Promise<void>;
	abort(reason?: unknown): Promise<void>;
}
interface StreamReader {
	read(): Promise<{ done: boolean; value?: Uint8Array }>;
	cancel(reason?: unknown): Promise<void>;
}

/** Whether `bytes` start with the gzip magic number (1F 8B). */
function isGzip(bytes: Uint8Array): boolean {
	return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function badGzip(e: unknown): MusicrecError {
	return new MusicrecError(
		'file/bad-format',
		`The file is gzip-compressed but could not be decompressed (${e instanceof Error ? e.message : String(e)}): it may be truncated or damaged`,
		{ cause: String(e) }
	);
}

/** The decompressed bytes of gzip `first` + `rest`, streamed (DecompressionStream). */
async function* gunzip(
	first: Uint8Array,
	rest: AsyncIterator<IngestChunk> | Iterator<IngestChunk>
): AsyncGenerator<Uint8Array> {
	const Streams = globalThis as unknown as Partial<ByteStreams>;
	if (!Streams.DecompressionStream) {
		throw new MusicrecError(
			'file/bad-format',
			'The file is gzip-compressed and this browser cannot decompress it: unpack it first',
			{}
		);
	}
	const stream = new Streams.DecompressionStream('gzip');
	const writer = stream.writable.getWriter();
	const reader = stream.readable.getReader();
	// Compressed chunks are written while decompressed ones are read (back-pressure between).
	const pump = (async () => {
		await writer.write(first);
		for (;;) {
			const next = await rest.next();
			if (next.done) break;
			const chunk = next.value;
			if (typeof chunk === 'string') throw new Error('text where compressed bytes were expected');
			await writer.write(chunk);
		}
		await writer.close();
	})();
	let failed: unknown;
	pump.catch((e: unknown) => {
		failed = e;
		void reader.cancel(e).catch(() => undefined);
	});
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			if (value && value.length > 0) yield value;
		}
	} catch (e) {
		throw failed instanceof MusicrecError ? failed : badGzip(failed ?? e);
	}
	try {
		await pump;
	} catch (e) {
		throw e instanceof MusicrecError ? e : badGzip(e);
	}
}

/**
 * The chunks as given (the first byte chunk at least two bytes long), or decompressed when
 * the first bytes are gzip's magic number: a `.csv.gz` (or a gzip file named `.csv`) is read
 * like the plain file.
 */
export async function* decompressed(
	chunks: AsyncIterable<IngestChunk> | Iterable<IngestChunk>
): AsyncGenerator<IngestChunk> {
	const it =
		Symbol.asyncIterator in chunks
			? (chunks as AsyncIterable<IngestChunk>)[Symbol.asyncIterator]()
			: (chunks as Iterable<IngestChunk>)[Symbol.iterator]();
	let first = await it.next();
	while (!first.done && first.value.length === 0) first = await it.next();
	if (first.done) return;
	let head = first.value;
	// At least two leading bytes, to see gzip's magic number (and, later, a UTF-16 BOM).
	let ended = false;
	while (typeof head !== 'string' && head.length < 2) {
		const next = await it.next();
		if (next.done) {
			ended = true;
			break;
		}
		if (typeof next.value === 'string') {
			yield head;
			head = next.value;
			break;
		}
		const joined = new Uint8Array(head.length + next.value.length);
		joined.set(head);
		joined.set(next.value, head.length);
		head = joined;
	}
	if (ended) {
		yield head;
		return;
	}
	if (typeof head !== 'string' && isGzip(head)) {
		yield* gunzip(head, it);
		return;
	}
	yield head;
	for (;;) {
		const next = await it.next();
		if (next.done) return;
		yield next.value;
	}
}
