/** A metric in [0, 1] with three decimals, or a dash when absent or NaN. */
export function fmt(v: number | undefined): string {
	return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3);
}

export { formatBytes } from '$lib/components/format';

/** Seconds as `45 ms`, `12.0 s` or `3 min 04 s`. */
export function formatSeconds(s: number): string {
	if (!Number.isFinite(s)) return '–';
	if (s < 1) return `${Math.round(s * 1000)} ms`;
	if (s < 60) return `${s.toFixed(1)} s`;
	const m = Math.floor(s / 60);
	return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
}
