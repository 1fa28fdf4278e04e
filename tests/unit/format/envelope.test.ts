import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/lib/core/format/canonical_json';
import { sha256Hex } from '../../../src/lib/core/format/sha256';
import { encodeBase64 } from '../../../src/lib/core/format/base64';
import {
	canonicalSha256Hex,
	decodeEnvelope,
	encodeEnvelope,
	jsonErrorOffset
} from '../../../src/lib/core/format/envelope';
import { MusicrecError } from '../../../src/lib/core/errors';

const LIMITS = { maxBytes: 1e7, maxElements: 1e6 };

/** Recompute the checksum with the plain reference path (canonicalJson then sha256Hex). */
function reseal(envelope: Record<string, unknown>): string {
	const { checksum: _old, ...rest } = envelope;
	return JSON.stringify({ ...rest, checksum: `sha256:${sha256Hex(canonicalJson(rest))}` });
}

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
	let caught: unknown;
	try {
		fn();
	} catch (e) {
		caught = e;
	}
	expect(caught).toBeInstanceOf(MusicrecError);
	expect((caught as MusicrecError).code).toBe(code);
	expect((caught as MusicrecError).message).toMatch(pattern);
}

function sample(): string {
	return encodeEnvelope(
		'global',
		{ round: 3, name: 'ünïcode ♪', list: [1, 2.5, 'x'] },
		{
			a: { array: new Float32Array([1.5, -2, 3.25, 1e-30, -0, 7]), shape: [2, 3] },
			b: { array: new Int32Array([1, -2, 2147483647]), shape: [3] }
		},
		{ createdAt: '2026-01-01T00:00:00.000Z' }
	);
}

describe('envelope', () => {
	it('round-trips meta and tensors bit for bit', () => {
		const text = sample();
		const out = decodeEnvelope(text, { kind: 'global', ...LIMITS });
		expect(out.kind).toBe('global');
		expect(out.createdAt).toBe('2026-01-01T00:00:00.000Z');
		expect(out.meta).toEqual({ round: 3, name: 'ünïcode ♪', list: [1, 2.5, 'x'] });
		expect(out.tensors.a.shape).toEqual([2, 3]);
		expect(out.tensors.a.array).toBeInstanceOf(Float32Array);
		expect(Array.from(new Uint8Array(out.tensors.a.array.buffer))).toEqual(
			Array.from(new Uint8Array(new Float32Array([1.5, -2, 3.25, 1e-30, -0, 7]).buffer))
		);
		expect(out.tensors.b.array).toBeInstanceOf(Int32Array);
		expect(Array.from(out.tensors.b.array)).toEqual([1, -2, 2147483647]);
		// tensors record has no prototype: inherited names are absent
		expect(out.tensors.toString).toBeUndefined();
	});

	it('writes the documented fields and a checksum of the canonical JSON without it', () => {
		const parsed = JSON.parse(sample());
		expect(parsed.format).toBe('musicrec');
		expect(parsed.version).toBe(1);
		expect(parsed.kind).toBe('global');
		expect(parsed.tensors.a).toEqual({
			dtype: 'float32',
			shape: [2, 3],
			data: encodeBase64(new Uint8Array(new Float32Array([1.5, -2, 3.25, 1e-30, -0, 7]).buffer))
		});
		const { checksum, ...rest } = parsed;
		expect(checksum).toBe(`sha256:${sha256Hex(canonicalJson(rest))}`);
	});

	it('hashes long strings piecewise exactly like canonicalJson (surrogates across chunks)', () => {
		const long = 'a'.repeat(65535) + '😀' + 'b\n"'.repeat(70000) + '\ud800' + 'é'.repeat(66000);
		const value = { z: [long, 1.25, null, true], a: { s: long.slice(3) }, u: undefined };
		expect(canonicalSha256Hex(value)).toBe(sha256Hex(canonicalJson(value)));
	});

	it('detects a changed character in the data or the meta', () => {
		const text = sample();
		const parsed = JSON.parse(text);
		const data: string = parsed.tensors.a.data;
		const flipped = (data[0] === 'A' ? 'B' : 'A') + data.slice(1);
		const tampered = text.replace(data, flipped);
		expect(tampered).not.toBe(text);
		expectError(
			() => decodeEnvelope(tampered, { kind: 'global', ...LIMITS }),
			'file/checksum',
			/checksum/
		);
		const metaTampered = text.replace('"round":3', '"round":4');
		expect(metaTampered).not.toBe(text);
		expectError(
			() => decodeEnvelope(metaTampered, { kind: 'global', ...LIMITS }),
			'file/checksum',
			/checksum/
		);
	});

	it('refuses truncated JSON with the position', () => {
		const text = sample();
		expectError(
			() => decodeEnvelope(text.slice(0, 100), { kind: 'global', ...LIMITS }),
			'file/not-json',
			/truncated or not JSON \(at character 100 of 100\)/
		);
		const bad = text.replace('"round":3', '"round":x');
		expectError(
			() => decodeEnvelope(bad, { kind: 'global', ...LIMITS }),
			'file/not-json',
			new RegExp(`not JSON \\(at character ${bad.indexOf('"round":x') + 8} of`)
		);
	});

	it('refuses text over maxBytes before parsing', () => {
		// not JSON at all: the size check must come first
		expectError(
			() => decodeEnvelope('x'.repeat(101), { kind: 'global', maxBytes: 100, maxElements: 10 }),
			'file/too-large',
			/too large.*101.*100/
		);
	});

	it('refuses the wrong format, a newer or invalid version, and the wrong kind', () => {
		const base = JSON.parse(sample());
		const check = (patch: Record<string, unknown>, code: string, pattern: RegExp) =>
			expectError(
				() => decodeEnvelope(reseal({ ...base, ...patch }), { kind: 'global', ...LIMITS }),
				code,
				pattern
			);
		check({ format: 'other' }, 'file/bad-format', /not a musicrec file.*format/);
		check({ format: undefined }, 'file/bad-format', /format is missing/);
		check({ version: 2 }, 'file/bad-version', /newer musicrec/);
		check({ version: '1' }, 'file/bad-version', /version/);
		check({ kind: 'update' }, 'file/wrong-kind', /holds an update, expected a global/);
		check({ kind: 'weights' }, 'file/bad-field', /kind/);
		check({ created_at: 5 }, 'file/bad-field', /created_at/);
		check({ meta: undefined }, 'file/bad-field', /meta/);
		check({ tensors: [] }, 'file/bad-field', /tensors/);
		expectError(
			() => decodeEnvelope('[1,2]', { kind: 'global', ...LIMITS }),
			'file/bad-format',
			/not a musicrec file/
		);
		const { checksum: _c, ...noChecksum } = base;
		expectError(
			() => decodeEnvelope(JSON.stringify(noChecksum), { kind: 'global', ...LIMITS }),
			'file/bad-field',
			/checksum/
		);
	});

	it('refuses prototype-sensitive keys anywhere', () => {
		const text = sample();
		for (const key of ['__proto__', 'constructor', 'prototype']) {
			const nested = text.replace('"round":3', `"round":{"x":[{"${key}":{"polluted":1}}]}`);
			expectError(
				() => decodeEnvelope(nested, { kind: 'global', ...LIMITS }),
				'file/bad-field',
				new RegExp(`forbidden key '${key}' at \\$\\.meta\\.round\\.x\\[0\\]`)
			);
			const top = text.replace('{', `{"${key}":1,`);
			expectError(
				() => decodeEnvelope(top, { kind: 'global', ...LIMITS }),
				'file/bad-field',
				new RegExp(`forbidden key '${key}'`)
			);
		}
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expectError(
			() => encodeEnvelope('global', JSON.parse('{"__proto__":{}}'), {}),
			'file/bad-field',
			/__proto__/
		);
	});

	it('refuses absurd nesting', () => {
		const deep = '['.repeat(200) + ']'.repeat(200);
		const text = sample().replace('"round":3', `"round":${deep}`);
		expectError(
			() => decodeEnvelope(text, { kind: 'global', ...LIMITS }),
			'file/bad-field',
			/nests deeper/
		);
	});

	it('refuses shapes disagreeing with the data, huge dims, bad dtypes and base64 garbage', () => {
		const base = JSON.parse(sample());
		const withTensor = (a: unknown) => reseal({ ...base, tensors: { ...base.tensors, a } });
		const a = base.tensors.a;
		const cases: [unknown, RegExp][] = [
			[{ ...a, shape: [3, 3] }, /tensors\.a.*needs 36 bytes, data holds 24/],
			[{ ...a, shape: [2, -3] }, /tensors\.a.*non-negative integers/],
			[{ ...a, shape: [2, 1.5] }, /tensors\.a.*non-negative integers/],
			[{ ...a, shape: 'x' }, /tensors\.a.*non-negative integers/],
			[{ ...a, dtype: 'float64' }, /tensors\.a.*unknown dtype float64/],
			[{ ...a, data: 42 }, /tensors\.a.*base64 string/],
			[{ ...a, data: 'AAAA!AAAAAAAAAAAAAAAAAAAAAAA'.slice(0, 32) }, /tensors\.a/],
			[{ ...a, data: '!' + a.data.slice(1) }, /tensors\.a.*invalid character at 0/],
			[5, /tensors\.a.*not an object/]
		];
		for (const [tensor, pattern] of cases) {
			expectError(
				() => decodeEnvelope(withTensor(tensor), { kind: 'global', ...LIMITS }),
				'file/bad-tensor',
				pattern
			);
		}
	});

	it('refuses 1e9 dims from the shape alone, on a tiny text', () => {
		const base = JSON.parse(sample());
		const text = reseal({
			...base,
			tensors: { huge: { dtype: 'float32', shape: [1e9, 1e9], data: 'AAAA' } }
		});
		expect(text.length).toBeLessThan(1000);
		expectError(
			() => decodeEnvelope(text, { kind: 'global', maxBytes: 1e9, maxElements: 1e15 }),
			'file/bad-tensor',
			/tensors\.huge.*1000000000000000000 values, more than the limit/
		);
		// Within the element limit, still refused by the base64 length before allocating.
		const text2 = reseal({
			...base,
			tensors: { huge: { dtype: 'float32', shape: [1e9], data: 'AAAA' } }
		});
		expectError(
			() => decodeEnvelope(text2, { kind: 'global', maxBytes: 1e9, maxElements: 2e9 }),
			'file/bad-tensor',
			/needs 4000000000 bytes, data holds 3/
		);
	});

	it('refuses to write non-finite meta or a tensor whose shape disagrees', () => {
		expectError(() => encodeEnvelope('model', { x: NaN }, {}), 'file/bad-field', /non-finite.*x/);
		expectError(
			() => encodeEnvelope('model', {}, { t: { array: new Float32Array(5), shape: [2, 3] } }),
			'file/bad-tensor',
			/Tensor t/
		);
	});
});

describe('jsonErrorOffset', () => {
	it('finds the first syntax error, the end for truncation, and nothing for valid JSON', () => {
		expect(jsonErrorOffset('{"a": [1, 2, x]}')).toBe(13);
		expect(jsonErrorOffset('{"a": [1, 2')).toBe(11);
		expect(jsonErrorOffset('{"a\\q": 1}')).toBe(4);
		expect(jsonErrorOffset('{"a": "\\u00e9", "b": [true, null, -1.5e3, {}]}')).toBeUndefined();
		expect(jsonErrorOffset('{"a": 1} x')).toBe(9);
		expect(jsonErrorOffset('{"a" 1}')).toBe(5);
		expect(jsonErrorOffset('[01]')).toBe(2);
	});
});
