import { closeSync, openSync, writeSync } from 'node:fs';
import { Rng } from '../core/random';

/** Rows of the full KKBox (WSDM Cup 2018) train.csv. */
export const KKBOX_FULL_ROWS = 7_377_418;

export interface KkboxGeneratorOptions {
	/** Data rows (default KKBOX_FULL_ROWS). */
	rows?: number;
	/** Distinct users to draw from (default 30,000). */
	users?: number;
	/** Distinct songs to draw from (default 400,000). */
	songs?: number;
	/** Zipf exponent of user and song popularity (default 1). */
	zipf?: number;
	/** Mean length of a run of consecutive rows of one user (default 2.3, as in the demo file). */
	meanRun?: number;
	seed?: number;
	/** Characters per emitted chunk (default 1 MiB). */
	chunkChars?: number;
}

export const KKBOX_GENERATED_HEADER =
	'msno,song_id,source_system_tab,source_screen_name,source_type,target';

/**
 * (source_system_tab, source_screen_name, source_type, rows, rows with target 1): the 40 most
 * frequent combinations of the demo file kkbox_train_10k.csv (99% of its rows).
 */
const CONTEXTS: ReadonlyArray<readonly [string, string, string, number, number]> = [
	['my library', 'Local playlist more', 'local-library', 4673, 4020],
	['my library', 'Local playlist more', 'local-playlist', 2295, 1997],
	['discover', 'Online playlist more', 'online-playlist', 746, 459],
	['radio', 'Radio', 'radio', 222, 50],
	['search', 'Artist more', 'top-hits-for-artist', 206, 99],
	['discover', 'Discover Chart', 'online-playlist', 197, 149],
	['listen with', 'Others profile more', 'listen-with', 132, 43],
	['discover', 'Discover Feature', 'song-based-playlist', 102, 72],
	['my library', 'My library', 'local-library', 95, 91],
	['discover', 'Online playlist more', 'song-based-playlist', 94, 57],
	['discover', 'Discover Feature', 'online-playlist', 86, 35],
	['my library', 'My library', 'local-playlist', 75, 74],
	['discover', '', 'online-playlist', 75, 40],
	['discover', 'Album more', 'album', 70, 35],
	['my library', 'Album more', 'album', 69, 49],
	['explore', 'Explore', 'online-playlist', 64, 39],
	['discover', 'Discover Genre', 'online-playlist', 62, 40],
	['search', 'Online playlist more', 'online-playlist', 55, 20],
	['search', 'Search', 'song', 54, 42],
	['my library', 'Search', 'online-playlist', 49, 31],
	['discover', 'Local playlist more', 'local-library', 47, 23],
	['search', 'Album more', 'album', 46, 18],
	['discover', '', 'top-hits-for-artist', 41, 28],
	['discover', '', 'song-based-playlist', 40, 24],
	['discover', 'Unknown', 'online-playlist', 35, 8],
	['my library', 'Online playlist more', 'online-playlist', 33, 16],
	['my library', '', 'top-hits-for-artist', 32, 11],
	['discover', 'Artist more', 'top-hits-for-artist', 24, 13],
	['explore', 'Online playlist more', 'online-playlist', 23, 6],
	['', '', '', 20, 15],
	['my library', 'Artist more', 'top-hits-for-artist', 18, 6],
	['my library', '', 'song', 18, 2],
	['discover', 'Search', 'online-playlist', 16, 12],
	['my library', 'Local playlist more', 'album', 16, 15],
	['my library', '', 'local-library', 15, 15],
	['listen with', 'Online playlist more', 'online-playlist', 13, 8],
	['my library', 'Local playlist more', 'artist', 12, 4],
	['search', 'Local playlist more', 'local-library', 11, 4],
	['discover', 'Discover Feature', 'album', 10, 1],
	['discover', 'Search Trends', 'song', 10, 0]
];

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A 44-character id shaped like base64 of 32 bytes (43 symbols, then `=`), as KKBox's. */
function randomId(rng: Rng): string {
	let s = '';
	for (let k = 0; k < 43; k++) s += BASE64[rng.int(64)];
	return s + '=';
}

/** Cumulative Zipf weights `sum_{r <= k} 1 / r^s` for ranks 1..n, normalised to end at 1. */
function zipfCdf(n: number, s: number): Float64Array {
	const cdf = new Float64Array(n);
	let acc = 0;
	for (let r = 0; r < n; r++) cdf[r] = acc += 1 / Math.pow(r + 1, s);
	for (let r = 0; r < n; r++) cdf[r] /= acc;
	return cdf;
}

/** First index whose cumulative weight exceeds `u` (binary search). */
function draw(cdf: Float64Array, u: number): number {
	let lo = 0;
	let hi = cdf.length - 1;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (cdf[mid] > u) hi = mid;
		else lo = mid + 1;
	}
	return lo;
}

/**
 * KKBox-schema CSV text (header first) as chunks of about `chunkChars` characters, seeded:
 * users and songs are drawn from Zipf popularity, a user's rows come in runs of geometric
 * length (mean `meanRun`), the context columns and the target follow the demo file's joint
 * distribution. Only one chunk of text is held at a time.
 */
export function* kkboxCsvChunks(options: KkboxGeneratorOptions = {}): Generator<string> {
	const rows = options.rows ?? KKBOX_FULL_ROWS;
	const nUsers = options.users ?? 30_000;
	const nSongs = options.songs ?? 400_000;
	const s = options.zipf ?? 1;
	const meanRun = Math.max(1, options.meanRun ?? 2.3);
	const chunkChars = options.chunkChars ?? 1 << 20;
	const rng = new Rng(options.seed ?? 1);

	const userIds = Array.from({ length: nUsers }, () => randomId(rng));
	const songIds = Array.from({ length: nSongs }, () => randomId(rng));
	const userCdf = zipfCdf(nUsers, s);
	const songCdf = zipfCdf(nSongs, s);
	let contextTotal = 0;
	for (const c of CONTEXTS) contextTotal += c[3];
	const contextCdf = new Float64Array(CONTEXTS.length);
	let acc = 0;
	CONTEXTS.forEach((c, k) => (contextCdf[k] = acc += c[3] / contextTotal));
	const prefixes = CONTEXTS.map((c) => `,${c[0]},${c[1]},${c[2]},`);
	const positive = CONTEXTS.map((c) => c[4] / c[3]);
	// A run continues with probability 1 - 1 / meanRun (geometric lengths, mean meanRun).
	const pContinue = 1 - 1 / meanRun;

	let chunk = KKBOX_GENERATED_HEADER + '\n';
	let user = userIds[draw(userCdf, rng.next())];
	for (let r = 0; r < rows; r++) {
		if (r > 0 && rng.next() >= pContinue) user = userIds[draw(userCdf, rng.next())];
		const song = songIds[draw(songCdf, rng.next())];
		const c = draw(contextCdf, rng.next());
		chunk += user + ',' + song + prefixes[c] + (rng.next() < positive[c] ? '1\n' : '0\n');
		if (chunk.length >= chunkChars) {
			yield chunk;
			chunk = '';
		}
	}
	if (chunk.length > 0) yield chunk;
}

/** Write `kkboxCsvChunks(options)` to `path` (streamed); returns the bytes written. */
export function writeKkboxCsv(path: string, options: KkboxGeneratorOptions = {}): number {
	const fd = openSync(path, 'w');
	let bytes = 0;
	try {
		for (const chunk of kkboxCsvChunks(options)) bytes += writeSync(fd, chunk, null, 'utf8');
	} finally {
		closeSync(fd);
	}
	return bytes;
}
