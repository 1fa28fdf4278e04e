import { describe, expect, it } from 'vitest';
import { hashSpan, IdInterner } from '../../../src/lib/core/data/id_interner';
import { Vocabulary } from '../../../src/lib/core/data/vocabulary';
import { Rng } from '../../../src/lib/core/random';

/** Ids of 0-6 characters from a small alphabet (many repeats), with non-ASCII code units. */
const ALPHABET = ['a', 'b', 'Z', '0', ',', ' ', 'é', '日', '\uD83C', '\uDFB5', '\uFFFD', '\u0000'];

function randomId(rng: Rng): string {
	let s = '';
	const n = rng.int(7);
	for (let k = 0; k < n; k++) s += ALPHABET[rng.int(ALPHABET.length)];
	return s;
}

/** Runs `count` lookups of random spans through `interner` and a Map reference side by side. */
function checkAgainstMap(interner: IdInterner, seed: number, count: number): Map<string, number> {
	const rng = new Rng(seed);
	const reference = new Map<string, number>();
	for (let n = 0; n < count; n++) {
		const id = randomId(rng);
		// The id sits inside a longer text, as a field inside a chunk.
		const before = randomId(rng);
		const text = before + id + randomId(rng);
		const start = before.length;
		const end = start + id.length;
		const known = reference.get(id);
		expect(interner.findSpan(text, start, end)).toBe(known ?? -1);
		const mode = rng.int(3);
		const index =
			mode === 0
				? interner.internSpan(text, start, end)
				: mode === 1
					? interner.intern(id)
					: interner.internSpan(id, 0, id.length);
		if (known === undefined) reference.set(id, reference.size);
		expect(index).toBe(reference.get(id));
		expect(interner.size).toBe(reference.size);
	}
	return reference;
}

describe('IdInterner', () => {
	it('agrees with a Map on random spans, through several table growths', () => {
		const interner = new IdInterner();
		const reference = checkAgainstMap(interner, 1, 20_000);
		expect(reference.size).toBeGreaterThan(5_000); // the table grew many times
		expect(interner.toArray()).toEqual([...reference.keys()]);
		for (const [id, i] of reference) {
			expect(interner.idAt(i)).toBe(id);
			expect(interner.find(id)).toBe(i);
		}
	});

	it('agrees with a Map when every hash collides into 1 or 4 values', () => {
		for (const mask of [0, 3]) {
			const interner = new IdInterner(mask);
			const reference = checkAgainstMap(interner, 2 + mask, 4_000);
			expect(reference.size).toBeGreaterThan(1_000);
			expect(interner.toArray()).toEqual([...reference.keys()]);
		}
	});

	it('tells apart ids with equal hashes, lengths and prefixes', () => {
		const interner = new IdInterner(0);
		const ids = [
			'',
			'a',
			'ab',
			'abc',
			'abd',
			'abcd',
			'b',
			'ba',
			'a\u0000',
			'\u0000a',
			'é',
			'\u00e9\u0301'
		];
		ids.forEach((id, i) => expect(interner.intern(id)).toBe(i));
		ids.forEach((id, i) => expect(interner.find(id)).toBe(i));
		expect(interner.find('abce')).toBe(-1);
		expect(interner.find('abc ')).toBe(-1);
	});

	it('hashes a span by its characters, not by the string holding it', () => {
		const text = 'xx,song_1234567890abcdefghij=,yy';
		const id = 'song_1234567890abcdefghij=';
		expect(hashSpan(text, 3, 3 + id.length)).toBe(hashSpan(id, 0, id.length));
		expect(hashSpan(id, 0, id.length)).not.toBe(hashSpan(id, 0, id.length - 1));
	});

	it('keeps no reference to the text a span came from', () => {
		const interner = new IdInterner();
		const text = 'prefix,' + 'x'.repeat(100) + ',suffix';
		interner.internSpan(text, 7, 107);
		const id = interner.idAt(0)!;
		expect(id).toBe('x'.repeat(100));
		expect(interner.idAt(1)).toBeUndefined();
		expect(interner.idAt(-1)).toBeUndefined();
		expect(interner.idAt(0.5)).toBeUndefined();
	});

	it('decodes long ids (beyond one fromCharCode batch) and astral characters', () => {
		const interner = new IdInterner();
		const long = '🎵'.repeat(5000) + 'end';
		const text = '[' + long + ']';
		expect(interner.internSpan(text, 1, 1 + long.length)).toBe(0);
		expect(interner.idAt(0)).toBe(long);
		expect(interner.find(long)).toBe(0);
	});
});

describe('Vocabulary on the interner', () => {
	it('maps ids both ways, with indexOf undefined for unknown ids, under forced collisions', () => {
		for (const mask of [undefined, 1]) {
			const v = new Vocabulary(mask);
			const ids = Array.from({ length: 500 }, (_, i) => `user_${i % 97}_${i % 13}`);
			const reference = new Map<string, number>();
			for (const id of ids) {
				if (!reference.has(id)) reference.set(id, reference.size);
				expect(v.add(id)).toBe(reference.get(id));
			}
			expect(v.size).toBe(reference.size);
			expect(v.toArray()).toEqual([...reference.keys()]);
			expect(v.indexOf('user_x')).toBeUndefined();
			for (const [id, i] of reference) {
				expect(v.indexOf(id)).toBe(i);
				expect(v.idAt(i)).toBe(id);
				expect(v.addSpan(`,${id},`, 1, 1 + id.length)).toBe(i);
			}
			expect(() => v.idAt(v.size)).toThrow(RangeError);
		}
	});
});
