import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { canonicalJson } from '../../../src/lib/core/format/canonical_json';
import { encodeBase64 } from '../../../src/lib/core/format/base64';
import { sha256Hex } from '../../../src/lib/core/format/sha256';
import { decodeModelFile, encodeModelFile } from '../../../src/lib/core/format/model_file';
import { MusicrecError } from '../../../src/lib/core/errors';
import type { ModelRecord } from '../../../src/lib/core/model_record';

function record(): ModelRecord {
	const f = 3;
	const userIds = ['u1', 'ü2', 'u"3'];
	const itemIds = ['songA', 'songB', 'songC', 'songD'];
	const userFactors = Float32Array.from({ length: userIds.length * f }, (_, i) => Math.sin(i) / 3);
	const itemFactors = Float32Array.from({ length: itemIds.length * f }, (_, i) => Math.cos(i) * 7);
	itemFactors[1] = -0;
	itemFactors[2] = 1e-40; // subnormal survives bit for bit
	return {
		meta: {
			id: 'model-1',
			name: 'My model',
			type: 'als',
			createdAt: '2026-01-02T03:04:05.000Z',
			params: alsParams({ factors: f, iterations: 5, regularization: 0.1, alpha: 2 }),
			weighting: 'one-plus-target',
			holdout: true,
			dataset: { name: 'kkbox.csv', fingerprint: 'ab'.repeat(32), users: 3, items: 4, nnz: 7 },
			metrics: {
				k: 10,
				precision: 0.1,
				recall: 0.2,
				ndcg: 0.3,
				map: 0.05,
				auc: 0.8,
				popularity: { precision: 0.05, recall: 0.1, ndcg: 0.15, map: 0.02 },
				evalUsers: 3
			},
			training: { seconds: 1.5, sweeps: 5, backend: 'cpu', loss: [10, 5, 3.5, 3.1, 3] },
			sizeBytes: 1234
		},
		userIds,
		itemIds,
		userFactors,
		itemFactors
	};
}

function bytes(a: Float32Array): number[] {
	return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Re-seal a modified file with the plain reference checksum. */
function reseal(envelope: Record<string, unknown>): string {
	const { checksum: _old, ...rest } = envelope;
	return JSON.stringify({ ...rest, checksum: `sha256:${sha256Hex(canonicalJson(rest))}` });
}

/** A parsed file, edited freely by the tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FileJson = Record<string, any>;

function modified(change: (file: FileJson) => void): string {
	const file = JSON.parse(encodeModelFile(record())) as FileJson;
	change(file);
	return reseal(file);
}

function expectError(text: string, code: string, pattern: RegExp): MusicrecError {
	let caught: unknown;
	try {
		decodeModelFile(text);
	} catch (e) {
		caught = e;
	}
	expect(caught).toBeInstanceOf(MusicrecError);
	expect((caught as MusicrecError).code).toBe(code);
	expect((caught as MusicrecError).message).toMatch(pattern);
	return caught as MusicrecError;
}

describe('model file', () => {
	it('round-trips: meta deep-equal, ids equal, factors bit-identical', () => {
		const r = record();
		const out = decodeModelFile(encodeModelFile(r));
		expect(out.meta).toEqual(r.meta);
		expect(out.userIds).toEqual(r.userIds);
		expect(out.itemIds).toEqual(r.itemIds);
		expect(bytes(out.userFactors)).toEqual(bytes(r.userFactors));
		expect(bytes(out.itemFactors)).toEqual(bytes(r.itemFactors));
		expect(Object.is(out.itemFactors[1], -0)).toBe(true);
	});

	it('round-trips a model without metrics and with an empty loss', () => {
		const r = record();
		const { metrics: _m, ...meta } = r.meta;
		const r2 = { ...r, meta: { ...meta, training: { ...meta.training, loss: [] } } };
		const out = decodeModelFile(encodeModelFile(r2));
		expect(out.meta).toEqual(r2.meta);
		expect('metrics' in out.meta).toBe(false);
	});

	it('round-trips the notes of a training that fell back', () => {
		const r = record();
		const notes = [
			'1 kernel helper thread(s) did not start (refused); the kernel runs on one thread'
		];
		const r2 = { ...r, meta: { ...r.meta, training: { ...r.meta.training, notes } } };
		expect(decodeModelFile(encodeModelFile(r2)).meta.training.notes).toEqual(notes);
		// and how the kernel solved short rows
		for (const exactShortRows of [true, false]) {
			const r3 = { ...r, meta: { ...r.meta, training: { ...r.meta.training, exactShortRows } } };
			expect(decodeModelFile(encodeModelFile(r3)).meta.training.exactShortRows).toBe(
				exactShortRows
			);
		}
		expect('exactShortRows' in decodeModelFile(encodeModelFile(r)).meta.training).toBe(false);
	});

	it('round-trips item names, and refuses names that do not fit the items', () => {
		const r = { ...record(), itemNames: ['Björk', '', '"Weird Al" Yankovic', 'Sigur Rós'] };
		expect(decodeModelFile(encodeModelFile(r)).itemNames).toEqual(r.itemNames);
		expect('itemNames' in decodeModelFile(encodeModelFile(record()))).toBe(false);
		expectError(
			encodeModelFile({ ...r, itemNames: ['a', 'b'] }),
			'file/bad-field',
			/meta.itemNames must be a list of 4 names, one per item \(got "2 entries"\)/
		);
		expectError(
			encodeModelFile({ ...r, itemNames: ['a', 'b', 'c', 7 as unknown as string] }),
			'file/bad-field',
			/meta.itemNames\[3\] must be a string/
		);
	});

	it('writes a model envelope with [rows, f] float32 tensors', () => {
		const r = record();
		const file = JSON.parse(encodeModelFile(r));
		expect(file.kind).toBe('model');
		expect(file.meta.userIds).toEqual(r.userIds);
		expect(file.tensors.userFactors).toEqual({
			dtype: 'float32',
			shape: [3, 3],
			data: encodeBase64(new Uint8Array(r.userFactors.buffer))
		});
		expect(file.tensors.itemFactors.shape).toEqual([4, 3]);
	});

	it('detects tampering with the factors or the meta', () => {
		const text = encodeModelFile(record());
		const file = JSON.parse(text);
		const data: string = file.tensors.itemFactors.data;
		const at = 5;
		const swapped = data.slice(0, at) + (data[at] === 'Q' ? 'R' : 'Q') + data.slice(at + 1);
		expectError(text.replace(data, swapped), 'file/checksum', /checksum does not match/);
		expectError(text.replace('"My model"', '"My modem"'), 'file/checksum', /checksum/);
	});

	it('refuses truncated text and other kinds', () => {
		const text = encodeModelFile(record());
		expectError(text.slice(0, text.length - 10), 'file/not-json', /truncated/);
		expectError(
			modified((f) => (f.kind = 'update')),
			'file/wrong-kind',
			/expected a model/
		);
		expectError(
			modified((f) => (f.version = 7)),
			'file/bad-version',
			/newer musicrec/
		);
	});

	it('refuses NaN and Infinity hidden in the float data', () => {
		for (const bad of [NaN, Infinity, -Infinity]) {
			const text = modified((f) => {
				const values = record().userFactors.slice();
				values[4] = bad;
				f.tensors.userFactors.data = encodeBase64(new Uint8Array(values.buffer));
			});
			expectError(text, 'file/bad-tensor', /userFactors.*not finite.*row 1, column 1/);
		}
	});

	it('refuses missing or ill-typed meta fields, naming them', () => {
		const cases: [(f: FileJson) => void, RegExp][] = [
			[(f) => delete f.meta.id, /meta\.id must be a non-empty string \(got missing\)/],
			[(f) => (f.meta.name = 3), /meta\.name must be a string/],
			[(f) => (f.meta.type = 'bpr'), /meta\.type/],
			[(f) => delete f.meta.createdAt, /meta\.createdAt/],
			[(f) => delete f.meta.params, /meta\.params must be an object/],
			[(f) => delete f.meta.params.alpha, /meta\.params\.alpha must be present/],
			[(f) => (f.meta.params.alpha = -1), /meta\.params\.alpha.*> 0/],
			[(f) => (f.meta.params.convention = 'x'), /meta\.params\.convention/],
			[(f) => (f.meta.weighting = 'squared'), /meta\.weighting must be one of/],
			[(f) => (f.meta.holdout = 'yes'), /meta\.holdout must be true or false/],
			[(f) => (f.meta.dataset.nnz = -1), /meta\.dataset\.nnz must be an integer >= 0/],
			[(f) => delete f.meta.dataset.fingerprint, /meta\.dataset\.fingerprint/],
			[(f) => (f.meta.metrics.popularity.ndcg = 'x'), /meta\.metrics\.popularity\.ndcg/],
			[(f) => (f.meta.metrics.k = 0), /meta\.metrics\.k must be an integer >= 1/],
			[(f) => (f.meta.training.loss = [1, 'x']), /meta\.training\.loss\[1\] must be a finite/],
			[(f) => delete f.meta.training.backend, /meta\.training\.backend/],
			[(f) => (f.meta.training.notes = ['ok', 3]), /meta\.training\.notes\[1\]/],
			[(f) => (f.meta.training.notes = 'x'), /meta\.training\.notes must be a list of strings/],
			[(f) => (f.meta.training.exactShortRows = 'yes'), /meta\.training\.exactShortRows/],
			[(f) => (f.meta.sizeBytes = 1.5), /meta\.sizeBytes must be an integer/],
			[(f) => (f.meta.userIds = 'u1'), /meta\.userIds must be a list of strings/],
			[(f) => (f.meta.itemIds[2] = 17), /meta\.itemIds\[2\] must be a string/],
			[(f) => (f.meta.itemIds[2] = 'songA'), /meta\.itemIds\[2\] must be unique/]
		];
		for (const [change, pattern] of cases) {
			const e = expectError(modified(change), 'file/bad-field', pattern);
			expect(typeof e.details.field).toBe('string');
		}
	});

	it('refuses ids whose count disagrees with the factor rows', () => {
		expectError(
			modified((f) => f.meta.userIds.pop()),
			'file/bad-tensor',
			/userFactors has shape \[3, 3\], expected \[2, 3\].*meta\.userIds/
		);
		expectError(
			modified((f) => f.meta.itemIds.push('songE')),
			'file/bad-tensor',
			/itemFactors has shape \[4, 3\], expected \[5, 3\]/
		);
	});

	it('refuses factors that disagree with params.factors', () => {
		expectError(
			modified((f) => (f.meta.params.factors = 4)),
			'file/bad-tensor',
			/userFactors has shape \[3, 3\], expected \[3, 4\].*meta\.params\.factors/
		);
		// Same data, reshaped to [9, 1] / [12, 1]: the columns disagree with params.factors = 3.
		expectError(
			modified((f) => {
				f.meta.userIds = Array.from({ length: 9 }, (_, i) => `u${i}`);
				f.tensors.userFactors.shape = [9, 1];
			}),
			'file/bad-tensor',
			/userFactors has shape \[9, 1\], expected \[9, 3\]/
		);
	});

	it('refuses missing or int32 factor tensors', () => {
		expectError(
			modified((f) => delete f.tensors.itemFactors),
			'file/bad-tensor',
			/no tensors\.itemFactors/
		);
		expectError(
			modified((f) => (f.tensors.userFactors.dtype = 'int32')),
			'file/bad-tensor',
			/userFactors must be float32/
		);
	});

	it('applies the element limit before decoding', () => {
		const text = encodeModelFile(record());
		let caught: unknown;
		try {
			decodeModelFile(text, { maxElements: 10 });
		} catch (e) {
			caught = e;
		}
		expect((caught as MusicrecError).code).toBe('file/bad-tensor');
		expect((caught as MusicrecError).message).toMatch(/12 values, more than the limit 10/);
		expect(() => decodeModelFile(text, { maxBytes: 100 })).toThrow(/too large/);
	});

	it('refuses prototype keys in the meta', () => {
		const text = encodeModelFile(record()).replace(
			'"holdout":true',
			'"holdout":true,"__proto__":{"x":1}'
		);
		expectError(text, 'file/bad-field', /forbidden key '__proto__'/);
	});
});
