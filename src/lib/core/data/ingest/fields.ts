/**
 * Field values shared by the read paths: weight and target parsing, and the checks on ids.
 */

/**
 * Largest accepted weight. Weights are stored as float32 and duplicates of a pair are summed;
 * with fewer than 2^31 rows the sum stays below 2^31 * 1e15 ~ 2e24, far from float32's
 * 3.4e38, so no weight or sum becomes Infinity.
 */
export const MAX_WEIGHT = 1e15;

/** Raw-weight parse: a number in (0, MAX_WEIGHT], else NaN. */
export function parseWeight(s: string): number {
	if (s.length === 0) return NaN;
	const x = Number(s);
	return x > 0 && x <= MAX_WEIGHT ? x : NaN;
}

/** KKBox target: 0 or 1, else -1. */
export function parseTarget(s: string): number {
	if (s === '1') return 1;
	if (s === '0') return 0;
	const t = s.trim();
	if (t.length === 0) return -1;
	const x = Number(t);
	return x === 0 || x === 1 ? x : -1;
}

/**
 * U+FFFD, which a UTF-8 decoder puts in place of bytes that are not UTF-8. Two ids that
 * differ only in such bytes would decode to the same string and merge silently, so an id
 * holding it makes the line bad.
 */
export const REPLACEMENT = '\uFFFD';

/** A field quoted in a reason, cut to 40 characters. */
export function shown(field: string): string {
	return field.length > 40 ? field.slice(0, 40) + '…' : field;
}

/** A printable ASCII character other than space (nothing `trim` would remove). */
export function plain(c: number): boolean {
	return c > 32 && c < 127;
}

/**
 * The next `delimiter` at or after `from` in the line ending at `end`, or -1: found in the
 * line's text when it has one character per byte, else in its bytes.
 */
export function findDelimiter(
	delimiter: string,
	text: string | undefined,
	b: Uint8Array,
	end: number,
	from: number
): number {
	if (text !== undefined) return text.indexOf(delimiter, from);
	const code = delimiter.charCodeAt(0);
	for (let k = from; k < end; k++) if (b[k] === code) return k;
	return -1;
}
