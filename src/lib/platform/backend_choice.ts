/**
 * The backend names, a probe result and the choice among results: no tfjs here, so a page
 * that only shows or picks backends (Settings) does not load tfjs on its main thread.
 * src/lib/platform/tf_backends.ts probes them.
 */

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface ProbeResult {
	readonly name: BackendName;
	readonly ok: boolean;
	/** Best time of the probe matMul, ms. */
	readonly ms?: number;
	/** wasm only: threads the backend runs (1 = the single-threaded binary). */
	readonly threads?: number;
	/** A software rasteriser or fallback adapter (not eligible for auto selection). */
	readonly software?: boolean;
	readonly error?: string;
}

/** The winner among probe results: fastest hardware (or CPU-side) backend that works. */
export function chooseBackend(results: readonly ProbeResult[]): BackendName {
	const eligible = results.filter((r) => r.ok && !r.software && r.ms !== undefined);
	eligible.sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity));
	return eligible[0]?.name ?? 'cpu';
}
