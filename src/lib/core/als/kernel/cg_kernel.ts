import { decodeBase64 } from '../../format/base64';
import { MusicrecError } from '../../errors';
import {
	ARG_SLOTS,
	FLAG_SLOTS,
	FN_CG_CHUNKS,
	FN_GRAM_CHUNKS,
	FN_MUL_CHUNKS,
	FN_OBSERVED_LOSS,
	FN_STOP,
	waitForChange
} from './helper_loop.js';
import { spdInverse } from '../cholesky';
import { ALS_CG_WASM, ALS_CG_WASM_SHARED } from './als_cg_wasm';

// The few WebAssembly types used here, declared locally: the core compiles without the DOM
// and Node type libraries, which are where the WebAssembly namespace is declared.
export interface WasmMemory {
	readonly buffer: ArrayBuffer | SharedArrayBuffer;
	grow(pages: number): number;
}
/** A compiled WebAssembly.Module (opaque; structured-cloneable to workers). */
type WasmModule = object;
/** The functions als_cg.as.ts exports. */
export interface KernelExports {
	heapBase(): number;
	cgChunks(...args: number[]): number;
	gramChunks(...args: number[]): void;
	gramSum(parts: number, f: number, lambda: number, partsAt: number, gram: number): void;
	mulChunks(...args: number[]): void;
	observedLoss(...args: number[]): number;
	scoreItems(n: number, f: number, items: number, x: number, out: number): void;
	quantiseRows(n: number, f: number, items: number, fq: number, q8: number, scales: number): void;
	candidatesQ8(
		n: number,
		fq: number,
		q8: number,
		scales: number,
		xq: number,
		t: number,
		c: number,
		excluded: number,
		k: number,
		heap: number,
		cand: number,
		out: number
	): number;
	scoreRows(m: number, cand: number, f: number, items: number, x: number, out: number): void;
}
interface WasmApi {
	compile(bytes: Uint8Array): Promise<WasmModule>;
	instantiate(
		module: WasmModule,
		imports: { env: { memory: WasmMemory } }
	): Promise<{ exports: unknown }>;
	Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

const PAGE = 65536;
/** Shared memories need a maximum: the whole 32-bit space, reserved lazily by the engine. */
const SHARED_MAXIMUM_PAGES = 65536;

function wasmApi(): WasmApi {
	const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
	if (!api) throw new MusicrecError('als/no-kernel', 'WebAssembly is not available here');
	return api;
}

/** Compile the kernel: the private-memory build, or the shared-memory build for threads. */
function compileAlsKernel(shared: boolean): Promise<WasmModule> {
	return wasmApi().compile(decodeBase64(shared ? ALS_CG_WASM_SHARED : ALS_CG_WASM));
}

/** The single-threaded kernel on a fresh private memory. */
export async function privateKernel(): Promise<{ exports: KernelExports; memory: WasmMemory }> {
	const api = wasmApi();
	const memory = new api.Memory({ initial: 1 });
	const instance = await api.instantiate(await compileAlsKernel(false), { env: { memory } });
	return { exports: instance.exports as KernelExports, memory };
}

/** A new shared memory for the threaded kernel. */
function newSharedKernelMemory(): WasmMemory {
	return new (wasmApi().Memory)({ initial: 1, maximum: SHARED_MAXIMUM_PAGES, shared: true });
}

/**
 * Helper threads running the shared-memory kernel on `memory` (platform parts start them:
 * worker_threads in Node, module Workers in the browser). The calling thread is one more.
 */
export interface KernelThreads {
	readonly memory: WasmMemory;
	readonly module: WasmModule;
	readonly helpers: number;
	/** Flags and arguments buffers, laid out as in helper_loop.js. */
	readonly flags: SharedArrayBuffer;
	readonly args: SharedArrayBuffer;
	/** Stop the helpers (they finish their job first). */
	close(): Promise<void>;
}

/** The rows of one side of the matrix: CSR with confidences, rows solved in order. */
export interface KernelRows {
	/** [rows + 1] offsets into indices/conf, starting at 0. */
	readonly indptr: Int32Array;
	/** [nnz] column (fixed-side row) of each entry. */
	readonly indices: Int32Array;
	/** [nnz] confidence c of each entry. */
	readonly conf: Float32Array;
}

export interface CgProblem extends KernelRows {
	/** [fixedRows, f] the fixed side F. */
	readonly fixed: Float32Array;
	/** lambda: the kernel builds F'F + lambda I itself. */
	readonly lambda: number;
	/** [rows, f] the warm start. */
	readonly x0: Float32Array;
	readonly factors: number;
	readonly steps: number;
	/**
	 * Solve rows with few entries exactly (Woodbury identity, als_cg.as.ts) where that costs
	 * less than their CG steps (exactRowLimit); default true. False: every row by CG, step for
	 * step as implicit and the stock-ops solver do.
	 */
	readonly exactShortRows?: boolean;
	/**
	 * Identities of immutable inputs (e.g. tfjs dataIds): a factor matrix the kernel still
	 * holds under the same key (the fixed side, or the result of an earlier call) is not copied
	 * in again. Name the result with keepResultAs.
	 */
	readonly keys?: {
		readonly fixed: object;
		readonly x0: object;
		/** indptr, indices and conf: their checks and row plan are kept for the next calls. */
		readonly rows?: readonly [object, object, object];
	};
}

/** A checked row set's plan, kept under its indptr key (RowsKeys). */
interface KnownRows {
	readonly indices: object;
	readonly conf: object;
	readonly fixedRows: number;
	/** fp, steps, exact rows wanted, chunks: what the plan was made for. */
	readonly planFor: string;
	readonly plan: RowPlan;
}

/** A factor matrix kept in kernel memory between calls, known by its owner's key. */
interface FactorSlot {
	key: object | undefined;
	rows: number;
	fp: number;
}

/** Byte offset of each array in linear memory for one call. */
interface Layout {
	indptr: number;
	indices: number;
	conf: number;
	fixed: number;
	gram: number;
	/** GRAM_PARTS partial grams (gramParts). */
	gramParts: number;
	/** G^-1 [fp, fp] and H = F G^-1 [fixedRows, fp] for exact rows (empty without them). */
	inverse: number;
	h: number;
	x: number;
	/** cgChunks' counter (one i32, 16 bytes reserved) and chunk bounds. */
	next: number;
	bounds: number;
	scratch: number;
	scratchBytes: number;
	end: number;
}

/**
 * The gram matrix is summed from this many parts (one job each), whatever the thread count,
 * so that its bits, and every result, do not depend on the number of threads.
 */
const GRAM_PARTS = 16;
/**
 * Row chunks per thread in a solve: threads take chunks in turn, so estimates of a row's
 * cost need not be exact for the threads to finish together.
 */
const CHUNKS_PER_THREAD = 48;
/** Rows longer than this are never solved exactly (bounds the float64 system's scratch). */
const EXACT_ROWS_CAP = 64;

/** Multiply-adds of `steps` warm-started CG steps on a row with k entries (f padded). */
function cgCost(k: number, f: number, steps: number): number {
	// the residual and each step: k dots and the fused G v + sum_i w_i f_i
	return (steps + 1) * (f * f + 2 * k * f);
}

/**
 * Multiply-adds of the exact solve of a row with k entries: z, the rows of D V z, S's upper
 * triangle and x (f-long SIMD dots and axpys), then the float64 elimination (~k^3 / 3, scalar:
 * counted four times).
 */
function exactCost(k: number, f: number): number {
	return f * (3 * k + (k * (k + 1)) / 2) + (4 * k * k * k) / 3;
}

/** The longest row that is cheaper to solve exactly than by `steps` CG steps (0: none). */
export function exactRowLimit(f: number, steps: number): number {
	let k = 0;
	while (k < EXACT_ROWS_CAP && exactCost(k + 1, f) < cgCost(k + 1, f, steps)) k++;
	return k;
}

/** How one call's rows are solved: which go exact, and the chunks threads take in turn. */
export interface RowPlan {
	/** Rows with 1..exactMax entries are solved exactly (0: none). */
	readonly exactMax: number;
	readonly exactRows: number;
	/** Entries of the longest row (sizes the scratch). */
	readonly longest: number;
	/** chunks + 1 row boundaries of about equal estimated cost. */
	readonly bounds: Int32Array;
}

/**
 * Plan one call: rows up to exactRowLimit entries go exact when what they save pays for
 * H = F G^-1 (f^2 per fixed row) and the float64 inverse; then `chunks` chunks of about equal
 * estimated cost.
 */
export function planRows(
	indptr: Int32Array,
	fixedRows: number,
	f: number,
	steps: number,
	exactWanted: boolean,
	chunks: number
): RowPlan {
	const rows = indptr.length - 1;
	const limit = exactWanted ? exactRowLimit(f, steps) : 0;
	let saved = 0;
	let longest = 0;
	for (let u = 0; u < rows; u++) {
		const k = indptr[u + 1] - indptr[u];
		if (k > longest) longest = k;
		if (k > 0 && k <= limit) saved += cgCost(k, f, steps) - exactCost(k, f);
	}
	const exactMax = limit > 0 && saved > fixedRows * f * f + 4 * f * f * f ? limit : 0;
	let exactRows = 0;
	const costs = new Float64Array(rows);
	for (let u = 0; u < rows; u++) {
		const k = indptr[u + 1] - indptr[u];
		const exact = k > 0 && k <= exactMax;
		if (exact) exactRows++;
		costs[u] = exact ? exactCost(k, f) : cgCost(k, f, steps);
	}
	return { exactMax, exactRows, longest, bounds: splitCosts(costs, chunks) };
}

const align16 = (n: number) => (n + 15) & ~15;
/** Per-thread regions start on their own 64-byte cache line. */
const align64 = (n: number) => (n + 63) & ~63;

/**
 * The fused CG kernel of als_cg.as.ts on one memory: copies a problem in, runs it on the
 * calling thread and its helpers (rows split by estimated cost), copies the result out.
 */
export class AlsCgKernel {
	private constructor(
		private readonly exports: KernelExports,
		private readonly memory: WasmMemory,
		private readonly threads: KernelThreads | undefined
	) {}

	/** Instantiate the kernel; with `threads`, on their shared memory and with their help. */
	static async create(threads?: KernelThreads): Promise<AlsCgKernel> {
		if (!threads) {
			const { exports, memory } = await privateKernel();
			return new AlsCgKernel(exports, memory, undefined);
		}
		const instance = await wasmApi().instantiate(threads.module, {
			env: { memory: threads.memory }
		});
		return new AlsCgKernel(instance.exports as KernelExports, threads.memory, threads);
	}

	/**
	 * What the last solveRows did: its rows, how many were solved exactly (barring the rare
	 * singular fallback to CG), the limit, and the sum of squares of its result (finite exactly
	 * when the result is, barring overflow).
	 */
	lastSolve = { rows: 0, exactRows: 0, exactMax: 0, sumSquares: 0 };

	/**
	 * Two factor matrices stay resident at the start of memory (each slotBytes long): a
	 * half-sweep's fixed side and result are the next half-sweep's x0 and fixed side.
	 */
	private readonly slots: [FactorSlot, FactorSlot] = [
		{ key: undefined, rows: 0, fp: 0 },
		{ key: undefined, rows: 0, fp: 0 }
	];
	private slotBytes = 0;
	/** Plans of row sets already checked, by indptr key (entries go with their keys). */
	private readonly knownRows = new WeakMap<object, KnownRows>();
	/** The slot the last solveRows wrote its result to (-1: none). */
	private resultSlot = -1;

	/** Threads working on one call: the caller plus the helpers. */
	get threadCount(): number {
		return 1 + (this.threads?.helpers ?? 0);
	}

	/** Bytes of linear memory now reserved (it grows to the largest problem and stays). */
	get memoryBytes(): number {
		return this.memory.buffer.byteLength;
	}

	/**
	 * Solve every row's system by `steps` warm-started CG steps; the [rows, f] result goes to
	 * `out` when given (e.g. a tfjs heap view), else to a new array.
	 */
	solveRows(
		problem: CgProblem,
		out?: Float32Array<ArrayBufferLike>
	): Float32Array<ArrayBufferLike> {
		const { indptr, factors: f, steps } = problem;
		const rows = indptr.length - 1;
		const fixedRows = problem.fixed.length / f;
		const fp = (f + 3) & ~3;
		const chunks =
			this.threadCount === 1 ? 1 : Math.min(rows, CHUNKS_PER_THREAD * this.threadCount);
		const plan = this.rowPlan(problem, fixedRows, fp, chunks);
		let exactMax = plan.exactMax;
		const keys = problem.keys;
		const place = this.placeFactors(keys, rows, fixedRows, fp);
		const fs = place.fixed;
		const xs = place.x;
		this.resultSlot = -1;
		const lay = this.layout(rows, problem.indices.length, fixedRows, fp, plan.longest, exactMax, {
			fixed: fs,
			x: xs
		});
		this.writeRows(problem, lay);
		if (!place.fixedHeld) this.writeMatrix(problem.fixed, f, fp, lay.fixed);
		if (!place.xHeld) this.writeMatrix(problem.x0, f, fp, lay.x);
		if (keys) {
			this.slots[fs] = { key: keys.fixed, rows: fixedRows, fp };
			// x0 is overwritten by the result: the slot is named by keepResultAs
			this.slots[xs] = { key: undefined, rows, fp };
			this.resultSlot = xs;
		}
		this.buildGram(fixedRows, fp, problem.lambda, lay);
		if (exactMax > 0 && !this.buildH(fixedRows, fp, lay)) exactMax = 0;
		const exactRows = exactMax > 0 ? plan.exactRows : 0;
		const bounds = plan.bounds;
		new Int32Array(this.memory.buffer, lay.bounds, bounds.length).set(bounds);
		const tail = [lay.indptr, lay.indices, lay.conf, lay.fixed, lay.gram, lay.x, lay.h, exactMax];
		const squares = this.runChunks(FN_CG_CHUNKS, lay, (t) => [
			bounds.length - 1,
			lay.bounds,
			fp,
			steps,
			...tail,
			lay.scratch + t * lay.scratchBytes
		]);
		this.lastSolve = {
			rows,
			exactRows,
			exactMax,
			sumSquares: squares.reduce((a, b) => a + b, 0)
		};
		return this.readMatrix(lay.x, rows, f, fp, out);
	}

	/**
	 * The row plan of `problem`: checked and planned once per row set when its keys name it
	 * (the same indptr, indices and conf tensors), else every call.
	 */
	private rowPlan(problem: CgProblem, fixedRows: number, fp: number, chunks: number): RowPlan {
		const exactWanted = problem.exactShortRows !== false;
		const rowsKeys = problem.keys?.rows;
		const planFor = `${fp} ${problem.steps} ${exactWanted} ${chunks}`;
		const known = rowsKeys && this.knownRows.get(rowsKeys[0]);
		if (
			known &&
			known.indices === rowsKeys[1] &&
			known.conf === rowsKeys[2] &&
			known.fixedRows === fixedRows &&
			known.planFor === planFor
		) {
			return known.plan;
		}
		checkRows(problem, fixedRows);
		const plan = planRows(problem.indptr, fixedRows, fp, problem.steps, exactWanted, chunks);
		if (rowsKeys) {
			const [indptrKey, indices, conf] = rowsKeys;
			this.knownRows.set(indptrKey, { indices, conf, fixedRows, planFor, plan });
		}
		return plan;
	}

	/**
	 * The slots the fixed side and the warm start live in (-1 without keys: copied after the
	 * slots), and whether a slot already holds them under their keys.
	 */
	private placeFactors(
		keys: CgProblem['keys'],
		rows: number,
		fixedRows: number,
		fp: number
	): { fixed: number; x: number; fixedHeld: boolean; xHeld: boolean } {
		if (!keys) return { fixed: -1, x: -1, fixedHeld: false, xHeld: false };
		this.reserveSlots(Math.max(rows, fixedRows) * fp * 4);
		const holds = (i: number, key: object, n: number) =>
			this.slots[i].key === key && this.slots[i].rows === n && this.slots[i].fp === fp;
		let fixed = holds(0, keys.fixed, fixedRows) ? 0 : holds(1, keys.fixed, fixedRows) ? 1 : -1;
		let x =
			fixed !== 0 && holds(0, keys.x0, rows) ? 0 : fixed !== 1 && holds(1, keys.x0, rows) ? 1 : -1;
		const fixedHeld = fixed >= 0;
		const xHeld = x >= 0;
		if (fixed < 0) fixed = x === 0 ? 1 : 0;
		if (x < 0) x = 1 - fixed;
		return { fixed, x, fixedHeld, xHeld };
	}

	/** Name the last solveRows result (e.g. its output tensor's dataId) for the next calls. */
	keepResultAs(key: object): void {
		if (this.resultSlot >= 0) this.slots[this.resultSlot].key = key;
	}

	/** Make both slots at least `bytes` long; moving them forgets what they held. */
	private reserveSlots(bytes: number): void {
		if (bytes <= this.slotBytes) return;
		this.slotBytes = align64(bytes);
		for (const slot of this.slots) slot.key = undefined;
	}

	/** F'F + lambda I of a [n, f] matrix, as the CG solve builds it (for tests). */
	gram(fixed: Float32Array, f: number, lambda: number): Float32Array {
		const fp = (f + 3) & ~3;
		const n = fixed.length / f;
		const lay = this.layout(0, 0, n, fp, 0, 0);
		this.writeMatrix(fixed, f, fp, lay.fixed);
		this.buildGram(n, fp, lambda, lay);
		return this.readMatrix(lay.gram, f, f, fp);
	}

	/** G^-1 and H = F G^-1 of a [n, f] matrix as exact rows use them (for tests). */
	inverseRows(
		fixed: Float32Array,
		f: number,
		lambda: number
	): { h: Float32Array; inverse: Float32Array } | undefined {
		const fp = (f + 3) & ~3;
		const n = fixed.length / f;
		const lay = this.layout(0, 0, n, fp, 0, 1);
		this.writeMatrix(fixed, f, fp, lay.fixed);
		this.buildGram(n, fp, lambda, lay);
		if (!this.buildH(n, fp, lay)) return undefined;
		return {
			h: this.readMatrix(lay.h, n, f, fp) as Float32Array,
			inverse: this.readMatrix(lay.inverse, f, f, fp) as Float32Array
		};
	}

	/** G = F'F + lambda I at lay.gram: GRAM_PARTS jobs shared by the threads, then their sum. */
	private buildGram(n: number, fp: number, lambda: number, lay: Layout): void {
		this.runChunks(FN_GRAM_CHUNKS, lay, () => [GRAM_PARTS, n, fp, lay.fixed, lay.gramParts]);
		this.exports.gramSum(GRAM_PARTS, fp, lambda, lay.gramParts, lay.gram);
	}

	/**
	 * G^-1 (float64 Cholesky, stored as float32) at lay.inverse and H = F G^-1 at lay.h, rows
	 * shared by the threads. False when G is not numerically positive definite.
	 */
	private buildH(n: number, fp: number, lay: Layout): boolean {
		const g = Float64Array.from(new Float32Array(this.memory.buffer, lay.gram, fp * fp));
		let inverse: Float64Array;
		try {
			inverse = spdInverse(g, fp);
		} catch {
			return false;
		}
		new Float32Array(this.memory.buffer, lay.inverse, fp * fp).set(inverse);
		const chunks = Math.min(n, CHUNKS_PER_THREAD * this.threadCount);
		this.runChunks(FN_MUL_CHUNKS, lay, () => [chunks, n, fp, lay.inverse, lay.fixed, lay.h]);
		return true;
	}

	/** sum over stored entries of c (1 - x_u.f_i)^2 - (x_u.f_i)^2, in float64 (see loss.ts). */
	observedLoss(rowsData: KernelRows, x: Float32Array, fixed: Float32Array, f: number): number {
		const rows = rowsData.indptr.length - 1;
		checkRows(rowsData, fixed.length / f);
		const fp = (f + 3) & ~3;
		const lay = this.layout(rows, rowsData.indices.length, fixed.length / f, fp, 0, 0);
		this.writeRows(rowsData, lay);
		this.writeMatrix(fixed, f, fp, lay.fixed);
		this.writeMatrix(x, f, fp, lay.x);
		const tail = [lay.indptr, lay.indices, lay.conf, lay.fixed, lay.x];
		const parts = this.runSplit(
			FN_OBSERVED_LOSS,
			rows,
			(u) => 1 + (rowsData.indptr[u + 1] - rowsData.indptr[u]),
			(start, end) => [start, end, fp, ...tail]
		);
		return parts.reduce((a, b) => a + b, 0);
	}

	/**
	 * Split [0, rows) into one contiguous range per thread of about equal `cost` and run `fn`
	 * on each (run); returns each range's result.
	 */
	private runSplit(
		fn: number,
		rows: number,
		cost: (row: number) => number,
		args: (start: number, end: number, thread: number) => number[]
	): number[] {
		const bounds = splitByCost(rows, this.threadCount, cost);
		return this.run(fn, (t) => args(bounds[t], bounds[t + 1], t));
	}

	/** Run a chunked job (als_cg.as.ts takeChunk): zero its counter, then args(t) after it. */
	private runChunks(fn: number, lay: Layout, args: (thread: number) => number[]): number[] {
		new Int32Array(this.memory.buffer, lay.next, 1)[0] = 0;
		return this.run(fn, (t) => [lay.next, ...args(t)]);
	}

	/**
	 * Post job `fn` with arguments args(t) to every helper t = 1..helpers, run args(0) on the
	 * calling thread, wait for the helpers; returns each thread's result.
	 */
	private run(fn: number, args: (thread: number) => number[]): number[] {
		const t = this.threads;
		if (!t || this.threadCount === 1) return [this.call(fn, args(0))];
		const flags = new Int32Array(t.flags);
		const slots = new Float64Array(t.args);
		for (let h = 0; h < t.helpers; h++) {
			const a = args(h + 1);
			slots.set(a, h * ARG_SLOTS);
			flags[h * FLAG_SLOTS + 2] = fn;
			Atomics.add(flags, h * FLAG_SLOTS, 1);
			Atomics.notify(flags, h * FLAG_SLOTS);
		}
		const results = [this.call(fn, args(0))];
		let failed = false;
		for (let h = 0; h < t.helpers; h++) {
			const request = Atomics.load(flags, h * FLAG_SLOTS);
			for (;;) {
				const done = Atomics.load(flags, h * FLAG_SLOTS + 1);
				if (done === request) break;
				waitForChange(flags, h * FLAG_SLOTS + 1, done);
			}
			results.push(slots[h * ARG_SLOTS + ARG_SLOTS - 1]);
			if (flags[h * FLAG_SLOTS + 3] !== 0) failed = true;
		}
		if (failed) {
			throw new MusicrecError('als/kernel-failed', 'a kernel helper thread failed');
		}
		return results;
	}

	private call(fn: number, args: number[]): number {
		const e = this.exports;
		if (fn === FN_OBSERVED_LOSS) return e.observedLoss(...args);
		if (fn === FN_CG_CHUNKS) return e.cgChunks(...args);
		else if (fn === FN_GRAM_CHUNKS) e.gramChunks(...args);
		else if (fn === FN_MUL_CHUNKS) e.mulChunks(...args);
		return 0;
	}

	private layout(
		rows: number,
		nnz: number,
		fixedRows: number,
		fp: number,
		longest: number,
		exactMax: number,
		inSlots: { fixed: number; x: number } = { fixed: -1, x: -1 }
	): Layout {
		// per thread: r, p, Ap, exact rows' float64 system and one weight per entry of the
		// longest row (the order als_cg.as.ts's cgRows expects)
		const scratchBytes = align64(
			3 * fp * 4 + align16(exactMax * (exactMax + 1) * 8) + align16(longest * 4)
		);
		const base = align64(this.exports.heapBase());
		const slotAt = (i: number) => base + i * this.slotBytes;
		let at = base + 2 * this.slotBytes;
		const take = (bytes: number) => {
			const start = at;
			at = align16(at + bytes);
			return start;
		};
		// regions written by every thread start and end on cache lines of their own
		const takeLines = (bytes: number) => {
			at = align64(at);
			const start = at;
			at = align64(at + bytes);
			return start;
		};
		const lay: Layout = {
			indptr: take((rows + 1) * 4),
			indices: take(nnz * 4),
			conf: take(nnz * 4),
			fixed: inSlots.fixed >= 0 ? slotAt(inSlots.fixed) : take(fixedRows * fp * 4),
			gram: take(fp * fp * 4),
			gramParts: take(GRAM_PARTS * fp * fp * 4),
			inverse: take(exactMax > 0 ? fp * fp * 4 : 0),
			h: take(exactMax > 0 ? fixedRows * fp * 4 : 0),
			x: inSlots.x >= 0 ? slotAt(inSlots.x) : take(rows * fp * 4),
			// the chunk counter alone on its cache line: every thread writes it
			next: takeLines(4),
			bounds: take((Math.min(rows, CHUNKS_PER_THREAD * this.threadCount) + 1) * 4),
			scratch: takeLines(this.threadCount * scratchBytes),
			scratchBytes,
			end: 0
		};
		lay.end = at;
		const have = this.memory.buffer.byteLength;
		if (lay.end > have) {
			const pages = Math.ceil((lay.end - have) / PAGE);
			try {
				this.memory.grow(pages);
			} catch (e) {
				throw new MusicrecError(
					'als/out-of-memory',
					`the ALS kernel needs ${Math.ceil(lay.end / 2 ** 20)} MiB of WebAssembly memory and could not get it`,
					{ bytes: lay.end, cause: String(e) }
				);
			}
		}
		return lay;
	}

	private writeRows(r: KernelRows, lay: Layout): void {
		const buf = this.memory.buffer;
		new Int32Array(buf, lay.indptr, r.indptr.length).set(r.indptr);
		new Int32Array(buf, lay.indices, r.indices.length).set(r.indices);
		new Float32Array(buf, lay.conf, r.conf.length).set(r.conf);
	}

	/** Copy a [n, f] matrix into [n, fp] rows (zero padding when f is not a multiple of 4). */
	private writeMatrix(m: Float32Array, f: number, fp: number, at: number): void {
		const n = m.length / f;
		const dst = new Float32Array(this.memory.buffer, at, n * fp);
		if (fp === f) {
			dst.set(m);
			return;
		}
		dst.fill(0);
		for (let i = 0; i < n; i++) dst.set(m.subarray(i * f, (i + 1) * f), i * fp);
	}

	private readMatrix(
		at: number,
		n: number,
		f: number,
		fp: number,
		out: Float32Array<ArrayBufferLike> = new Float32Array(n * f)
	): Float32Array<ArrayBufferLike> {
		const src = new Float32Array(this.memory.buffer, at, n * fp);
		if (fp === f) out.set(src);
		else for (let i = 0; i < n; i++) out.set(src.subarray(i * fp, i * fp + f), i * f);
		return out;
	}
}

/** The kernel reads raw memory: refuse indices it would read out of bounds. */
function checkRows(r: KernelRows, fixedRows: number): void {
	const { indptr, indices, conf } = r;
	const nnz = indices.length;
	if (conf.length !== nnz || indptr[0] !== 0 || indptr[indptr.length - 1] !== nnz) {
		throw new MusicrecError('als/bad-input', 'kernel rows: indptr, indices and conf disagree');
	}
	for (let u = 1; u < indptr.length; u++) {
		if (indptr[u] < indptr[u - 1]) {
			throw new MusicrecError('als/bad-input', `kernel rows: indptr decreases at row ${u}`);
		}
	}
	for (let k = 0; k < nnz; k++) {
		const i = indices[k];
		if (!(i >= 0 && i < fixedRows)) {
			throw new MusicrecError(
				'als/bad-input',
				`kernel rows: index ${i} at entry ${k} is outside 0..${fixedRows - 1}`
			);
		}
	}
}

/**
 * Boundaries b[0] = 0 <= ... <= b[parts] = rows of contiguous ranges with about equal total
 * cost (each range ends at the first row where the running cost reaches its share).
 */
export function splitByCost(rows: number, parts: number, cost: (row: number) => number): number[] {
	return Array.from(
		splitCosts(
			Float64Array.from({ length: rows }, (_, u) => cost(u)),
			parts
		)
	);
}

/** splitByCost over an array of row costs. */
function splitCosts(costs: Float64Array, parts: number): Int32Array {
	const rows = costs.length;
	let total = 0;
	for (let u = 0; u < rows; u++) total += costs[u];
	const bounds = new Int32Array(parts + 1);
	let acc = 0;
	let u = 0;
	for (let p = 1; p < parts; p++) {
		const target = (total * p) / parts;
		while (u < rows && acc + costs[u] / 2 < target) acc += costs[u++];
		bounds[p] = u;
	}
	bounds[parts] = rows;
	return bounds;
}

/** What each helper thread is started with (structured-cloneable). */
export interface HelperStart {
	readonly module: WasmModule;
	readonly memory: WasmMemory;
	readonly flags: SharedArrayBuffer;
	readonly args: SharedArrayBuffer;
}

/** The shared-memory kernel, its memory and the job buffers for `helpers` threads. */
export async function helperStart(helpers: number): Promise<HelperStart> {
	return {
		module: await compileAlsKernel(true),
		memory: newSharedKernelMemory(),
		flags: new SharedArrayBuffer(Math.max(1, helpers) * FLAG_SLOTS * 4),
		args: new SharedArrayBuffer(Math.max(1, helpers) * ARG_SLOTS * 8)
	};
}

/**
 * KernelThreads over started helpers; close() tells them to stop, then `terminate` ends the
 * platform's threads.
 */
export function kernelThreads(
	start: HelperStart,
	helpers: number,
	terminate: () => Promise<unknown> | void
): KernelThreads {
	return {
		...start,
		helpers,
		async close() {
			const f = new Int32Array(start.flags);
			for (let h = 0; h < helpers; h++) {
				f[h * FLAG_SLOTS + 2] = FN_STOP;
				Atomics.add(f, h * FLAG_SLOTS, 1);
				Atomics.notify(f, h * FLAG_SLOTS);
			}
			await terminate();
		}
	};
}
