import type { AlsParams } from '$lib/core/als/params';

/**
 * Number, size, date and parameter formatting with formatters built once. `Number.prototype.toLocaleString`
 * builds a new Intl formatter on every call (about 0.1 ms each), which adds up to tens of
 * milliseconds of main-thread work when a summary with hundreds of numbers is rendered.
 */
const integer = new Intl.NumberFormat('en-US');
const decimals = new Map<number, Intl.NumberFormat>();
let dateTime: Intl.DateTimeFormat | undefined;

/** 1234567 -> "1,234,567" (en-US grouping; fractions rounded to 3 digits as toLocaleString). */
export function formatInt(n: number): string {
	return integer.format(n);
}

/** A number with at most `digits` fraction digits, en-US grouping. */
export function formatNumber(n: number, digits: number): string {
	let f = decimals.get(digits);
	if (!f) {
		f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits });
		decimals.set(digits, f);
	}
	return f.format(n);
}

/** An ISO time stamp in the browser's locale and time zone (as Date.toLocaleString). */
export function formatDateTime(iso: string): string {
	dateTime ??= new Intl.DateTimeFormat(undefined, {
		year: 'numeric',
		month: 'numeric',
		day: 'numeric',
		hour: 'numeric',
		minute: 'numeric',
		second: 'numeric'
	});
	return dateTime.format(new Date(iso));
}

/** A byte count as `512 B`, `779.8 kB` or `2.07 MB` (1 kB = 1,024 bytes). */
export function formatBytes(n: number): string {
	if (n < 1024) return `${n} B`;
	if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
	return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

/**
 * ALS parameters on one line, e.g. `f=16 it=3 λ=0.05 α=1 (hkv)`; a federation's globals leave
 * out the iterations (a round is one sweep), a model adds its weighting.
 */
export function paramsLine(
	p: AlsParams,
	options: { readonly iterations?: boolean; readonly weighting?: string } = {}
): string {
	const it = options.iterations === false ? '' : ` it=${p.iterations}`;
	const w = options.weighting ? `, ${options.weighting}` : '';
	return `f=${p.factors}${it} λ=${p.regularization} α=${p.alpha} (${p.convention})${w}`;
}
