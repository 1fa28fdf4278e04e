import { describe, expect, it } from 'vitest';
import { chooseBackend, type ProbeResult } from '../../../src/lib/platform/tf_backends';

describe('chooseBackend', () => {
	it('picks the fastest working backend', () => {
		const probes: ProbeResult[] = [
			{ name: 'webgl', ok: true, ms: 30, software: false },
			{ name: 'wasm', ok: true, ms: 12, software: false },
			{ name: 'cpu', ok: true, ms: 90, software: false }
		];
		expect(chooseBackend(probes)).toBe('wasm');
		// Order of the results does not matter.
		expect(chooseBackend([...probes].reverse())).toBe('wasm');
		expect(chooseBackend([{ ...probes[0], ms: 5 }, probes[1], probes[2]])).toBe('webgl');
	});

	it('never lets a software adapter win, however fast', () => {
		const probes: ProbeResult[] = [
			{ name: 'webgpu', ok: true, ms: 1, software: true },
			{ name: 'webgl', ok: true, ms: 2, software: true },
			{ name: 'wasm', ok: true, ms: 70, software: false },
			{ name: 'cpu', ok: true, ms: 2200, software: false }
		];
		expect(chooseBackend(probes)).toBe('wasm');
	});

	it('skips failed backends even when they report a time', () => {
		const probes: ProbeResult[] = [
			{ name: 'webgpu', ok: false, error: 'no adapter' },
			{ name: 'webgl', ok: false, ms: 1, error: 'wrong result' },
			{ name: 'wasm', ok: false, error: 'failed to initialise' },
			{ name: 'cpu', ok: true, ms: 500, software: false }
		];
		expect(chooseBackend(probes)).toBe('cpu');
	});

	it('falls back to cpu when nothing is eligible', () => {
		expect(chooseBackend([])).toBe('cpu');
		expect(
			chooseBackend([
				{ name: 'webgpu', ok: true, ms: 3, software: true },
				{ name: 'wasm', ok: false, error: 'x' }
			])
		).toBe('cpu');
	});
});
