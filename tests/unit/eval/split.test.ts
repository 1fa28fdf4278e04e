import { describe, expect, it } from 'vitest';
import { csrFromTriplets, type Csr } from '../../../src/lib/core/data/csr';
import type { Interactions } from '../../../src/lib/core/data/interactions';
import { Vocabulary } from '../../../src/lib/core/data/vocabulary';
import { isMusicrecError } from '../../../src/lib/core/errors';
import {
	heldOutCount,
	holdoutSplit,
	validationSplit,
	type HoldoutSplit
} from '../../../src/lib/core/eval/split';
import { Rng } from '../../../src/lib/core/random';
import { rowItems } from '../../helpers/csr_from_rows';

/** Random users with 0..maxItems distinct items, random weights and 0/1 targets. */
function randomInput(seed: number, users = 200, cols = 80, maxItems = 40) {
	const rng = new Rng(seed);
	const r: number[] = [];
	const c: number[] = [];
	const v: number[] = [];
	const t: number[] = [];
	for (let u = 0; u < users; u++) {
		const n = u % 7 === 0 ? u % 3 : rng.int(maxItems + 1); // plenty of 0-, 1- and 2-item users
		const items = rng.shuffle(Array.from({ length: cols }, (_, i) => i)).slice(0, n);
		for (const i of items) {
			r.push(u);
			c.push(i);
			v.push(1 + rng.int(5));
			t.push(rng.next() < 0.5 ? 1 : 0);
		}
	}
	const { matrix, extra } = csrFromTriplets(
		users,
		cols,
		Int32Array.from(r),
		Int32Array.from(c),
		Float32Array.from(v),
		Int8Array.from(t)
	);
	return { matrix, target: extra as Int8Array };
}

/** Entries of row u as [item, value, target] triples, sorted by item. */
function entries(m: Csr, target: Int8Array | undefined, u: number): [number, number, number][] {
	const out: [number, number, number][] = [];
	for (let e = m.indptr[u]; e < m.indptr[u + 1]; e++) {
		out.push([m.indices[e], m.data[e], target ? target[e] : -1]);
	}
	return out;
}

function rowSize(m: Csr, u: number): number {
	return m.indptr[u + 1] - m.indptr[u];
}

function isSortedRows(m: Csr): boolean {
	for (let u = 0; u < m.rows; u++) {
		for (let e = m.indptr[u] + 1; e < m.indptr[u + 1]; e++) {
			if (m.indices[e] <= m.indices[e - 1]) return false;
		}
	}
	return true;
}

describe('heldOutCount', () => {
	it('rounds 20% of n, at least 1 and at most n - 1', () => {
		// n:        0  1  2  3  4  5  6  7  8  9  10 12 13 17 18
		// 0.2 n:    0 .2 .4 .6 .8 1 1.2 1.4 1.6 1.8 2 2.4 2.6 3.4 3.6
		const expected: [number, number][] = [
			[0, 0],
			[1, 0],
			[2, 1],
			[3, 1],
			[4, 1],
			[5, 1],
			[6, 1],
			[7, 1],
			[8, 2],
			[9, 2],
			[10, 2],
			[12, 2],
			[13, 3],
			[17, 3],
			[18, 4]
		];
		for (const [n, h] of expected) expect(heldOutCount(n, 0.2, 2)).toBe(h);
		// At most n - 1 even for a large fraction: round(0.9 * 2) = 2 -> 1.
		expect(heldOutCount(2, 0.9, 2)).toBe(1);
		// Below minItems nothing is held out.
		expect(heldOutCount(4, 0.5, 5)).toBe(0);
		expect(heldOutCount(5, 0.5, 5)).toBe(3); // round(2.5) = 3 (halves round up)
	});
});

describe('holdoutSplit', () => {
	const input = randomInput(1);
	const split = holdoutSplit(input, { seed: 42 });

	it('keeps the shape and sorted rows', () => {
		for (const m of [split.train, split.test]) {
			expect([m.rows, m.cols]).toEqual([input.matrix.rows, input.matrix.cols]);
			expect(m.indptr.length).toBe(m.rows + 1);
			expect(m.indices.length).toBe(m.indptr[m.rows]);
			expect(m.data.length).toBe(m.indptr[m.rows]);
			expect(isSortedRows(m)).toBe(true);
		}
		expect(split.trainTarget?.length).toBe(split.train.indices.length);
		expect(split.testTarget?.length).toBe(split.test.indices.length);
	});

	it('train + test = input exactly (items, values and targets)', () => {
		for (let u = 0; u < input.matrix.rows; u++) {
			const merged = [
				...entries(split.train, split.trainTarget, u),
				...entries(split.test, split.testTarget, u)
			].sort((a, b) => a[0] - b[0]);
			expect(merged).toEqual(entries(input.matrix, input.target, u));
		}
		// And no entry is in both.
		for (let u = 0; u < input.matrix.rows; u++) {
			const train = new Set(rowItems(split.train, u));
			expect(rowItems(split.test, u).some((i) => train.has(i))).toBe(false);
		}
	});

	it('holds out heldOutCount(n) per user: >= 1 in test and >= 1 in train from 2 items', () => {
		let eligible = 0;
		let untouched = 0;
		for (let u = 0; u < input.matrix.rows; u++) {
			const n = rowSize(input.matrix, u);
			const h = rowSize(split.test, u);
			expect(h).toBe(heldOutCount(n, 0.2, 2));
			if (n >= 2) {
				eligible++;
				expect(h).toBeGreaterThanOrEqual(1);
				expect(n - h).toBeGreaterThanOrEqual(1);
			} else {
				untouched++;
				expect(h).toBe(0);
				expect(rowItems(split.train, u)).toEqual(rowItems(input.matrix, u));
			}
		}
		expect(eligible).toBeGreaterThan(100);
		expect(untouched).toBeGreaterThan(10); // the fixture does contain 0- and 1-item users
	});

	it('holds out about 20% overall', () => {
		const fraction = split.test.indices.length / input.matrix.indices.length;
		expect(fraction).toBeGreaterThan(0.18);
		expect(fraction).toBeLessThan(0.23);
	});

	it('is deterministic by seed, and another seed gives another split', () => {
		const again = holdoutSplit(input, { seed: 42 });
		expect(again).toEqual(split);
		const other = holdoutSplit(input, { seed: 43 });
		expect(other.test.indptr).toEqual(split.test.indptr); // same counts per user
		expect(other.test.indices).not.toEqual(split.test.indices); // different items
	});

	it('picks every position of a row, roughly uniformly, across seeds', () => {
		// One user with 5 items holds out 1; over 1000 seeds each position should be chosen
		// about 200 times (binomial sd ~ 12.6).
		const one = csrFromTriplets(
			1,
			5,
			Int32Array.of(0, 0, 0, 0, 0),
			Int32Array.of(0, 1, 2, 3, 4),
			Float32Array.of(1, 1, 1, 1, 1)
		).matrix;
		const counts = [0, 0, 0, 0, 0];
		for (let seed = 1; seed <= 1000; seed++) {
			counts[holdoutSplit({ matrix: one }, { seed }).test.indices[0]]++;
		}
		for (const c of counts) {
			expect(c).toBeGreaterThan(140);
			expect(c).toBeLessThan(260);
		}
	});

	it('respects testFraction and minItems', () => {
		const s = holdoutSplit(input, { seed: 5, testFraction: 0.5, minItems: 10 });
		for (let u = 0; u < input.matrix.rows; u++) {
			const n = rowSize(input.matrix, u);
			const expected = n >= 10 ? Math.min(n - 1, Math.max(1, Math.round(0.5 * n))) : 0;
			expect(rowSize(s.test, u)).toBe(expected);
		}
	});

	it('accepts an Interactions object; without target no target arrays are returned', () => {
		const m = input.matrix;
		const interactions: Interactions = {
			users: Vocabulary.from(Array.from({ length: m.rows }, (_, u) => `u${u}`)),
			items: Vocabulary.from(Array.from({ length: m.cols }, (_, i) => `i${i}`)),
			matrix: m
		};
		const s = holdoutSplit(interactions, { seed: 42 });
		expect(s.trainTarget).toBeUndefined();
		expect(s.testTarget).toBeUndefined();
		expect(s.test.indices).toEqual(split.test.indices); // same draw as with the target
	});

	it('rejects bad options and a misaligned target', () => {
		const bad = (f: () => unknown) => {
			try {
				f();
			} catch (e) {
				return isMusicrecError(e, 'eval/bad-input');
			}
			return false;
		};
		expect(bad(() => holdoutSplit(input, { seed: 1, testFraction: 0 }))).toBe(true);
		expect(bad(() => holdoutSplit(input, { seed: 1, testFraction: 1 }))).toBe(true);
		expect(bad(() => holdoutSplit(input, { seed: 1, minItems: 1 }))).toBe(true);
		expect(bad(() => holdoutSplit(input, { seed: NaN }))).toBe(true);
		expect(
			bad(() => holdoutSplit({ matrix: input.matrix, target: new Int8Array(3) }, { seed: 1 }))
		).toBe(true);
	});
});

describe('validationSplit', () => {
	const input = randomInput(2);
	const outer = holdoutSplit(input, { seed: 7 });
	const inner: HoldoutSplit = validationSplit(outer, { seed: 7 });

	it('splits the outer train part only: inner train + inner test = outer train', () => {
		for (let u = 0; u < input.matrix.rows; u++) {
			const merged = [
				...entries(inner.train, inner.trainTarget, u),
				...entries(inner.test, inner.testTarget, u)
			].sort((a, b) => a[0] - b[0]);
			expect(merged).toEqual(entries(outer.train, outer.trainTarget, u));
			const outerTest = new Set(rowItems(outer.test, u));
			expect(rowItems(inner.test, u).some((i) => outerTest.has(i))).toBe(false);
		}
		expect(inner.test.indices.length).toBeGreaterThan(0);
	});

	it('draws with a seed other than the one given', () => {
		const sameSeed = holdoutSplit({ matrix: outer.train, target: outer.trainTarget }, { seed: 7 });
		expect(inner.test.indices).not.toEqual(sameSeed.test.indices);
		expect(validationSplit(outer, { seed: 7 })).toEqual(inner);
	});
});
