/**
 * Number and date formatting with formatters built once. `Number.prototype.toLocaleString`
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
