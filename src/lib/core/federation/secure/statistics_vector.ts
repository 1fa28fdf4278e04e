/**
 * A client's statistics as one dense ring vector, the same length for every client of a round
 * so that nothing in a masked update depends on which songs the client played:
 *
 *   [users, interactions]            counts, unscaled integers
 *   C                                the confidence total sum c_ui, fixed point (1 element)
 *   G                                packed upper triangle, f(f+1)/2
 *   exact:   A_i for every catalog item (packed, catalog x f(f+1)/2), then b_i (catalog x f)
 *   compact: g_i for every catalog item (catalog x f)
 *
 * Untouched items are zeros, as are the songs a client never heard of. Statistics are fixed
 * point at the global's scale (ring.ts).
 */
import { MusicrecError } from '../../errors';
import type { StatisticSums } from '../aggregate';
import type { ClientStatistics } from '../client_update';
import type { FederationMode } from '../fields';
import { MAX_COHORT, type GlobalModel } from '../global_file';
import { packedIndex, packedSize } from '../packed_symmetric';
import { decodeFixed, encodeCounts, encodeFixed, entryBound, ringVector, signedAt } from './ring';

export interface VectorLayout {
	readonly mode: FederationMode;
	readonly factors: number;
	readonly catalogSize: number;
	/** Ring elements in all. */
	readonly length: number;
	/** The confidence total's element. */
	readonly confidenceAt: number;
	readonly gramAt: number;
	/** exact: A's start; compact: g's start. */
	readonly itemsAt: number;
	/** exact: b's start. */
	readonly targetsAt: number;
}

const COUNTS = 2;

/**
 * The layout of a global's masked vectors: `3 + f(f+1)/2 + catalog (f(f+1)/2 + f)` elements
 * (exact) or `3 + f(f+1)/2 + catalog f` (compact).
 */
export function vectorLayout(model: GlobalModel): VectorLayout {
	const f = model.params.factors;
	const n = model.catalog.length;
	const ps = packedSize(f);
	const confidenceAt = COUNTS;
	const gramAt = confidenceAt + 1;
	const itemsAt = gramAt + ps;
	const targetsAt = model.mode === 'exact' ? itemsAt + n * ps : itemsAt;
	const length = model.mode === 'exact' ? targetsAt + n * f : itemsAt + n * f;
	return {
		mode: model.mode,
		factors: f,
		catalogSize: n,
		length,
		confidenceAt,
		gramAt,
		itemsAt,
		targetsAt
	};
}

function packUpper(full: Float64Array, f: number): Float64Array {
	const out = new Float64Array(packedSize(f));
	for (let r = 0; r < f; r++)
		for (let c = r; c < f; c++) out[packedIndex(f, r, c)] = full[r * f + c];
	return out;
}

/**
 * Encode a client's statistics into a fresh ring vector. Throws 'federation/bad-input' when
 * the statistics do not fit the layout or a value exceeds the overflow bound for MAX_COHORT
 * clients at `scaleBits`.
 */
export function encodeStatistics(
	stats: ClientStatistics,
	layout: VectorLayout,
	scaleBits: number
): Uint32Array {
	const f = layout.factors;
	const n = layout.catalogSize;
	const p = stats.payload;
	if (stats.factors !== f || stats.catalogSize !== n || p.mode !== layout.mode) {
		throw new MusicrecError('federation/bad-input', 'statistics do not fit the round', {
			factors: stats.factors,
			catalog: stats.catalogSize
		});
	}
	const bound = entryBound(scaleBits, MAX_COHORT);
	const out = ringVector(layout.length);
	encodeCounts([stats.users, stats.interactions], out, 0);
	encodeFixed([stats.confidence], scaleBits, out, layout.confidenceAt, bound, 'C');
	encodeFixed(packUpper(stats.gram, f), scaleBits, out, layout.gramAt, bound, 'G');
	if (p.mode === 'exact') {
		const ps = packedSize(f);
		for (let t = 0; t < p.touched.length; t++) {
			const i = p.touched[t];
			encodeFixed(
				p.itemGrams.subarray(t * ps, (t + 1) * ps),
				scaleBits,
				out,
				layout.itemsAt + i * ps,
				bound,
				`A[${i}]`
			);
			encodeFixed(
				p.itemTargets.subarray(t * f, (t + 1) * f),
				scaleBits,
				out,
				layout.targetsAt + i * f,
				bound,
				`b[${i}]`
			);
		}
	} else {
		encodeFixed(p.gradient, scaleBits, out, layout.itemsAt, bound, 'g');
	}
	return out;
}

/** What an unmasked sum holds: the round's statistic sums and its summed counts. */
export interface DecodedSum {
	readonly sums: StatisticSums;
	readonly users: number;
	readonly interactions: number;
	/** The summed confidence totals (the bound of `sumEnergy`). */
	readonly confidence: number;
}

/** Decode an unmasked ring sum into the statistic sums `aggregateSums` solves from. */
export function decodeSum(sum: Uint32Array, layout: VectorLayout, scaleBits: number): DecodedSum {
	if (sum.length !== 2 * layout.length) throw new RangeError('sum does not fit the layout');
	const f = layout.factors;
	const n = layout.catalogSize;
	const ps = packedSize(f);
	const packed = decodeFixed(sum, layout.gramAt, ps, scaleBits);
	const gram = new Float64Array(f * f);
	for (let r = 0; r < f; r++) {
		for (let c = r; c < f; c++) {
			const v = packed[packedIndex(f, r, c)];
			gram[r * f + c] = v;
			gram[c * f + r] = v;
		}
	}
	const users = signedAt(sum, 0);
	const interactions = signedAt(sum, 1);
	const confidence = decodeFixed(sum, layout.confidenceAt, 1, scaleBits)[0];
	if (layout.mode === 'compact') {
		return {
			sums: {
				gram,
				payload: { mode: 'compact', gradient: decodeFixed(sum, layout.itemsAt, n * f, scaleBits) }
			},
			users,
			interactions,
			confidence
		};
	}
	const itemGrams = decodeFixed(sum, layout.itemsAt, n * ps, scaleBits);
	const itemTargets = decodeFixed(sum, layout.targetsAt, n * f, scaleBits);
	// An item is touched when some client's statistics for it are not all zero.
	const touched = new Uint8Array(n);
	for (let i = 0; i < n; i++) {
		let any = false;
		for (let r = 0; r < f && !any; r++) any = itemTargets[i * f + r] !== 0;
		for (let k = 0; k < ps && !any; k++) any = itemGrams[i * ps + k] !== 0;
		touched[i] = any ? 1 : 0;
	}
	return {
		sums: { gram, payload: { mode: 'exact', itemGrams, itemTargets, touched } },
		users,
		interactions,
		confidence
	};
}
