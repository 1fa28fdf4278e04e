import { describe, expect, it } from 'vitest';
import { HEAD_ROWS } from '../../../src/lib/core/data/eda';
import { ingest } from '../../../src/lib/core/data/ingest';
import type { IngestChunk, IngestOptions, IngestResult } from '../../../src/lib/core/data/ingest';
import { MusicrecError } from '../../../src/lib/core/errors';
import { Rng } from '../../../src/lib/core/random';

/**
 * Whole lines of an all-ASCII chunk are read in place (the rest of the line looked up as a
 * whole, or field offsets; ids hashed as bytes without cutting them out); every other record
 * is split into fields first. Fed one character at a time, no line is ever whole inside a
 * chunk, so every record takes the split path: that is the reference the in-place reading
 * must match exactly (results, counts, errors), fed as text or as UTF-8 bytes cut anywhere.
 */
function oneCharChunks(text: string): string[] {
	return Array.from({ length: text.length }, (_, k) => text[k]);
}

/** Everything observable of a result, ids as strings (vocabularies are compared by content). */
function view(r: IngestResult): unknown {
	const { users, items, matrix, target } = r.interactions;
	return {
		schema: r.schema,
		columns: r.columns,
		rows: r.rows,
		rowsKept: r.rowsKept,
		badLines: r.badLines,
		users: users.toArray(),
		items: items.toArray(),
		indptr: Array.from(matrix.indptr),
		indices: Array.from(matrix.indices),
		data: Array.from(matrix.data),
		target: target ? Array.from(target) : undefined,
		eda: r.eda
	};
}

type Paths = IngestResult['paths'];

async function outcome(chunks: IngestChunk[], options: IngestOptions): Promise<[unknown, Paths?]> {
	try {
		const r = await ingest(chunks, options);
		return [view(r), r.paths];
	} catch (e) {
		if (!(e instanceof MusicrecError)) throw e;
		return [{ code: e.code, message: e.message, details: e.details }];
	}
}

/** `bytes` cut at `pieces - 1` random places (inside multi-byte characters too). */
function randomCuts(bytes: Uint8Array, pieces: number, rng: Rng): Uint8Array[] {
	const cuts = Array.from({ length: pieces - 1 }, () => rng.int(bytes.length + 1)).sort(
		(a, b) => a - b
	);
	const out: Uint8Array[] = [];
	let at = 0;
	for (const c of [...cuts, bytes.length]) {
		out.push(bytes.subarray(at, c));
		at = c;
	}
	return out;
}

/**
 * The same outcome whole, one character at a time (the reference), as one byte chunk and as
 * byte chunks cut at random; returns the outcome and the paths of the whole-text run.
 */
async function expectSameAllWays(
	text: string,
	options: IngestOptions = {}
): Promise<[unknown, Paths?]> {
	const [split] = await outcome(oneCharChunks(text), options);
	const whole = await outcome([text], options);
	expect(whole[0]).toEqual(split);
	const bytes = new TextEncoder().encode(text);
	const [fromBytes, bytePaths] = await outcome([bytes], options);
	expect(fromBytes).toEqual(split);
	expect(bytePaths).toEqual(whole[1]);
	const rng = new Rng(text.length);
	for (const pieces of [2, 5, 40]) {
		expect((await outcome(randomCuts(bytes, pieces, rng), options))[0]).toEqual(split);
	}
	return whole;
}

async function expectSameBothWays(text: string, options: IngestOptions = {}): Promise<unknown> {
	return (await expectSameAllWays(text, options))[0];
}

const KKBOX_HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';
const TABS = ['my library', 'discover', '', ' ', 'search', ' radio', 'é tab', 'x\uFFFD'];

/** Whether every character of `s` is ASCII. */
function isAscii(s: string): boolean {
	return [...s].every((c) => c.charCodeAt(0) < 128);
}

const ASCII_TABS = TABS.filter(isAscii);

/** A plain KKBox row from a small pool of users and songs (repeated pairs included). */
function goodRow(rng: Rng, tabs = TABS): string {
	const user = `u${rng.int(12)}_${'A'.repeat(rng.int(3))}=`;
	const song = `song${rng.int(40)}`;
	const tab = tabs[rng.int(tabs.length)];
	return `${user},${song},${tab},Local playlist more,,${rng.int(2)}`;
}

/** Rows the in-place reader must hand over to the split path (or report exactly as it does). */
const ODD_ROWS = [
	' u1,s1,discover,a,b,1', // ids are trimmed
	'u1 ,s1,discover,a,b,1',
	'u1,\ts1,discover,a,b,0',
	'\u00a0u1,s1,discover,a,b,0', // no-break space: trimmed by String.trim
	'u1,s1\u2028,discover,a,b,0',
	'u1\u3000,s1,discover,a,b,1',
	'éu1,s1,discover,a,b,1', // non-ASCII first character, kept
	'u1,s\uFFFD1,discover,a,b,1', // not UTF-8
	'\uFFFD,s1,discover,a,b,1',
	'u1,s1,disc\uFFFDover,a,b,1', // U+FFFD in a context column is fine
	',s1,discover,a,b,1',
	'u1,,discover,a,b,1',
	'   ,s1,discover,a,b,1',
	'u1,s1,discover,a,b,2',
	'u1,s1,discover,a,b, 1',
	'u1,s1,discover,a,b,1 ',
	'u1,s1,discover,a,b,',
	'u1,s1,discover,a,b,01',
	'u1,s1,discover,a,b,1.0',
	'u1,s1,discover,a,b',
	'u1,s1,discover,a,b,1,extra',
	'u1',
	'"u1",s1,discover,a,b,1',
	'u1,"s,1",discover,a,b,0',
	'u1,s1,"multi\nline",a,b,1',
	'u1,s1,\t,a,b,1', // whitespace-only context: missing
	'u1,s1, discover,a,b,1', // leading space: a value of its own
	'u 1,s 1,discover,a,b,1', // inner spaces are part of the id
	'u1,s1,\u3000,a,b,1', // a context of Unicode whitespace only: missing
	'u1,s1, \u00a0,a,b,0',
	'u日1,s🎵1,発見,a,b,1', // non-ASCII inside ids and in a context value
	''
];

function kkboxText(seed: number, odd: string[], eol = '\n', tabs = TABS): string {
	const rng = new Rng(seed);
	const lines = [KKBOX_HEADER];
	for (let k = 0; k < HEAD_ROWS + 10; k++) lines.push(goodRow(rng, tabs));
	for (const line of odd) {
		for (let k = rng.int(4); k > 0; k--) lines.push(goodRow(rng, tabs));
		lines.push(line);
	}
	for (let k = 0; k < 20; k++) lines.push(goodRow(rng, tabs));
	return lines.join(eol) + eol;
}

const ASCII_ODD_ROWS = ODD_ROWS.filter(isAscii);

describe('ingest reading whole lines in place', () => {
	it('matches the split path on every odd row, skipping bad lines', async () => {
		for (const eol of ['\n', '\r\n', '\r']) {
			const r = (await expectSameBothWays(kkboxText(1, ODD_ROWS, eol), {
				badLines: 'skip'
			})) as { badLines: { count: number }; rows: number };
			expect(r.badLines.count).toBe(10); // the rows above that are not valid (01, 1.0 and padded 1 are)
			expect(r.rows).toBeGreaterThan(HEAD_ROWS + ODD_ROWS.length);
		}
	});

	it('reads all-ASCII text in place, grouped by the rest of the line, odd rows apart', async () => {
		for (const eol of ['\n', '\r\n']) {
			const text = kkboxText(2, ASCII_ODD_ROWS, eol, ASCII_TABS);
			const [r, paths] = (await expectSameAllWays(text, { badLines: 'skip' })) as [
				{ rows: number; badLines: { count: number } },
				Paths
			];
			expect(r.badLines.count).toBe(8);
			// Every good row after the head is grouped; the odd ones are split.
			expect(paths.grouped).toBeGreaterThan(r.rows - HEAD_ROWS - ASCII_ODD_ROWS.length - 1);
			expect(paths.grouped + paths.inPlace + paths.split).toBe(r.rows);
			expect(paths.split).toBeGreaterThanOrEqual(HEAD_ROWS);
		}
	});

	it('reads the lines of a non-ASCII chunk in place from their UTF-8 (U+FFFD lines apart)', async () => {
		const text = kkboxText(6, ODD_ROWS);
		const [r, paths] = (await expectSameAllWays(text, { badLines: 'skip' })) as [
			{ rows: number; badLines: { count: number } },
			Paths
		];
		expect(r.badLines.count).toBe(10);
		// Good rows whose context holds U+FFFD and the odd rows are split; the rest are grouped.
		expect(paths.grouped).toBeGreaterThan((r.rows - HEAD_ROWS) / 2);
		// The missing counts include the contexts of Unicode whitespace only.
		const weighted = ['user\titem\tweight'];
		for (let k = 0; k < HEAD_ROWS + 40; k++) {
			const w = ['3', '3\u00a0', '\u30003', '２', ' 4'][k % 5];
			weighted.push(`uü${k % 7}\tií${k % 11}\t${w}`);
		}
		const [, weightedPaths] = await expectSameAllWays(weighted.join('\n') + '\n', {
			weighting: 'raw',
			badLines: 'skip'
		});
		expect(weightedPaths!.grouped).toBeGreaterThan(0);
	});

	it('stops with the same error and message at each bad row', async () => {
		let errors = 0;
		for (let k = 0; k < ODD_ROWS.length; k++) {
			const r = (await expectSameBothWays(kkboxText(10 + k, [ODD_ROWS[k]]))) as {
				code?: string;
			};
			if (r.code !== undefined) {
				expect(r.code).toBe('csv/bad-line');
				errors++;
			}
		}
		expect(errors).toBe(10);
	});

	it('matches under every KKBox weighting, the drop of positive-only included', async () => {
		for (const weighting of ['one-plus-target', 'all-ones', 'positive-only'] as const) {
			await expectSameBothWays(kkboxText(3, ODD_ROWS), { weighting, badLines: 'skip' });
		}
	});

	it('matches with an index column, tabs as delimiter and weight columns', async () => {
		const rng = new Rng(4);
		const weights = [
			'1',
			'2.5',
			' 3',
			'4 ',
			'1e3',
			'0x10',
			'0',
			'-1',
			'Infinity',
			'',
			'abc',
			'1e16'
		];
		const lines = ['user\titem\tweight'];
		for (let k = 0; k < HEAD_ROWS + 200; k++) {
			const w = k < HEAD_ROWS ? '1' : weights[rng.int(weights.length)];
			lines.push(`user${rng.int(9)}\titem,${rng.int(30)}\t${w}`);
		}
		for (const weighting of ['raw', 'log1p', 'binary'] as const) {
			await expectSameBothWays(lines.join('\n'), { weighting, badLines: 'skip' });
		}
		const indexed = ['', ...kkboxText(5, []).split('\n').slice(1, -1)].map(
			(line, k) => `${k === 0 ? '' : k - 1},${line}`
		);
		indexed[0] = ',' + KKBOX_HEADER;
		await expectSameBothWays(indexed.join('\n'), { badLines: 'skip' });
	});
});

describe('ingest grouping rows by the rest of the line', () => {
	it('groups the first 65,536 distinct tails and reads rows with later ones field by field', async () => {
		const rows = 70_000;
		const lines = ['user,item,weight'];
		for (let k = 0; k < HEAD_ROWS + rows; k++) lines.push(`u${k % 97},i${k % 1013},${k + 1}`);
		const text = lines.join('\n') + '\n';
		const r = await ingest([text], { weighting: 'log1p' });
		expect(r.paths).toEqual({ grouped: 65_536, inPlace: rows - 65_536, split: HEAD_ROWS });
		// Reference: every line cut in two, so every record is split into fields.
		const pieces: string[] = [];
		for (const line of lines) pieces.push(line.slice(0, 3), line.slice(3) + '\n');
		const reference = await ingest(pieces, { weighting: 'log1p' });
		expect(reference.paths.split).toBe(HEAD_ROWS + rows);
		expect(view(r)).toEqual(view(reference));
	});

	it('reads item-first files grouped too, and repeated tails once', async () => {
		const rng = new Rng(9);
		const lines = ['artistID\tuserID\tweight'];
		for (let k = 0; k < HEAD_ROWS + 500; k++) {
			lines.push(`i${rng.int(50)}\tu${rng.int(20)}\t${1 + rng.int(5)}`);
		}
		const [, paths] = await expectSameAllWays(lines.join('\n') + '\n', { weighting: 'raw' });
		expect(paths).toEqual({ grouped: 500, inPlace: 0, split: HEAD_ROWS });
	});
});
