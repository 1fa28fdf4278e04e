/**
 * Writes the hostile-input corpus: small CSV, model, global and update files under
 * tests/corpus/, their expected outcomes in tests/corpus/manifest.json and a README listing
 * them. Deterministic (fixed dates, seeded noise): running it twice gives identical files.
 *
 *   npx tsx scripts/make_corpus.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { alsParams } from '../src/lib/core/als/params';
import { canonicalSha256Hex } from '../src/lib/core/format/envelope';
import { encodeModelFile } from '../src/lib/core/format/model_file';
import { createInitialGlobal, publishGlobal } from '../src/lib/core/federation/global_file';
import { encodeUpdateFile } from '../src/lib/core/federation/update_file';
import type { ModelRecord } from '../src/lib/core/model_record';
import { Rng } from '../src/lib/core/random';
import { strToU8, zipSync } from 'fflate';

const ROOT = join(process.cwd(), 'tests', 'corpus');
const CREATED_AT = '2026-01-01T00:00:00.000Z';

type Kind = 'csv' | 'model' | 'global' | 'update' | 'personal';

/** What reading a case must give: an error with a code and a message fragment, or a summary. */
type Expect =
	| { error: string; message: string }
	| { accepted: Record<string, unknown>; userIds?: string[]; maxUserIdLength?: number };

interface Case {
	name: string;
	kind: Kind;
	file: string;
	/** CSV only: ingest's badLines option. */
	badLines?: 'skip';
	/** The file must be at most this many bytes (cases that claim huge sizes). */
	maxFileBytes?: number;
	/** Why the case exists, for the README. */
	about: string;
	expect: Expect;
}

const cases: Case[] = [];

function write(file: string, content: string | Uint8Array): void {
	const path = join(ROOT, file);
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, content);
}

function add(c: Omit<Case, 'file'> & { content: string | Uint8Array; ext: string }): void {
	const { content, ext, ...rest } = c;
	const file = `${c.kind}/${c.name}.${ext}`;
	write(file, content);
	cases.push({ ...rest, file });
}

function fail(error: string, message: string): Expect {
	return { error, message };
}

// ---------------------------------------------------------------------------------------------
// CSV

const KKBOX_HEADER = 'msno,song_id,source_system_tab,source_screen_name,source_type,target';

function csv(
	name: string,
	about: string,
	content: string | Uint8Array,
	expect: Expect,
	badLines?: 'skip'
): void {
	add({ name, kind: 'csv', about, content, ext: 'csv', expect, ...(badLines ? { badLines } : {}) });
}

function counts(
	rows: number,
	rowsKept: number,
	users: number,
	items: number,
	nnz: number,
	badLines = 0,
	schema = 'generic'
): Record<string, unknown> {
	return { schema, rows, rowsKept, users, items, nnz, badLines };
}

/** Latin-1 bytes of `s` (each char code < 256 becomes one byte), for non-UTF-8 input. */
function latin1(s: string): Uint8Array {
	return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

function addCsvCases(): void {
	csv('empty', 'zero bytes', '', fail('csv/empty', 'The file is empty'));
	csv('blank_lines', 'only line breaks', '\r\n\n\r\n', fail('csv/empty', 'The file is empty'));
	csv(
		'header_only',
		'a header and no rows',
		'user,item,weight\r\n',
		fail('csv/empty', 'has a header (user, item, weight) but no data rows')
	);
	const rng = new Rng(6);
	const noise = Uint8Array.from({ length: 4096 }, () => rng.int(256));
	csv(
		'binary_noise',
		'4 KiB of seeded random bytes',
		noise,
		fail('csv/unknown-schema', 'Unrecognised columns: found [')
	);
	csv(
		'wrong_columns',
		'columns of no known schema',
		'uid,track,plays\n1,2,3\n',
		fail('csv/unknown-schema', 'found [uid, track, plays]')
	);
	csv(
		'missing_column',
		'KKBox header without target',
		'msno,song_id,source_system_tab,source_screen_name,source_type\na,b,c,d,e\n',
		fail(
			'csv/unknown-schema',
			'found [msno, song_id, source_system_tab, source_screen_name, source_type]'
		)
	);
	csv(
		'duplicated_columns',
		'user named twice',
		'user,user,item\nu1,u1,s1\n',
		fail('csv/unknown-schema', 'found [user, user, item]')
	);
	csv(
		'duplicated_weight_column',
		'weight named twice',
		'user,item,weight,weight\nu1,s1,1,2\n',
		fail('csv/unknown-schema', 'found [user, item, weight, weight]')
	);
	csv(
		'missing_field',
		'a row with one field too few',
		'user,item,weight\nu1,s1,2\nu2,s2\n',
		fail('csv/bad-line', 'Line 3: expected 3 fields, found 2: u2,s2')
	);
	csv(
		'extra_field',
		'a row with one field too many',
		'user,item\nu1,s1\nu2,s2,s3\n',
		fail('csv/bad-line', 'Line 3: expected 2 fields, found 3')
	);
	csv(
		'empty_id',
		'an empty user field',
		'user,item\nu1,s1\n ,s2\n',
		fail('csv/bad-line', 'Line 3: empty user')
	);
	csv(
		'bom',
		'UTF-8 byte order mark before the header',
		'\uFEFFuser,item,weight\nu1,s1,2\nu2,s1,3\n',
		{ accepted: counts(2, 2, 2, 1, 2), userIds: ['u1', 'u2'] }
	);
	csv('bom_tab', 'BOM then a tab-separated header', '\uFEFFuserID\tartistID\tweight\n1\t7\t5\n', {
		accepted: counts(1, 1, 1, 1, 1, 0, 'lastfm'),
		userIds: ['1']
	});
	csv('crlf', 'CRLF line endings', 'user,item\r\nu1,s1\r\nu1,s2\r\nu2,s1\r\n', {
		accepted: counts(3, 3, 2, 2, 3),
		userIds: ['u1', 'u2']
	});
	csv(
		'mixed_line_endings',
		'CRLF, LF and lone CR in one file, and blank lines',
		'user,item\r\nu1,s1\nu2,s2\ru3,s3\r\n\r\n\nu4,s4',
		{ accepted: counts(4, 4, 4, 4, 4), userIds: ['u1', 'u2', 'u3', 'u4'] }
	);
	csv(
		'quoted',
		'quoted ids holding commas, line breaks (LF and CRLF) and doubled quotes',
		'user,item\n"a,b",s1\n"line\nbreak",s1\n"crlf\r\nbreak","s,2"\n"say ""hi""",s1\nplain,s3\n',
		{
			accepted: counts(5, 5, 5, 3, 5),
			userIds: ['a,b', 'line\nbreak', 'crlf\r\nbreak', 'say "hi"', 'plain']
		}
	);
	csv(
		'quoted_line_numbers',
		'a bad row after a multi-line quoted field reports its physical line',
		'user,item\n"two\nlines",s1\nu2\n',
		fail('csv/bad-line', 'Line 4: expected 2 fields, found 1')
	);
	csv(
		'unterminated_quote',
		'a quote opened on line 3 and never closed',
		'user,item\nu1,s1\n"u2,s2\nu3,s3\n',
		fail('csv/unterminated-quote', "Line 3: a quoted field is never closed (missing '\"'")
	);
	const nonUtf8 = 'user,item\nu1,s1\nu\xff,s2\nu\xfe,s3\n';
	csv(
		'non_utf8_id',
		'user ids with bytes 0xFF and 0xFE (Latin-1); both would decode to "u\\uFFFD" and merge',
		latin1(nonUtf8),
		fail('csv/bad-line', 'Line 3: user holds bytes that are not UTF-8')
	);
	csv(
		'non_utf8_id_skip',
		'the same file with badLines: skip: both lines counted as bad, nothing merged',
		latin1(nonUtf8),
		{ accepted: counts(3, 1, 1, 1, 1, 2), userIds: ['u1'] },
		'skip'
	);
	csv(
		'non_utf8_item',
		'a song id with a byte 0xE9 (Latin-1 e-acute)',
		latin1('user,item\nu1,caf\xe9\n'),
		fail('csv/bad-line', 'Line 2: item holds bytes that are not UTF-8')
	);
	csv(
		'utf8_ids',
		'valid multi-byte UTF-8 ids (accents, CJK, emoji) are kept as they are',
		'user,item\nü1,café\n用户,🎵\n',
		{ accepted: counts(2, 2, 2, 2, 2), userIds: ['ü1', '用户'] }
	);
	const long = 'x'.repeat(10_000);
	csv('long_id', 'a 10,000-character user id is accepted', `user,item\n${long},s1\nu2,s1\n`, {
		accepted: counts(2, 2, 2, 1, 2),
		maxUserIdLength: 10_000
	});
	csv(
		'long_weight',
		'a 10,000-digit weight (overflows to Infinity); the message quotes it cut short',
		`user,item,weight\nu1,s1,${'9'.repeat(10_000)}\n`,
		fail('csv/bad-line', "weight must be a positive number up to 1e+15, found '9999")
	);
	csv(
		'long_header',
		'a 10,000-character column name; the message shows it cut short',
		`${long},item\nu1,s1\n`,
		fail('csv/unknown-schema', 'found [xxxxxxxxxx')
	);
	csv(
		'negative_weight',
		'weight -3',
		'user,item,weight\nu1,s1,2\nu2,s1,-3\n',
		fail('csv/bad-line', "Line 3: weight must be a positive number up to 1e+15, found '-3'")
	);
	csv(
		'zero_weight',
		'weight 0',
		'user,item,weight\nu1,s1,0\n',
		fail('csv/bad-line', "Line 2: weight must be a positive number up to 1e+15, found '0'")
	);
	csv(
		'nan_weight',
		'weight NaN',
		'userID\tartistID\tweight\n1\t2\tNaN\n',
		fail('csv/bad-line', "Line 2: weight must be a positive number up to 1e+15, found 'NaN'")
	);
	csv(
		'infinity_weight',
		'weight Infinity',
		'user,item,weight\nu1,s1,Infinity\n',
		fail('csv/bad-line', "found 'Infinity'")
	);
	csv(
		'huge_weight',
		'weight 1e39 (finite as a double, Infinity as float32)',
		'user,item,weight\nu1,s1,1e39\n',
		fail('csv/bad-line', "Line 2: weight must be a positive number up to 1e+15, found '1e39'")
	);
	csv(
		'huge_weight_sum',
		'two rows of one pair with weight 1e15 each: accepted, their sum stays finite',
		'user,item,weight\nu1,s1,1e15\nu1,s1,1e15\n',
		{ accepted: counts(2, 2, 1, 1, 1) }
	);
	csv(
		'bad_weights_skip',
		'negative, NaN, huge and empty weights with badLines: skip',
		'user,item,weight\nu1,s1,-1\nu2,s1,NaN\nu3,s1,1e300\nu4,s1,\nu5,s1,2.5\n',
		{ accepted: counts(5, 1, 1, 1, 1, 4), userIds: ['u5'] },
		'skip'
	);
	csv(
		'negative_target',
		'KKBox target -1',
		`${KKBOX_HEADER}\nu1,s1,a,b,c,1\nu1,s2,a,b,c,-1\n`,
		fail('csv/bad-line', "Line 3: target must be 0 or 1, found '-1'")
	);
	csv(
		'nan_target',
		'KKBox target NaN',
		`${KKBOX_HEADER}\nu1,s1,a,b,c,NaN\n`,
		fail('csv/bad-line', "Line 2: target must be 0 or 1, found 'NaN'")
	);
	csv(
		'huge_target',
		'KKBox target 1e308',
		`${KKBOX_HEADER}\nu1,s1,a,b,c,1e308\n`,
		fail('csv/bad-line', "Line 2: target must be 0 or 1, found '1e308'")
	);
	csv(
		'proto_ids',
		'ids named __proto__, constructor and prototype are ordinary ids',
		'user,item\n__proto__,constructor\nconstructor,__proto__\nprototype,toString\n',
		{ accepted: counts(3, 3, 3, 3, 3), userIds: ['__proto__', 'constructor', 'prototype'] }
	);
}

// ---------------------------------------------------------------------------------------------
// Envelopes

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** `text` parsed, changed by `edit`, and sealed again with a correct checksum. */
function resealed(text: string, edit: (file: Json) => void): string {
	const file = JSON.parse(text) as Json;
	edit(file);
	delete file.checksum;
	return JSON.stringify({ ...file, checksum: `sha256:${canonicalSha256Hex(file)}` });
}

function validModel(): ModelRecord {
	const f = 3;
	const userIds = ['u1', 'u2'];
	const itemIds = ['s1', 's2', 's3'];
	return {
		meta: {
			id: 'corpus-model',
			name: 'Corpus model',
			type: 'als',
			createdAt: CREATED_AT,
			params: alsParams({ factors: f, iterations: 2, seed: 1 }),
			weighting: 'raw',
			holdout: false,
			dataset: { name: 'corpus.csv', fingerprint: 'ab'.repeat(32), users: 2, items: 3, nnz: 4 },
			training: { seconds: 0.5, sweeps: 2, backend: 'cpu', loss: [3, 2] },
			sizeBytes: 60
		},
		userIds,
		itemIds,
		userFactors: Float32Array.from({ length: userIds.length * f }, (_, i) => (i + 1) / 8),
		itemFactors: Float32Array.from({ length: itemIds.length * f }, (_, i) => (i - 4) / 4)
	};
}

/** The base64 of `n` float32 values 0.5, except a NaN at `nanAt` when given. */
function floatsBase64(n: number, nanAt?: number): string {
	const a = new Float32Array(n).fill(0.5);
	if (nanAt !== undefined) a[nanAt] = NaN;
	return Buffer.from(a.buffer).toString('base64');
}

function envelope(
	name: string,
	kind: Exclude<Kind, 'csv'>,
	about: string,
	content: string,
	expect: Expect,
	maxFileBytes?: number
): void {
	add({
		name,
		kind,
		about,
		content,
		ext: 'json',
		expect,
		...(maxFileBytes ? { maxFileBytes } : {})
	});
}

/** Cases every envelope kind shares; `tensor` names one of its float32 tensors. */
function addEnvelopeCases(
	kind: Exclude<Kind, 'csv'>,
	valid: string,
	tensor: string,
	otherKind: string
): void {
	const e = (name: string, about: string, text: string, expect: Expect, max?: number): void =>
		envelope(name, kind, about, text, expect, max);
	const what = `${kind === 'update' ? 'an' : 'a'} ${kind}`;
	e(
		'truncated',
		'the first half of a valid file',
		valid.slice(0, Math.floor(valid.length / 2)),
		fail('file/not-json', 'The file is truncated or not JSON')
	);
	e('empty', 'zero bytes', '', fail('file/not-json', 'The file is truncated or not JSON'));
	e('not_object', 'a JSON array', '[1,2,3]', fail('file/bad-format', 'top level is not an object'));
	e(
		'nan_literal',
		'a bare NaN where a number goes (not JSON)',
		valid.replace(/"version":1/, '"version":NaN'),
		fail('file/not-json', 'The file is truncated or not JSON (at character')
	);
	e(
		'wrong_format',
		'format "other"',
		resealed(valid, (f) => (f.format = 'other')),
		fail('file/bad-format', 'not a musicrec file (format is "other")')
	);
	e(
		'newer_version',
		'version 2',
		resealed(valid, (f) => (f.version = 2)),
		fail('file/bad-version', 'made by a newer musicrec (file version 2')
	);
	e(
		'string_version',
		'version "1"',
		resealed(valid, (f) => (f.version = '1')),
		fail('file/bad-version', 'invalid version (1)')
	);
	e(
		'wrong_kind',
		`kind "${otherKind}"`,
		resealed(valid, (f) => (f.kind = otherKind)),
		fail(
			'file/wrong-kind',
			`holds ${otherKind === 'update' ? 'an' : 'a'} ${otherKind}, expected ${what}`
		)
	);
	e(
		'missing_meta',
		'no meta',
		resealed(valid, (f) => delete f.meta),
		fail('file/bad-field', 'meta is missing or not an object')
	);
	e(
		'missing_tensors',
		'no tensors',
		resealed(valid, (f) => delete f.tensors),
		fail('file/bad-field', 'tensors are missing or not an object')
	);
	e(
		'missing_checksum',
		'no checksum',
		(() => {
			const f = JSON.parse(valid) as Json;
			delete f.checksum;
			return JSON.stringify(f);
		})(),
		fail('file/bad-field', "checksum is missing or not 'sha256:<64 hex digits>'")
	);
	e(
		'wrong_checksum',
		'one hex digit of the checksum changed',
		valid.replace(
			/"checksum":"sha256:(.)/,
			(_, c: string) => `"checksum":"sha256:${c === '0' ? '1' : '0'}`
		),
		fail('file/checksum', 'checksum does not match its content')
	);
	e(
		'edited_meta',
		'meta edited without updating the checksum',
		valid.replace('"federation', '"Federation').replace('"name":"Corpus', '"name":"Korpus'),
		fail('file/checksum', 'checksum does not match')
	);
	e(
		'proto_top',
		'a __proto__ key at the top level',
		valid.replace(/^\{/, '{"__proto__":{"polluted":"yes"},'),
		fail('file/bad-field', "forbidden key '__proto__' at $")
	);
	e(
		'proto_meta',
		'a __proto__ key inside meta',
		valid.replace('"meta":{', '"meta":{"__proto__":{"polluted":"yes"},'),
		fail('file/bad-field', "forbidden key '__proto__' at $.meta")
	);
	e(
		'constructor_meta',
		'a constructor key inside meta',
		valid.replace('"meta":{', '"meta":{"constructor":{"prototype":{"polluted":"yes"}},'),
		fail('file/bad-field', "forbidden key 'constructor' at $.meta")
	);
	e(
		'proto_tensor_name',
		'a tensor named __proto__',
		valid.replace(
			'"tensors":{',
			'"tensors":{"__proto__":{"dtype":"float32","shape":[1],"data":"AAAAAA=="},'
		),
		fail('file/bad-field', "forbidden key '__proto__' at $.tensors")
	);
	e(
		'dims_1e9',
		`${tensor} claims shape [1e9, 1e9] with 4 bytes of data: refused from the shape`,
		resealed(valid, (f) => {
			f.tensors[tensor] = { dtype: 'float32', shape: [1e9, 1e9], data: 'AAAAAA==' };
		}),
		fail('file/bad-tensor', 'holds 1000000000000000000 values, more than the limit'),
		4096
	);
	e(
		'dims_1e9_rows',
		`${tensor} claims shape [1e9, 2]`,
		resealed(valid, (f) => {
			f.tensors[tensor] = { dtype: 'float32', shape: [1e9, 2], data: 'AAAAAA==' };
		}),
		fail('file/bad-tensor', 'holds 2000000000 values, more than the limit'),
		4096
	);
	e(
		'shape_vs_data',
		`${tensor} shape [3, 3] over 6 floats of data`,
		resealed(valid, (f) => {
			f.tensors[tensor] = { dtype: 'float32', shape: [3, 3], data: floatsBase64(6) };
		}),
		fail('file/bad-tensor', 'shape [3,3] needs 36 bytes, data holds 24')
	);
	e(
		'negative_dim',
		`${tensor} shape [-1, 2]`,
		resealed(valid, (f) => (f.tensors[tensor].shape = [-1, 2])),
		fail('file/bad-tensor', 'shape must be a list of non-negative integers')
	);
	e(
		'bad_dtype',
		`${tensor} dtype float64`,
		resealed(valid, (f) => (f.tensors[tensor].dtype = 'float64')),
		fail('file/bad-tensor', 'unknown dtype float64')
	);
	e(
		'base64_garbage',
		`${tensor} data of the right length made of characters outside base64`,
		resealed(valid, (f) => {
			const d = f.tensors[tensor].data as string;
			f.tensors[tensor].data = d.replace(/[^=]/g, '!');
		}),
		fail('file/bad-tensor', 'base64: invalid character at 0')
	);
	e(
		'base64_length',
		`${tensor} data whose length is not a multiple of 4`,
		resealed(valid, (f) => (f.tensors[tensor].data = 'AAAAA')),
		fail('file/bad-tensor', 'data holds malformed base64')
	);
	e(
		'huge_number',
		'a number literal 1e999 (parsed as Infinity) in meta',
		valid.replace(/"meta":\{/, '"meta":{"extra":1e999,'),
		fail('file/bad-field', 'holds a number too large to represent at meta.extra')
	);
}

function addModelCases(): void {
	const valid = encodeModelFile(validModel(), { createdAt: CREATED_AT });
	envelope('valid', 'model', 'a valid model (2 users, 3 songs, 3 factors)', valid, {
		accepted: { users: 2, items: 3, factors: 3 }
	});
	addEnvelopeCases('model', valid, 'itemFactors', 'global');
	const e = (name: string, about: string, edit: (f: Json) => void, expect: Expect): void =>
		envelope(name, 'model', about, resealed(valid, edit), expect);
	e(
		'missing_factors_param',
		'meta.params without factors',
		(f) => delete f.meta.params.factors,
		fail('file/bad-field', 'meta.params.factors must be present')
	);
	e(
		'missing_user_ids',
		'no meta.userIds',
		(f) => delete f.meta.userIds,
		fail('file/bad-field', 'meta.userIds must be a list of strings (got missing)')
	);
	e(
		'ids_vs_rows',
		'one more user id than factor rows',
		(f) => f.meta.userIds.push('u3'),
		fail('file/bad-tensor', 'has shape [2, 3], expected [3, 3] (meta.userIds length')
	);
	e(
		'nan_factor',
		'a NaN inside itemFactors',
		(f) => (f.tensors.itemFactors.data = floatsBase64(9, 4)),
		fail('file/bad-tensor', 'itemFactors holds a value that is not finite (NaN) at row 1, column 1')
	);
}

function addGlobalCases(): string {
	const published = publishGlobal(
		createInitialGlobal({
			federationId: 'fed-corpus',
			mode: 'exact',
			params: { factors: 2, seed: 1 },
			catalog: ['s1', 's2', 's3']
		}),
		{ createdAt: CREATED_AT }
	);
	const valid = published.text;
	envelope('valid', 'global', 'a valid round-0 global (3 songs, 2 factors)', valid, {
		accepted: { catalog: 3, round: 0, factors: 2 }
	});
	addEnvelopeCases('global', valid, 'itemFactors', 'update');
	const e = (name: string, about: string, edit: (f: Json) => void, expect: Expect): void =>
		envelope(name, 'global', about, resealed(valid, edit), expect);
	e(
		'missing_catalog',
		'no meta.catalog',
		(f) => delete f.meta.catalog,
		fail('file/bad-field', 'meta.catalog must be a list of song ids (got missing)')
	);
	e(
		'catalog_vs_rows',
		'one more song in the catalog than factor rows',
		(f) => f.meta.catalog.push('s4'),
		fail('file/bad-tensor', 'tensors.itemFactors must be float32 [4, 2]')
	);
	e(
		'nan_factor',
		'a NaN inside itemFactors',
		(f) => (f.tensors.itemFactors.data = floatsBase64(6, 3)),
		fail('federation/not-finite', 'item factor 3 is not finite')
	);
	return published.checksum;
}

function addUpdateCases(baseChecksum: string): void {
	const f = 2;
	const valid = encodeUpdateFile(
		{
			federationId: 'fed-corpus',
			round: 0,
			baseChecksum,
			clientId: '0123456789abcdef',
			counts: { users: 1, interactions: 2, touchedItems: 2 },
			factors: f,
			payload: {
				mode: 'exact',
				gram: Float32Array.from([1, 0.5, 0.5, 2]),
				touched: Int32Array.from([0, 2]),
				itemGrams: Float32Array.from([1, 2, 3, 4, 5, 6]),
				itemTargets: Float32Array.from([1, -1, 2, -2])
			}
		},
		{ createdAt: CREATED_AT }
	);
	envelope('valid', 'update', 'a valid exact update (2 touched songs, 2 factors)', valid, {
		accepted: { mode: 'exact', factors: 2, touched: 2 }
	});
	addEnvelopeCases('update', valid, 'b', 'model');
	const e = (name: string, about: string, edit: (f: Json) => void, expect: Expect): void =>
		envelope(name, 'update', about, resealed(valid, edit), expect);
	e(
		'missing_client_id',
		'no meta.clientId',
		(x) => delete x.meta.clientId,
		fail('file/bad-field', 'meta.clientId must be a string matching')
	);
	e(
		'touched_vs_rows',
		'three touched songs but two rows of A and b',
		(x) => {
			x.tensors.touched = {
				dtype: 'int32',
				shape: [3],
				data: Buffer.from(Int32Array.from([0, 1, 2]).buffer).toString('base64')
			};
			x.meta.counts.touchedItems = 3;
		},
		fail('federation/bad-shape', 'tensors.A: must be [3, 3] (touched, f(f+1)/2), has [2, 3]')
	);
	e(
		'unsorted_touched',
		'touched indices not ascending',
		(x) =>
			(x.tensors.touched.data = Buffer.from(Int32Array.from([2, 0]).buffer).toString('base64')),
		fail('federation/bad-shape', 'entry 1 is 0 after 2')
	);
	e(
		'nan_gram',
		'a NaN inside G',
		(x) => (x.tensors.G.data = floatsBase64(4, 1)),
		fail(
			'federation/not-finite',
			'tensors.G holds a value that is not finite (NaN) at row 0, column 1'
		)
	);
}

// ---------------------------------------------------------------------------------------------

function describeExpect(x: Expect): string {
	if ('error' in x) return `\`${x.error}\`: "${x.message.replace(/\|/g, '\\|')}"`;
	const extra = x.userIds ? `, user ids ${JSON.stringify(x.userIds)}` : '';
	return `accepted: ${JSON.stringify(x.accepted)}${extra}`.replace(/\|/g, '\\|');
}

function readme(): string {
	const lines = [
		'# Hostile-input corpus',
		'',
		'Generated by `npx tsx scripts/make_corpus.ts` (deterministic; do not edit the files by',
		'hand). `manifest.json` lists every file with its expected outcome, and',
		'`tests/unit/corpus/corpus.test.ts` runs each one through the core: CSV files through',
		'`ingest` fed by `readTextChunks`, model / global / update files through',
		'`decodeModelFile`, `readGlobalFile` and `decodeUpdateFile`. An error case must throw a',
		'`MusicrecError` with the code and a message containing the fragment; an accepted case',
		'must give the counts listed.',
		'',
		'Decisions:',
		'',
		'- **Non-UTF-8 bytes.** Files are decoded as UTF-8 with replacement characters (U+FFFD), so',
		'  two ids that differ only in invalid bytes would become one. A user or song id holding',
		'  U+FFFD therefore makes its line bad (`csv/bad-line`): with `badLines: skip` it is',
		'  counted and reported, never merged silently. Other columns are not checked.',
		'- **Weights** must be numbers in (0, 1e15]: float32 storage and summed duplicates then',
		'  never reach Infinity.',
		'- **Long fields** are accepted in ids; error messages quote at most 40 characters of a',
		'  field, 200 of a line and 12 header names.',
		'- **Huge dims** are refused from the declared shape before any allocation (the files are',
		'  under 4 KiB).',
		'',
		'| file | case | expected |',
		'| --- | --- | --- |'
	];
	for (const c of cases) {
		const about = c.about.replace(/\|/g, '\\|') + (c.badLines ? ' (badLines: skip)' : '');
		lines.push(`| ${c.file} | ${about} | ${describeExpect(c.expect)} |`);
	}
	return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// A person's exports (Spotify, Last.fm, ListenBrainz), read by personal_export.ts and matched
// by name (personal_match.ts) against a catalogue of three artists: Radiohead, Björk, Portishead.

/** A zip of `files`, with the uncompressed size of every entry claimed to be `claim`. */
function zipClaiming(files: Record<string, Uint8Array>, claim?: number): Uint8Array {
	const zip = zipSync(files, { level: 0 });
	if (claim === undefined) return zip;
	const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
	for (let k = 0; k + 4 <= zip.length; k++) {
		const sig = view.getUint32(k, true);
		if (sig === 0x04034b50) view.setUint32(k + 22, claim, true);
		if (sig === 0x02014b50) view.setUint32(k + 24, claim, true);
	}
	return zip;
}

function addPersonalCases(): void {
	const play = (artist: unknown, track: unknown, ms: unknown = 200000) => ({
		endTime: '2024-01-01 10:00',
		artistName: artist,
		trackName: track,
		msPlayed: ms
	});
	const json = (v: unknown) => JSON.stringify(v);
	const p = (
		name: string,
		ext: string,
		content: string | Uint8Array,
		about: string,
		expect: Expect
	) => add({ name, kind: 'personal', ext, content, about, expect });
	p(
		'valid_account',
		'json',
		json([play('Radiohead', 'Airbag'), play('bjork', 'Joga'), play('Nobody', 'x')]),
		'Spotify account data: three plays, two artists of the catalogue',
		{ accepted: { plays: 3, matched: 2, distinct: 3 } }
	);
	p('empty', 'json', '', 'an empty file', fail('file/bad-format', '(an empty file)'));
	p(
		'truncated',
		'json',
		json([play('Radiohead', 'Airbag')]).slice(0, 30),
		'JSON cut off',
		fail('file/bad-format', 'line 1 is not JSON')
	);
	p(
		'object',
		'json',
		json({ username: 'x', email: 'a@example.org' }),
		'Userdata.json, not listens',
		fail('file/bad-format', 'a JSON object without listens')
	);
	p(
		'wrong_fields',
		'json',
		json([{ song: 'x', when: 1 }]),
		'records without artist or track fields',
		fail('file/bad-format', 'records with song, when')
	);
	p(
		'nulls',
		'json',
		json([null, 1, 'x', []]),
		'an array of non-records',
		fail('file/bad-format', 'no records')
	);
	p(
		'proto',
		'json',
		'[{"__proto__": {"polluted": 1}, "artistName": "Radiohead", "trackName": "x", "msPlayed": 90000, "constructor": {"prototype": {"polluted": 1}}}]',
		'__proto__ and constructor keys beside a real play',
		{ accepted: { plays: 1, matched: 1, distinct: 1 } }
	);
	p(
		'wrong_types',
		'json',
		json([play(7, ['x']), play({}, null), play('Radiohead', 'x', 'long')]),
		'artist and track of the wrong types, a play length as text',
		{ accepted: { plays: 1, matched: 1, distinct: 1 } }
	);
	p(
		'all_short',
		'json',
		json([play('Radiohead', 'a', 1000), play('Björk', 'b', 29999)]),
		'every play under 30 s',
		fail('file/bad-format', '2 were shorter than 30 s')
	);
	p(
		'podcasts',
		'json',
		json([
			{
				ts: '2024-01-01T00:00:00Z',
				ms_played: 900000,
				master_metadata_track_name: null,
				master_metadata_album_artist_name: null,
				episode_name: 'E'
			}
		]),
		'extended history with podcast episodes only',
		fail('file/bad-format', '1 were not music')
	);
	p(
		'no_overlap',
		'json',
		json([play('Nobody', 'x'), play('Else', 'y')]),
		'plays of artists the catalogue lacks',
		fail('model/no-overlap', '0 of 2 matched by name')
	);
	p(
		'jsonl_bad_line',
		'jsonl',
		json({ listened_at: 1, track_metadata: { artist_name: 'Radiohead', track_name: 'x' } }) +
			'\n{oops\n',
		'ListenBrainz lines, the second not JSON',
		fail('file/bad-format', 'line 2 is not JSON')
	);
	p(
		'csv_columns',
		'csv',
		'a,b\n1,2\n',
		'a CSV that is not a scrobble export',
		fail('file/bad-format', 'columns [a, b]')
	);
	p(
		'binary',
		'json',
		Uint8Array.from({ length: 512 }, (_, k) => (k * 37 + 11) % 256),
		'binary bytes',
		fail('file/bad-format', 'not a listening history')
	);
	p(
		'zip_empty',
		'zip',
		zipClaiming({ 'readme.txt': strToU8('hi') }),
		'a zip with no listening file',
		fail('file/bad-format', 'holds no listening history')
	);
	p(
		'zip_truncated',
		'zip',
		zipClaiming({ 'StreamingHistory_music_0.json': strToU8(json([play('Radiohead', 'x')])) }).slice(
			0,
			40
		),
		'a zip cut off',
		fail('file/bad-format', 'zip file that could not be opened')
	);
	p(
		'zip_claims_huge',
		'zip',
		zipClaiming(
			{ 'StreamingHistory_music_0.json': strToU8(json([play('Radiohead', 'x')])) },
			0xfffffff0
		),
		'a zip whose entry claims 4 GiB unpacked',
		fail('file/bad-format', 'more than 1 GiB unpacked')
	);
	p(
		'zip_valid',
		'zip',
		zipClaiming({
			'Spotify Account Data/StreamingHistory_music_0.json': strToU8(
				json([play('Portishead', 'Roads'), play('Portishead', 'Glory Box')])
			),
			'Spotify Account Data/Userdata.json': strToU8(json({ username: 'secret' }))
		}),
		'the zip Spotify sends, with a user data file beside the plays',
		{ accepted: { plays: 2, matched: 1, distinct: 1 } }
	);
}

function main(): void {
	for (const kind of ['csv', 'model', 'global', 'update', 'personal']) {
		rmSync(join(ROOT, kind), { recursive: true, force: true });
	}
	addCsvCases();
	addModelCases();
	const checksum = addGlobalCases();
	addUpdateCases(checksum);
	addPersonalCases();
	write('manifest.json', JSON.stringify({ cases }, null, '\t') + '\n');
	write('README.md', readme());
	console.log(`wrote ${cases.length} cases to ${ROOT}`);
}

main();
