import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../../src/lib/core/data/ingest';
import type { IngestChunk, IngestResult } from '../../../src/lib/core/data/ingest';
import { sniffDelimiter } from '../../../src/lib/core/data/schema';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { triplets } from '../../helpers/triplets';

/** The same three plays in each layout below: u1 played s1 3 times and s2 once, u2 s1 twice. */
const PLAYS = ['u1|s1|3', 'u1|s2|1', 'u2|s1|2'];

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
	const out: Uint8Array[] = [];
	for (let k = 0; k < bytes.length; k += size) out.push(bytes.subarray(k, k + size));
	return out;
}

async function read(chunks: IngestChunk[]): Promise<IngestResult> {
	return ingest(chunks);
}

describe('ingest: other delimiters, column names and headers', () => {
	it.each([
		['semicolon', 'user;item;plays\nu1;s1;3\nu1;s2;1\nu2;s1;2\n'],
		['pipe', 'user_id|song_id|play_count\nu1|s1|3\nu1|s2|1\nu2|s1|2\n'],
		['tab, artist names', 'userID\tartist_id\tplaycount\nu1\ts1\t3\nu1\ts2\t1\nu2\ts1\t2\n'],
		['space (Audioscrobbler)', 'u1 s1 3\nu1 s2 1\nu2 s1 2\n'],
		['no header, tab (Million Song Dataset taste profile)', 'u1\ts1\t3\nu1\ts2\t1\nu2\ts1\t2\n'],
		['no header, comma', 'u1,s1,3\nu1,s2,1\nu2,s1,2\n'],
		['spaced names', 'Listener ID,Track ID,Play Count\nu1,s1,3\nu1,s2,1\nu2,s1,2\n'],
		['ms_played', 'username,track,ms_played\nu1,s1,3\nu1,s2,1\nu2,s1,2\n']
	])('%s', async (_name, text) => {
		const r = await read([text]);
		expect(r.schema).toBe('generic');
		expect(triplets(r)).toEqual(PLAYS);
		expect(r.rows).toBe(3);
	});

	it('a headerless file keeps its first line as data and names the roles', async () => {
		const r = await read(['u1,s1,3\nu1,s2,1\nu2,s1,2\n']);
		expect(r.columns).toEqual(['user', 'item', 'weight']);
		expect(r.eda.rows).toBe(3);
	});

	it('a KKBox file with only msno, song_id and target is read with 1 + target', async () => {
		const r = await read(['msno,song_id,target\nu1,s1,1\nu1,s2,0\nu2,s1,1\n']);
		expect(r.schema).toBe('kkbox');
		expect(triplets(r)).toEqual(['u1|s1|2', 'u1|s2|1', 'u2|s1|2']);
	});

	it('still refuses names it does not know, two columns of one role, and text headers', async () => {
		for (const text of [
			'uid,track,plays\nu1,s1,3\n',
			'user,user_id,item\nu1,u1,s1\n',
			'user,item,plays,count\nu1,s1,3,3\n',
			'first,second\nu1,s1\n'
		]) {
			const e = await read([text]).catch((x: unknown) => x);
			expect(isMusicrecError(e, 'csv/unknown-schema'), text).toBe(true);
		}
	});
});

describe('ingest: encodings and compression', () => {
	const text = 'user,item,weight\nü1,s1,3\nü1,s2,1\nu2,s1,2\n';
	const want = ['u2|s1|2', 'ü1|s1|3', 'ü1|s2|1'];

	it.each([1, 3, 64])('UTF-16 LE and BE with a byte order mark (chunks of %i bytes)', async (n) => {
		const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
		const be = Buffer.from(le);
		be.swap16();
		expect(be[0]).toBe(0xfe);
		for (const bytes of [le, be]) {
			const r = await read(chunked(new Uint8Array(bytes), n));
			expect(r.columns).toEqual(['user', 'item', 'weight']);
			expect(triplets(r)).toEqual(want);
		}
	});

	it.each([7, 4096])('gzip, whatever the file is called (chunks of %i bytes)', async (n) => {
		const gz = new Uint8Array(gzipSync(Buffer.from(text)));
		expect(triplets(await read(chunked(gz, n)))).toEqual(want);
	});

	it('a damaged gzip file is a clear error', async () => {
		const gz = new Uint8Array(gzipSync(Buffer.from(text.repeat(50))));
		const cut = gz.subarray(0, gz.length - 30);
		const e = await read([cut]).catch((x: unknown) => x);
		expect(isMusicrecError(e, 'file/bad-format')).toBe(true);
		expect((e as Error).message).toMatch(
			/^The file is gzip-compressed but could not be decompressed/
		);
	});
});

describe('sniffDelimiter', () => {
	it('picks the separator the fields were joined with, whatever the names hold', () => {
		const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_ ]{0,11}$/).filter((s) => s.trim() === s);
		fc.assert(
			fc.property(
				fc.array(name, { minLength: 2, maxLength: 6 }),
				fc.constantFrom(',', '\t', ';', '|'),
				(names, d) => {
					// Names may hold spaces but never a separator: the most frequent one wins.
					expect(sniffDelimiter(names.join(d))).toBe(d);
				}
			)
		);
	});

	it('ignores separators inside quotes; a line with spaces only is space-separated', () => {
		expect(sniffDelimiter('"a;b;c";x,y')).toBe(',');
		expect(sniffDelimiter('user artist plays')).toBe(' ');
		expect(sniffDelimiter('single')).toBe(',');
	});
});

describe('ingest: KKBox side files dropped as a listening log', () => {
	it.each([
		['members', 'msno,city,bd,gender,registered_via,registration_init_time\nu1,1,0,,7,20110820\n'],
		[
			'songs',
			'song_id,song_length,genre_ids,artist_name,composer,lyricist,language\ns1,1,2,a,,,3\n'
		]
	])('%s.csv says what it is and where it goes', async (side, text) => {
		const e = await read([text]).catch((x: unknown) => x);
		expect(isMusicrecError(e, 'csv/unknown-schema')).toBe(true);
		expect((e as Error).message).toMatch(
			new RegExp(`^This is KKBox's ${side}\\.csv .*not a listening log.*KKBox members and songs`)
		);
	});
});
