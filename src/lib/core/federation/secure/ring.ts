import { MusicrecError } from '../../errors';

/**
 * The integer ring of secure aggregation: Z_{2^64}. A ring vector of length L is a
 * Uint32Array of 2L words, element k being `words[2k] + 2^32 words[2k + 1]` (low word first).
 * Addition and subtraction wrap modulo 2^64, so masks cancel exactly and the unmasked sum is
 * bit for bit the integer sum of the clients' encodings (when no sum leaves the signed range).
 *
 * Fixed point: a statistic v is encoded as the integer `q = round(v 2^s)` (s = scale bits),
 * stored modulo 2^64 (two's complement for negatives); a sum decodes as `signed(q) / 2^s`.
 * Overflow bound: with at most n_max clients, each |v| <= entryBound(s, n_max) gives
 * `|sum q| <= n_max (B 2^s + 1/2) < 2^62 < 2^63`, so the signed sum is exact.
 */
/** Default scale: 24 fractional bits, a resolution of 2^-24 (about 6e-8) per value. */
export const DEFAULT_SCALE_BITS = 24;
/** Scales a global may ask for. */
const MIN_SCALE_BITS = 8;
const MAX_SCALE_BITS = 40;

const TWO_32 = 2 ** 32;

/**
 * Largest |v| one client may encode at scale `scaleBits` when up to `maxClients` are summed:
 * `2^(62 - s) / n_max`, so that the sum of all encodings stays below 2^62 in magnitude.
 */
export function entryBound(scaleBits: number, maxClients: number): number {
	return 2 ** (62 - scaleBits) / maxClients;
}

/** Throw unless `scaleBits` is an integer in [MIN_SCALE_BITS, MAX_SCALE_BITS]. */
export function checkScaleBits(scaleBits: number): void {
	if (!Number.isInteger(scaleBits) || scaleBits < MIN_SCALE_BITS || scaleBits > MAX_SCALE_BITS) {
		throw new MusicrecError(
			'federation/bad-input',
			`The fixed-point scale must be an integer from ${MIN_SCALE_BITS} to ${MAX_SCALE_BITS} bits, got ${scaleBits}`,
			{ scaleBits }
		);
	}
}

/** A zero ring vector of `length` elements. */
export function ringVector(length: number): Uint32Array {
	return new Uint32Array(2 * length);
}

/** Write the integer q (|q| < 2^63, an integer-valued double) at element k. */
function setInteger(out: Uint32Array, k: number, q: number): void {
	const p = q < 0 ? -q : q;
	const hi = Math.floor(p / TWO_32);
	const lo = p - hi * TWO_32;
	if (q >= 0) {
		out[2 * k] = lo;
		out[2 * k + 1] = hi;
	} else {
		// Two's complement of (hi, lo): invert both words and add 1 to the 64-bit value.
		const nlo = (~lo + 1) >>> 0;
		out[2 * k] = nlo;
		out[2 * k + 1] = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
	}
}

/**
 * Encode `values[k]` as `round(values[k] 2^scaleBits)` into elements `offset + k` of `out`.
 * Throws 'federation/bad-input' naming the first value that is not finite or exceeds `bound`.
 */
export function encodeFixed(
	values: ArrayLike<number>,
	scaleBits: number,
	out: Uint32Array,
	offset: number,
	bound: number,
	what: string
): void {
	const scale = 2 ** scaleBits;
	for (let k = 0; k < values.length; k++) {
		const v = values[k];
		if (!(Math.abs(v) <= bound)) {
			throw new MusicrecError(
				'federation/bad-input',
				`${what}[${k}] = ${v} is outside the range secure aggregation can sum (|v| <= ${bound.toPrecision(3)} at ${scaleBits} fractional bits)`,
				{ what, index: k, value: v, bound }
			);
		}
		setInteger(out, offset + k, Math.round(v * scale));
	}
}

/** Write non-negative integers (counts) into elements `offset + k` unscaled. */
export function encodeCounts(values: readonly number[], out: Uint32Array, offset: number): void {
	values.forEach((v, k) => {
		if (!Number.isSafeInteger(v) || v < 0) {
			throw new MusicrecError('federation/bad-input', `count ${k} must be a safe integer >= 0`, {
				value: v
			});
		}
		setInteger(out, offset + k, v);
	});
}

/** The signed value of element k (as a double: exact while |value| < 2^53). */
export function signedAt(v: Uint32Array, k: number): number {
	return (v[2 * k + 1] | 0) * TWO_32 + v[2 * k];
}

/** Decode elements [offset, offset + length) of a ring vector as fixed point at `scaleBits`. */
export function decodeFixed(
	v: Uint32Array,
	offset: number,
	length: number,
	scaleBits: number
): Float64Array {
	const out = new Float64Array(length);
	const inv = 2 ** -scaleBits;
	for (let k = 0; k < length; k++) out[k] = signedAt(v, offset + k) * inv;
	return out;
}

/** `acc += x` modulo 2^64, element-wise (same length). */
export function addInto(acc: Uint32Array, x: Uint32Array): void {
	if (acc.length !== x.length) throw new RangeError('ring vectors differ in length');
	for (let i = 0; i < acc.length; i += 2) {
		const lo = acc[i] + x[i];
		acc[i] = lo; // stored modulo 2^32
		acc[i + 1] = acc[i + 1] + x[i + 1] + (lo > 0xffffffff ? 1 : 0);
	}
}

/** `acc -= x` modulo 2^64, element-wise (same length). */
export function subtractInto(acc: Uint32Array, x: Uint32Array): void {
	if (acc.length !== x.length) throw new RangeError('ring vectors differ in length');
	for (let i = 0; i < acc.length; i += 2) {
		const lo = acc[i] - x[i];
		acc[i] = lo;
		acc[i + 1] = acc[i + 1] - x[i + 1] - (lo < 0 ? 1 : 0);
	}
}

/**
 * `acc[from..] (+/-)= words`, where `words` is a run of mask words starting at word `from`
 * of the vector (both even): the streaming form of addInto / subtractInto.
 */
export function addWordsAt(acc: Uint32Array, from: number, words: Uint32Array, sign: 1 | -1): void {
	const end = from + words.length;
	if (from % 2 !== 0 || words.length % 2 !== 0 || end > acc.length) {
		throw new RangeError('mask words must cover whole ring elements inside the vector');
	}
	if (sign === 1) {
		for (let i = from, j = 0; i < end; i += 2, j += 2) {
			const lo = acc[i] + words[j];
			acc[i] = lo;
			acc[i + 1] = acc[i + 1] + words[j + 1] + (lo > 0xffffffff ? 1 : 0);
		}
	} else {
		for (let i = from, j = 0; i < end; i += 2, j += 2) {
			const lo = acc[i] - words[j];
			acc[i] = lo;
			acc[i + 1] = acc[i + 1] - words[j + 1] - (lo < 0 ? 1 : 0);
		}
	}
}
