import { cholesky, choleskySolve } from '../als/cholesky';
import { regularizedGram } from './client_update';
import type { PublishedGlobal } from './global_file';
import { songEnergies } from './robust';
import type { ClientUpdate } from './update_file';
import { fmt, median } from './round_statistics';

/**
 * Influence caps: the second half of robust aggregation, for attacks whose statistics are those
 * of real listeners and so pass every check of `screenUpdates`: a client that counts each of
 * its users ten times, or whose listeners all play one song it pushes. Two caps bound how much
 * of the aggregate one client can be; they scale statistics down, never up:
 *
 * 1. weight: a client's mass `T_k = tr(G_k (Y'Y + lambda I))` (it grows with its users, as
 *    its share of every song's solve does) is at most `clientCap` times the round's median;
 *    above it G_k, A_k and b_k (or g_k) are scaled by `clientCap median / T_k`, as if it had
 *    that many users. Reported counts play no part, so scaling them along does not help.
 * 2. per song (off unless `songCap` is set): a client's mass on song i is
 *    `m_ki = b_ki' (A_ki + G_k)^-1 b_ki` in exact mode (at most the confidence of its plays of
 *    the song: robust.ts, check 4) and `m_ki = g_ki' G_k^-1 g_ki` in compact mode. It may be at
 *    most `songCap` times its fair share of what the other clients bring, plus one typical mass:
 *      m_ki <= songCap (w_k R_ki + m_typ),   w_k = T_k / sum_{j != k} T_j,
 *    R_ki the other clients' masses on the song without the `songTrim` largest, m_typ the
 *    median mass over every (client, song) pair of the round. w_k R_ki is what client k would
 *    bring if its listeners liked the song as much as everyone else's do; leaving out the
 *    largest other mass (songTrim 1) keeps a colluding pair from vouching for each other.
 *    Above the cap the song's rows are scaled to meet it: A_ki and b_ki by `s = cap / m_ki`
 *    (`(s A + G) >= s (A + G)`, so the mass becomes at most `s m = cap`), or g_ki by
 *    `sqrt(cap / m_ki)`. Measured (docs/federation.md, poisoning): at KKBox's alpha 128 it stops a pushed
 *    song and caps a handful of honest songs per round; at alpha 1 one listener's mass ranges
 *    over two orders of magnitude and it caps a quarter of honest clients' songs, so the app
 *    does not turn it on.
 *
 * Both need at least `minClients` updates. The cost falls on honest clients whose songs are
 * genuinely their own (a non-iid federation); docs/federation.md (poisoning) measures it.
 */
export interface InfluenceCapOptions {
	/** Largest client mass over the round's median; default 3. Infinity: no weight cap. */
	readonly clientCap?: number;
	/** Largest per-song mass over the client's fair share (plus one typical); default Infinity (off). */
	readonly songCap?: number;
	/** Largest other masses left out of a song's reference (colluders); default 1. */
	readonly songTrim?: number;
	/** Fewest updates for either cap. Default 4. */
	readonly minClients?: number;
}

export const DEFAULT_INFLUENCE_CAPS: Required<InfluenceCapOptions> = Object.freeze({
	clientCap: 3,
	songCap: Infinity,
	songTrim: 1,
	minClients: 4
});

/** A client whose statistics a cap scaled down. */
export interface CappedClient {
	/** Position in the input list. */
	readonly index: number;
	readonly clientId: string;
	/** Factor its whole update was scaled by (1: the weight cap did not apply). */
	readonly weight: number;
	/** Songs whose statistics the per-song cap scaled down. */
	readonly songs: number;
	/** A sentence for people. */
	readonly reason: string;
}

export interface CapResult {
	/** The updates to aggregate: the input array itself when no cap applied. */
	readonly updates: readonly ClientUpdate[];
	readonly capped: CappedClient[];
}

/** Apply both caps to a round's kept (screened) updates; see the module comment. */
export function capInfluence(
	current: PublishedGlobal,
	updates: readonly ClientUpdate[],
	options: InfluenceCapOptions = {}
): CapResult {
	const o = { ...DEFAULT_INFLUENCE_CAPS, ...options };
	if (updates.length < o.minClients) return { updates, capped: [] };
	const model = current.model;
	const f = model.params.factors;
	const p = regularizedGram(model);

	// 1. Weight cap.
	const mass = updates.map((u) => {
		let t = 0;
		for (let k = 0; k < f * f; k++) t += u.payload.gram[k] * p[k];
		return t;
	});
	const limit = o.clientCap * median(mass);
	const weight = mass.map((t) => (t > limit && limit > 0 ? limit / t : 1));
	const scaled = updates.map((u, k) => (weight[k] === 1 ? u : scaleUpdate(u, weight[k])));

	// 2. Per-song cap (off by default).
	const rows = Number.isFinite(o.songCap) ? scaled.map((u) => songMasses(u, f)) : undefined;
	const songScale = rows
		? songCapFactors(
				scaled,
				rows,
				mass.map((t, k) => t * weight[k]),
				o
			)
		: scaled.map(() => undefined);

	const capped: CappedClient[] = [];
	const out = scaled.map((u, k) => {
		const s = songScale[k];
		const songs = s ? s.reduce((c, v) => c + (v < 1 ? 1 : 0), 0) : 0;
		if (weight[k] === 1 && songs === 0) return u;
		capped.push({
			index: k,
			clientId: u.clientId,
			weight: weight[k],
			songs,
			reason: [
				weight[k] < 1
					? `its weight tr(G (Y'Y + lambda I)) is ${fmt(mass[k] / median(mass))} times the round's median, so it counts as ${fmt(o.clientCap)} times`
					: '',
				songs > 0
					? `on ${songs} song${songs === 1 ? '' : 's'} it brought more than ${fmt(o.songCap)} times its share of what the other clients did, so those count as ${fmt(o.songCap)} times its share`
					: ''
			]
				.filter(Boolean)
				.join('; ')
		});
		return s && rows ? scaleSongs(u, rows[k].songs, s, f) : u;
	});
	return capped.length === 0 ? { updates, capped } : { updates: out, capped };
}

/**
 * Per-song scale factors of each update (undefined: none capped), from each update's song
 * masses `rows` and its mass after the weight cap; see the module comment, cap 2.
 */
function songCapFactors(
	scaled: readonly ClientUpdate[],
	rows: readonly { songs: Int32Array; mass: Float64Array }[],
	cappedMass: readonly number[],
	o: Required<InfluenceCapOptions>
): (Float64Array | undefined)[] {
	// Each client's weight over the others'.
	const allMass = cappedMass.reduce((a, b) => a + b, 0);
	const share = cappedMass.map((t) => (allMass - t > 0 ? t / (allMass - t) : 1));
	// Per song: the mass of each client that touched it.
	const bySong = new Map<number, number[]>();
	rows.forEach(({ songs, mass }) => {
		songs.forEach((i, t) => {
			const list = bySong.get(i);
			if (list) list.push(mass[t]);
			else bySong.set(i, [mass[t]]);
		});
	});
	/** The song's reference for a client with mass `own`: the others' sum but the largest. */
	const reference = (i: number, own: number): number => {
		const others = [...bySong.get(i)!];
		others.splice(others.indexOf(own), 1);
		others.sort((a, b) => b - a);
		let sum = 0;
		for (let j = o.songTrim; j < others.length; j++) sum += others[j];
		return sum;
	};
	// One typical client-song mass: the median over every (client, song) pair.
	const all: number[] = [];
	for (const { mass } of rows) for (const v of mass) all.push(v);
	const typical = all.length > 0 ? median(all) : 0;
	return rows.map(({ songs, mass }, k) => {
		let factors: Float64Array | undefined;
		songs.forEach((i, t) => {
			const cap = o.songCap * (share[k] * reference(i, mass[t]) + typical);
			if (mass[t] > cap) {
				factors ??= new Float64Array(mass.length).fill(1);
				// exact: A and b times s gives a mass at most s m; compact: g times s gives s^2 m.
				factors[t] = scaled[k].payload.mode === 'exact' ? cap / mass[t] : Math.sqrt(cap / mass[t]);
			}
		});
		return factors;
	});
}

/** Every statistic of an update (G, A, b, proposals) times `s`; counts as they were. */
function scaleUpdate(u: ClientUpdate, s: number): ClientUpdate {
	const times = (a: Float32Array): Float32Array => a.map((v) => v * s);
	const pl = u.payload;
	const q = u.proposals;
	return {
		...u,
		payload:
			pl.mode === 'exact'
				? {
						...pl,
						gram: times(pl.gram),
						itemGrams: times(pl.itemGrams),
						itemTargets: times(pl.itemTargets)
					}
				: { ...pl, gram: times(pl.gram), gradient: times(pl.gradient) },
		...(q
			? {
					proposals: { ...q, itemGrams: times(q.itemGrams), itemTargets: times(q.itemTargets) }
				}
			: {})
	};
}

/**
 * Each song's mass in an update: exact `b_i' (A_i + G)^-1 b_i` over the touched songs
 * (robust.ts, check 4); compact `g_i' (G + eps I)^-1 g_i` over the non-zero rows of g, eps =
 * 1e-4 tr(G) / f.
 */
function songMasses(u: ClientUpdate, f: number): { songs: Int32Array; mass: Float64Array } {
	const pl = u.payload;
	if (pl.mode === 'exact') return { songs: pl.touched, mass: songEnergies(pl, f) };
	const songs: number[] = [];
	for (let i = 0; i < pl.gradient.length / f; i++) {
		for (let r = 0; r < f; r++) {
			if (pl.gradient[i * f + r] !== 0) {
				songs.push(i);
				break;
			}
		}
	}
	const g = new Float64Array(f * f);
	let trace = 0;
	for (let r = 0; r < f; r++) trace += pl.gram[r * f + r];
	for (let k = 0; k < f * f; k++) g[k] = pl.gram[k];
	for (let r = 0; r < f; r++) g[r * f + r] += (1e-4 * Math.max(trace, 0)) / f + 1e-300;
	const mass = new Float64Array(songs.length);
	let l: Float64Array;
	try {
		l = cholesky(g, f);
	} catch {
		// A G that is not positive semidefinite (screening flags it): no song is trusted.
		mass.fill(Infinity);
		return { songs: Int32Array.from(songs), mass };
	}
	songs.forEach((i, t) => {
		const row = pl.gradient.subarray(i * f, (i + 1) * f);
		const z = choleskySolve(l, f, row);
		let d = 0;
		for (let r = 0; r < f; r++) d += z[r] * row[r];
		mass[t] = d;
	});
	return { songs: Int32Array.from(songs), mass };
}

/** The rows `songs[t]` (exact: A and b; compact: g) of an update times `factors[t]`. */
function scaleSongs(
	u: ClientUpdate,
	songs: Int32Array,
	factors: Float64Array,
	f: number
): ClientUpdate {
	const pl = u.payload;
	if (pl.mode === 'compact') {
		const gradient = pl.gradient.slice();
		factors.forEach((s, t) => {
			for (let k = songs[t] * f; k < (songs[t] + 1) * f; k++) gradient[k] *= s;
		});
		return { ...u, payload: { ...pl, gradient } };
	}
	const ps = (f * (f + 1)) / 2;
	const itemGrams = pl.itemGrams.slice();
	const itemTargets = pl.itemTargets.slice();
	factors.forEach((s, t) => {
		if (s === 1) return;
		for (let k = t * ps; k < (t + 1) * ps; k++) itemGrams[k] *= s;
		for (let k = t * f; k < (t + 1) * f; k++) itemTargets[k] *= s;
	});
	return { ...u, payload: { ...pl, itemGrams, itemTargets } };
}
