/**
 * tfjs backends in the browser: register webgpu, webgl, wasm and cpu, then pick the fastest by
 * a quick matMul probe (not by a fixed order). A software adapter (SwiftShader, a fallback
 * WebGPU adapter) is measured but never chosen: on a machine without a GPU it is several times
 * slower than WASM. Runs in pages and in workers.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface ProbeResult {
	readonly name: BackendName;
	readonly ok: boolean;
	/** Best time of the probe matMul, ms. */
	readonly ms?: number;
	/** A software rasteriser or fallback adapter (not eligible for auto selection). */
	readonly software?: boolean;
	readonly error?: string;
}

let registered: Promise<void> | undefined;

/** Make every backend known to tfjs (the GPU ones load lazily). */
export function registerBackends(): Promise<void> {
	registered ??= (async () => {
		setWasmPaths({
			'tfjs-backend-wasm.wasm': wasmUrl,
			'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
			'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl
		});
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

/** Probe one backend: initialise it, check it computes correctly, time it. */
export async function probeBackend(name: BackendName, size = 256, reps = 2): Promise<ProbeResult> {
	try {
		await registerBackends();
		if (!(await tf.setBackend(name))) return { name, ok: false, error: 'failed to initialise' };
		await tf.ready();
		const check = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.eye(2)));
		const values = await check.data();
		check.dispose();
		if (values[3] !== 4) return { name, ok: false, error: 'wrong result' };
		return { name, ok: true, ms: await timeMatMul(size, reps), software: await isSoftware(name) };
	} catch (e) {
		return { name, ok: false, error: e instanceof Error ? e.message : String(e) };
	}
}

/** The winner among probe results: fastest hardware (or CPU-side) backend that works. */
export function chooseBackend(results: readonly ProbeResult[]): BackendName {
	const eligible = results.filter((r) => r.ok && !r.software && r.ms !== undefined);
	eligible.sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity));
	return eligible[0]?.name ?? 'cpu';
}

/**
 * Select the backend: the user's choice when given and working, else the probe's winner.
 * Returns the backend in use and the probe results (empty when the choice was the user's).
 */
export async function selectBackend(
	preferred?: BackendName
): Promise<{ backend: BackendName; probes: ProbeResult[] }> {
	exposeTensorMemory();
	await registerBackends();
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
export interface TensorMemory {
	readonly numTensors: number;
	readonly numBytes: number;
}

/**
 * Diagnostics: `globalThis.musicrecTensorMemory()` reads this thread's tfjs memory (the leak
 * tests call it from outside the app's modules). Reads only; holds no reference to data.
 */
export function exposeTensorMemory(): void {
	(globalThis as { musicrecTensorMemory?: () => TensorMemory }).musicrecTensorMemory ??= () => {
		// The engine's counters: what tf.memory() reports, without picking a backend first.
		const { numTensors, numBytes } = tf.engine().state;
		return { numTensors, numBytes };
	};
}
