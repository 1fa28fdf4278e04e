import { describe, expect, it } from 'vitest';
import { csrFromRows } from '../../helpers/csr_from_rows';
import { bruteTopN } from '../../helpers/brute_top_n';
import { topKRate } from '../../../src/lib/core/eval/target_rate';
import { defaultTargetSong, poisonInteractions } from '../../../src/lib/core/federation/attacks';
import { statisticsEnergy } from '../../../src/lib/core/federation/robust';
import { Vocabulary } from '../../../src/lib/core/data/vocabulary';
import { Rng } from '../../../src/lib/core/random';

/** Packed upper triangle (row by row) of a dense symmetric f x f matrix. */
function packed(m: number[][]): number[] {
	const out: number[] = [];
	for (let r = 0; r < m.length; r++) for (let c = r; c < m.length; c++) out.push(m[r][c]);
	return out;
}

/**
 * One song's statistics built here from user factors and confidences, not by the client code:
 * G = sum over all users x x', A = sum over the song's listeners (c - 1) x x', b = sum c x.
 */
function songStatistics(xs: number[][], listeners: number[], c: number[]) {
	const f = xs[0].length;
	const g = Array.from({ length: f }, () => new Array<number>(f).fill(0));
	const a = Array.from({ length: f }, () => new Array<number>(f).fill(0));
	const b = new Array<number>(f).fill(0);
	for (const x of xs)
		for (let r = 0; r < f; r++) for (let s = 0; s < f; s++) g[r][s] += x[r] * x[s];
	listeners.forEach((u, k) => {
		for (let r = 0; r < f; r++) {
			b[r] += c[k] * xs[u][r];
			for (let s = 0; s < f; s++) a[r][s] += (c[k] - 1) * xs[u][r] * xs[u][s];
		}
	});
	return { gram: g.flat(), itemGrams: packed(a), itemTargets: b, touched: [0] };
}

describe("energy check: sum_i b_i' (A_i + G)^-1 b_i <= confidence total", () => {
	it('one listener, one song: the hand-computed value (Sherman-Morrison), and a b off x explodes it', () => {
		// x = (1, 2), c = 5: A + G = 5 x x'; eps = 1e-4 tr / f = 1e-4 * 25 / 2.
		const s = songStatistics([[1, 2]], [0], [5]);
		const eps = (1e-4 * 25) / 2;
		// b'(eps I + 5 x x')^-1 b with b = 5 x is 25 |x|^2 / (eps + 5 |x|^2).
		expect(statisticsEnergy(s, 2)).toBeCloseTo((25 * 5) / (eps + 25), 9);
		expect(statisticsEnergy(s, 2)).toBeLessThan(5);
		// Add (2, -1), orthogonal to x: its part is |n|^2 / eps = 5 / eps = 4000.
		const moved = { ...s, itemTargets: [5 + 2, 10 - 1] };
		expect(statisticsEnergy(moved, 2)).toBeGreaterThan(3000);
	});

	it('holds for random honest statistics, confidences below 1 included, and is nearly tight for one listener', () => {
		const rng = new Rng(7);
		for (let trial = 0; trial < 300; trial++) {
			const f = 2 + rng.int(5);
			const users = 1 + rng.int(9);
			const xs = Array.from({ length: users }, () =>
				Array.from({ length: f }, () => rng.normal() * (0.1 + rng.next()))
			);
			const listeners = Array.from({ length: users }, (_, u) => u).filter(
				(u) => u === 0 || rng.next() < 0.5
			);
			// The implicit convention's c = alpha w can be below 1 (then A is not PSD).
			const c = listeners.map(() => 0.05 + rng.next() * 50);
			const total = c.reduce((p, q) => p + q, 0);
			const e = statisticsEnergy(songStatistics(xs, listeners, c), f);
			expect(e).toBeLessThanOrEqual(total * (1 + 1e-9));
			if (users === 1) expect(e / total).toBeGreaterThan(0.99);
		}
	});

	it('an A + G that is not positive semidefinite gives Infinity', () => {
		const s = songStatistics([[1, 0]], [0], [2]);
		expect(statisticsEnergy({ ...s, itemGrams: [-10, 0, 0] }, 2)).toBe(Infinity);
	});
});

describe('targeted attack helpers', () => {
	it('topKRate equals the rate read from a full sort', () => {
		const rng = new Rng(3);
		const users = 40;
		const items = 30;
		const f = 4;
		const x = Float64Array.from({ length: users * f }, () => rng.normal());
		const y = Float32Array.from({ length: items * f }, () => rng.normal());
		const rows = Array.from({ length: users }, () =>
			Array.from({ length: items }, (_, i) => i).filter(() => rng.next() < 0.2)
		);
		const train = csrFromRows(rows, items);
		const watched = Int32Array.from({ length: users }, (_, u) => u);
		for (const item of [0, 7, 29]) {
			const score = (u: number, i: number) => {
				let s = 0;
				for (let r = 0; r < f; r++) s += x[u * f + r] * y[i * f + r];
				return s;
			};
			const top = bruteTopN(watched, 10, items, score, train);
			let hits = 0;
			let counted = 0;
			for (let u = 0; u < users; u++) {
				if (rows[u].includes(item)) continue;
				counted++;
				if (Array.from(top.items.subarray(u * 10, u * 10 + 10)).includes(item)) hits++;
			}
			expect(topKRate(x, y, f, train, watched, item)).toEqual({
				rate: hits / counted,
				users: counted
			});
		}
	});

	it("poisonInteractions gives every user the song at the data's top weight and keeps the rest", () => {
		const matrix = csrFromRows([[0, 1], [2], [1, 3]], 4, [[1, 3], [2], [5, 1]]);
		const local = {
			users: Vocabulary.from(['u0', 'u1', 'u2']),
			items: Vocabulary.from(['a', 'b', 'c', 'd']),
			matrix
		};
		const out = poisonInteractions(local, 'z');
		const z = out.items.indexOf('z')!;
		expect(z).toBe(4);
		const rowsOut = [0, 1, 2].map((u) => {
			const m = out.matrix;
			const row: [string, number][] = [];
			for (let k = m.indptr[u]; k < m.indptr[u + 1]; k++)
				row.push([out.items.idAt(m.indices[k]), m.data[k]]);
			return row;
		});
		expect(rowsOut).toEqual([
			[
				['a', 1],
				['b', 3],
				['z', 5]
			],
			[
				['c', 2],
				['z', 5]
			],
			[
				['b', 5],
				['d', 1],
				['z', 5]
			]
		]);
		// A song already played is set to the top weight, not added twice.
		const again = poisonInteractions(local, 'b');
		expect(again.items.size).toBe(4);
		// 5 entries + 3 for the song - the 2 users who had it.
		expect(again.matrix.indptr[3]).toBe(5 + 3 - 2);
		expect(Array.from(again.matrix.data)).toEqual([1, 5, 5, 2, 5, 1]);
	});

	it('defaultTargetSong is the song at rank ceil(items / 10) by listeners', () => {
		// Listener counts: item i has 20 - i listeners (20 items): rank 2 is item 2.
		const rows = Array.from({ length: 20 }, (_, u) =>
			Array.from({ length: 20 }, (_, i) => i).filter((i) => u < 20 - i)
		);
		expect(defaultTargetSong(csrFromRows(rows, 20))).toBe(2);
	});
});
