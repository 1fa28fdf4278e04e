/**
 * Zip archives (fflate): which files one holds, and one file's bytes streamed out of it, so a
 * listening log sent as a zip (the Million Song Dataset's triplets, Last.fm HetRec's archive)
 * is read like the file inside.
 */
import { Unzip, UnzipInflate, unzipSync } from 'fflate';
import { MusicrecError } from '../errors';

/** Whether `bytes` start with a zip local file header (PK 03 04). */
export function isZip(bytes: Uint8Array): boolean {
	return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** A file in an archive, with its size unpacked. */
export interface ZipEntry {
	readonly name: string;
	readonly size: number;
}

/** Folders, macOS resource forks and hidden files: never data. */
function ignored(name: string): boolean {
	const base = name.split('/').pop() ?? '';
	return name.endsWith('/') || name.includes('__MACOSX/') || base.startsWith('.') || base === '';
}

function badZip(what: string, e: unknown): MusicrecError {
	return new MusicrecError(
		'file/bad-format',
		`${what} is a zip file that could not be read (${e instanceof Error ? e.message : String(e)}): it may be truncated or damaged`,
		{ cause: String(e) }
	);
}

/**
 * The files of a whole archive (read from its central directory; nothing is unpacked), largest
 * first, without folders, macOS resource forks and hidden files.
 */
export function zipEntries(bytes: Uint8Array, what = 'The file'): ZipEntry[] {
	const out: ZipEntry[] = [];
	try {
		unzipSync(bytes, {
			filter: (f) => {
				if (!ignored(f.name)) out.push({ name: f.name, size: f.originalSize });
				return false;
			}
		});
	} catch (e) {
		throw badZip(what, e);
	}
	return out.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
}

/**
 * The unpacked bytes of the file `name` of the archive streamed as `chunks` (any split),
 * streamed in turn: the archive is never held whole. Throws `file/bad-format` when the
 * archive is damaged or has no such file.
 */
export async function* zipEntryChunks(
	chunks: AsyncIterable<Uint8Array>,
	name: string
): AsyncGenerator<Uint8Array> {
	const out: Uint8Array[] = [];
	let found = false;
	let finished = false;
	let failed: unknown;
	const unzip = new Unzip((file) => {
		if (file.name !== name || found) return;
		found = true;
		file.ondata = (err, data, final) => {
			if (err) failed = err;
			else {
				if (data.length > 0) out.push(data);
				if (final) finished = true;
			}
		};
		file.start();
	});
	unzip.register(UnzipInflate);
	try {
		for await (const chunk of chunks) {
			unzip.push(chunk);
			if (failed) throw failed;
			while (out.length > 0) yield out.shift()!;
			if (finished) return;
		}
		unzip.push(new Uint8Array(0), true);
	} catch (e) {
		throw e instanceof MusicrecError ? e : badZip(`The archive`, e);
	}
	if (failed) throw badZip('The archive', failed);
	while (out.length > 0) yield out.shift()!;
	if (!found) {
		throw new MusicrecError('file/bad-format', `The archive has no file named ${name}`, { name });
	}
	if (!finished) throw badZip('The archive', new Error(`${name} ends early`));
}
