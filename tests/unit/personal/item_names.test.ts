import { describe, expect, it } from 'vitest';
import { namesForItems, parseItemNames } from '../../../src/lib/core/data/item_names';
import { isMusicrecError } from '../../../src/lib/core/errors';

/** Every way to cut `text` in two chunks, and one chunk per character. */
function splits(text: string): string[][] {
	const out: string[][] = [[text], [...text]];
	for (let k = 1; k < text.length; k++) out.push([text.slice(0, k), text.slice(k)]);
	return out;
}

describe('parseItemNames', () => {
	it('reads a Last.fm artists.dat: tabs only, quotes kept, extra columns ignored, any split', async () => {
		const text =
			'id\tname\turl\tpictureURL\r\n' +
			'1\tMALICE MIZER\thttp://x/1\thttp://p/1\r\n' +
			'7\t"Weird Al" Yankovic\thttp://x/7\t\r\n' +
			'9\tRoyce da 5\'9"\thttp://x/9\t\r\n' +
			'7\tSomeone else\t\t\r\n' +
			'\r\n' +
			'12\t\t\t\n' +
			'13\tMötley Crüe\t\t';
		for (const chunks of splits(text)) {
			const names = await parseItemNames(chunks, 'artists.dat');
			expect(names.ids).toEqual(['1', '7', '9', '13']);
			expect(names.names).toEqual([
				'MALICE MIZER',
				'"Weird Al" Yankovic',
				'Royce da 5\'9"',
				'Mötley Crüe'
			]);
		}
	});

	it('reads a KKBox song_extra_info.csv with quoted names and a BOM', async () => {
		const text =
			'\uFEFFsong_id,name,isrc\n' +
			'a+b=,"Hello, World",X1\n' +
			'c/d=,我們,X2\n' +
			'e==,"Say ""hi""",X3\n';
		for (const chunks of splits(text)) {
			const names = await parseItemNames(chunks, 'song_extra_info.csv');
			expect(names.ids).toEqual(['a+b=', 'c/d=', 'e==']);
			expect(names.names).toEqual(['Hello, World', '我們', 'Say "hi"']);
		}
	});

	it('takes the id and name columns wherever they are, by their aliases', async () => {
		const names = await parseItemNames(['Title;Artist ID\nSong A;5\n'], 'x.csv');
		expect(names).toEqual({ source: 'x.csv', ids: ['5'], names: ['Song A'] });
	});

	it('says what it found when a file has no id and name columns, and when it is empty', async () => {
		const bad = await parseItemNames(['user,item,plays\n1,2,3\n'], 'log.csv').catch((e) => e);
		expect(isMusicrecError(bad, 'csv/unknown-schema')).toBe(true);
		expect((bad as Error).message).toContain('user, item, plays');
		const empty = await parseItemNames([''], 'e.csv').catch((e) => e);
		expect(isMusicrecError(empty, 'csv/empty')).toBe(true);
	});

	it('aligns names with a catalogue, empty where unknown', () => {
		const names = { source: 's', ids: ['b', 'a'], names: ['Bee', 'Ay'] };
		expect(namesForItems(['a', 'z', 'b'], names)).toEqual(['Ay', '', 'Bee']);
	});
});
