import { describe, expect, it } from 'vitest';
import { CsvTokenizer } from '../../../src/lib/core/data/csv_tokenizer';
import { Rng } from '../../../src/lib/core/random';

type Rec = [number, string[]];

/** Records of `text` cut into `chunks`, with or without the in-place line handler. */
function records(chunks: string[], inPlace: boolean): { recs: Rec[]; lines: number } {
	const recs: Rec[] = [];
	let lines = 0;
	const t = new CsvTokenizer(
		',',
		(fields, line) => recs.push([line, fields.slice()]),
		inPlace
			? (text, start, end, line) => {
					lines++;
					recs.push([line, text.slice(start, end).split(',')]);
				}
			: undefined
	);
	for (const c of chunks) t.push(c);
	t.end();
	return { recs, lines };
}

describe('CsvTokenizer line handler', () => {
	const text =
		'\uFEFFa,b,c\r\n1,2,3\n"q,1",x,"y\r\nz"\n\n4,5,6\r7,8,9\r\n,,\n10,"11""",12\nlast,no,break';

	it('hands whole unquoted lines in place and the same records as without it', () => {
		const plain = records([text], false).recs;
		const inPlace = records([text], true);
		expect(inPlace.recs).toEqual(plain);
		expect(inPlace.lines).toBeGreaterThan(0); // the in-place path was taken
		expect(plain[0]).toEqual([1, ['a', 'b', 'c']]);
	});

	it('gives the same records for any chunking', () => {
		const reference = records([text], false).recs;
		const rng = new Rng(9);
		for (let n = 0; n < 200; n++) {
			const chunks: string[] = [];
			for (let k = 0; k < text.length;) {
				const step = 1 + rng.int(12);
				chunks.push(text.slice(k, k + step));
				k += step;
			}
			expect(records(chunks, true).recs).toEqual(reference);
		}
	});
});
