import { beforeAll, describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { Rng } from '../../../src/lib/core/random';
import { aggregate, createCompactState } from '../../../src/lib/core/federation/aggregate';
import { computeClientUpdate } from '../../../src/lib/core/federation/client_update';
import { createInitialGlobal, publishGlobal } from '../../../src/lib/core/federation/global_file';
import { simulate } from '../../../src/lib/core/federation/simulate';
import { useBackend } from '../../../src/lib/node/tf_backend';
import {
	exactHalfStep,
	referenceCholesky,
	referenceCholeskySolve,
	referenceTranspose
} from '../../helpers/reference_als';

beforeAll(async () => {
	await useBackend('cpu');
});

describe('compact mode with per-item secant steps', () => {
	const data = syntheticZipf({ users: 300, items: 120, nnz: 4000, seed: 31 });
	const params = { factors: 8, regularization: 5, alpha: 40, convention: 'implicit' as const };

	it('strong confidences (alpha 40): over the last 5 rounds the secant step never falls as far as the fixed step', async () => {
		const run = (compactSecant: boolean) =>
			simulate({
				interactions: data,
				clients: 10,
				rounds: 20,
				mode: 'compact',
				split: 'even',
				params,
				compactSecant
			});
		const ratio = (r: { ndcg_at_10: number; central_ndcg_at_10: number }) =>
			r.ndcg_at_10 / r.central_ndcg_at_10;
		// The worst of the last 5 rounds (the ratio swings from round to round, so one chosen
		// round says little). Measured, rounds 16-20: secant 0.81 0.60 0.57 0.77 0.82, fixed
		// 0.49 0.86 0.45 0.99 0.34; so the secant step is steadier, not closer on every round.
		const worst = (records: { ndcg_at_10: number; central_ndcg_at_10: number }[]) =>
			Math.min(...records.slice(-5).map(ratio));
		expect(worst(await run(false))).toBeLessThan(0.4);
		expect(worst(await run(true))).toBeGreaterThan(0.5);
	}, 60_000);

	it("the first round uses compactStep; later rounds set eta_i = s'Ps / s'r, within [0.02, 1]", () => {
		const p = alsParams(params);
		const f = p.factors;
		const catalog = data.items.toArray();
		const state = createCompactState();
		let global = publishGlobal(
			createInitialGlobal({ federationId: 's', mode: 'compact', params: p, catalog })
		);
		const rng = new Rng(2);
		const withState = (g: typeof global) =>
			aggregate(g, [computeClientUpdate(g, data, { random: () => rng.next() }).update], {
				compactState: state
			});
		const first = withState(global);
		// Round 1 is the preconditioned step at compactStep = 1, recomputed by the float64
		// reference: X from Y0, G = X'X, A_i = sum_u (c_ui - 1) x_u x_u', b_i = sum_u c_ui x_u,
		// y_i = (G + lambda I)^-1 (b_i - A_i y0_i).
		const y0 = Float64Array.from(global.model.itemFactors);
		const x = exactHalfStep(data.matrix, y0, p);
		const p0 = new Float64Array(f * f);
		for (let u = 0; u < data.matrix.rows; u++)
			for (let a = 0; a < f; a++)
				for (let b = 0; b < f; b++) p0[a * f + b] += x[u * f + a] * x[u * f + b];
		for (let a = 0; a < f; a++) p0[a * f + a] += p.regularization;
		const l0 = referenceCholesky(p0, f);
		const byItem = referenceTranspose(data.matrix);
		let scale = 0;
		let worst = 0;
		for (let i = 0; i < catalog.length; i++) {
			const rhs = new Float64Array(f);
			for (let e = byItem.indptr[i]; e < byItem.indptr[i + 1]; e++) {
				const u = byItem.indices[e];
				const c = p.alpha * byItem.data[e]; // implicit convention
				let xy = 0;
				for (let a = 0; a < f; a++) xy += x[u * f + a] * y0[i * f + a];
				// b_i - A_i y0_i gets c x_u - (c - 1)(x_u . y0_i) x_u from user u.
				for (let a = 0; a < f; a++) rhs[a] += (c - (c - 1) * xy) * x[u * f + a];
			}
			const want = referenceCholeskySolve(l0, f, rhs);
			for (let a = 0; a < f; a++) {
				scale = Math.max(scale, Math.abs(want[a]));
				worst = Math.max(worst, Math.abs(first.itemFactors[i * f + a] - want[a]));
			}
		}
		// The client sends G and g as float32: agreement to float32 rounding of the statistics.
		expect(worst / scale).toBeLessThan(1e-5);
		expect(scale).toBeGreaterThan(1e-2);
		expect(Array.from(state.steps!).every((e) => e === 1)).toBe(true);
		const h0 = state.halfGradient!.slice();
		global = publishGlobal(first);
		withState(global);
		const y1 = global.model.itemFactors;
		const h1 = state.halfGradient!;
		// Recompute eta_i from its definition with P = G + lambda I of round 2.
		const update = computeClientUpdate(global, data, { random: () => 0.5 }).update;
		const pm = Float64Array.from(update.payload.gram);
		for (let r = 0; r < f; r++) pm[r * f + r] += p.regularization;
		let checked = 0;
		for (let i = 0; i < catalog.length; i++) {
			let sps = 0;
			let sr = 0;
			for (let r = 0; r < f; r++) {
				const s = y1[i * f + r] - y0[i * f + r];
				let ps = 0;
				for (let c = 0; c < f; c++) ps += pm[r * f + c] * (y1[i * f + c] - y0[i * f + c]);
				sps += s * ps;
				sr += s * (h1[i * f + r] - h0[i * f + r]);
			}
			if (!(sps > 0 && sr > 0)) continue;
			checked++;
			const expected = Math.min(1, Math.max(0.02, sps / sr));
			expect(state.steps![i]).toBeCloseTo(expected, 6);
		}
		expect(checked).toBeGreaterThan(catalog.length / 2);
		// Some items are damped well below 1: the step adapts per item.
		expect(Math.min(...state.steps!)).toBeLessThan(0.5);
	});
});
