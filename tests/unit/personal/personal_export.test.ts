import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { isMusicrecError } from '../../../src/lib/core/errors';
import {
	playCounts,
	readPersonalExport,
	type NamedBytes
} from '../../../src/lib/core/data/personal_export';

const file = (name: string, text: string): NamedBytes => ({ name, bytes: strToU8(text) });

/** What a person's export holds about them beyond their plays: none of it may come out. */
const SECRETS = {
	username: 'alice_private_handle',
	ip: '203.0.113.77',
	country: 'ZZ',
	agent: 'SecretBrowser/9.9 (DeviceModel X)',
	platform: 'Android OS 13 API 33 (Pixel-secret)',
	uri: 'spotify:track:SECRETURI000000000000',
	msid: 'f0000000-secret-msid',
	mbid: 'secret-mbid-0000'
};

// Spotify extended streaming history (Streaming_History_Audio_*.json), fields as Spotify
// documents them, values made up here.
const EXTENDED = JSON.stringify([
	{
		ts: '2024-03-01T10:00:00Z',
		username: SECRETS.username,
		platform: SECRETS.platform,
		ms_played: 200000,
		conn_country: SECRETS.country,
		ip_addr_decrypted: SECRETS.ip,
		user_agent_decrypted: SECRETS.agent,
		master_metadata_track_name: 'Paranoid Android',
		master_metadata_album_artist_name: 'Radiohead',
		master_metadata_album_album_name: 'OK Computer',
		spotify_track_uri: SECRETS.uri,
		episode_name: null,
		reason_start: 'clickrow',
		shuffle: false,
		skipped: null,
		offline: false,
		incognito_mode: false
	},
	{
		ts: '2024-03-01T10:05:00Z',
		ms_played: 1200,
		ip_addr: SECRETS.ip,
		conn_country: SECRETS.country,
		master_metadata_track_name: 'Airbag',
		master_metadata_album_artist_name: 'Radiohead'
	},
	{
		ts: '2024-03-01T11:00:00Z',
		ms_played: 600000,
		conn_country: SECRETS.country,
		master_metadata_track_name: null,
		master_metadata_album_artist_name: null,
		episode_name: 'A podcast episode',
		episode_show_name: 'A show'
	},
	{
		ts: '2024-03-02T09:00:00Z',
		ms_played: 31000,
		master_metadata_track_name: 'Jóga',
		master_metadata_album_artist_name: 'Björk'
	}
]);

// Spotify account data (StreamingHistory_music_0.json).
const ACCOUNT = JSON.stringify([
	{ endTime: '2024-01-01 12:00', artistName: 'Björk', trackName: 'Hyperballad', msPlayed: 250000 },
	{ endTime: '2024-01-01 12:05', artistName: 'Björk', trackName: 'Jóga', msPlayed: 29999 },
	{ endTime: '2024-01-01 12:10', artistName: 'Sigur Rós', trackName: 'Hoppípolla', msPlayed: 30000 }
]);

// ListenBrainz export: one listen per line.
const LISTENBRAINZ_LINES = [
	{
		listened_at: 1700000000,
		recording_msid: SECRETS.msid,
		user_name: SECRETS.username,
		track_metadata: {
			artist_name: 'Portishead',
			track_name: 'Roads',
			release_name: 'Dummy',
			additional_info: {
				duration_ms: 305000,
				recording_mbid: SECRETS.mbid,
				submission_client: SECRETS.agent
			}
		}
	},
	{
		listened_at: 1700000500,
		track_metadata: { artist_name: 'Portishead', track_name: 'Glory Box' }
	}
]
	.map((r) => JSON.stringify(r))
	.join('\n');

describe('readPersonalExport', () => {
	it('reads Spotify extended history: plays of 30 s and more, podcasts and skips counted apart', () => {
		const h = readPersonalExport([file('Streaming_History_Audio_2024.json', EXTENDED)]);
		expect(h.formats).toEqual(['spotify-extended']);
		expect(h.listens).toEqual([
			{
				artist: 'Radiohead',
				track: 'Paranoid Android',
				time: '2024-03-01T10:00:00Z',
				msPlayed: 200000
			},
			{ artist: 'Björk', track: 'Jóga', time: '2024-03-02T09:00:00Z', msPlayed: 31000 }
		]);
		expect(h.skipped).toEqual({ short: 1, notMusic: 1 });
	});

	it('reads Spotify account data, with 30 s as the boundary of a play', () => {
		const h = readPersonalExport([file('StreamingHistory_music_0.json', ACCOUNT)]);
		expect(h.formats).toEqual(['spotify-account']);
		expect(h.listens.map((l) => l.track)).toEqual(['Hyperballad', 'Hoppípolla']);
		expect(h.skipped.short).toBe(1);
		const all = readPersonalExport([file('s.json', ACCOUNT)], { minMsPlayed: 0 });
		expect(all.listens.length).toBe(3);
	});

	it('reads ListenBrainz as JSON lines, as a JSON array and as an API page', () => {
		const lines = readPersonalExport([file('listens.jsonl', LISTENBRAINZ_LINES)]);
		expect(lines.formats).toEqual(['listenbrainz']);
		expect(lines.listens[0]).toEqual({
			artist: 'Portishead',
			track: 'Roads',
			time: new Date(1700000000 * 1000).toISOString(),
			msPlayed: 305000
		});
		const records = LISTENBRAINZ_LINES.split('\n').map((l) => JSON.parse(l));
		const array = readPersonalExport([file('listens.json', JSON.stringify(records))]);
		const page = readPersonalExport([
			file('page.json', JSON.stringify({ payload: { count: 2, listens: records } }))
		]);
		expect(array.listens).toEqual(lines.listens);
		expect(page.listens).toEqual(lines.listens);
	});

	it('reads Last.fm scrobble CSVs with and without a header', () => {
		const headerless =
			'Radiohead,OK Computer,Airbag,31 Jan 2020 20:15\n' +
			'"Crosby, Stills & Nash",CSN,Wooden Ships,01 Feb 2020 10:00\n';
		const a = readPersonalExport([file('scrobbles.csv', headerless)]);
		expect(a.formats).toEqual(['lastfm-scrobbles']);
		expect(a.listens).toEqual([
			{ artist: 'Radiohead', track: 'Airbag', time: '31 Jan 2020 20:15' },
			{ artist: 'Crosby, Stills & Nash', track: 'Wooden Ships', time: '01 Feb 2020 10:00' }
		]);
		const headed =
			'\uFEFFuts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\r\n' +
			`1580501700,"31 Jan 2020, 20:15",Radiohead,${SECRETS.mbid},OK Computer,,Airbag,\r\n`;
		const b = readPersonalExport([file('lastfm.csv', headed)]);
		expect(b.listens).toEqual([{ artist: 'Radiohead', track: 'Airbag', time: '1580501700' }]);
	});

	it('opens the zip Spotify sends and reads only its listening files', () => {
		const zip = zipSync({
			'Spotify Account Data/StreamingHistory_music_0.json': strToU8(ACCOUNT),
			'Spotify Account Data/StreamingHistory_podcast_0.json': strToU8(
				JSON.stringify([{ endTime: 'x', podcastName: 'P', episodeName: 'E', msPlayed: 900000 }])
			),
			'Spotify Account Data/Userdata.json': strToU8(
				JSON.stringify({ username: SECRETS.username, email: 'a@example.org' })
			),
			'Spotify Account Data/Inferences.json': strToU8('{"inferences": ["secret"]}'),
			'__MACOSX/Spotify Account Data/._StreamingHistory_music_0.json': new Uint8Array([0, 1, 2])
		});
		const h = readPersonalExport([{ name: 'my_spotify_data.zip', bytes: zip }]);
		expect(h.files).toEqual([
			'my_spotify_data.zip/Spotify Account Data/StreamingHistory_music_0.json',
			'my_spotify_data.zip/Spotify Account Data/StreamingHistory_podcast_0.json'
		]);
		expect(h.listens.map((l) => l.track)).toEqual(['Hyperballad', 'Hoppípolla']);
		expect(h.skipped.notMusic).toBe(1);
	});

	it('keeps nothing of the person but artist, track, time and duration (privacy filter)', () => {
		const zip = zipSync({ 'Streaming_History_Audio_2024.json': strToU8(EXTENDED) });
		const h = readPersonalExport([
			file('Streaming_History_Audio_2023.json', EXTENDED),
			{ name: 'export.zip', bytes: zip },
			file('listens.jsonl', LISTENBRAINZ_LINES),
			file('scrobbles.csv', `uts,artist,artist_mbid,track\n1,Radiohead,${SECRETS.mbid},Airbag\n`)
		]);
		expect(h.listens.length).toBeGreaterThan(0);
		const out = JSON.stringify(h);
		for (const secret of Object.values(SECRETS)) expect(out).not.toContain(secret);
		for (const l of h.listens) {
			for (const key of Object.keys(l))
				expect(['artist', 'track', 'time', 'msPlayed']).toContain(key);
		}
	});

	it('says what a file is when it is not a listening history, and reads UTF-16', () => {
		const cases: [NamedBytes, RegExp][] = [
			[file('x.json', '{"a": 1}'), /not a listening history.*without listens/],
			[file('y.json', '[{"name": "x"}]'), /records with name/],
			[file('z.jsonl', '{"a":1}\nnot json'), /line 2 is not JSON/],
			[file('w.csv', 'a,b\n1,2\n'), /columns \[a, b\]/],
			[file('e.csv', '\n\n'), /empty file/],
			[
				{ name: 'bad.zip', bytes: Uint8Array.of(0x50, 0x4b, 3, 4, 9, 9) },
				/zip file that could not be opened/
			],
			[
				{ name: 'other.zip', bytes: zipSync({ 'readme.txt': strToU8('hi') }) },
				/holds no listening history/
			]
		];
		for (const [f, message] of cases) {
			let error: unknown;
			try {
				readPersonalExport([f]);
			} catch (e) {
				error = e;
			}
			expect(isMusicrecError(error, 'file/bad-format'), f.name).toBe(true);
			expect((error as Error).message).toMatch(message);
		}
		const utf16 = new Uint8Array(2 + ACCOUNT.length * 2);
		utf16.set([0xff, 0xfe]);
		for (let k = 0; k < ACCOUNT.length; k++) {
			const c = ACCOUNT.charCodeAt(k);
			utf16[2 + 2 * k] = c & 0xff;
			utf16[3 + 2 * k] = c >> 8;
		}
		expect(readPersonalExport([{ name: 'u.json', bytes: utf16 }]).listens.length).toBe(2);
	});
});

describe('playCounts', () => {
	const listens = [
		{ artist: 'A', track: 'x' },
		{ artist: 'B', track: 'y' },
		{ artist: 'a', track: 'X' },
		{ artist: 'A', track: 'z' },
		{ artist: 'B', track: 'x' }
	];

	it('counts plays per artist (case-insensitively) and per track of an artist', () => {
		expect(playCounts(listens, 'artist')).toEqual([
			{ name: 'A', artist: 'A', plays: 3 },
			{ name: 'B', artist: 'B', plays: 2 }
		]);
		expect(playCounts(listens, 'track')).toEqual([
			{ name: 'x', artist: 'A', plays: 2 },
			{ name: 'x', artist: 'B', plays: 1 },
			{ name: 'y', artist: 'B', plays: 1 },
			{ name: 'z', artist: 'A', plays: 1 }
		]);
	});
});
