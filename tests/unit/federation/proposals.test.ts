import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { csrFromTriplets } from '../../../src/lib/core/data/csr';
import type { Interactions } from '../../../src/lib/core/data/interactions';
import { Vocabulary } from '../../../src/lib/core/data/vocabulary';
import { decodeBase64 } from '../../../src/lib/core/format/base64';
import { encodeEnvelope } from '../../../src/lib/core/format/envelope';
import { Rng } from '../../../src/lib/core/random';
import { aggregate } from '../../../src/lib/core/federation/aggregate';
import { computeClientUpdate } from '../../../src/lib/core/federation/client_update';
import { createInitialGlobal, publishGlobal } from '../../../src/lib/core/federation/global_file';
import {
	decodeUpdateFile,
	encodeUpdateFile,
	exactPayloadFloats,
	proposalFloats
} from '../../../src/lib/core/federation/update_file';
import { validateUpdates } from '../../../src/lib/core/federation/validate';
import { exactHalfStep } from '../../helpers/reference_als';

/** A client's data from (user, song, weight) rows, vocabularies in order of first appearance. */
function client(rows: [string, string, number][]): Interactions {
	const users = new Vocabulary();
	const items = new Vocabulary();
	const r = rows.map(([u]) => users.add(u));
	const c = rows.map(([, s]) => items.add(s));
	const { matrix } = csrFromTriplets(
		users.size,
		items.size,
		Int32Array.from(r),
		Int32Array.from(c),
		Float32Array.from(rows.map(([, , w]) => w))
	);
	return { users, items, matrix };
}

const params = alsParams({ factors: 4, regularization: 0.3, alpha: 2, seed: 3 });
const f = params.factors;
const catalog = ['s0', 's1', 's2', 's3', 's4', 's5'];

// 'new-shared' is held by clients 0 and 1, 'new-solo' only by client 2.
const clients = [
	client([
		['alice', 's0', 1],
		['alice', 's1', 2],
		['alice', 'new-shared', 3],
		['bob', 's2', 1],
		['bob', 's3', 1],
		['bob', 'new-shared', 1]
	]),
	client([
		['carol', 's1', 1],
		['carol', 's4', 2],
		['carol', 'new-shared', 2],
		['dan', 's0', 1],
		['dan', 's5', 1]
	]),
	client([
		['erin', 's2', 2],
		['erin', 's5', 1],
		['erin', 'new-solo', 4],
		['finn', 's3', 1],
		['finn', 's4', 1]
	])
];
const everyUser = ['alice', 'bob', 'carol', 'dan', 'erin', 'finn'];

/** Every user's factor (the clients' own local solves of a round), in `everyUser` order. */
function everyUserFactors(rounds: { userFactors: Float64Array }[]): Float64Array {
	const x = new Float64Array(everyUser.length * f);
	clients.forEach((c, k) => {
		for (let lu = 0; lu < c.users.size; lu++) {
			const u = everyUser.indexOf(c.users.idAt(lu));
			x.set(rounds[k].userFactors.subarray(lu * f, (lu + 1) * f), u * f);
		}
	});
	return x;
}

/** Songs x users weights of the catalog songs over every client's rows. */
function catalogByUser() {
	const r: number[] = [];
	const c: number[] = [];
	const w: number[] = [];
	for (const data of clients) {
		for (let lu = 0; lu < data.users.size; lu++) {
			for (let e = data.matrix.indptr[lu]; e < data.matrix.indptr[lu + 1]; e++) {
				const song = catalog.indexOf(data.items.idAt(data.matrix.indices[e]));
				if (song < 0) continue;
				r.push(song);
				c.push(everyUser.indexOf(data.users.idAt(lu)));
				w.push(data.matrix.data[e]);
			}
		}
	}
	return csrFromTriplets(
		catalog.length,
		everyUser.length,
		Int32Array.from(r),
		Int32Array.from(c),
		Float32Array.from(w)
	).matrix;
}

function round(minSupport?: number) {
	const global = publishGlobal(
		createInitialGlobal({ federationId: 'songs', mode: 'exact', params, catalog })
	);
	const rng = new Rng(4);
	const rounds = clients.map((c) =>
		computeClientUpdate(global, c, { random: () => rng.next(), proposeNewSongs: true })
	);
	const texts = rounds.map((r) => encodeUpdateFile(r.update));
	const { accepted, rejected } = validateUpdates(global, texts);
	expect(rejected).toEqual([]);
	const next = aggregate(global, accepted, minSupport === undefined ? {} : { minSupport });
	return { global, rounds, texts, next };
}

describe('new songs proposed by clients', () => {
	it('a song held by two clients joins the catalog (appended), one held by one does not', () => {
		const { rounds, next } = round();
		expect(next.catalog).toEqual([...catalog, 'new-shared']);
		expect(next.itemFactors.length).toBe((catalog.length + 1) * f);
		// Existing rows keep their indices and are the exact item step over the catalog songs
		// alone, computed by the float64 reference from the same user factors.
		const expected = exactHalfStep(catalogByUser(), everyUserFactors(rounds), params);
		const got = next.itemFactors.subarray(0, catalog.length * f);
		for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k], 5);
		// With minSupport 1 the solo song is added too, after 'new-shared' (ascending ids).
		expect(round(1).next.catalog).toEqual([...catalog, 'new-shared', 'new-solo']);
		// With minSupport 3 neither.
		expect(round(3).next.catalog).toEqual(catalog);
	});

	it("the new song's factor equals the centralized exact item solve from the same user factors", () => {
		const { rounds, next } = round();
		const x = everyUserFactors(rounds);
		// The item's column as a one-row matrix over all users: (G + A_j + lambda I) y = b_j.
		const holders: [string, number][] = [
			['alice', 3],
			['bob', 1],
			['carol', 2]
		];
		const { matrix } = csrFromTriplets(
			1,
			everyUser.length,
			new Int32Array(holders.length),
			Int32Array.from(holders.map(([u]) => everyUser.indexOf(u))),
			Float32Array.from(holders.map(([, w]) => w))
		);
		const expected = exactHalfStep(matrix, x, params);
		const got = next.itemFactors.subarray(catalog.length * f);
		for (let r = 0; r < f; r++) expect(got[r]).toBeCloseTo(expected[r], 5);
		expect(Math.hypot(...got)).toBeGreaterThan(1e-3);
	});

	it('privacy: only song ids and statistics travel; sizes follow the formula', () => {
		const { rounds, texts } = round();
		texts.forEach((text, k) => {
			for (const id of everyUser) expect(text.includes(id), id).toBe(false);
			const parsed = JSON.parse(text) as {
				meta: Record<string, unknown>;
				tensors: Record<string, { dtype: string; shape: number[]; data: string }>;
			};
			const proposed = rounds[k].update.proposals?.songIds ?? [];
			expect(proposed).toEqual([k === 2 ? 'new-solo' : 'new-shared']);
			expect(parsed.meta.proposals).toEqual(proposed);
			expect(Object.keys(parsed.tensors).sort()).toEqual(
				['A', 'G', 'b', 'proposalA', 'proposalB', 'touched'].sort()
			);
			const users = clients[k].users.size;
			let floats = 0;
			for (const t of Object.values(parsed.tensors)) {
				const n = t.shape.reduce((a, b) => a * b, 1);
				expect(decodeBase64(t.data).length).toBe(4 * n);
				if (t.dtype === 'float32') floats += n;
				expect(t.shape[0] === users && t.shape.length > 1 && t.shape[1] === f).toBe(false);
			}
			const touched = rounds[k].update.counts.touchedItems;
			expect(floats).toBe(exactPayloadFloats(f, touched) + proposalFloats(f, proposed.length));
			expect(floats).toBe(f * f + touched * (10 + f) + proposed.length * (10 + f));
		});
		// Without the option nothing uncatalogued leaves.
		const global = publishGlobal(
			createInitialGlobal({ federationId: 'songs', mode: 'exact', params, catalog })
		);
		const text = encodeUpdateFile(
			computeClientUpdate(global, clients[0], { random: () => 0.5 }).update
		);
		expect(text.includes('new-shared')).toBe(false);
		expect(text.includes('proposal')).toBe(false);
	});

	it('validation: shapes, finite values, unique ids, id length, catalog songs, count limit', () => {
		const { global, rounds } = round();
		const base = rounds[0].update;
		const q = base.proposals!;
		const reason = (text: string, options = {}) => {
			const r = validateUpdates(global, [text], options);
			expect(r.accepted).toEqual([]);
			return r.rejected[0];
		};
		const withProposals = (p: Partial<typeof q>) =>
			encodeUpdateFile({ ...base, proposals: { ...q, ...p } });
		// Round trip keeps the statistics.
		const decoded = decodeUpdateFile(encodeUpdateFile(base));
		expect(decoded.proposals?.songIds).toEqual(q.songIds);
		expect(Array.from(decoded.proposals!.itemTargets)).toEqual(Array.from(q.itemTargets));

		const nan = q.itemTargets.slice();
		nan[1] = NaN;
		expect(reason(withProposals({ itemTargets: nan })).code).toBe('federation/not-finite');
		// proposalA one column short: the file is written by hand, as encodeUpdateFile cannot.
		const parsed = JSON.parse(encodeUpdateFile(base)) as { meta: Record<string, unknown> };
		const p = base.payload;
		if (p.mode !== 'exact') throw new Error('mode');
		const shortA = encodeEnvelope('update', parsed.meta, {
			G: { array: p.gram, shape: [f, f] },
			touched: { array: p.touched, shape: [p.touched.length] },
			A: { array: p.itemGrams, shape: [p.touched.length, 10] },
			b: { array: p.itemTargets, shape: [p.touched.length, f] },
			proposalA: { array: q.itemGrams.slice(1), shape: [1, 9] },
			proposalB: { array: q.itemTargets, shape: [1, f] }
		});
		const shape = reason(shortA);
		expect(shape.code).toBe('federation/bad-shape');
		expect(shape.reason).toMatch(/tensors\.proposalA: must be \[1, 10\]/);
		const two = {
			songIds: ['x1', 'x1'],
			itemGrams: new Float32Array(20),
			itemTargets: new Float32Array(8)
		};
		expect(reason(withProposals(two)).reason).toMatch(/meta\.proposals\[1\].*unique/);
		expect(reason(withProposals({ songIds: ['y'.repeat(257)] })).code).toBe('file/bad-field');
		expect(reason(withProposals({ songIds: ['s2'] })).code).toBe('federation/bad-proposal');
		const three = {
			songIds: ['p1', 'p2', 'p3'],
			itemGrams: new Float32Array(30),
			itemTargets: new Float32Array(12)
		};
		const limited = reason(withProposals(three), { maxProposals: 2 });
		expect(limited.code).toBe('federation/bad-proposal');
		expect(limited.reason).toMatch(/3 new songs, more than the limit of 2/);
		expect(validateUpdates(global, [withProposals(three)]).accepted.length).toBe(1);
		// aggregate refuses catalog songs even if validation was skipped.
		expect(() =>
			aggregate(global, [{ ...base, proposals: { ...q, songIds: ['s0'] } }], { minSupport: 1 })
		).toThrow(expect.objectContaining({ code: 'federation/bad-input' }));
	});
});
