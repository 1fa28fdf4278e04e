/**
 * One person's listening history from the files a service lets them download: Spotify's
 * account data (StreamingHistory*.json) and extended streaming history
 * (Streaming_History_Audio_*.json), also inside the zip Spotify sends; Last.fm scrobble CSVs;
 * ListenBrainz listen exports (a JSON array, JSON lines, or an API page).
 *
 * Privacy: only artist, track, time and milliseconds played are copied out of a record. The
 * rest of what these files hold (IP address, country, device, user agent, user name, ids) is
 * never read into the result, so nothing downstream can store or send it.
 */
import { unzipSync } from 'fflate';
import { MusicrecError } from '../errors';
import { CsvTokenizer } from './csv_tokenizer';
import type { NamedPlays } from './name_match';
import { sniffDelimiter } from './schema';
import { decodeByBom } from './text_encoding';
import { isZip } from './zip';

/** One play, with nothing else about the person or the device. */
export interface Listen {
	readonly artist: string;
	readonly track: string;
	/** When, as written in the file (ISO 8601, a date, or Unix seconds as text). */
	readonly time?: string;
	/** Milliseconds played, where the file says. */
	readonly msPlayed?: number;
}

export type PersonalFormat =
	'spotify-account' | 'spotify-extended' | 'lastfm-scrobbles' | 'listenbrainz';

export const PERSONAL_FORMAT_LABELS: Readonly<Record<PersonalFormat, string>> = {
	'spotify-account': 'Spotify account data (StreamingHistory)',
	'spotify-extended': 'Spotify extended streaming history',
	'lastfm-scrobbles': 'Last.fm scrobbles',
	listenbrainz: 'ListenBrainz listens'
};

export interface PersonalHistory {
	/** Formats found, one per file read. */
	readonly formats: readonly PersonalFormat[];
	/** Files read (inside a zip: their paths in it). */
	readonly files: readonly string[];
	readonly listens: readonly Listen[];
	readonly skipped: {
		/** Plays shorter than `minMsPlayed` (Spotify counts a stream from 30 s). */
		readonly short: number;
		/** Podcast episodes, audiobooks and records without an artist or a track. */
		readonly notMusic: number;
	};
}

export interface PersonalExportOptions {
	/** Plays shorter than this many milliseconds are skips, not plays; default 30,000. */
	minMsPlayed?: number;
}

/** A file as bytes: its name decides nothing but the messages and which zip entries to read. */
export interface NamedBytes {
	readonly name: string;
	readonly bytes: Uint8Array;
}

const MAX_UNZIPPED_BYTES = 2 ** 30;

/** Zip entries that can hold listens (Spotify's and ListenBrainz's layouts, any folder). */
function listensEntry(path: string): boolean {
	const base = path.split('/').pop() ?? '';
	if (base.startsWith('.') || path.includes('__MACOSX/')) return false;
	return (
		/^StreamingHistory.*\.json$/i.test(base) ||
		/^Streaming_History_Audio.*\.json$/i.test(base) ||
		/\.jsonl$/i.test(base) ||
		/^listens.*\.json$/i.test(base) ||
		/scrobbles.*\.csv$/i.test(base)
	);
}

/**
 * Read one or more export files (a zip is opened and its listening files read). Throws
 * `file/bad-format` with what was found when no file is a listening history this reader knows.
 */
export function readPersonalExport(
	files: readonly NamedBytes[],
	options: PersonalExportOptions = {}
): PersonalHistory {
	const minMs = options.minMsPlayed ?? 30_000;
	const texts: { name: string; text: string }[] = [];
	for (const f of files) {
		if (isZip(f.bytes)) {
			let unzipped: Record<string, Uint8Array>;
			let total = 0;
			try {
				unzipped = unzipSync(f.bytes, {
					filter: (entry) => {
						if (!listensEntry(entry.name)) return false;
						total += entry.originalSize;
						if (total > MAX_UNZIPPED_BYTES) throw new Error('more than 1 GiB unpacked');
						return true;
					}
				});
			} catch (e) {
				throw new MusicrecError(
					'file/bad-format',
					`${f.name} is a zip file that could not be opened (${e instanceof Error ? e.message : String(e)})`,
					{ file: f.name }
				);
			}
			const names = Object.keys(unzipped).sort();
			if (names.length === 0) {
				throw new MusicrecError(
					'file/bad-format',
					`${f.name} holds no listening history: looked for StreamingHistory*.json, Streaming_History_Audio_*.json, listens *.jsonl / *.json and scrobbles*.csv`,
					{ file: f.name }
				);
			}
			for (const n of names) texts.push({ name: `${f.name}/${n}`, text: decodeByBom(unzipped[n]) });
		} else {
			texts.push({ name: f.name, text: decodeByBom(f.bytes) });
		}
	}
	const formats: PersonalFormat[] = [];
	const listens: Listen[] = [];
	const skipped = { short: 0, notMusic: 0 };
	for (const { name, text } of texts) {
		const read = readOne(name, text, minMs);
		formats.push(read.format);
		for (const l of read.listens) listens.push(l);
		skipped.short += read.short;
		skipped.notMusic += read.notMusic;
	}
	return { formats, files: texts.map((t) => t.name), listens, skipped };
}

interface OneFile {
	format: PersonalFormat;
	listens: Listen[];
	short: number;
	notMusic: number;
}

type Json = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const num = (v: unknown): number | undefined =>
	typeof v === 'number' && Number.isFinite(v) ? v : undefined;

function unknownFile(name: string, found: string): MusicrecError {
	return new MusicrecError(
		'file/bad-format',
		`${name} is not a listening history this app reads (${found}). It reads Spotify's StreamingHistory*.json and Streaming_History_Audio_*.json (or the zip Spotify sends), Last.fm scrobble CSVs (artist, album, track, date) and ListenBrainz listen exports (JSON or JSON lines).`,
		{ file: name }
	);
}

function readOne(name: string, text: string, minMs: number): OneFile {
	const t = text.trimStart();
	if (t.startsWith('[') || t.startsWith('{')) return readJson(name, t, minMs);
	return readScrobbleCsv(name, text);
}

/** Records of a JSON export: an array, JSON lines, or a ListenBrainz API page. */
function jsonRecords(name: string, text: string): Json[] {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		// JSON lines: one object per line.
		const out: Json[] = [];
		for (const [k, line] of text.split('\n').entries()) {
			const l = line.trim();
			if (l === '') continue;
			try {
				out.push(JSON.parse(l) as Json);
			} catch {
				throw unknownFile(name, `line ${k + 1} is not JSON`);
			}
		}
		return out;
	}
	if (Array.isArray(parsed)) return parsed as Json[];
	const payload = (parsed as { payload?: { listens?: unknown } }).payload;
	if (payload && Array.isArray(payload.listens)) return payload.listens as Json[];
	if (parsed && typeof parsed === 'object' && 'track_metadata' in parsed) return [parsed as Json];
	throw unknownFile(name, 'a JSON object without listens');
}

function readJson(name: string, text: string, minMs: number): OneFile {
	const records = jsonRecords(name, text).filter(
		(r) => r !== null && typeof r === 'object' && !Array.isArray(r)
	);
	const sample = records.find(() => true);
	if (!sample) throw unknownFile(name, 'no records');
	const out: OneFile = { format: 'spotify-account', listens: [], short: 0, notMusic: 0 };
	const has = (k: string) => records.some((r) => k in r);
	if (has('ms_played') && (has('master_metadata_track_name') || has('ts'))) {
		out.format = 'spotify-extended';
		for (const r of records) {
			const artist = str(r.master_metadata_album_artist_name);
			const track = str(r.master_metadata_track_name);
			const ms = num(r.ms_played);
			add(out, artist, track, str(r.ts) || undefined, ms, minMs);
		}
	} else if (has('msPlayed') || (has('artistName') && has('trackName'))) {
		out.format = 'spotify-account';
		for (const r of records) {
			add(
				out,
				str(r.artistName),
				str(r.trackName),
				str(r.endTime) || undefined,
				num(r.msPlayed),
				minMs
			);
		}
	} else if (has('track_metadata')) {
		out.format = 'listenbrainz';
		for (const r of records) {
			const m = (r.track_metadata ?? {}) as Json;
			const info = (m.additional_info ?? {}) as Json;
			const at = num(r.listened_at);
			add(
				out,
				str(m.artist_name),
				str(m.track_name),
				at !== undefined ? new Date(at * 1000).toISOString() : str(r.listened_at) || undefined,
				undefined,
				minMs,
				num(info.duration_ms)
			);
		}
	} else {
		const keys = Object.keys(sample).slice(0, 8).join(', ');
		throw unknownFile(name, `records with ${keys || 'no fields'}`);
	}
	return out;
}

/** Count a play, or a skip: Spotify's records say how long was played, scrobbles are plays. */
function add(
	out: OneFile,
	artist: string,
	track: string,
	time: string | undefined,
	msPlayed: number | undefined,
	minMs: number,
	durationMs?: number
): void {
	if (artist === '' || track === '') {
		out.notMusic++;
		return;
	}
	if (msPlayed !== undefined && msPlayed < minMs) {
		out.short++;
		return;
	}
	const listen: Listen = { artist, track };
	if (time !== undefined) (listen as { time?: string }).time = time;
	const ms = msPlayed ?? durationMs;
	if (ms !== undefined) (listen as { msPlayed?: number }).msPlayed = ms;
	out.listens.push(listen);
}

/** Header names of Last.fm scrobble exports (lastfm exporters write one of these, or none). */
const ARTIST = ['artist', 'artistname', 'artist_name'];
const TRACK = ['track', 'trackname', 'track_name', 'title', 'name', 'song'];
const TIME = ['utctime', 'utc_time', 'date', 'time', 'timestamp', 'uts', 'playedat', 'listenedat'];

/** A Last.fm scrobble CSV: a header with artist and track, or none (artist, album, track, date). */
function readScrobbleCsv(name: string, text: string): OneFile {
	const firstLine = text.slice(0, Math.max(0, text.search(/\r|\n/)) || text.length);
	const rows: string[][] = [];
	const tokenizer = new CsvTokenizer(sniffDelimiter(firstLine), (fields) => rows.push(fields));
	tokenizer.push(text);
	tokenizer.end();
	const data = rows.filter((r) => r.some((f) => f.trim() !== ''));
	if (data.length === 0) throw unknownFile(name, 'an empty file');
	const header = data[0].map((h) => h.trim().toLowerCase().replace(/[\s-]/g, '_'));
	const find = (names: string[]) => header.findIndex((h) => names.includes(h));
	let artist = find(ARTIST);
	let track = find(TRACK);
	let time = find(TIME);
	let body = data.slice(1);
	if (artist === -1 || track === -1) {
		if (data[0].length !== 4) {
			throw unknownFile(
				name,
				`columns [${data[0]
					.slice(0, 8)
					.map((f) => f.trim().slice(0, 30))
					.join(', ')}]`
			);
		}
		// lastfm-to-csv layout, no header: artist, album, track, date.
		artist = 0;
		track = 2;
		time = 3;
		body = data;
	}
	const out: OneFile = { format: 'lastfm-scrobbles', listens: [], short: 0, notMusic: 0 };
	for (const r of body) {
		add(
			out,
			(r[artist] ?? '').trim(),
			(r[track] ?? '').trim(),
			time >= 0 ? (r[time] ?? '').trim() || undefined : undefined,
			undefined,
			0
		);
	}
	return out;
}

/**
 * Plays per artist, or per track (the track's title; `artist` says whose), most played first.
 * `NamedPlays.name` is the artist, or the track title, as first written in the history.
 */
export function playCounts(
	listens: readonly Listen[],
	level: 'artist' | 'track'
): (NamedPlays & { artist: string })[] {
	const byKey = new Map<string, { name: string; artist: string; plays: number }>();
	for (const l of listens) {
		const name = level === 'artist' ? l.artist : l.track;
		const k =
			level === 'artist'
				? l.artist.toLowerCase()
				: `${l.artist.toLowerCase()}\u0000${l.track.toLowerCase()}`;
		const had = byKey.get(k);
		if (had) had.plays++;
		else byKey.set(k, { name, artist: l.artist, plays: 1 });
	}
	return [...byKey.values()].sort((a, b) => b.plays - a.plays || (a.name < b.name ? -1 : 1));
}
