/**
 * The honest-but-curious coordinator as an adversary: from what it receives, it tries to
 * recover one client's listening set, user factor and play confidences. For a client holding
 * one person's history (G = x x') the algebra is simple:
 * - listening set: the catalog rows of b (exact) or g (compact) that are not zero;
 * - factor: G = x x', so its top eigenpair gives x up to sign, x^ = sqrt(lambda) v;
 * - confidence of each play: exact b_i = c_i x, so c_i = |b_i| / |x|; compact
 *   g_i = ((c_i - 1) d_i - c_i) x with d_i = x.y_i, so with s_i = g_i.x / |x|^2,
 *   c_i = (s_i + d_i) / (d_i - 1) (the sign of x^ is chosen to make the c_i positive).
 * Against plain updates this recovers everything (tests/unit/federation/adversary.test.ts);
 * against secure rounds it is given every mask it can learn (the self-masks and pair masks the
 * unmasking reveals, plus the keys of colluding clients) and must still guess.
 */
import { confidence } from '../als/params';
import { topEigenpair } from '../eigen';
import type { StatisticSums } from './aggregate';
import type { GlobalModel, PublishedGlobal } from './global_file';
import { packedSize } from './packed_symmetric';
import { maskSign, pairKeys, roundSalt } from './secure/agreement';
import type { SecureClientState } from './secure/client';
import {
	decodeMaskedUpdate,
	decodeRoster,
	decodeUnmaskRequest,
	decodeUnmaskShares,
	requestedShares
} from './secure/files';
import { applyMask } from './secure/masks';
import { combineShares, openShare, sealedShareAt, SHARE_BYTES } from './secure/shares';
import { decodeSum, vectorLayout } from './secure/statistics_vector';
import { importPrivateKey } from './secure/webcrypto';
import type { ClientUpdate } from './update_file';

/** What the adversary believes about one client. */
export interface Recovered {
	/** Catalog indices it believes the client played (ascending). */
	readonly set: Int32Array;
	/** x^, its estimate of the client's factor (up to sign). */
	readonly factor: Float64Array;
	/** Estimated confidence c_i per catalog item (NaN outside `set`). */
	readonly confidence: Float64Array;
}

/**
 * Recover from summed statistics over the catalog (dense rows). `budget`, when given, caps the
 * set at the rows of largest norm (an oracle for the set's size: the adversary's best case
 * when every row is non-zero).
 */
export function recoverFromSums(
	model: GlobalModel,
	sums: StatisticSums,
	budget?: number
): Recovered {
	const f = model.params.factors;
	const n = model.catalog.length;
	const { value, vector } = topEigenpair(sums.gram, f, 500);
	const scale = Math.sqrt(Math.max(0, value));
	let factor = vector.map((v) => v * scale);
	const rows = sums.payload.mode === 'exact' ? sums.payload.itemTargets : sums.payload.gradient;
	const norms = new Float64Array(n);
	for (let i = 0; i < n; i++) {
		let s = 0;
		for (let r = 0; r < f; r++) s += rows[i * f + r] ** 2;
		norms[i] = Math.sqrt(s);
	}
	let chosen = Array.from({ length: n }, (_, i) => i).filter((i) => norms[i] > 0);
	if (budget !== undefined && chosen.length > budget) {
		chosen = chosen.sort((a, b) => norms[b] - norms[a]).slice(0, budget);
	}
	chosen.sort((a, b) => a - b);
	const xNorm2 = factor.reduce((a, v) => a + v * v, 0);
	const conf = new Float64Array(n).fill(Number.NaN);
	if (sums.payload.mode === 'exact') {
		for (const i of chosen) conf[i] = norms[i] / Math.sqrt(xNorm2);
	} else {
		const y = model.itemFactors;
		const estimate = (x: Float64Array, out: Float64Array): number => {
			let positive = 0;
			for (const i of chosen) {
				let s = 0;
				let d = 0;
				for (let r = 0; r < f; r++) {
					s += rows[i * f + r] * x[r];
					d += x[r] * y[i * f + r];
				}
				s /= xNorm2;
				out[i] = (s + d) / (d - 1);
				if (out[i] > 0) positive++;
			}
			return positive;
		};
		const flipped = factor.map((v) => -v);
		const other = new Float64Array(n).fill(Number.NaN);
		if (estimate(flipped, other) > estimate(factor, conf)) {
			factor = flipped;
			conf.set(other);
		}
	}
	return { set: Int32Array.from(chosen), factor, confidence: conf };
}

/** Dense sums of one plain update (what the coordinator reads from its file). */
export function sumsOfUpdate(model: GlobalModel, update: ClientUpdate): StatisticSums {
	const f = model.params.factors;
	const n = model.catalog.length;
	const gram = Float64Array.from(update.payload.gram);
	const p = update.payload;
	if (p.mode === 'compact')
		return { gram, payload: { mode: 'compact', gradient: Float64Array.from(p.gradient) } };
	const ps = packedSize(f);
	const itemGrams = new Float64Array(n * ps);
	const itemTargets = new Float64Array(n * f);
	const touched = new Uint8Array(n);
	p.touched.forEach((i, t) => {
		touched[i] = 1;
		itemGrams.set(p.itemGrams.subarray(t * ps, (t + 1) * ps), i * ps);
		itemTargets.set(p.itemTargets.subarray(t * f, (t + 1) * f), i * f);
	});
	return { gram, payload: { mode: 'exact', itemGrams, itemTargets, touched } };
}

/** What a secure round's transcript holds, as the coordinator saw it. */
export interface SecureView {
	readonly roster: string;
	/** Masked updates by client (undefined: none received). */
	readonly masked: readonly (string | undefined)[];
	readonly request: string;
	readonly answers: readonly (string | undefined)[];
	readonly clientIds: readonly string[];
}

/**
 * The coordinator's best estimate of client `target`'s statistics after a secure round: its
 * masked update (`view.masked[target]`, which may have come late) minus every mask the
 * coordinator can learn: the self-mask b_u and the pair masks with missing clients (recovered
 * by the unmasking; for a missing client, all its pair masks with the survivors), plus, with `colluders` (clients
 * that hand over their private keys), the pair masks s_uc they share with the target and any
 * secret of the target for which the colluders hold at least t shares between them.
 */
export async function strippedStatistics(
	global: PublishedGlobal,
	view: SecureView,
	target: number,
	colluders: readonly SecureClientState[] = []
): Promise<StatisticSums> {
	const model = global.model;
	const layout = vectorLayout(model);
	const roster = decodeRoster(view.roster).value;
	const request = decodeUnmaskRequest(view.request).value;
	const t = roster.threshold;
	const text = view.masked[target];
	if (text === undefined) throw new Error('the target sent no masked update');
	const masked = decodeMaskedUpdate(text, {
		members: roster.members.length,
		length: layout.length
	}).value;
	const u = masked.clientId;
	const y = Uint32Array.from(masked.masked);
	const members = roster.members.map((m) => m.clientId);
	const known = new Map<number, Uint8Array>(); // secret index of u -> seed

	// 1. What the unmasking revealed: shares of u's secrets from every answer.
	const wanted = requestedShares(roster, request.survivors, request.dropped);
	const answers = view.answers
		.filter((a): a is string => a !== undefined)
		.map((a) => decodeUnmaskShares(a).value.shares);
	// Secrets of u (its self-mask, its pair seeds with missing clients), and, when u itself is
	// missing (a late client), the other side's copies of the pair seeds s_vu.
	for (let k = 0; k < wanted.length; k++) {
		const w = wanted[k];
		if (answers.length < t || (w.owner !== u && w.peer !== u)) continue;
		const shares = answers.map((a) => a.subarray(k * SHARE_BYTES, (k + 1) * SHARE_BYTES));
		const seed = await combineShares(shares, t, 'a secret');
		known.set(w.owner === u ? w.secret : members.indexOf(w.owner), seed);
	}
	// 2. What colluders know: their pair seeds with u, and the shares u sealed for them.
	const salt = await roundSalt({
		federationId: model.federationId,
		round: model.round,
		baseChecksum: global.checksum
	});
	const colluderShares: Uint8Array[][] = members.map(() => []);
	for (const c of colluders) {
		const key = await importPrivateKey(c.privateKey);
		const uKey = roster.members.find((m) => m.clientId === u)!.publicKey;
		const pk = await pairKeys(key, c.clientId, u, uKey, salt);
		if (c.clientId !== u) known.set(members.indexOf(c.clientId), pk.maskSeed);
		const holder = members.indexOf(c.clientId);
		for (let j = 0; j < members.length; j++) {
			const sealed = sealedShareAt(masked.bundles[holder], j);
			colluderShares[j].push(await openShare(pk.receiveKey, u, c.clientId, j, sealed));
		}
	}
	for (let j = 0; j < members.length; j++) {
		if (!known.has(j) && colluderShares[j].length >= t) {
			known.set(j, await combineShares(colluderShares[j], t, 'a secret'));
		}
	}
	// 3. Take the known masks away: u added +PRG(b_u) and sign(u, v) PRG(s_uv).
	const self = members.indexOf(u);
	for (const [j, seed] of known) {
		if (j === self) await applyMask(y, seed, -1);
		else await applyMask(y, seed, -maskSign(u, members[j]) as 1 | -1);
	}
	return decodeSum(y, layout, model.secure!.scaleBits).sums;
}

/** |cos| between two vectors (0 when either is zero). */
export function absCosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let ab = 0;
	let aa = 0;
	let bb = 0;
	for (let k = 0; k < a.length; k++) {
		ab += a[k] * b[k];
		aa += a[k] * a[k];
		bb += b[k] * b[k];
	}
	return aa > 0 && bb > 0 ? Math.abs(ab) / Math.sqrt(aa * bb) : 0;
}

/** The confidence the global's params give a weight (for comparing with `Recovered.confidence`). */
export function trueConfidence(model: GlobalModel, weight: number): number {
	return confidence(weight, model.params);
}
