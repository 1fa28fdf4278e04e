import { describe, expect, it } from 'vitest';
import { HEAD_ROWS } from '../../../src/lib/core/data/eda';
import { ingest } from '../../../src/lib/core/data/ingest';
import type { IngestOptions, IngestResult } from '../../../src/lib/core/data/ingest';
import { MusicrecError } from '../../../src/lib/core/errors';
import { Rng } from '../../../src/lib/core/random';

/**
 * Whole lines inside one chunk are read in place (field offsets, spans hashed without cutting
 * them out); every other record is split into fields first. Fed one character at a time, no
 * line is ever whole inside a chunk, so every record takes the split path: that is the
 * reference the in-place reading must match exactly (results, counts, errors).
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

async function outcome(chunks: string[], options: IngestOptions): Promise<unknown> {
	try {
		return view(await ingest(chunks, options));
	} catch (e) {
		if (!(e instanceof MusicrecError)) throw e;
		return { code: e.code, message: e.message, details: e.details };
	}
}

async function expectSameBothWays(text: string, options: IngestOptions = {}): Promise<unknown> {
	const inPlace = await outcome([text], options);
	const split = await outcome(oneCharChunks(text), options);
	expect(inPlace).toEqual(split);
	return inPlace;
}

const KKBOX_HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';
const TABS = ['my library', 'discover', '', ' ', 'search', ' radio', 'é tab', 'x\uFFFD'];

/** A plain KKBox row from a small pool of users and songs (repeated pairs included). */
function goodRow(rng: Rng): string {
	const user = `u${rng.int(12)}_${'A'.repeat(rng.int(3))}=`;
	const song = `song${rng.int(40)}`;
	const tab = TABS[rng.int(TABS.length)];
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
	''
];

function kkboxText(seed: number, odd: string[], eol = '\n'): string {
	const rng = new Rng(seed);
	const lines = [KKBOX_HEADER];
	for (let k = 0; k < HEAD_ROWS + 10; k++) lines.push(goodRow(rng));
	for (const line of odd) {
		for (let k = rng.int(4); k > 0; k--) lines.push(goodRow(rng));
		lines.push(line);
	}
	for (let k = 0; k < 20; k++) lines.push(goodRow(rng));
	return lines.join(eol) + eol;
}

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
