import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureFile } from '../../helpers/data_files';
import { ingest } from '../../../src/lib/core/data/ingest';
import {
	ageBucket,
	ageOf,
	detectMetadataKind,
	firstGenre,
	joinMetadata,
	parseMetadata,
	type MemberInfo,
	type SongInfo
} from '../../../src/lib/core/data/metadata';
import { isMusicrecError } from '../../../src/lib/core/errors';

const MEMBERS = [
	'msno,city,bd,gender,registered_via,registration_init_time,expiration_date',
	'u1,1,0,,7,20110820,20170920',
	'u2,13,24,female,9,20110101,20170101',
	'u3,5,300,male,4,20120101,20170101',
	'u4,13,-5,male,4,20120101,20170101',
	'u9,22,40,female,3,20120101,20170101',
	'u2,99,50,male,1,20120101,20170101'
].join('\n');

const SONGS = [
	'song_id,song_length,genre_ids,artist_name,composer,lyricist,language',
	's1,247640,465,"Jeff Chang",a,b,3',
	's2,197328,444|1259,BLACKPINK,"TEDDY|  FUTURE BOUNCE",TEDDY,31',
	's3,,,"Artist, with comma",,,',
	'sX,1000,465,Nobody,,,52'
].join('\r\n');

/** users u1..u3 (+ u5 without metadata); songs s1..s3 (+ s4 without metadata). */
const TRAIN = [
	'msno,song_id,source_system_tab,source_screen_name,source_type,target',
	'u1,s1,my library,Local playlist more,local-library,1',
	'u1,s2,my library,Local playlist more,local-library,0',
	'u2,s1,discover,Discover Feature,online-playlist,1',
	'u2,s3,discover,Discover Feature,online-playlist,1',
	'u3,s4,search,Search,song,0',
	'u5,s2,radio,Radio,radio,1',
	'u5,s4,radio,Radio,radio,0'
].join('\n');

/** Split text into chunks of `size` characters, to exercise the streaming parser. */
function chunked(text: string, size: number): string[] {
	const out: string[] = [];
	for (let k = 0; k < text.length; k += size) out.push(text.slice(k, k + size));
	return out;
}

describe('metadata helpers', () => {
	it('detects the kind from the header, in any order', () => {
		expect(detectMetadataKind(MEMBERS.split('\n')[0].split(','))).toBe('members');
		expect(
			detectMetadataKind(['language', 'artist_name', 'genre_ids', 'song_length', 'song_id'])
		).toBe('songs');
		expect(detectMetadataKind(['msno', 'song_id', 'target'])).toBeUndefined();
	});

	it('treats bd 0 and out-of-range ages as missing', () => {
		expect([ageOf('0'), ageOf('-5'), ageOf('101'), ageOf(''), ageOf('abc')]).toEqual([
			undefined,
			undefined,
			undefined,
			undefined,
			undefined
		]);
		expect([ageOf('1'), ageOf('24'), ageOf('100')]).toEqual([1, 24, 100]);
		expect([17, 18, 24, 25, 44, 55, 100].map(ageBucket)).toEqual([
			'<18',
			'18–24',
			'18–24',
			'25–34',
			'35–44',
			'55+',
			'55+'
		]);
		expect(ageBucket(undefined)).toBe('unknown');
	});

	it('takes the first genre id', () => {
		expect(firstGenre('444|1259')).toBe('444');
		expect(firstGenre('465')).toBe('465');
		expect(firstGenre('')).toBe('unknown');
	});
});

describe('parseMetadata', () => {
	it('parses members in any chunking; first row of a repeated id wins', async () => {
		for (const size of [1, 7, 1000]) {
			const t = await parseMetadata(chunked(MEMBERS, size));
			expect(t.kind).toBe('members');
			if (t.kind !== 'members') return;
			expect(t.rows).toBe(6);
			expect(t.kept).toBe(5);
			expect(t.members.get('u1')).toEqual({
				city: '1',
				age: undefined,
				gender: 'unknown',
				registeredVia: '7'
			});
			expect(t.members.get('u2')).toEqual({
				city: '13',
				age: 24,
				gender: 'female',
				registeredVia: '9'
			});
			expect(t.members.get('u3')?.age).toBeUndefined();
		}
	});

	it('parses songs with quoted fields and CRLF; keep filters ids', async () => {
		const t = await parseMetadata(chunked(SONGS, 5), { keep: (id) => id !== 'sX' });
		expect(t.kind).toBe('songs');
		if (t.kind !== 'songs') return;
		expect(t.rows).toBe(4);
		expect([...t.songs.keys()]).toEqual(['s1', 's2', 's3']);
		expect(t.songs.get('s2')).toEqual({
			genreIds: '444|1259',
			artistName: 'BLACKPINK',
			language: '31',
			songLength: 197328
		});
		expect(t.songs.get('s3')).toEqual({
			genreIds: '',
			artistName: 'Artist, with comma',
			language: 'unknown',
			songLength: undefined
		});
	});

	it('rejects other files and empty input', async () => {
		await expect(parseMetadata([TRAIN])).rejects.toSatisfy(
			(e) => isMusicrecError(e) && e.code === 'csv/unknown-schema'
		);
		await expect(parseMetadata([''])).rejects.toSatisfy(
			(e) => isMusicrecError(e) && e.code === 'csv/empty'
		);
	});
});

describe('joinMetadata', () => {
	it('counts interactions by city, age, genre and language with coverage', async () => {
		const { interactions } = await ingest([TRAIN]);
		const m = await parseMetadata([MEMBERS]);
		const s = await parseMetadata([SONGS]);
		if (m.kind !== 'members' || s.kind !== 'songs') throw new Error('kinds');
		const join = joinMetadata(interactions, { members: m.members, songs: s.songs });

		// Users: u1, u2, u3 of u1, u2, u3, u5 have rows; their interactions: 2 + 2 + 1 of 7.
		expect(join.members?.coverage).toEqual({
			covered: 3,
			total: 4,
			share: 0.75,
			interactionsCovered: 5,
			interactions: 7,
			interactionShare: 5 / 7
		});
		// City 1: u1 (t1, t0); city 13: u2 (t1, t1); city 5: u3 (t0).
		expect(join.members?.byCity).toEqual([
			{ key: '1', target0: 1, target1: 1, total: 2 },
			{ key: '13', target0: 0, target1: 2, total: 2 },
			{ key: '5', target0: 1, target1: 0, total: 1 }
		]);
		expect(join.members?.byAge).toEqual([
			{ key: '18–24', target0: 0, target1: 2, total: 2 },
			{ key: 'unknown', target0: 2, target1: 1, total: 3 }
		]);

		// Songs: s1, s2, s3 of s1..s4; interactions with s1 (2), s2 (2), s3 (1) of 7.
		expect(join.songs?.coverage).toMatchObject({
			covered: 3,
			total: 4,
			interactionsCovered: 5,
			interactions: 7
		});
		// Genre 465: s1 (u1 t1, u2 t1); 444: s2 (u1 t0, u5 t1); unknown: s3 (u2 t1).
		expect(join.songs?.byGenre).toEqual([
			{ key: '444', target0: 1, target1: 1, total: 2 },
			{ key: '465', target0: 0, target1: 2, total: 2 },
			{ key: 'unknown', target0: 0, target1: 1, total: 1 }
		]);
		expect(join.songs?.byLanguage.map((g) => [g.key, g.total])).toEqual([
			['3', 2],
			['31', 2],
			['unknown', 1]
		]);
	});

	it('pools groups beyond maxGroups as other and skips absent tables', async () => {
		const { interactions } = await ingest([TRAIN]);
		const members = new Map<string, MemberInfo>(
			['u1', 'u2', 'u3', 'u5'].map((u, k) => [
				u,
				{ city: `c${k}`, gender: 'unknown', registeredVia: '1' }
			])
		);
		const join = joinMetadata(interactions, { members }, { maxGroups: 2 });
		expect(join.songs).toBeUndefined();
		// c0 (u1) 2, c1 (u2) 2, c3 (u5) 2, c2 (u3) 1: top one kept, the rest pooled.
		expect(join.members?.byCity).toEqual([
			{ key: 'c0', target0: 1, target1: 1, total: 2 },
			{ key: 'other', target0: 2, target1: 3, total: 5 }
		]);
		const songs = new Map<string, SongInfo>();
		expect(joinMetadata(interactions, { songs }).songs?.coverage.share).toBe(0);
	});
});

describe('the real KKBox side files (first 2,000 rows)', () => {
	const members = fixtureFile('kkbox_members_head_2000.csv');
	const songs = fixtureFile('kkbox_songs_head_2000.csv');

	it('parses members.csv: one entry per distinct msno', async () => {
		const text = readFileSync(members, 'utf8');
		const t = await parseMetadata(chunked(text, 65536));
		const lines = text.split('\n').filter((l) => l.trim() !== '');
		const ids = new Set(lines.slice(1).map((l) => l.split(',')[0]));
		expect(t.kind).toBe('members');
		expect(t.rows).toBe(lines.length - 1);
		expect(t.kept).toBe(ids.size);
	});

	it('parses songs.csv', async () => {
		const t = await parseMetadata(chunked(readFileSync(songs, 'utf8'), 65536));
		expect(t.kind).toBe('songs');
		expect(t.rows).toBe(2000);
		if (t.kind !== 'songs') return;
		expect(t.songs.get('o0kFgae9QtnYgRkVPqLJwa05zIhRlUjfF7O1tDw0ZDU=')).toEqual({
			genreIds: '444',
			artistName: 'BLACKPINK',
			language: '31',
			songLength: 197328
		});
	});
});
