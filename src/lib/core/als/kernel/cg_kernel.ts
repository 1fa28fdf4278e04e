import { decodeBase64 } from '../../format/base64';
import { MusicrecError } from '../../errors';
import { ARG_SLOTS, FLAG_SLOTS, FN_CG_ROWS, FN_OBSERVED_LOSS, FN_STOP } from './helper_loop.js';
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
	cgRows(...args: number[]): void;
	gramOf(n: number, f: number, fixed: number, lambda: number, gram: number): void;
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
}

/** Byte offset of each array in linear memory for one call. */
interface Layout {
	indptr: number;
	indices: number;
	conf: number;
	fixed: number;
	gram: number;
	x: number;
	scratch: number;
	scratchBytes: number;
	end: number;
}

const align16 = (n: number) => (n + 15) & ~15;

function longestRow(indptr: Int32Array): number {
	let longest = 0;
	for (let u = 1; u < indptr.length; u++) longest = Math.max(longest, indptr[u] - indptr[u - 1]);
	return longest;
}

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
		checkRows(problem, fixedRows);
		const fp = (f + 3) & ~3;
		const lay = this.layout(rows, problem.indices.length, fixedRows, fp, longestRow(indptr));
		this.writeRows(problem, lay);
		this.writeMatrix(problem.fixed, f, fp, lay.fixed);
		this.writeMatrix(problem.x0, f, fp, lay.x);
		this.exports.gramOf(fixedRows, fp, lay.fixed, problem.lambda, lay.gram);
		const tail = [lay.indptr, lay.indices, lay.conf, lay.fixed, lay.gram, lay.x];
		this.run(
			FN_CG_ROWS,
			rows,
			(u) => (steps + 1) * (2 * fp * fp + 4 * fp * (indptr[u + 1] - indptr[u])),
			(start, end, t) => [start, end, fp, steps, ...tail, lay.scratch + t * lay.scratchBytes]
		);
		return this.readMatrix(lay.x, rows, f, fp, out);
	}

	/** F'F + lambda I of a [n, f] matrix, as the CG solve builds it (for tests). */
	gram(fixed: Float32Array, f: number, lambda: number): Float32Array {
		const fp = (f + 3) & ~3;
		const n = fixed.length / f;
		const lay = this.layout(0, 0, n, fp, 0);
		this.writeMatrix(fixed, f, fp, lay.fixed);
		this.exports.gramOf(n, fp, lay.fixed, lambda, lay.gram);
		return this.readMatrix(lay.gram, f, f, fp);
	}

	/** sum over stored entries of c (1 - x_u.f_i)^2 - (x_u.f_i)^2, in float64 (see loss.ts). */
	observedLoss(rowsData: KernelRows, x: Float32Array, fixed: Float32Array, f: number): number {
		const rows = rowsData.indptr.length - 1;
		checkRows(rowsData, fixed.length / f);
		const fp = (f + 3) & ~3;
		const lay = this.layout(rows, rowsData.indices.length, fixed.length / f, fp, 0);
		this.writeRows(rowsData, lay);
		this.writeMatrix(fixed, f, fp, lay.fixed);
		this.writeMatrix(x, f, fp, lay.x);
		const tail = [lay.indptr, lay.indices, lay.conf, lay.fixed, lay.x];
		const parts = this.run(
			FN_OBSERVED_LOSS,
			rows,
			(u) => 1 + (rowsData.indptr[u + 1] - rowsData.indptr[u]),
			(start, end) => [start, end, fp, ...tail]
		);
		return parts.reduce((a, b) => a + b, 0);
	}

	/**
	 * Split [0, rows) into one contiguous range per thread of about equal `cost`, post the
	 * helpers' ranges, run the caller's own range, wait; returns each range's result.
	 */
	private run(
		fn: number,
		rows: number,
		cost: (row: number) => number,
		args: (start: number, end: number, thread: number) => number[]
	): number[] {
		const n = this.threadCount;
		const bounds = splitByCost(rows, n, cost);
		const t = this.threads;
		if (!t || n === 1) return [this.call(fn, args(0, rows, 0))];
		const flags = new Int32Array(t.flags);
		const slots = new Float64Array(t.args);
		for (let h = 0; h < t.helpers; h++) {
			const a = args(bounds[h + 1], bounds[h + 2], h + 1);
			slots.set(a, h * ARG_SLOTS);
			flags[h * FLAG_SLOTS + 2] = fn;
			Atomics.add(flags, h * FLAG_SLOTS, 1);
			Atomics.notify(flags, h * FLAG_SLOTS);
		}
		const results = [this.call(fn, args(bounds[0], bounds[1], 0))];
		for (let h = 0; h < t.helpers; h++) {
			const request = Atomics.load(flags, h * FLAG_SLOTS);
			for (;;) {
				const done = Atomics.load(flags, h * FLAG_SLOTS + 1);
				if (done === request) break;
				Atomics.wait(flags, h * FLAG_SLOTS + 1, done);
			}
			results.push(slots[h * ARG_SLOTS + ARG_SLOTS - 1]);
		}
		if (results.some(Number.isNaN)) {
			throw new MusicrecError('als/kernel-failed', 'a kernel helper thread failed');
		}
		return results;
	}

	private call(fn: number, args: number[]): number {
		if (fn === FN_CG_ROWS) {
			this.exports.cgRows(...args);
			return 0;
		}
		return this.exports.observedLoss(...args);
	}

	private layout(
		rows: number,
		nnz: number,
		fixedRows: number,
		fp: number,
		longest: number
	): Layout {
		// per thread: r, p, Ap and one weight per entry of the longest row
		const scratchBytes = align16((3 * fp + longest) * 4);
		let at = align16(this.exports.heapBase());
		const take = (bytes: number) => {
			const start = at;
			at = align16(at + bytes);
			return start;
		};
		const lay: Layout = {
			indptr: take((rows + 1) * 4),
			indices: take(nnz * 4),
			conf: take(nnz * 4),
			fixed: take(fixedRows * fp * 4),
			gram: take(fp * fp * 4),
			x: take(rows * fp * 4),
			scratch: take(this.threadCount * scratchBytes),
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
	let total = 0;
	for (let u = 0; u < rows; u++) total += cost(u);
	const bounds = [0];
	let acc = 0;
	let u = 0;
	for (let p = 1; p < parts; p++) {
		const target = (total * p) / parts;
		while (u < rows && acc + cost(u) / 2 < target) acc += cost(u++);
		bounds.push(u);
	}
	bounds.push(rows);
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
