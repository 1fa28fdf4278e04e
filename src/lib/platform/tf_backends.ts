/**
 * tfjs backends in the browser: register webgpu, webgl, wasm and cpu, then pick the fastest by
 * a quick matMul probe (not by a fixed order). A software adapter (SwiftShader, a fallback
 * WebGPU adapter) is measured but never chosen: on a machine without a GPU it is several times
 * slower than WASM. Runs in pages and in workers.
 *
 * WASM threads: when the page is cross-origin isolated (the service worker adds COOP/COEP, see
 * src/service-worker.ts) a worker runs the threaded SIMD binary with one XNNPACK thread per
 * logical core (capped); otherwise, and on the main thread, the single-threaded SIMD binary.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// The threaded module's own source, emitted unminified as a file (see prepareThreadedStart).
import threadedFactoryUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import { BACKENDS, chooseBackend, type BackendName, type ProbeResult } from './backend_choice';

export { BACKENDS, chooseBackend, type BackendName, type ProbeResult } from './backend_choice';

/**
 * Most wasm threads used: the threaded binary preallocates a pool of 8 pthread workers, and a
 * thread beyond the pool would need a new worker that cannot start while the pool waits on it.
 */
export const MAX_WASM_THREADS = 8;

export interface ThreadEnvironment {
	readonly crossOriginIsolated: boolean;
	readonly hardwareConcurrency: number;
	/** Running in a worker (the main thread never runs threaded wasm: it would spin-wait). */
	readonly inWorker: boolean;
}

/** What this global scope offers. */
function threadEnvironment(): ThreadEnvironment {
	const g = globalThis as {
		crossOriginIsolated?: boolean;
		navigator?: { hardwareConcurrency?: number };
		WorkerGlobalScope?: unknown;
		SharedArrayBuffer?: unknown;
	};
	return {
		crossOriginIsolated:
			g.crossOriginIsolated === true && typeof g.SharedArrayBuffer === 'function',
		hardwareConcurrency: g.navigator?.hardwareConcurrency ?? 1,
		inWorker: typeof g.WorkerGlobalScope !== 'undefined'
	};
}

/** Wasm threads to use: one per logical core (capped) in an isolated worker, else 1. */
export function defaultWasmThreads(env: ThreadEnvironment = threadEnvironment()): number {
	if (!env.crossOriginIsolated || !env.inWorker) return 1;
	const cores = Math.floor(env.hardwareConcurrency);
	return Math.max(1, Math.min(MAX_WASM_THREADS, Number.isFinite(cores) ? cores : 1));
}

let registered: Promise<void> | undefined;
/** Threads registerBackends chose for wasm (above 1: the threaded binary). */
let wasmThreadsWanted = 1;

/**
 * Make every backend known to tfjs (the GPU ones load lazily). `wasmThreads` (default
 * defaultWasmThreads()) takes effect on the first call only, before the wasm backend starts:
 * above 1 (and only where threads work) the threaded binary with that many threads, else the
 * single-threaded SIMD binary (no pthread pool).
 */
export function registerBackends(wasmThreads = defaultWasmThreads()): Promise<void> {
	registered ??= (async () => {
		setWasmPaths({
			'tfjs-backend-wasm.wasm': wasmUrl,
			'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
			'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl
		});
		const threads = Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(wasmThreads)));
		wasmThreadsWanted = threadEnvironment().crossOriginIsolated ? threads : 1;
		if (wasmThreadsWanted > 1) setThreadsCount(wasmThreadsWanted);
		else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
		await Promise.allSettled([
			import('@tensorflow/tfjs-backend-webgl'),
			import('@tensorflow/tfjs-backend-webgpu')
		]);
	})();
	return registered;
}

async function isSoftware(name: BackendName): Promise<boolean> {
	const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
	if (name === 'webgpu') {
		const adapter = await nav?.gpu?.requestAdapter();
		if (!adapter) return true;
		const info = adapter.info ?? {};
		const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`;
		return (
			adapter.isFallbackAdapter === true ||
			info.isFallbackAdapter === true ||
			/swiftshader|llvmpipe/i.test(text)
		);
	}
	if (name === 'webgl') {
		const canvas =
			typeof OffscreenCanvas !== 'undefined'
				? new OffscreenCanvas(1, 1)
				: document.createElement('canvas');
		const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
		if (!gl) return true;
		const ext = gl.getExtension('WEBGL_debug_renderer_info');
		const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
		return /swiftshader|llvmpipe|software/i.test(renderer);
	}
	return false;
}

interface GpuLike {
	requestAdapter(): Promise<{
		isFallbackAdapter?: boolean;
		info?: {
			vendor?: string;
			architecture?: string;
			description?: string;
			isFallbackAdapter?: boolean;
		};
	} | null>;
}

/** Time a size^3 matMul on one backend: one warm-up, then the best of `reps`. */
async function timeMatMul(size: number, reps: number): Promise<number> {
	const a = tf.randomUniform([size, size]);
	const b = tf.randomUniform([size, size]);
	let best = Infinity;
	try {
		for (let r = 0; r <= reps; r++) {
			const t0 = performance.now();
			const c = tf.matMul(a, b);
			await c.data();
			c.dispose();
			if (r > 0) best = Math.min(best, performance.now() - t0);
		}
	} finally {
		a.dispose();
		b.dispose();
	}
	return best;
}

/** How tfjs-backend-wasm starts the source it hands to its pthread workers. */
const THREADED_FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd = ';

/**
 * Two workarounds for the threaded binary, active only while the wasm backend starts; returns
 * the function that undoes them.
 * - tfjs-backend-wasm gives each pthread worker the threaded module as `factory.toString()` in
 *   a Blob. Minified, that copy reads a variable of its enclosing scope (the renamed
 *   `_scriptDir`, its typeof guard folded away), so every pthread worker throws a
 *   ReferenceError. That one Blob gets the package's own, unminified file instead
 *   (self-contained; fetched only where threads run, precached like the wasm binaries).
 * - Its C++ side caps the threads at hardwareConcurrency / 2 (it assumes two logical cores per
 *   physical core), which is 1 on a 2-core machine. While it starts, the worker's
 *   navigator.hardwareConcurrency reads 2 x the wanted count, so the cap is the count asked for.
 */
async function prepareThreadedStart(): Promise<() => void> {
	if (wasmThreadsWanted <= 1) return () => {};
	const response = await fetch(threadedFactoryUrl);
	if (!response.ok) throw new Error(`threaded wasm module: HTTP ${response.status}`);
	const source = await response.text();
	const Original = globalThis.Blob;
	class FactoryBlob extends Original {
		constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
			const only = parts?.length === 1 ? parts[0] : undefined;
			const factory = typeof only === 'string' && only.startsWith(THREADED_FACTORY_PREFIX);
			super(factory ? [source] : parts, options);
		}
	}
	globalThis.Blob = FactoryBlob;
	const nav = globalThis.navigator;
	Object.defineProperty(nav, 'hardwareConcurrency', {
		value: 2 * wasmThreadsWanted,
		configurable: true
	});
	return () => {
		globalThis.Blob = Original;
		// Removes the own property: the real getter on the prototype shows again.
		delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
	};
}

/** Threads of the started wasm backend (undefined before it started). */
export function wasmThreadsInUse(): number | undefined {
	try {
		return getThreadsCount();
	} catch {
		return undefined;
	}
}

/** Probe one backend: initialise it, check it computes correctly, time it. */
export async function probeBackend(name: BackendName, size = 256, reps = 2): Promise<ProbeResult> {
	try {
		await registerBackends();
		const restore = name === 'wasm' ? await prepareThreadedStart() : () => {};
		let started: boolean;
		try {
			started = await tf.setBackend(name);
		} finally {
			restore();
		}
		if (!started) return { name, ok: false, error: 'failed to initialise' };
		await tf.ready();
		const check = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.eye(2)));
		const values = await check.data();
		check.dispose();
		if (values[3] !== 4) return { name, ok: false, error: 'wrong result' };
		const ms = await timeMatMul(size, reps);
		const threads = name === 'wasm' ? wasmThreadsInUse() : undefined;
		return { name, ok: true, ms, software: await isSoftware(name), threads };
	} catch (e) {
		return { name, ok: false, error: e instanceof Error ? e.message : String(e) };
	}
}

/**
 * Select the backend: the user's choice when given and working, else the probe's winner.
 * Returns the backend in use and the probe results (empty when the choice was the user's).
 */
export async function selectBackend(
	preferred?: BackendName,
	wasmThreads?: number
): Promise<{ backend: BackendName; probes: ProbeResult[] }> {
	exposeTensorMemory();
	await registerBackends(wasmThreads);
	if (preferred) {
		const r = await probeBackend(preferred, 64, 1);
		if (r.ok) return { backend: preferred, probes: [r] };
	}
	const probes: ProbeResult[] = [];
	for (const name of BACKENDS) probes.push(await probeBackend(name));
	const backend = chooseBackend(probes);
	await tf.setBackend(backend);
	await tf.ready();
	return { backend, probes };
}

/** Live tensors and bytes of this thread's tfjs engine. */
interface TensorMemory {
	readonly numTensors: number;
	readonly numBytes: number;
}

/**
 * Diagnostics: `globalThis.musicrecTensorMemory()` reads this thread's tfjs memory (the leak
 * tests call it from outside the app's modules). Reads only; holds no reference to data.
 */
function exposeTensorMemory(): void {
	(globalThis as { musicrecTensorMemory?: () => TensorMemory }).musicrecTensorMemory ??= () => {
		// The engine's counters: what tf.memory() reports, without picking a backend first.
		const { numTensors, numBytes } = tf.engine().state;
		return { numTensors, numBytes };
	};
}
