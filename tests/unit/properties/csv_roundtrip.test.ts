import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../../src/lib/core/data/ingest';

/** One generated row: raw ids as written (before ingest trims them) and a positive weight. */
interface Row {
	user: string;
	item: string;
	weight: number;
	/** Quote the weight field even though it needs no quoting. */
	quoteWeight: boolean;
}

/**
 * Characters ids are drawn from: CSV specials (delimiter, quote, CR, LF), whitespace that ingest
 * trims at the ends, and non-ASCII (Latin-1, CJK, an astral emoji as a surrogate pair, and a
 * U+FEFF that is not at the start of the file).
 */
const ID_CHARS = ['a', 'b', 'Z', '1', ',', '"', '\n', '\r', ' ', '\t', 'é', '日', '🎵', '\uFEFF'];

const idArb = fc
	.array(fc.constantFrom(...ID_CHARS), { minLength: 1, maxLength: 5 })
	.map((cs) => cs.join(''))
	.filter((s) => s.trim().length > 0);

const rowArb: fc.Arbitrary<Row> = fc.record({
	user: idArb,
	item: idArb,
	// Multiples of 1/8 below 2^13: every value and every sum of a few is exact in float32.
	weight: fc.integer({ min: 1, max: 65_536 }).map((k) => k / 8),
	quoteWeight: fc.boolean()
});

/** RFC 4180 field: quoted (with doubled quotes) when it holds a comma, quote, CR or LF. */
function csvField(s: string, force = false): string {
	return force || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 text with a `user,item,weight` header and the given line break. */
function serialize(rows: Row[], eol: string): string {
	const lines = ['user,item,weight'];
	for (const r of rows) {
		lines.push(
			[csvField(r.user), csvField(r.item), csvField(String(r.weight), r.quoteWeight)].join(',')
		);
	}
	return lines.join(eol) + eol;
}

/** Plain reference: (trimmed user, trimmed item) -> summed weight, in first-seen order. */
function expected(rows: Row[]): Map<string, number> {
	const sums = new Map<string, number>();
	for (const r of rows) {
		const key = JSON.stringify([r.user.trim(), r.item.trim()]);
		sums.set(key, (sums.get(key) ?? 0) + r.weight);
	}
	return sums;
}

/** What ingest produced, in the reference's shape. */
function parsed(result: Awaited<ReturnType<typeof ingest>>): Map<string, number> {
	const { users, items, matrix } = result.interactions;
	const out = new Map<string, number>();
	for (let u = 0; u < matrix.rows; u++) {
		for (let k = matrix.indptr[u]; k < matrix.indptr[u + 1]; k++) {
			out.set(JSON.stringify([users.idAt(u), items.idAt(matrix.indices[k])]), matrix.data[k]);
		}
	}
	return out;
}

/** `text` cut at the given positions (any offsets, sorted and clamped). */
function split(text: string, cuts: number[]): string[] {
	const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
	const chunks: string[] = [];
	let start = 0;
	for (const c of at) {
		chunks.push(text.slice(start, c));
		start = c;
	}
	chunks.push(text.slice(start));
	return chunks;
}

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

describe('CSV round trip (property)', () => {
	it('ingest reads back every serialized dataset: ids, pairs and summed weights', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(rowArb, { minLength: 1, maxLength: 12 }),
				fc.constantFrom('\n', '\r\n', '\r'),
				async (rows, eol) => {
					const result = await ingest([serialize(rows, eol)]);
					expect(result.schema).toBe('generic');
					expect(result.rows).toBe(rows.length);
					expect(result.rowsKept).toBe(rows.length);
					expect(result.badLines.count).toBe(0);
					const want = expected(rows);
					expect(sorted(parsed(result))).toEqual(sorted(want));
					const users = new Set(rows.map((r) => r.user.trim()));
					const items = new Set(rows.map((r) => r.item.trim()));
					expect(new Set(result.interactions.users.toArray())).toEqual(users);
					expect(new Set(result.interactions.items.toArray())).toEqual(items);
				}
			),
			{ seed: 42, numRuns: 300 }
		);
	});

	it('gives the same result for any chunking of the text', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(rowArb, { minLength: 1, maxLength: 8 }),
				fc.constantFrom('\n', '\r\n', '\r'),
				fc.array(fc.nat(), { maxLength: 12 }),
				async (rows, eol, cuts) => {
					const text = serialize(rows, eol);
					const chunks = split(text, cuts);
					expect(chunks.join('')).toBe(text);
					const whole = await ingest([text]);
					const pieces = await ingest(chunks);
					expect(sorted(parsed(pieces))).toEqual(sorted(expected(rows)));
					expect(pieces.interactions.users.toArray()).toEqual(whole.interactions.users.toArray());
					expect(pieces.interactions.items.toArray()).toEqual(whole.interactions.items.toArray());
					expect(pieces.rows).toBe(rows.length);
				}
			),
			{ seed: 42, numRuns: 300 }
		);
	});
});
