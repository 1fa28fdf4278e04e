import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import {
	columnsDirective,
	guessColumns,
	schemaFromMapping,
	splitRows
} from '../../../src/lib/core/data/column_mapping';
import { ingest } from '../../../src/lib/core/data/ingest';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { triplets } from '../../helpers/triplets';

describe('guessColumns', () => {
	it.each([
		[
			'headerless triplets, tab',
			'u1\ts1\t3\nu1\ts2\t1\nu2\ts1\t2\n',
			{ delimiter: '\t', header: false, user: 0, item: 1, weight: 2 }
		],
		[
			'unknown names with numbers below: a header, last column the weight',
			'listener_hash,track_title,n\nab,Song A,3\ncd,"Song, B",1\n',
			{ delimiter: ',', header: true, user: 0, item: 1, weight: 2 }
		],
		[
			'known names in another order',
			'plays;artist;user_id\n3;x;u1\n4;y;u2\n',
			{ delimiter: ';', header: true, user: 2, item: 1, weight: 0 }
		],
		[
			'a KKBox target by name',
			'song_id|msno|target\ns1|u1|1\ns2|u1|0\n',
			{ delimiter: '|', header: true, user: 1, item: 0, target: 2 }
		],
		[
			'two text columns, no header',
			'alice bob\ncarol dave\n',
			{ delimiter: ' ', header: false, user: 0, item: 1 }
		],
		[
			'four columns, the last one text: no weight',
			'a,b,c,d\n1,2,3,x\n',
			{ delimiter: ',', header: true, user: 0, item: 1 }
		]
	])('%s', (_, text, want) => {
		expect(guessColumns(text)).toEqual({ weight: undefined, target: undefined, ...want });
	});

	it('guesses a user and an item column that differ and exist, for any small table', () => {
		const cell = fc.stringMatching(/^[a-z0-9 .]{0,6}$/);
		fc.assert(
			fc.property(
				fc
					.integer({ min: 1, max: 6 })
					.chain((n) =>
						fc.array(fc.array(cell, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 6 })
					),
				fc.constantFrom(',', '\t', ';', '|'),
				(rows, d) => {
					const g = guessColumns(rows.map((r) => r.join(d)).join('\n') + '\n');
					expect(g.user).not.toBe(g.item);
					if (g.weight !== undefined) expect([g.user, g.item]).not.toContain(g.weight);
				}
			)
		);
	});
});

describe('reading with a mapping', () => {
	it('reads the columns said, not the header, and keeps the first line when it is a row', async () => {
		const text = 'n,listener hash,title\n3,u1,s1\n1,u1,s2\n2,u2,s1\n';
		const auto = await ingest([text]).catch((e) => e);
		expect(isMusicrecError(auto, 'csv/unknown-schema')).toBe(true);
		const r = await ingest([text], {
			columns: { delimiter: ',', header: true, user: 1, item: 2, weight: 0 }
		});
		expect(triplets(r)).toEqual(['u1|s1|3', 'u1|s2|1', 'u2|s1|2']);
		expect(r.eda.reading).toMatchObject({
			header: true,
			user: 'listener hash',
			item: 'title',
			weight: 'n'
		});
		// The same file with the header taken as a row: "n" is not a number, so that row is bad.
		const skipped = await ingest([text], {
			badLines: 'skip',
			columns: { delimiter: ',', header: false, user: 1, item: 2, weight: 0 }
		});
		expect(skipped.badLines.count).toBe(1);
		expect(triplets(skipped)).toEqual(['u1|s1|3', 'u1|s2|1', 'u2|s1|2']);
		// Headerless, the first line is data.
		const headless = await ingest(['s1;u1\ns2;u1\ns1;u2\n'], {
			columns: { delimiter: ';', header: false, user: 1, item: 0 }
		});
		expect(triplets(headless)).toEqual(['u1|s1|1', 'u1|s2|1', 'u2|s1|1']);
	});

	it('a target column makes a KKBox-weighted file', async () => {
		const r = await ingest(['a,b,t\nu1,s1,1\nu1,s2,0\n'], {
			columns: { delimiter: ',', header: true, user: 0, item: 1, target: 2 }
		});
		expect(r.schema).toBe('kkbox');
		// one-plus-target: w = 1 + target.
		expect(triplets(r)).toEqual(['u1|s1|2', 'u1|s2|1']);
	});

	it('refuses columns that do not exist or share a role', () => {
		const first = ['a', 'b'];
		const m = { delimiter: ',', header: true } as const;
		expect(() => schemaFromMapping(first, { ...m, user: 0, item: 2 })).toThrow(
			/do not exist: the first line has 2 fields/
		);
		expect(() => schemaFromMapping(first, { ...m, user: 0, item: 0 })).toThrow(/one role only/);
		expect(() =>
			schemaFromMapping(['a', 'b', 'c', 'd'], { ...m, user: 0, item: 1, weight: 2, target: 3 })
		).toThrow(/not both/);
	});

	it('previews whole lines only, quotes respected', () => {
		expect(splitRows('a,"b,c"\nd,e\nf,g', ',', 10)).toEqual([
			['a', 'b,c'],
			['d', 'e']
		]);
		expect(splitRows('a\tb\nc\td\n', '\t', 1)).toEqual([['a', 'b']]);
	});
});

describe('a stored file says its columns on its first line', () => {
	const body = 'n,listener hash,title\n3,u1,s1\n1,u1,s2\n2,u2,s1\n';
	const mapping = { delimiter: ',', header: true, user: 1, item: 2, weight: 0 } as const;
	const stored = new TextEncoder().encode(columnsDirective(mapping) + body);

	it('is read with those columns, cut anywhere, as bytes or text, also before gzip', async () => {
		const want = ['u1|s1|3', 'u1|s2|1', 'u2|s1|2'];
		for (let k = 1; k < stored.length; k += 7) {
			expect(triplets(await ingest([stored.subarray(0, k), stored.subarray(k)]))).toEqual(want);
		}
		expect(triplets(await ingest([columnsDirective(mapping), body]))).toEqual(want);
		const zipped = new Uint8Array(gzipSync(Buffer.from(body)));
		const head = new TextEncoder().encode(columnsDirective(mapping));
		expect(triplets(await ingest([head, zipped]))).toEqual(want);
	});

	it('a bad line of columns is an error that says so, not a guess', async () => {
		for (const [line, why] of [
			['#musicrec-columns {nope', /not JSON/],
			['#musicrec-columns {"delimiter":"x","header":true,"user":0,"item":1}', /delimiter/],
			['#musicrec-columns {"delimiter":",","header":1,"user":0,"item":1}', /header/],
			[
				'#musicrec-columns {"delimiter":",","header":true,"user":-1,"item":1}',
				/user must be a column/
			]
		] as const) {
			const e = await ingest([line + '\n' + body]).catch((x) => x);
			expect(isMusicrecError(e, 'csv/unknown-schema')).toBe(true);
			expect((e as Error).message).toMatch(why);
		}
	});
});
