import type { TopN } from '../../eval/ranker';
import { privateKernel, type KernelExports, type WasmMemory } from './cg_kernel';

/**
 * Top-n songs for one factor vector, exact, off tfjs: the item factors stay resident in the
 * kernel's own WebAssembly memory and one SIMD pass scores them all (the call is bound by reading
 * the n x f matrix once); the best n are then picked in one scan. Same result as
 * AlsModel.recommendForFactors: best first, excluded songs never picked, ties by lower index,
 * padded with -1 / -Infinity.
 */
export class ItemScorer {
	private constructor(
		private readonly exports: KernelExports,
		private readonly memory: WasmMemory,
		readonly items: number,
		readonly factors: number,
		private readonly at: { items: number; x: number; out: number }
	) {}

	static async create(itemFactors: Float32Array, factors: number): Promise<ItemScorer> {
		const n = itemFactors.length / factors;
		const fp = (factors + 3) & ~3;
		const { exports, memory } = await privateKernel();
		const align = (v: number) => (v + 15) & ~15;
		const items = align(exports.heapBase());
		const x = align(items + n * fp * 4);
		const out = align(x + fp * 4);
		const end = out + n * 4;
		memory.grow(Math.ceil(Math.max(0, end - memory.buffer.byteLength) / 65536));
		const dst = new Float32Array(memory.buffer, items, n * fp);
		for (let i = 0; i < n; i++) {
			dst.set(itemFactors.subarray(i * factors, (i + 1) * factors), i * fp);
		}
		return new ItemScorer(exports, memory, n, factors, { items, x, out });
	}

	/** The best `n` songs for factor vector `x`, `exclude` never picked. */
	topN(x: Float32Array, n: number, exclude: Int32Array = new Int32Array(0)): TopN {
		const fp = (this.factors + 3) & ~3;
		const xv = new Float32Array(this.memory.buffer, this.at.x, fp);
		xv.fill(0);
		xv.set(x.subarray(0, this.factors));
		this.exports.scoreItems(this.items, fp, this.at.items, this.at.x, this.at.out);
		const scores = new Float32Array(this.memory.buffer, this.at.out, this.items);
		for (const i of exclude) if (i >= 0 && i < this.items) scores[i] = -Infinity;
		// the best n so far, best first; a song enters only if it beats the current n-th
		const best = new Int32Array(n).fill(-1);
		const value = new Float32Array(n).fill(-Infinity);
		let worst = -Infinity;
		for (let i = 0; i < this.items; i++) {
			const s = scores[i];
			if (!(s > worst) && !(best[n - 1] < 0 && s > -Infinity)) continue;
			let k = n - 1;
			while (k > 0 && (value[k - 1] < s || best[k - 1] < 0)) {
				value[k] = value[k - 1];
				best[k] = best[k - 1];
				k--;
			}
			value[k] = s;
			best[k] = i;
			worst = best[n - 1] < 0 ? -Infinity : value[n - 1];
		}
		return { n, items: best, scores: value };
	}
}
