/**
 * Property-test helpers for hostile files: character-level mutations of a file's text, and the
 * check that a decoder either refuses a mutant with one of the app's errors or returns exactly
 * the original.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { MusicrecError } from '../../src/lib/core/errors';

/**
 * A value with every typed array replaced by its type and bytes in hex, and frozen objects by
 * plain ones, so equality is bit-identical for factors (-0, subnormals, NaN payloads).
 */
export function canon(v: unknown): unknown {
	if (
		v instanceof Float32Array ||
		v instanceof Int32Array ||
		v instanceof Uint32Array ||
		v instanceof Uint8Array
	) {
		const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
		return { typed: v.constructor.name, hex: Array.from(bytes, (b) => b.toString(16)).join('.') };
	}
	if (Array.isArray(v)) return v.map(canon);
	if (v !== null && typeof v === 'object') {
		const out: Record<string, unknown> = {};
		for (const k of Object.keys(v)) out[k] = canon((v as Record<string, unknown>)[k]);
		return out;
	}
	return v;
}

// ---------------------------------------------------------------------------------------------
// Mutations

export type Mutation =
	| { op: 'replace'; at: number; char: string }
	| { op: 'delete'; at: number; length: number }
	| { op: 'duplicate'; at: number; length: number }
	| { op: 'truncate'; at: number };

/** Characters that matter to JSON, base64 and the envelope, plus any code point. */
const charArb = fc.oneof(
	fc.constantFrom(...'"\\{}[],:0123456789-+.eE tfnul=/AZaz\n\uD800\uFFFD'),
	fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })
);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
	fc.record({ op: fc.constant('replace' as const), at: fc.nat(), char: charArb }),
	fc.record({
		op: fc.constant('delete' as const),
		at: fc.nat(),
		length: fc.integer({ min: 1, max: 80 })
	}),
	fc.record({
		op: fc.constant('duplicate' as const),
		at: fc.nat(),
		length: fc.integer({ min: 1, max: 80 })
	}),
	fc.record({ op: fc.constant('truncate' as const), at: fc.nat() })
);

/** `text` with the mutation applied (positions taken modulo the length); always differs. */
export function mutate(text: string, m: Mutation): string {
	const at = m.at % text.length;
	switch (m.op) {
		case 'replace': {
			const char = m.char === text[at] ? (m.char === ' ' ? '!' : ' ') : m.char;
			return text.slice(0, at) + char + text.slice(at + 1);
		}
		case 'delete':
			return text.slice(0, at) + text.slice(at + m.length);
		case 'duplicate':
			return text.slice(0, at + m.length) + text.slice(at);
		case 'truncate':
			return text.slice(0, at);
	}
}

export interface Tally {
	accepted: number;
	rejected: Map<string, number>;
}

/**
 * Decode `text`: either it throws a MusicrecError whose code starts with one of `prefixes`, or
 * it returns a value equal (bit for bit) to `original`. Anything else fails the property.
 */
export function checkMutant<T>(
	decode: (text: string) => T,
	text: string,
	original: unknown,
	prefixes: string[],
	tally: Tally
): void {
	let decoded: T;
	try {
		decoded = decode(text);
	} catch (e) {
		if (!(e instanceof MusicrecError)) {
			throw new Error(`non-MusicrecError thrown: ${String(e)}`, { cause: e });
		}
		expect(
			prefixes.some((p) => e.code.startsWith(p)),
			e.code
		).toBe(true);
		tally.rejected.set(e.code, (tally.rejected.get(e.code) ?? 0) + 1);
		return;
	}
	expect(canon(decoded)).toStrictEqual(canon(original));
	tally.accepted++;
}

export const newTally = (): Tally => ({ accepted: 0, rejected: new Map() });
/** Mutants that reach past JSON syntax, so the checks below the parser are exercised too. */
export const deepRejections = (t: Tally) =>
	[...t.rejected.entries()]
		.filter(([code]) => code !== 'file/not-json')
		.reduce((s, [, n]) => s + n, 0);
