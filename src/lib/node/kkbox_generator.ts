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

const KKBOX_GENERATED_HEADER =
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

const ID_CHARS = 44;

/**
 * `n` ids of 44 characters shaped like base64 of 32 bytes (43 symbols, then `=`), as KKBox's,
 * written one after another as ASCII bytes.
 */
function randomIds(rng: Rng, n: number): Uint8Array {
	const out = new Uint8Array(n * ID_CHARS);
	for (let i = 0; i < n; i++) {
		const o = i * ID_CHARS;
		for (let k = 0; k < ID_CHARS - 1; k++) out[o + k] = BASE64.charCodeAt(rng.int(64));
		out[o + ID_CHARS - 1] = 61; // '='
	}
	return out;
}

/** Id `i` of `randomIds` as a string. */
function idString(ids: Uint8Array, i: number): string {
	return Buffer.from(ids.buffer, ids.byteOffset + i * ID_CHARS, ID_CHARS).toString('latin1');
}

/** Cumulative Zipf weights `sum_{r <= k} 1 / r^s` for ranks 1..n, normalised to end at 1. */
function zipfCdf(n: number, s: number): Float64Array {
	const cdf = new Float64Array(n);
	let acc = 0;
	for (let r = 0; r < n; r++) cdf[r] = acc += 1 / Math.pow(r + 1, s);
	for (let r = 0; r < n; r++) cdf[r] /= acc;
	return cdf;
}

/**
 * Draws "first index whose cumulative weight exceeds u" from a normalised CDF in O(1) expected
 * time with a guide table (Chen & Asau): `guide[b]` is that index for `u = b / B`, and the
 * answer for `u` in bucket `b` is found by a short walk from it (the same index a binary
 * search gives, so the generated text does not depend on the method).
 */
class CdfSampler {
	private readonly cdf: Float64Array;
	private readonly guide: Int32Array;

	constructor(cdf: Float64Array) {
		this.cdf = cdf;
		const n = cdf.length;
		this.guide = new Int32Array(n);
		let i = 0;
		for (let b = 0; b < n; b++) {
			while (i < n - 1 && cdf[i] <= b / n) i++;
			this.guide[b] = i;
		}
	}

	draw(u: number): number {
		const cdf = this.cdf;
		const last = cdf.length - 1;
		let i = this.guide[Math.min(last, Math.floor(u * cdf.length))];
		while (i > 0 && cdf[i - 1] > u) i--;
		while (i < last && cdf[i] <= u) i++;
		return i;
	}
}

/** Counts the generator knows about the text it wrote, to check a reader against. */
export interface KkboxGeneratedCounts {
	rows: number;
	/** Rows with target 1. */
	positives: number;
	/** Generated user ids, by generator index (not all need appear). */
	userIds: string[];
	songIds: string[];
	/** Per user: rows + rows with target 1 (the sum of one-plus-target weights). */
	userWeight: Float64Array;
	songWeight: Float64Array;
	/** Rows and rows with target 1 per source_system_tab value ('' = empty field). */
	tabs: Map<string, { rows: number; positives: number }>;
}

/** ASCII string to bytes. */
function ascii(s: string): Uint8Array {
	const out = new Uint8Array(s.length);
	for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k);
	return out;
}

/**
 * KKBox-schema CSV text (header first) as byte chunks of about `chunkChars` bytes (ASCII, so
 * bytes = characters), seeded: users and songs are drawn from Zipf popularity, a user's rows
 * come in runs of geometric length (mean `meanRun`), the context columns and the target
 * follow the demo file's joint distribution. Each chunk is a view of one reused buffer, valid
 * until the next one is asked for, so only one chunk is held. `counts`, when given, receives
 * what was generated after the last chunk.
 */
function* kkboxCsvBytes(
	options: KkboxGeneratorOptions = {},
	counts?: (c: KkboxGeneratedCounts) => void
): Generator<Uint8Array<ArrayBuffer>> {
	const rows = options.rows ?? KKBOX_FULL_ROWS;
	const nUsers = options.users ?? 30_000;
	const nSongs = options.songs ?? 400_000;
	const s = options.zipf ?? 1;
	const meanRun = Math.max(1, options.meanRun ?? 2.3);
	const chunkChars = options.chunkChars ?? 1 << 20;
	const rng = new Rng(options.seed ?? 1);

	const userBytes = randomIds(rng, nUsers);
	const songBytes = randomIds(rng, nSongs);
	const users = new CdfSampler(zipfCdf(nUsers, s));
	const songs = new CdfSampler(zipfCdf(nSongs, s));
	let contextTotal = 0;
	for (const c of CONTEXTS) contextTotal += c[3];
	const contextCdf = new Float64Array(CONTEXTS.length);
	let acc = 0;
	CONTEXTS.forEach((c, k) => (contextCdf[k] = acc += c[3] / contextTotal));
	const contexts = new CdfSampler(contextCdf);
	// ",tab,screen,type,0\n" and ",tab,screen,type,1\n" per context.
	const tails = CONTEXTS.map((c) => [0, 1].map((t) => ascii(`,${c[0]},${c[1]},${c[2]},${t}\n`)));
	const positive = CONTEXTS.map((c) => c[4] / c[3]);
	const contextRows = new Float64Array(CONTEXTS.length);
	const contextPositives = new Float64Array(CONTEXTS.length);
	const userWeight = new Float64Array(nUsers);
	const songWeight = new Float64Array(nSongs);
	// A run continues with probability 1 - 1 / meanRun (geometric lengths, mean meanRun).
	const pContinue = 1 - 1 / meanRun;

	const header = ascii(KKBOX_GENERATED_HEADER + '\n');
	let buf = new Uint8Array(Math.max(chunkChars, header.length) + 256);
	buf.set(header);
	let len = header.length;
	let positives = 0;
	let user = users.draw(rng.next());
	for (let r = 0; r < rows; r++) {
		if (r > 0 && rng.next() >= pContinue) user = users.draw(rng.next());
		const song = songs.draw(rng.next());
		const c = contexts.draw(rng.next());
		const t = rng.next() < positive[c] ? 1 : 0;
		const tail = tails[c][t];
		const need = 2 * ID_CHARS + 1 + tail.length;
		if (len + need > buf.length) buf = grownBuffer(buf, len + need);
		len = put(buf, len, userBytes, user * ID_CHARS, ID_CHARS);
		buf[len++] = 44; // ','
		len = put(buf, len, songBytes, song * ID_CHARS, ID_CHARS);
		len = put(buf, len, tail, 0, tail.length);
		contextRows[c]++;
		contextPositives[c] += t;
		positives += t;
		userWeight[user] += 1 + t;
		songWeight[song] += 1 + t;
		if (len >= chunkChars) {
			yield buf.subarray(0, len);
			len = 0;
		}
	}
	if (len > 0) yield buf.subarray(0, len);

	const tabs = new Map<string, { rows: number; positives: number }>();
	CONTEXTS.forEach((ctx, k) => {
		const e = tabs.get(ctx[0]) ?? { rows: 0, positives: 0 };
		e.rows += contextRows[k];
		e.positives += contextPositives[k];
		tabs.set(ctx[0], e);
	});
	if (counts) {
		const userIds = Array.from({ length: nUsers }, (_, i) => idString(userBytes, i));
		const songIds = Array.from({ length: nSongs }, (_, i) => idString(songBytes, i));
		counts({ rows, positives, userIds, songIds, userWeight, songWeight, tabs });
	}
}

/**
 * Copy `src[from, from + n)` into `dst` at `at` (a plain loop: faster than `set` for a few
 * dozen bytes); returns the end.
 */
function put(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): number {
	for (let k = 0; k < n; k++) dst[at + k] = src[from + k];
	return at + n;
}

function grownBuffer(buf: Uint8Array<ArrayBuffer>, need: number): Uint8Array<ArrayBuffer> {
	const next = new Uint8Array(Math.max(need, buf.length * 2));
	next.set(buf);
	return next;
}

/** Write `kkboxCsvBytes(options)` to `path` (streamed); returns the bytes written. */
export function writeKkboxCsv(
	path: string,
	options: KkboxGeneratorOptions = {},
	counts?: (c: KkboxGeneratedCounts) => void
): number {
	const fd = openSync(path, 'w');
	let bytes = 0;
	try {
		for (const chunk of kkboxCsvBytes(options, counts)) bytes += writeSync(fd, chunk);
	} finally {
		closeSync(fd);
	}
	return bytes;
}
