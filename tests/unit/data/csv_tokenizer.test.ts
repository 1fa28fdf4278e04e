import { describe, expect, it } from 'vitest';
import { CsvTokenizer } from '../../../src/lib/core/data/csv_tokenizer';
import type { CsvDelimiter } from '../../../src/lib/core/data/csv_tokenizer';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { Rng } from '../../../src/lib/core/random';

type Rec = { fields: string[]; line: number };

/** Tokenize `chunks` in order; returns the records, or the thrown error. */
function tokenize(chunks: string[], delimiter: CsvDelimiter = ','): Rec[] {
	const out: Rec[] = [];
	const t = new CsvTokenizer(delimiter, (fields, line) =>
		out.push({ fields: fields.slice(), line })
	);
	for (const c of chunks) t.push(c);
	t.end();
	return out;
}

/** Outcome as a comparable value: records, or the error code and line. */
function outcome(chunks: string[], delimiter: CsvDelimiter = ','): unknown {
	try {
		return tokenize(chunks, delimiter);
	} catch (e) {
		if (isMusicrecError(e)) return { code: e.code, line: e.details.line };
		throw e;
	}
}

/**
 * A second, deliberately plain character-by-character reader with the same rules: RFC 4180
 * quoting, CRLF / LF / lone CR breaks, leading BOM dropped, records that are one empty field
 * skipped, text after a closing quote appended, `"` inside an unquoted field literal.
 */
function reference(input: string, delim: string): unknown {
	const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
	const n = text.length;
	const out: Rec[] = [];
	let i = 0;
	let line = 1;
	while (i < n) {
		const start = line;
		const fields: string[] = [];
		for (;;) {
			let field = '';
			if (text[i] === '"') {
				const quoteLine = line;
				i++;
				for (;;) {
					if (i >= n) return { code: 'csv/unterminated-quote', line: quoteLine };
					const c = text[i];
					if (c === '"') {
						if (text[i + 1] === '"') {
							field += '"';
							i += 2;
						} else {
							i++;
							break;
						}
					} else {
						if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
						field += c;
						i++;
					}
				}
			}
			while (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
			fields.push(field);
			if (i < n && text[i] === delim) {
				i++;
				continue;
			}
			break;
		}
		if (i < n) {
			i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
			line++;
		}
		if (!(fields.length === 1 && fields[0] === '')) out.push({ fields, line: start });
	}
	return out;
}

/** Split `text` at the given sorted cut positions. */
function splitAt(text: string, cuts: number[]): string[] {
	const parts: string[] = [];
	let last = 0;
	for (const c of cuts) {
		parts.push(text.slice(last, c));
		last = c;
	}
	parts.push(text.slice(last));
	return parts;
}

const TRICKY =
	'\uFEFFname,"quoted, comma","multi\r\nline ""q"""\r\n' +
	'x,,z\n\n"",b,\r"c\rd",e,f\r\n\r\n' +
	'plain,"a""""b",""""\n' +
	'"x"tail,y\n' +
	'last,"",end';

describe('CsvTokenizer', () => {
	it('splits simple records and numbers their lines', () => {
		expect(tokenize(['a,b\nc,d\n'])).toEqual([
			{ fields: ['a', 'b'], line: 1 },
			{ fields: ['c', 'd'], line: 2 }
		]);
	});

	it('reads a last record without a line break and keeps trailing empty fields', () => {
		expect(tokenize(['a,\n,b\nc,d'])).toEqual([
			{ fields: ['a', ''], line: 1 },
			{ fields: ['', 'b'], line: 2 },
			{ fields: ['c', 'd'], line: 3 }
		]);
		expect(tokenize(['a,b,'])).toEqual([{ fields: ['a', 'b', ''], line: 1 }]);
	});

	it('handles CRLF, LF and lone CR line endings, mixed', () => {
		expect(tokenize(['a\r\nb\nc\rd\r\ne'])).toEqual([
			{ fields: ['a'], line: 1 },
			{ fields: ['b'], line: 2 },
			{ fields: ['c'], line: 3 },
			{ fields: ['d'], line: 4 },
			{ fields: ['e'], line: 5 }
		]);
	});

	it('skips empty lines but still counts them', () => {
		expect(tokenize(['a\n\n\r\n\nb\n\n'])).toEqual([
			{ fields: ['a'], line: 1 },
			{ fields: ['b'], line: 5 }
		]);
	});

	it('drops a leading BOM only', () => {
		expect(tokenize(['\uFEFFa,b\n', '\uFEFFc,d'])).toEqual([
			{ fields: ['a', 'b'], line: 1 },
			{ fields: ['\uFEFFc', 'd'], line: 2 }
		]);
		// BOM arriving alone in the first chunk.
		expect(tokenize(['\uFEFF', 'x\n'])).toEqual([{ fields: ['x'], line: 1 }]);
	});

	it('reads quoted delimiters, line breaks and doubled quotes', () => {
		expect(tokenize(['"a,b",c\n"x\ny",z\r\nw,"he said ""hi""",""\n'])).toEqual([
			{ fields: ['a,b', 'c'], line: 1 },
			{ fields: ['x\ny', 'z'], line: 2 },
			{ fields: ['w', 'he said "hi"', ''], line: 4 }
		]);
	});

	it('counts CRLF inside quotes as one line', () => {
		expect(tokenize(['"1\r\n2\r\n3",a\nb'])).toEqual([
			{ fields: ['1\r\n2\r\n3', 'a'], line: 1 },
			{ fields: ['b'], line: 4 }
		]);
	});

	it('uses the given delimiter only', () => {
		expect(tokenize(['a\tb,c\n"d\te"\tf'], '\t')).toEqual([
			{ fields: ['a', 'b,c'], line: 1 },
			{ fields: ['d\te', 'f'], line: 2 }
		]);
	});

	it('throws csv/unterminated-quote with the line of the opening quote', () => {
		let err: unknown;
		try {
			tokenize(['a,b\nc,"d\ne\nf']);
		} catch (e) {
			err = e;
		}
		expect(isMusicrecError(err, 'csv/unterminated-quote')).toBe(true);
		if (!isMusicrecError(err)) return;
		expect(err.details.line).toBe(2);
		expect(err.message).toContain('Line 2');
	});

	it('matches the plain reference on a tricky text', () => {
		const expected = reference(TRICKY, ',');
		expect(outcome([TRICKY])).toEqual(expected);
		// A few spot checks so the reference itself is pinned down.
		const recs = expected as Rec[];
		expect(recs[0]).toEqual({
			fields: ['name', 'quoted, comma', 'multi\r\nline "q"'],
			line: 1
		});
		expect(recs[1]).toEqual({ fields: ['x', '', 'z'], line: 3 });
		expect(recs[2]).toEqual({ fields: ['', 'b', ''], line: 5 });
		expect(recs[3]).toEqual({ fields: ['c\rd', 'e', 'f'], line: 6 });
		expect(recs[4]).toEqual({ fields: ['plain', 'a""b', '"'], line: 9 });
		expect(recs[5]).toEqual({ fields: ['xtail', 'y'], line: 10 });
		expect(recs[6]).toEqual({ fields: ['last', '', 'end'], line: 11 });
	});

	it('gives the same records for every two-chunk split and for one char per chunk', () => {
		const whole = outcome([TRICKY]);
		for (let p = 0; p <= TRICKY.length; p++) {
			expect(outcome(splitAt(TRICKY, [p])), `split at ${p}`).toEqual(whole);
		}
		expect(outcome(TRICKY.split(''))).toEqual(whole);
	});

	it('gives the same records for random multi-chunk splits', () => {
		const rng = new Rng(11);
		const whole = outcome([TRICKY]);
		for (let trial = 0; trial < 300; trial++) {
			const cuts = new Set<number>();
			const k = 1 + rng.int(8);
			for (let j = 0; j < k; j++) cuts.add(rng.int(TRICKY.length + 1));
			const sorted = [...cuts].sort((a, b) => a - b);
			expect(outcome(splitAt(TRICKY, sorted))).toEqual(whole);
		}
	});

	it('agrees with the reference on random texts split at random positions', () => {
		const rng = new Rng(2024);
		const alphabet = ['a', 'b', ',', '\t', '"', '"', '\n', '\r', ' '];
		for (let trial = 0; trial < 2000; trial++) {
			const len = rng.int(40);
			let text = rng.next() < 0.2 ? '\uFEFF' : '';
			for (let j = 0; j < len; j++) text += alphabet[rng.int(alphabet.length)];
			const delim: CsvDelimiter = rng.next() < 0.5 ? ',' : '\t';
			const cuts = [rng.int(text.length + 1), rng.int(text.length + 1)].sort((a, b) => a - b);
			const expected = reference(text, delim);
			expect(outcome([text], delim), JSON.stringify(text)).toEqual(expected);
			expect(outcome(splitAt(text, cuts), delim), JSON.stringify([text, cuts])).toEqual(expected);
		}
	});

	it('refuses a push after end', () => {
		const t = new CsvTokenizer(',', () => {});
		t.end();
		expect(() => t.push('a')).toThrow();
	});
});
