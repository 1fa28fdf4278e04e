/**
 * The first lines of a dataset file as text, for the column-mapping step: the same bytes the
 * parser reads (out of a zip, gunzipped), decoded as UTF-8 or as UTF-16 by its byte order mark.
 */
import { withoutColumnsDirective, type ColumnMapping } from '$lib/core/data/column_mapping';
import { decompressed } from '$lib/core/data/ingest/decompress';
import { decodeByBom } from '$lib/core/data/text_encoding';
import { zipEntryChunks } from '$lib/core/data/zip';
import { blobByteChunks } from './file_chunks';

/**
 * About `limit` bytes of the start of `file` (of its `zipEntry`), cut after a whole line, and
 * the columns a stored file was mapped with (its #musicrec-columns line, not in the text).
 */
export async function headText(
	file: Blob,
	zipEntry?: string,
	limit = 65_536
): Promise<{ text: string; columns?: ColumnMapping }> {
	const raw = blobByteChunks(file);
	const stripped = withoutColumnsDirective(zipEntry ? zipEntryChunks(raw, zipEntry) : raw);
	const parts: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of decompressed(stripped.chunks)) {
		if (typeof chunk === 'string') break;
		parts.push(chunk);
		size += chunk.length;
		if (size >= limit) break;
	}
	const head = new Uint8Array(Math.min(size, limit));
	let at = 0;
	for (const p of parts) {
		const n = Math.min(p.length, head.length - at);
		head.set(p.subarray(0, n), at);
		at += n;
		if (at >= head.length) break;
	}
	const text = decodeByBom(head);
	// The last line may be cut: keep whole lines unless there is only one.
	const end = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
	const columns = stripped.mapping();
	return { text: size > limit && end > 0 ? text.slice(0, end + 1) : text, columns };
}
