import { MusicrecError } from '../../errors';
import type { TopN } from '../../eval/ranker';
import { privateKernel, type KernelExports, type WasmMemory } from './cg_kernel';

/** Quantised pass used only when every nonzero |y| row maximum and max |x| lie in this range. */
const SAFE_MIN = 2 ** -40;
const SAFE_MAX = 2 ** 40;
/** Unit roundoff of float32. */
const U32 = 2 ** -24;

/** Byte offsets of the scorer's regions in the kernel's memory. */
interface Layout {
	/** float32 [items, fp]: the exact factors. */
	items: number;
	/** int8 [items, fq] and float32 [items]: the quantised copy, one scale per row. */
	q8: number;
	scales: number;
	/** float32 [fp] and int16 [fq]: the factor vector, exact and quantised. */
	x: number;
	xq: number;
	/** float32 [items]: scores (exact pass) or approximate scores (quantised pass). */
	out: number;
	/** uint8 [items]: 1 for the songs excluded from the current call, else 0. */
	excluded: number;
	/** int32 [items]: candidate rows; float32 [items]: their exact scores (or heap scratch). */
	cand: number;
	candScores: number;
}

/**
 * Top-n songs for one factor vector, exact, off tfjs: the item factors stay resident in the
 * kernel's own WebAssembly memory, beside an int8 copy (one scale per song). Same result as
 * AlsModel.recommendForFactors and as `topNExact`: best first, excluded songs never picked,
 * ties by lower index, padded with -1 / -Infinity; the scores are the exact float32 sums.
 *
 * `topN` reads the int8 copy (a quarter of the bytes; the call is bound by reading the matrix)
 * for an approximate score a_i with a proven bound |e_i - a_i| <= c s_i, where e_i is the
 * float32 score the exact pass computes and s_i the song's scale; every song whose upper bound
 * a_i + c s_i reaches the n-th best lower bound a_j - c s_j is rescored exactly, and the top n
 * are picked among those. The n-th best exact score is at least that n-th lower bound, so every
 * song that could be in the exact top n (ties included) is rescored.
 *
 * The bound: y_i = s_i q_i + d_i with |d_ik| <= s_i / 2 (q_i int8, s_i = max_k |y_ik| / 127);
 * x = t v + r with v int16 and t a power of two, |r_k| <= t / 2. Then
 *   |y_i . x - s_i t (q_i . v)| <= s_i (||x||_1 / 2 + 127 fq t / 2)
 * and the float32 sum differs from y_i . x by at most gamma_f sum_k |y_ik x_k|
 * <= gamma_f 127 s_i ||x||_1 (gamma_f = f u / (1 - f u), u = 2^-24). `c` adds both terms
 * and a 2^-10 ||x||_1 margin for the rounding of a_i, of its bounds and of the scales. The
 * range check (SAFE_MIN..SAFE_MAX) keeps every product clear of underflow and overflow;
 * outside it, or for non-finite factors, `topN` is `topNExact`.
 */
export class ItemScorer {
	/** Songs scored exactly by the last `topN` call (all songs on the exact path). */
	lastRescored = 0;

	private constructor(
		private readonly exports: KernelExports,
		private readonly memory: WasmMemory,
		readonly items: number,
		readonly factors: number,
		/** Whether the int8 copy may be used (every row in the safe range). */
		readonly quantised: boolean,
		private readonly at: Layout
	) {}

	static async create(itemFactors: Float32Array, factors: number): Promise<ItemScorer> {
		const n = itemFactors.length / factors;
		const fp = (factors + 3) & ~3;
		const fq = (factors + 15) & ~15;
		const { exports, memory } = await privateKernel();
		const align = (v: number) => (v + 15) & ~15;
		const at = {} as Layout;
		let end = align(exports.heapBase());
		const region = (bytes: number) => {
			const start = end;
			end = align(end + bytes);
			return start;
		};
		at.items = region(n * fp * 4);
		at.q8 = region(n * fq);
		at.scales = region(n * 4);
		at.x = region(fp * 4);
		at.xq = region(fq * 2);
		at.out = region(n * 4);
		at.excluded = region(n);
		at.cand = region(n * 4);
		at.candScores = region(n * 4);
		memory.grow(Math.ceil(Math.max(0, end - memory.buffer.byteLength) / 65536));
		const dst = new Float32Array(memory.buffer, at.items, n * fp);
		if (fp === factors) dst.set(itemFactors);
		else {
			for (let i = 0; i < n; i++) {
				dst.set(itemFactors.subarray(i * factors, (i + 1) * factors), i * fp);
			}
		}
		exports.quantiseRows(n, fp, at.items, fq, at.q8, at.scales);
		let safe = true;
		for (const s of new Float32Array(memory.buffer, at.scales, n)) {
			const m = s * 127;
			if (!(m === 0 || (m >= SAFE_MIN && m <= SAFE_MAX))) safe = false;
		}
		return new ItemScorer(exports, memory, n, factors, safe, at);
	}

	/** The best `n` songs for factor vector `x`, `exclude` never picked. */
	topN(x: Float32Array, n: number, exclude: Int32Array = new Int32Array(0)): TopN {
		checkN(n);
		const fp = (this.factors + 3) & ~3;
		const fq = (this.factors + 15) & ~15;
		let l1 = 0;
		let max = 0;
		for (let k = 0; k < this.factors; k++) {
			const a = Math.abs(x[k]);
			l1 += a;
			if (!(a <= max)) max = a;
		}
		if (!this.quantised || !(max >= SAFE_MIN && max <= SAFE_MAX) || n >= this.items) {
			return this.topNExact(x, n, exclude);
		}
		const { exports, at } = this;
		const buffer = this.memory.buffer;
		// x = t v + r: v int16 with |v_k| <= qmax, so that |q . v| <= 127 fq qmax < 2^31.
		const qmax = Math.min(32767, Math.floor((2 ** 31 - 1) / (127 * fq)));
		let t = 2 ** Math.ceil(Math.log2(max / qmax));
		while (max / t > qmax) t *= 2;
		const xv = new Float32Array(buffer, at.x, fp);
		const xq = new Int16Array(buffer, at.xq, fq);
		xv.fill(0);
		xq.fill(0);
		for (let k = 0; k < this.factors; k++) {
			xv[k] = x[k];
			xq[k] = Math.round(x[k] / t);
		}
		const gamma = (fp * U32) / (1 - fp * U32);
		const c = Math.fround((l1 * (0.5 + 2 ** -10 + 128 * gamma) + 64 * t * fq) * (1 + 2 ** -20));
		const flags = new Uint8Array(buffer, at.excluded, this.items);
		for (const i of exclude) if (i >= 0 && i < this.items) flags[i] = 1;
		const m = exports.candidatesQ8(
			this.items,
			fq,
			at.q8,
			at.scales,
			at.xq,
			t,
			c,
			at.excluded,
			n,
			at.candScores,
			at.cand,
			at.out
		);
		for (const i of exclude) if (i >= 0 && i < this.items) flags[i] = 0;
		exports.scoreRows(m, at.cand, fp, at.items, at.x, at.candScores);
		this.lastRescored = m;
		return pickTop(
			n,
			new Float32Array(buffer, at.candScores, m),
			new Int32Array(buffer, at.cand, m)
		);
	}

	/** `topN` by one exact float32 pass over every song (the reference of the quantised pass). */
	topNExact(x: Float32Array, n: number, exclude: Int32Array = new Int32Array(0)): TopN {
		checkN(n);
		const fp = (this.factors + 3) & ~3;
		const xv = new Float32Array(this.memory.buffer, this.at.x, fp);
		xv.fill(0);
		xv.set(x.subarray(0, this.factors));
		this.exports.scoreItems(this.items, fp, this.at.items, this.at.x, this.at.out);
		const scores = new Float32Array(this.memory.buffer, this.at.out, this.items);
		for (const i of exclude) if (i >= 0 && i < this.items) scores[i] = -Infinity;
		this.lastRescored = this.items;
		return pickTop(n, scores);
	}
}

function checkN(n: number): void {
	if (!Number.isInteger(n) || n < 1) {
		throw new MusicrecError('als/bad-input', `n must be a positive integer (got ${n})`, { n });
	}
}

/**
 * The best n of `scores` (song ids[j], or j), best first, ties to the earlier entry (ids
 * ascending), -Infinity and NaN never picked; padded with -1 / -Infinity.
 */
function pickTop(n: number, scores: Float32Array, ids?: Int32Array): TopN {
	const best = new Int32Array(n).fill(-1);
	const value = new Float32Array(n).fill(-Infinity);
	let filled = 0;
	let worst = -Infinity;
	for (let j = 0; j < scores.length; j++) {
		const s = scores[j];
		// a song enters only if it beats the current n-th (or fills a free place)
		if (!(s > worst) && !(filled < n && s > -Infinity)) continue;
		let k = Math.min(filled, n - 1);
		while (k > 0 && value[k - 1] < s) {
			value[k] = value[k - 1];
			best[k] = best[k - 1];
			k--;
		}
		value[k] = s;
		best[k] = ids ? ids[j] : j;
		if (filled < n) filled++;
		worst = filled < n ? -Infinity : value[n - 1];
	}
	return { n, items: best, scores: value };
}
