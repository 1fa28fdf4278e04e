import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { encodeEnvelope } from '../../../src/lib/core/format/envelope';
import { Rng } from '../../../src/lib/core/random';
import { aggregate } from '../../../src/lib/core/federation/aggregate';
import { computeClientUpdate } from '../../../src/lib/core/federation/client_update';
import {
	createInitialGlobal,
	publishGlobal,
	readGlobalFile,
	type PublishedGlobal
} from '../../../src/lib/core/federation/global_file';
import { splitByUsers } from '../../../src/lib/core/federation/partition';
import {
	encodeUpdateFile,
	type ClientUpdate,
	type ExactPayload
} from '../../../src/lib/core/federation/update_file';
import { validateUpdates } from '../../../src/lib/core/federation/validate';

const params = alsParams({ factors: 4, regularization: 0.1, alpha: 2, seed: 1 });

function setup(clients = 4): { global: PublishedGlobal; updates: ClientUpdate[] } {
	const data = syntheticZipf({ users: 80, items: 30, nnz: 600, seed: 2 });
	const global = publishGlobal(
		createInitialGlobal({
			federationId: 'fed-a',
			mode: 'exact',
			params,
			catalog: data.items.toArray()
		})
	);
	const rng = new Rng(3);
	const updates = splitByUsers(data, clients, 'even', 4).map(
		(s) => computeClientUpdate(global, s.interactions, { random: () => rng.next() }).update
	);
	return { global, updates };
}

function exact(u: ClientUpdate): ExactPayload {
	if (u.payload.mode !== 'exact') throw new Error('not exact');
	return u.payload;
}

/** The envelope of an update with hand-made tensors (a tampering client re-computes the checksum). */
function rawUpdate(u: ClientUpdate, tensors: Parameters<typeof encodeEnvelope>[2]): string {
	const meta = {
		federationId: u.federationId,
		round: u.round,
		baseChecksum: u.baseChecksum,
		clientId: u.clientId,
		counts: u.counts,
		mode: u.payload.mode
	};
	return encodeEnvelope('update', meta, tensors);
}

describe('validateUpdates', () => {
	it('accepts honest updates and the round proceeds', () => {
		const { global, updates } = setup();
		const result = validateUpdates(
			global,
			updates.map((u) => encodeUpdateFile(u))
		);
		expect(result.rejected).toEqual([]);
		expect(result.clipped).toEqual([]);
		expect(result.accepted.map((u) => u.clientId)).toEqual(updates.map((u) => u.clientId));
		expect(aggregate(global, result.accepted).round).toBe(1);
	});

	it('rejects each tampered update with a readable reason and keeps the rest', () => {
		const { global, updates } = setup();
		const [good, second] = updates;
		const p = exact(good);
		const f = params.factors;
		const withNaN = p.itemTargets.slice();
		withNaN[5] = NaN;
		const catalog = global.model.catalog.length;
		const outOfRange = p.touched.slice();
		outOfRange[outOfRange.length - 1] = catalog;
		const unsorted = p.touched.slice().reverse();
		const texts = [
			encodeUpdateFile(good),
			encodeUpdateFile({ ...second, round: 5 }),
			encodeUpdateFile({ ...second, federationId: 'fed-b', clientId: 'aaaaaaaaaaaaaaaa' }),
			encodeUpdateFile({
				...second,
				baseChecksum: 'sha256:' + '0'.repeat(64),
				clientId: 'bbbbbbbbbbbbbbbb'
			}),
			encodeUpdateFile({
				...good,
				clientId: 'cccccccccccccccc',
				payload: { ...p, itemTargets: withNaN }
			}),
			rawUpdate(
				{ ...good, clientId: 'dddddddddddddddd' },
				{
					G: { array: p.gram, shape: [f, f] },
					touched: { array: p.touched, shape: [p.touched.length] },
					A: { array: p.itemGrams.slice(0, p.touched.length * f), shape: [p.touched.length, f] },
					b: { array: p.itemTargets, shape: [p.touched.length, f] }
				}
			),
			encodeUpdateFile({
				...good,
				clientId: 'eeeeeeeeeeeeeeee',
				payload: { ...p, touched: outOfRange }
			}),
			encodeUpdateFile({
				...good,
				clientId: 'ffffffffffffffff',
				payload: { ...p, touched: unsorted }
			}),
			encodeUpdateFile({
				...good,
				clientId: '0000000000000001',
				payload: { ...p, mode: 'compact', gradient: new Float32Array(catalog * f) } as never
			}),
			encodeUpdateFile(good).replace('"round":0', '"round":1'),
			global.text,
			encodeUpdateFile(good).slice(0, 200),
			...updates.slice(2).map((u) => encodeUpdateFile(u))
		];
		const result = validateUpdates(global, texts);
		const byIndex = new Map(result.rejected.map((r) => [r.index, r]));
		const expectReject = (index: number, code: string, reason: RegExp) => {
			const r = byIndex.get(index);
			expect(r, `file ${index}`).toBeDefined();
			expect(r!.code).toBe(code);
			expect(r!.reason).toMatch(reason);
		};
		expectReject(1, 'federation/wrong-round', /round 5.*current round is 0/);
		expectReject(2, 'federation/wrong-federation', /federation 'fed-b', not 'fed-a'/);
		expectReject(3, 'federation/wrong-base', /different global/);
		expectReject(4, 'federation/not-finite', /tensors\.b .*not finite \(NaN\) at row 1, column 1/);
		expectReject(5, 'federation/bad-shape', /tensors\.A: must be \[\d+, 10\]/);
		expectReject(
			6,
			'federation/bad-shape',
			new RegExp(`song index ${catalog}.*only ${catalog} songs`)
		);
		expectReject(7, 'federation/bad-shape', /ascending/);
		expectReject(8, 'federation/wrong-mode', /compact mode.*exact mode/);
		expectReject(9, 'file/checksum', /checksum does not match/);
		expectReject(10, 'file/wrong-kind', /holds a global, expected an update/);
		expectReject(11, 'file/not-json', /truncated or not JSON/);
		for (const r of result.rejected) expect(r.reason.length).toBeGreaterThan(20);
		expect(result.rejected).toHaveLength(11);
		expect(result.accepted.map((u) => u.clientId)).toEqual([
			good.clientId,
			...updates.slice(2).map((u) => u.clientId)
		]);
		expect(aggregate(global, result.accepted).round).toBe(1);
	});

	it('duplicate client ids: the same file twice keeps one, different files are all rejected', () => {
		const { global, updates } = setup();
		const [a, b, c, d] = updates;
		const same = encodeUpdateFile(a);
		const result = validateUpdates(global, [
			same,
			same,
			encodeUpdateFile(b),
			encodeUpdateFile({ ...c, clientId: b.clientId }),
			encodeUpdateFile(d)
		]);
		expect(result.accepted.map((u) => u.clientId)).toEqual([a.clientId, d.clientId]);
		expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
			[1, 'federation/duplicate-client'],
			[2, 'federation/duplicate-client'],
			[3, 'federation/duplicate-client']
		]);
		expect(result.rejected[0].reason).toMatch(/given twice; one copy is used/);
		expect(result.rejected[1].reason).toMatch(/appears in 2 different updates/);
	});

	const scaled = (u: ClientUpdate, s: number): ClientUpdate => {
		const p = exact(u);
		const m = (a: Float32Array) => a.map((v) => v * s);
		return {
			...u,
			payload: { ...p, gram: m(p.gram), itemGrams: m(p.itemGrams), itemTargets: m(p.itemTargets) }
		};
	};

	it('an update scaled x1000 is rejected as an outlier', () => {
		const { global, updates } = setup();
		const texts = updates.map((u, k) => encodeUpdateFile(k === 2 ? scaled(u, 1000) : u));
		const result = validateUpdates(global, texts, { outliers: { action: 'reject', multiple: 50 } });
		expect(result.rejected).toHaveLength(1);
		expect(result.rejected[0]).toMatchObject({
			index: 2,
			clientId: updates[2].clientId,
			code: 'federation/outlier'
		});
		expect(result.rejected[0].reason).toMatch(
			/outlier: its (G|b row) norm is [\d.e+]+ times the median.*limit 50 times/
		);
		expect(result.accepted).toHaveLength(3);
	});

	it('with clip, the outlier is scaled down to the threshold and kept', () => {
		const { global, updates } = setup();
		const texts = updates.map((u, k) => encodeUpdateFile(k === 2 ? scaled(u, 1000) : u));
		const result = validateUpdates(global, texts, { outliers: { action: 'clip', multiple: 50 } });
		expect(result.rejected).toEqual([]);
		expect(result.clipped).toHaveLength(1);
		const { factor, reason, clientId } = result.clipped[0];
		expect(clientId).toBe(updates[2].clientId);
		// The factor from the policy's definition, recomputed here: the update's largest ratio r
		// of |G|_F, or of the root-mean-square norm of b's non-zero rows, to the round's median
		// (4 updates: the mean of the middle two); factor = 50 / r.
		const sent = updates.map((u, k) => exact(k === 2 ? scaled(u, 1000) : u));
		const frob = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
		const rmsRows = (b: Float32Array) => {
			let sum = 0;
			let rows = 0;
			for (let r = 0; r < b.length / params.factors; r++) {
				const row = b.subarray(r * params.factors, (r + 1) * params.factors);
				const n2 = row.reduce((s, v) => s + v * v, 0);
				if (n2 > 0) {
					sum += n2;
					rows++;
				}
			}
			return Math.sqrt(sum / rows);
		};
		const median4 = (v: number[]) => {
			const s = [...v].sort((a, b) => a - b);
			return (s[1] + s[2]) / 2;
		};
		const gMedian = median4(sent.map((p) => frob(p.gram)));
		const bMedian = median4(sent.map((p) => rmsRows(p.itemTargets)));
		const ratioOf = (p: ExactPayload) =>
			Math.max(frob(p.gram) / gMedian, rmsRows(p.itemTargets) / bMedian);
		const expected = 50 / ratioOf(sent[2]);
		expect(Math.abs(factor - expected) / expected).toBeLessThan(1e-9);
		expect(reason).toMatch(new RegExp(`scaled by ${expected.toPrecision(3)}`));
		// Every tensor is the sent one times that factor, which puts it at the limit exactly.
		const clippedUpdate = exact(result.accepted[2]);
		for (const key of ['gram', 'itemGrams', 'itemTargets'] as const) {
			// Within one float32 rounding of the product.
			const got = clippedUpdate[key];
			expect(got.length).toBe(sent[2][key].length);
			sent[2][key].forEach((v, j) => {
				expect(Math.abs(got[j] - v * expected)).toBeLessThanOrEqual(
					Math.abs(v * expected) * 2 ** -23
				);
			});
		}
		expect(ratioOf(clippedUpdate)).toBeCloseTo(50, 4);
		// The other updates pass unchanged.
		for (const k of [0, 1, 3]) expect(exact(result.accepted[k]).gram).toEqual(sent[k].gram);
	});

	it('honest updates are not outliers under the default policy, and size limits apply', () => {
		const { global, updates } = setup();
		const texts = updates.map((u) => encodeUpdateFile(u));
		expect(validateUpdates(global, texts).accepted).toHaveLength(4);
		const limited = validateUpdates(global, texts, { limits: { maxBytes: 100 } });
		expect(limited.accepted).toHaveLength(0);
		expect(limited.rejected.every((r) => r.code === 'file/too-large')).toBe(true);
		expect(limited.rejected[0].reason).toMatch(/too large.*limit is 100/);
	});

	it('a published global reads back with the same checksum', () => {
		const { global } = setup();
		const back = readGlobalFile(global.text);
		expect(back.checksum).toBe(global.checksum);
		expect(back.model.catalog).toEqual(global.model.catalog);
		expect(Array.from(back.model.itemFactors)).toEqual(Array.from(global.model.itemFactors));
	});
});
