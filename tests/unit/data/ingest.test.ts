import { describe, expect, it } from 'vitest';
import { demoDataFile } from '../../helpers/data_files';
import { nnz } from '../../../src/lib/core/data/csr';
import { ingest } from '../../../src/lib/core/data/ingest';
import type { IngestOptions, IngestResult } from '../../../src/lib/core/data/ingest';
import { isMusicrecError, MusicrecError } from '../../../src/lib/core/errors';
import { Rng } from '../../../src/lib/core/random';
import { readTextChunks } from '../../../src/lib/node/files';

async function rejection(p: Promise<unknown>): Promise<MusicrecError> {
	try {
		await p;
	} catch (e) {
		if (e instanceof MusicrecError) return e;
		throw e;
	}
	throw new Error('expected a rejection');
}

/** The matrix as plain arrays, with ids instead of indices, for comparisons. */
function triples(r: IngestResult): Array<[string, string, number, number?]> {
	const { users, items, matrix, target } = r.interactions;
	const out: Array<[string, string, number, number?]> = [];
	for (let u = 0; u < matrix.rows; u++) {
		for (let k = matrix.indptr[u]; k < matrix.indptr[u + 1]; k++) {
			const t: [string, string, number, number?] = [
				users.idAt(u),
				items.idAt(matrix.indices[k]),
				matrix.data[k]
			];
			if (target) t.push(target[k]);
			out.push(t);
		}
	}
	return out;
}

const KKBOX_HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';
// Row 4 repeats the pair (u1, s1).
const KKBOX_SMALL =
	KKBOX_HEADER +
	'\n' +
	'u1,s1,my library,Local,local-library,1\n' +
	'u1,s2,discover,Radio,radio,0\n' +
	'u2,s1,my library,Local,local-library,0\n' +
	'u1,s1,search,Search,song,0\n' +
	'u3,s3,my library,Local,local-library,0\n';

describe('ingest: schemas', () => {
	it('reads KKBox and builds the hand-computed CSR (default weighting 1 + target)', async () => {
		const r = await ingest([KKBOX_SMALL]);
		expect(r.schema).toBe('kkbox');
		expect(r.rows).toBe(5);
		expect(r.rowsKept).toBe(5);
		expect(r.badLines).toEqual({ count: 0 });
		const { users, items, matrix, target } = r.interactions;
		expect(users.toArray()).toEqual(['u1', 'u2', 'u3']);
		expect(items.toArray()).toEqual(['s1', 's2', 's3']);
		expect(matrix.rows).toBe(3);
		expect(matrix.cols).toBe(3);
		// (u1,s1): (1+1) + (1+0) = 3, target max(1,0) = 1.
		expect(Array.from(matrix.indptr)).toEqual([0, 2, 3, 4]);
		expect(Array.from(matrix.indices)).toEqual([0, 1, 0, 2]);
		expect(Array.from(matrix.data)).toEqual([3, 1, 1, 1]);
		expect(Array.from(target!)).toEqual([1, 0, 0, 0]);
	});

	it('maps KKBox rows with all-ones', async () => {
		const r = await ingest([KKBOX_SMALL], { weighting: 'all-ones' });
		expect(Array.from(r.interactions.matrix.data)).toEqual([2, 1, 1, 1]);
		expect(Array.from(r.interactions.target!)).toEqual([1, 0, 0, 0]);
		expect(r.rowsKept).toBe(5);
	});

	it('maps KKBox rows with positive-only (only target = 1 rows, w = 1)', async () => {
		const r = await ingest([KKBOX_SMALL], { weighting: 'positive-only' });
		expect(r.rows).toBe(5);
		expect(r.rowsKept).toBe(1);
		expect(triples(r)).toEqual([['u1', 's1', 1, 1]]);
		expect(r.interactions.users.size).toBe(1);
		// The EDA still describes the whole file.
		expect(r.eda.rows).toBe(5);
		expect(r.eda.target?.counts).toEqual({ '0': 4, '1': 1 });
	});

	it('reads KKBox with a pandas index column, any column order and case', async () => {
		const text =
			',Target, song_id ,MSNO,source_type,source_screen_name,source_system_tab\r\n' +
			'0,1,s1,u1,local-library,Local,my library\r\n' +
			'1,0,s2,u1,radio,Radio,discover\r\n';
		const r = await ingest([text]);
		expect(r.schema).toBe('kkbox');
		expect(r.columns[0]).toBe('');
		expect(triples(r)).toEqual([
			['u1', 's1', 2, 1],
			['u1', 's2', 1, 0]
		]);
		const tabs = r.eda.categorical.find((c) => c.key === 'source_system_tab')!;
		expect(tabs.valueCounts.map((v) => v.value).sort()).toEqual(['discover', 'my library']);
	});

	it('strips a BOM before the header', async () => {
		const r = await ingest(['\uFEFF' + KKBOX_SMALL]);
		expect(r.schema).toBe('kkbox');
		expect(r.columns[0]).toBe('msno');
	});

	it('allows empty categorical fields in KKBox', async () => {
		const r = await ingest([KKBOX_HEADER + '\nu1,s1,,,,1\n']);
		expect(r.rowsKept).toBe(1);
		expect(r.eda.missing.source_type).toBe(1);
	});

	it('reads Last.fm (tab, CRLF) with raw, log1p and binary weights', async () => {
		const text = 'userID\tartistID\tweight\r\n2\t51\t13\r\n2\t52\t7\r\n3\t51\t1\r\n2\t51\t2\r\n';
		const raw = await ingest([text]);
		expect(raw.schema).toBe('lastfm');
		expect(triples(raw)).toEqual([
			['2', '51', 15],
			['2', '52', 7],
			['3', '51', 1]
		]);
		expect(raw.interactions.target).toBeUndefined();
		const log = await ingest([text], { weighting: 'log1p' });
		const logData = Array.from(log.interactions.matrix.data);
		expect(logData[0]).toBeCloseTo(Math.log(14) + Math.log(3), 5);
		expect(logData[1]).toBeCloseTo(Math.log(8), 5);
		expect(logData[2]).toBeCloseTo(Math.log(2), 5);
		const bin = await ingest([text], { weighting: 'binary' });
		expect(Array.from(bin.interactions.matrix.data)).toEqual([2, 1, 1]);
	});

	it('reads generic user,item (comma) with w = 1', async () => {
		const r = await ingest(['user,item\na,x\nb,y\na,x\n']);
		expect(r.schema).toBe('generic');
		expect(triples(r)).toEqual([
			['a', 'x', 2],
			['b', 'y', 1]
		]);
	});

	it('reads generic user,item,weight (tab) and item,user,weight (comma)', async () => {
		const tab = await ingest(['user\titem\tweight\na\tx\t2.5\nb\ty\t1\n']);
		expect(tab.schema).toBe('generic');
		expect(triples(tab)).toEqual([
			['a', 'x', 2.5],
			['b', 'y', 1]
		]);
		const comma = await ingest(['ITEM,User,Weight\nx,a,4\n']);
		expect(triples(comma)).toEqual([['a', 'x', 4]]);
	});

	it('sniffs the delimiter from the first non-empty line, across chunks', async () => {
		const r = await ingest(['\r\n', '\nuser', '\titem', '\na\tx,y\n']);
		expect(r.schema).toBe('generic');
		expect(triples(r)).toEqual([['a', 'x,y', 1]]);
	});

	it('reads quoted fields with delimiters and line breaks in ids', async () => {
		const r = await ingest(['user,item\n"a,1","x\ny"\n"b""q",z\n']);
		expect(triples(r)).toEqual([
			['a,1', 'x\ny', 1],
			['b"q', 'z', 1]
		]);
	});

	it('rejects a weighting that does not fit the schema', async () => {
		const e = await rejection(ingest([KKBOX_SMALL], { weighting: 'log1p' }));
		expect(e.code).toBe('data/bad-options');
		expect(e.message).toContain('one-plus-target');
		const e2 = await rejection(ingest(['user,item,weight\na,b,1\n'], { weighting: 'all-ones' }));
		expect(e2.code).toBe('data/bad-options');
	});
});

describe('ingest: chunk boundaries', () => {
	const text =
		'\uFEFF,msno,song_id,source_system_tab,source_screen_name,source_type,target\r\n' +
		'0,u1,s1,"my library",Local,local-library,1\r\n' +
		'1,u1,"s,2",discover,"Radio\r\nmore",radio,0\n' +
		'2,u2,s1,,Local,local-library,0\r' +
		'3,"u""3",s3,my library,,local-library,1\r\n';

	it('gives the same result for every split position', async () => {
		const whole = await ingest([text]);
		expect(whole.rows).toBe(4);
		expect(triples(whole)).toEqual([
			['u1', 's1', 2, 1],
			['u1', 's,2', 1, 0],
			['u2', 's1', 1, 0],
			['u"3', 's3', 2, 1]
		]);
		for (let p = 0; p <= text.length; p++) {
			const r = await ingest([text.slice(0, p), text.slice(p)]);
			expect(triples(r), `split at ${p}`).toEqual(triples(whole));
			expect(r.eda).toEqual(whole.eda);
		}
	});

	it('gives the same result for random splits into many chunks', async () => {
		const whole = await ingest([text]);
		const rng = new Rng(5);
		for (let trial = 0; trial < 100; trial++) {
			const chunks: string[] = [];
			let i = 0;
			while (i < text.length) {
				const len = 1 + rng.int(12);
				chunks.push(text.slice(i, i + len));
				i += len;
			}
			const r = await ingest(chunks);
			expect(triples(r)).toEqual(triples(whole));
			expect(r.eda).toEqual(whole.eda);
		}
	});

	it('accepts an async iterable', async () => {
		async function* gen(): AsyncGenerator<string> {
			for (const c of text.match(/[\s\S]{1,7}/g)!) yield c;
		}
		const r = await ingest(gen());
		expect(triples(r)).toEqual(triples(await ingest([text])));
	});
});

describe('ingest: errors', () => {
	it('names the columns found and expected for an unknown header', async () => {
		const e = await rejection(ingest(['uid,track,plays\n1,2,3\n']));
		expect(e.code).toBe('csv/unknown-schema');
		expect(e.message).toContain('uid, track, plays');
		expect(e.message).toContain(
			'msno, song_id, source_system_tab, source_screen_name, source_type, target'
		);
		expect(e.message).toContain('userID, artistID, weight');
		expect(e.message).toContain('user, item, weight');
		expect(e.details.found).toEqual(['uid', 'track', 'plays']);
		const expected = e.details.expected as Record<string, string[]>;
		expect(expected.kkbox).toContain('source_type');
		expect(expected.lastfm).toEqual(['userID', 'artistID', 'weight']);
		expect(expected.generic).toEqual(['user', 'item']);
	});

	it('rejects a KKBox header with a missing column', async () => {
		const e = await rejection(
			ingest(['msno,song_id,source_system_tab,source_type,target\na,b,x,y,1\n'])
		);
		expect(e.code).toBe('csv/unknown-schema');
	});

	it('reports an empty file and a header-only file as csv/empty', async () => {
		expect((await rejection(ingest([]))).code).toBe('csv/empty');
		expect((await rejection(ingest(['', '\r\n\n']))).code).toBe('csv/empty');
		const e = await rejection(ingest([KKBOX_HEADER + '\r\n']));
		expect(e.code).toBe('csv/empty');
		expect(e.message).toContain('no data rows');
	});

	const cases: Array<[string, string, number, string]> = [
		[
			'wrong field count',
			KKBOX_HEADER + '\nu1,s1,a,b,c,1\n\nu2,s2,a,b,1\n',
			4,
			'expected 6 fields'
		],
		[
			'target not 0/1',
			KKBOX_HEADER + '\nu1,s1,a,b,c,1\nu2,s2,a,b,c,2\n',
			3,
			'target must be 0 or 1'
		],
		['empty target', KKBOX_HEADER + '\nu1,s1,a,b,c,\n', 2, 'empty target'],
		['empty msno', KKBOX_HEADER + '\nu1,s1,a,b,c,1\n,s2,a,b,c,1\n', 3, 'empty msno'],
		['empty song_id', KKBOX_HEADER + '\nu1, ,a,b,c,1\n', 2, 'empty song_id'],
		[
			'non-numeric weight',
			'userID\tartistID\tweight\n1\t2\tmany\n',
			2,
			'weight must be a positive'
		],
		['zero weight', 'user,item,weight\na,b,1\na,c,0\n', 3, 'weight must be a positive'],
		['line after a quoted break', 'user,item\n"a\nb",c\nd\n', 4, 'expected 2 fields']
	];
	for (const [name, text, line, reason] of cases) {
		it(`reports ${name} as csv/bad-line with its line`, async () => {
			const e = await rejection(ingest([text]));
			expect(e.code).toBe('csv/bad-line');
			expect(e.details.line).toBe(line);
			expect(e.details.reason).toContain(reason);
			expect(e.message).toContain(`Line ${line}`);
			expect(e.message).toContain(reason);
			expect(e.message).toContain(e.details.content as string);
		});
	}

	it('quotes the bad line content, truncated', async () => {
		const long = 'x'.repeat(500);
		const e = await rejection(ingest([`user,item\na,b\n${long},b,c\n`]));
		const content = e.details.content as string;
		expect(content.startsWith('x'.repeat(200))).toBe(true);
		expect(content.length).toBeLessThanOrEqual(201);
		const e2 = await rejection(ingest(['user,item\na,b\nc,d,e\n']));
		expect(e2.details.content).toBe('c,d,e');
	});

	it('skips and counts bad lines when asked, reporting the first', async () => {
		const text = 'user,item,weight\na,x,1\nb,y\nc,z,-1\nd,w,2\n';
		const r = await ingest([text], { badLines: 'skip' });
		expect(r.rows).toBe(4);
		expect(r.rowsKept).toBe(2);
		expect(r.badLines.count).toBe(2);
		expect(r.badLines.first).toEqual({
			line: 3,
			reason: 'expected 3 fields, found 2',
			content: 'b,y'
		});
		expect(triples(r)).toEqual([
			['a', 'x', 1],
			['d', 'w', 2]
		]);
		expect(r.eda.rows).toBe(2);
	});

	it('passes unterminated quotes through', async () => {
		const e = await rejection(ingest(['user,item\na,b\n"c,d\n']));
		expect(e.code).toBe('csv/unterminated-quote');
		expect(e.details.line).toBe(3);
	});
});

describe('ingest: progress and cancel', () => {
	const text =
		'user,item\n' + Array.from({ length: 1000 }, (_, k) => `u${k % 37},i${k}`).join('\n');
	const chunks = text.match(/[\s\S]{1,500}/g)!;

	it('reports progress with growing rows and the full size at the end', async () => {
		const seen: Array<{ rows: number; chars: number }> = [];
		await ingest(chunks, { onProgress: (p) => seen.push(p), progressEvery: 100 });
		expect(seen.length).toBeGreaterThan(3);
		for (let k = 1; k < seen.length; k++) {
			expect(seen[k].rows).toBeGreaterThanOrEqual(seen[k - 1].rows);
			expect(seen[k].chars).toBeGreaterThanOrEqual(seen[k - 1].chars);
		}
		expect(seen[seen.length - 1]).toEqual({ rows: 1000, chars: text.length });
	});

	it('throws data/cancelled when the signal is already aborted', async () => {
		const e = await rejection(ingest(chunks, { signal: { aborted: true, reason: 'user' } }));
		expect(e.code).toBe('data/cancelled');
		expect(e.details.reason).toBe('user');
	});

	it('stops with data/cancelled when aborted midway', async () => {
		const signal = { aborted: false };
		let pulled = 0;
		async function* gen(): AsyncGenerator<string> {
			for (const c of chunks) {
				pulled++;
				if (pulled === 3) signal.aborted = true;
				yield c;
			}
		}
		const e = await rejection(ingest(gen(), { signal }));
		expect(e.code).toBe('data/cancelled');
		expect(pulled).toBeLessThan(chunks.length);
	});

	it('can be aborted from a progress callback', async () => {
		const signal = { aborted: false };
		const e = await rejection(
			ingest(chunks, {
				signal,
				progressEvery: 1,
				onProgress: () => {
					signal.aborted = true;
				}
			})
		);
		expect(isMusicrecError(e, 'data/cancelled')).toBe(true);
	});
});

describe('ingest: real files', () => {
	const lastfm = demoDataFile('lastfm_hetrec2011_user_artists.dat');
	const demo = demoDataFile('kkbox_train_10k.csv');

	function checkKkbox(r: IngestResult): void {
		expect(r.schema).toBe('kkbox');
		expect(r.rows).toBe(10_000);
		expect(r.rowsKept).toBe(10_000);
		expect(r.interactions.users.size).toBe(1_622);
		expect(r.interactions.items.size).toBe(5_772);
		expect(r.eda.target?.counts['1']).toBe(7_730);
		expect(r.eda.target?.counts['0']).toBe(2_270);
		// Weights 1 + target summed over duplicates: the total equals rows + positives.
		let sum = 0;
		for (const w of r.interactions.matrix.data) sum += w;
		expect(sum).toBe(10_000 + 7_730);
	}

	it('ingests the demo copy in static/data', async () => {
		checkKkbox(await ingest(readTextChunks(demo, 1 << 14)));
	});

	it('ingests the demo with the default chunk size', async () => {
		checkKkbox(await ingest(readTextChunks(demo)));
	});

	it('ingests the Last.fm demo, user_artists.dat', async () => {
		const opts: IngestOptions = {};
		const r = await ingest(readTextChunks(lastfm, 1 << 15), opts);
		expect(r.schema).toBe('lastfm');
		expect(r.rows).toBe(92_834);
		expect(r.interactions.users.size).toBe(1_892);
		expect(r.interactions.items.size).toBe(17_632);
		expect(nnz(r.interactions.matrix)).toBe(92_834);
		expect(r.eda.weight?.min).toBe(1);
		expect(r.eda.weight?.max).toBe(352_698);
	});
});
