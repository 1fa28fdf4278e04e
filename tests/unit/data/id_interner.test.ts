import { describe, expect, it } from 'vitest';
import { hashBytes, IdInterner } from '../../../src/lib/core/data/id_interner';
import { Vocabulary } from '../../../src/lib/core/data/vocabulary';
import { Rng } from '../../../src/lib/core/random';
import { decodeWtf8, encodeWtf8, wtf8MaxBytes } from '../../../src/lib/core/data/wtf8';

/** The WTF-8 bytes of `s`. */
function bytesOf(s: string): Uint8Array {
	const out = new Uint8Array(wtf8MaxBytes(s));
	return out.slice(0, encodeWtf8(s, out, 0));
}

/** Ids of 0-6 characters from a small alphabet (many repeats), with non-ASCII code units. */
const ALPHABET = ['a', 'b', 'Z', '0', ',', ' ', 'é', '日', '\uD83C', '\uDFB5', '\uFFFD', '\u0000'];

function randomId(rng: Rng): string {
	let s = '';
	const n = rng.int(7);
	for (let k = 0; k < n; k++) s += ALPHABET[rng.int(ALPHABET.length)];
	return s;
}

/** Whether `s` has no lone surrogate (then its WTF-8 is its UTF-8). */
function wellFormed(s: string): boolean {
	return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Runs `count` lookups of random spans through `interner` and a Map reference side by side. */
function checkAgainstMap(interner: IdInterner, seed: number, count: number): Map<string, number> {
	const rng = new Rng(seed);
	const reference = new Map<string, number>();
	for (let n = 0; n < count; n++) {
		const id = randomId(rng);
		// The id sits inside a longer text, as a field inside a chunk.
		const before = randomId(rng);
		const idBytes = bytesOf(id);
		const text = new Uint8Array([...bytesOf(before), ...idBytes, ...bytesOf(randomId(rng))]);
		const start = bytesOf(before).length;
		const end = start + idBytes.length;
		const known = reference.get(id);
		expect(interner.findBytes(text, start, end)).toBe(known ?? -1);
		const mode = rng.int(3);
		const index =
			mode === 0
				? interner.internBytes(text, start, end)
				: mode === 1
					? interner.intern(id)
					: interner.internBytes(idBytes, 0, idBytes.length);
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

	it('hashes a span by its bytes, not by the array or offset holding it', () => {
		const id = bytesOf('song_1234567890abcdefghij=');
		for (let pad = 0; pad < 8; pad++) {
			const text = new Uint8Array(pad + id.length + 3);
			text.set(id, pad);
			expect(hashBytes(text, pad, pad + id.length)).toBe(hashBytes(id, 0, id.length));
		}
		expect(hashBytes(id, 0, id.length)).not.toBe(hashBytes(id, 0, id.length - 1));
		// Every byte of every 4-byte word and of the tail counts.
		const seen = new Set<number>();
		for (let k = 0; k < id.length; k++) {
			const changed = id.slice();
			changed[k] ^= 0x80;
			seen.add(hashBytes(changed, 0, changed.length));
		}
		expect(seen.size).toBe(id.length);
		expect(seen.has(hashBytes(id, 0, id.length))).toBe(false);
	});

	it('compares a span with the stored id in place (bytesEqual)', () => {
		const interner = new IdInterner();
		const text = bytesOf('ab,abcdefgh,abcdefgi,abcdefg');
		expect(interner.internBytes(text, 3, 11)).toBe(0);
		expect(interner.bytesEqual(0, text, 3, 11)).toBe(true);
		expect(interner.bytesEqual(0, text, 12, 20)).toBe(false); // last byte differs
		expect(interner.bytesEqual(0, text, 21, 28)).toBe(false); // a prefix
		expect(interner.bytesEqual(1, text, 3, 11)).toBe(false); // no such index
		expect(interner.bytesEqual(-1, text, 3, 11)).toBe(false);
	});

	it('keeps no reference to the bytes a span came from', () => {
		const interner = new IdInterner();
		const text = bytesOf('prefix,' + 'x'.repeat(100) + ',suffix');
		interner.internBytes(text, 7, 107);
		text.fill(0);
		const id = interner.idAt(0)!;
		expect(id).toBe('x'.repeat(100));
		expect(interner.idAt(1)).toBeUndefined();
		expect(interner.idAt(-1)).toBeUndefined();
		expect(interner.idAt(0.5)).toBeUndefined();
	});

	it('decodes long ids (beyond one fromCharCode batch) and astral characters', () => {
		const interner = new IdInterner();
		const long = '🎵'.repeat(5000) + 'end';
		const text = bytesOf('[' + long + ']');
		expect(interner.internBytes(text, 1, text.length - 1)).toBe(0);
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
				expect(v.addBytes(bytesOf(`,${id},`), 1, 1 + id.length)).toBe(i);
				expect(v.bytesEqual(i, bytesOf(id), 0, id.length)).toBe(true);
			}
			expect(() => v.idAt(v.size)).toThrow(RangeError);
		}
	});
});

describe('WTF-8', () => {
	it('is UTF-8 (as TextEncoder writes it) for well-formed strings, and round-trips any string', () => {
		const rng = new Rng(7);
		const encoder = new TextEncoder();
		let wellFormedSeen = 0;
		let loneSeen = 0;
		for (let n = 0; n < 5_000; n++) {
			let s = '';
			for (let k = rng.int(12); k > 0; k--) s += ALPHABET[rng.int(ALPHABET.length)];
			const b = bytesOf(s);
			expect(decodeWtf8(b, 0, b.length)).toBe(s);
			if (wellFormed(s)) {
				wellFormedSeen++;
				expect([...b]).toEqual([...encoder.encode(s)]);
			} else {
				loneSeen++;
			}
		}
		expect(wellFormedSeen).toBeGreaterThan(1_000);
		expect(loneSeen).toBeGreaterThan(1_000);
	});

	it('keeps lone surrogates apart (two such ids stay two)', () => {
		const interner = new IdInterner();
		expect(interner.intern('a\uD800')).toBe(0);
		expect(interner.intern('a\uD801')).toBe(1);
		expect(interner.intern('a\uFFFD')).toBe(2);
		expect(interner.toArray()).toEqual(['a\uD800', 'a\uD801', 'a\uFFFD']);
	});
});
