/** Robust summaries the coordinator's screens share (validate.ts, robust.ts, influence_caps.ts). */

export function median(values: readonly number[]): number {
	const s = [...values].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median and 1.4826 x median absolute deviation (a standard deviation under normality). */
export function medianSpread(values: readonly number[]): [number, number] {
	const med = median(values);
	return [med, 1.4826 * median(values.map((v) => Math.abs(v - med)))];
}

/** A figure in a reason for people: three significant digits. */
export function fmt(v: number): string {
	return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}
