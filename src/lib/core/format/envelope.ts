import { MusicrecError, type ErrorCode } from '../errors';
import { Sha256 } from './sha256';
import { decodeTensor, encodeTensor, type TensorArray, type TensorRecord } from './tensor_codec';

/**
 * The musicrec file envelope (docs/federation.md, File formats):
 * `{format: 'musicrec', version, kind, created_at, meta, tensors: {name: {dtype, shape, data}},
 * checksum: 'sha256:<hex>'}`, where the checksum is the SHA-256 of the canonical JSON of the
 * envelope without its `checksum` field.
 */
const ENVELOPE_FORMAT = 'musicrec';
/** The newest envelope version this code writes and the only one it reads. */
const ENVELOPE_VERSION = 1;

/**
 * What a file holds: a model, a federation's global or plain update, or one message of a secure
 * round (federation/secure/files.ts): a client's public key, the round's roster, a masked
 * update, the coordinator's unmask request, a client's unmask shares.
 */
export type EnvelopeKind =
	| 'model'
	| 'global'
	| 'update'
	| 'keys'
	| 'roster'
	| 'masked-update'
	| 'unmask-request'
	| 'unmask-shares';
const ENVELOPE_KINDS: readonly EnvelopeKind[] = [
	'model',
	'global',
	'update',
	'keys',
	'roster',
	'masked-update',
	'unmask-request',
	'unmask-shares'
];
const KINDS: readonly string[] = ENVELOPE_KINDS;
/**
 * The kind a file says it holds, read without checking the file (to pick its reader, which
 * checks everything); undefined when the text is not a musicrec envelope of a known kind.
 */
export function peekKind(text: string): EnvelopeKind | undefined {
	// encodeEnvelope writes `kind` near the start; other layouts need a parse.
	const head = /^\s*\{"format":"musicrec","version":\d+,"kind":"([a-z-]+)"/.exec(
		text.slice(0, 120)
	);
	let kind: unknown = head?.[1];
	if (kind === undefined) {
		try {
			const parsed: unknown = JSON.parse(text);
			kind = isPlainObject(parsed) ? parsed.kind : undefined;
		} catch {
			return undefined;
		}
	}
	return (ENVELOPE_KINDS as readonly unknown[]).includes(kind) ? (kind as EnvelopeKind) : undefined;
}

/** "a global", "an update". */
function article(noun: string): string {
	return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** Each kind in words, for messages. */
export const KIND_NAMES: Readonly<Record<EnvelopeKind, string>> = {
	model: 'model',
	global: 'global',
	update: 'update',
	keys: 'public key file',
	roster: 'roster',
	'masked-update': 'masked update',
	'unmask-request': 'unmask request',
	'unmask-shares': 'unmask shares file'
};

/** Keys that could reach an object's prototype if a consumer copied them; refused anywhere. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deeper nesting than this is refused (our files nest a handful of levels). */
const MAX_DEPTH = 64;

export interface TensorInput {
	readonly array: TensorArray;
	readonly shape: readonly number[];
}

export interface DecodedTensor {
	readonly array: TensorArray;
	readonly shape: number[];
}

export interface EnvelopeLimits {
	/** Longest accepted text, in UTF-16 code units (a lower bound on its size in bytes). */
	readonly maxBytes: number;
	/** Most values accepted in any one tensor. */
	readonly maxElements: number;
}

export interface DecodedEnvelope {
	readonly kind: EnvelopeKind;
	readonly createdAt: string;
	/** The file's `meta` object, still unchecked: the caller narrows it with its own guards. */
	readonly meta: unknown;
	/** A prototype-free record, so a missing name is `undefined`, never an inherited member. */
	readonly tensors: Readonly<Record<string, DecodedTensor>>;
}

function fail(code: ErrorCode, message: string, details: Record<string, unknown> = {}): never {
	throw new MusicrecError(code, message, details);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Walk a JSON value (iteratively, so hostile nesting cannot overflow the stack) and refuse
 * prototype-sensitive keys and nesting deeper than MAX_DEPTH. Returns normally when clean.
 */
function checkKeys(root: unknown, where: string): void {
	const stack: { value: unknown; path: string; depth: number }[] = [
		{ value: root, path: where, depth: 0 }
	];
	while (stack.length > 0) {
		const { value, path, depth } = stack.pop()!;
		if (value === null || typeof value !== 'object') continue;
		if (depth > MAX_DEPTH) {
			fail('file/bad-field', `The file nests deeper than ${MAX_DEPTH} levels at ${path}`, {
				field: path
			});
		}
		if (Array.isArray(value)) {
			for (let i = 0; i < value.length; i++) {
				const v: unknown = value[i];
				if (v !== null && typeof v === 'object') {
					stack.push({ value: v, path: `${path}[${i}]`, depth: depth + 1 });
				}
			}
			continue;
		}
		for (const key of Object.keys(value)) {
			if (FORBIDDEN_KEYS.has(key)) {
				fail('file/bad-field', `The file contains the forbidden key '${key}' at ${path}`, {
					field: `${path}.${key}`
				});
			}
			const v: unknown = (value as Record<string, unknown>)[key];
			if (v !== null && typeof v === 'object') {
				stack.push({ value: v, path: `${path}.${key}`, depth: depth + 1 });
			}
		}
	}
}

/**
 * Offset of the first JSON syntax error in `text` (text.length when it ends too early), or
 * undefined when none is found. Run only after JSON.parse failed, whose message may not say.
 */
export function jsonErrorOffset(text: string): number | undefined {
	let i = 0;
	const ws = (): void => {
		while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
	};
	const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/;
	const bad = (): never => {
		throw i;
	};
	const string = (): void => {
		if (text[i] !== '"') bad();
		i++;
		while (i < text.length && text[i] !== '"') {
			const c = text.charCodeAt(i);
			if (c < 0x20) bad();
			if (text[i] === '\\') {
				i++;
				if (text[i] === 'u') {
					if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) bad();
					i += 4;
				} else if (i >= text.length || !'"\\/bfnrt'.includes(text[i])) bad();
			}
			i++;
		}
		if (i >= text.length) bad();
		i++;
	};
	const value = (): void => {
		ws();
		if (i >= text.length) bad();
		const c = text[i];
		if (c === '"') return string();
		if (c === '{' || c === '[') {
			const close = c === '{' ? '}' : ']';
			i++;
			ws();
			if (text[i] === close) {
				i++;
				return;
			}
			for (;;) {
				if (c === '{') {
					ws();
					string();
					ws();
					if (text[i] !== ':') bad();
					i++;
				}
				value();
				ws();
				if (text[i] === ',') i++;
				else if (text[i] === close) {
					i++;
					return;
				} else bad();
			}
		}
		const m = literal.exec(text.slice(i, i + 400));
		if (m === null) bad();
		i += m![0].length;
	};
	try {
		value();
		ws();
		return i < text.length ? i : undefined;
	} catch (e) {
		return typeof e === 'number' ? Math.min(e, text.length) : undefined;
	}
}

/** Characters hashed per call, so long strings are never converted to UTF-8 in one piece. */
const CHUNK = 1 << 16;

/**
 * SHA-256 of `canonicalJson(value)` (canonical_json.ts: sorted keys, no whitespace, undefined
 * members dropped), computed piecewise: big base64 strings are hashed in chunks instead of
 * building the whole canonical text and its UTF-8 copy. Throws RangeError on non-finite numbers.
 */
export function canonicalSha256Hex(value: unknown): string {
	const h = new Sha256();
	let buffer = '';
	const emit = (s: string): void => {
		buffer += s;
		if (buffer.length >= CHUNK) {
			h.updateText(buffer);
			buffer = '';
		}
	};
	const emitString = (s: string): void => {
		if (s.length < CHUNK) {
			emit(JSON.stringify(s));
			return;
		}
		emit('"');
		for (let start = 0; start < s.length;) {
			let end = Math.min(s.length, start + CHUNK);
			// Never split a surrogate pair: JSON.stringify would escape the halves.
			const last = s.charCodeAt(end - 1);
			if (end < s.length && last >= 0xd800 && last < 0xdc00) end--;
			const piece = JSON.stringify(s.slice(start, end));
			emit(piece.slice(1, -1));
			start = end;
		}
		emit('"');
	};
	const visit = (v: unknown, path: string): void => {
		if (v === null || typeof v !== 'object') {
			if (typeof v === 'string') return emitString(v);
			if (typeof v === 'number' && !Number.isFinite(v)) {
				throw new RangeError(`non-finite number at ${path}`);
			}
			const text = JSON.stringify(v);
			if (text === undefined) throw new TypeError(`cannot encode ${typeof v} at ${path}`);
			return emit(text);
		}
		if (Array.isArray(v)) {
			emit('[');
			for (let i = 0; i < v.length; i++) {
				if (i > 0) emit(',');
				visit(v[i], `${path}[${i}]`);
			}
			return emit(']');
		}
		const record = v as Record<string, unknown>;
		const keys = Object.keys(record)
			.sort()
			.filter((k) => record[k] !== undefined);
		emit('{');
		keys.forEach((k, i) => {
			if (i > 0) emit(',');
			emit(JSON.stringify(k) + ':');
			visit(record[k], `${path}.${k}`);
		});
		emit('}');
	};
	visit(value, '$');
	if (buffer.length > 0) h.updateText(buffer);
	return h.hex();
}

/**
 * Serialise `meta` and named tensors into an envelope of `kind` and return its JSON text.
 * Throws 'file/bad-field' when meta holds a forbidden key or a non-finite number, and
 * 'file/bad-tensor' when a shape disagrees with its array.
 */
export function encodeEnvelope(
	kind: EnvelopeKind,
	meta: unknown,
	tensors: Readonly<Record<string, TensorInput>>,
	options: { createdAt?: string } = {}
): string {
	if (!isPlainObject(meta)) fail('file/bad-field', 'Envelope meta must be an object');
	checkKeys(meta, 'meta');
	const records: Record<string, TensorRecord> = {};
	for (const name of Object.keys(tensors)) {
		if (FORBIDDEN_KEYS.has(name)) {
			fail('file/bad-field', `Tensor name '${name}' is not allowed`, { field: name });
		}
		try {
			records[name] = encodeTensor(tensors[name].array, tensors[name].shape);
		} catch (e) {
			fail('file/bad-tensor', `Tensor ${name}: ${(e as Error).message}`, { field: name });
		}
	}
	const body = {
		format: ENVELOPE_FORMAT,
		version: ENVELOPE_VERSION,
		kind,
		created_at: options.createdAt ?? new Date().toISOString(),
		meta,
		tensors: records
	};
	let hex: string;
	try {
		hex = canonicalSha256Hex(body);
	} catch (e) {
		fail('file/bad-field', `Cannot write the file: ${(e as Error).message}`);
	}
	return JSON.stringify({ ...body, checksum: `sha256:${hex}` });
}

/**
 * Parse and verify an envelope, in this order: size limit (before parsing), JSON syntax,
 * forbidden keys, format, version, kind, created_at and meta presence, every tensor's dtype
 * and shape (before its base64 is decoded, against `maxElements`), then the checksum.
 * Every failure is a MusicrecError with a 'file/...' code and a message naming the field.
 */
export function decodeEnvelope(
	text: string,
	expected: { kind: EnvelopeKind } & EnvelopeLimits
): DecodedEnvelope {
	if (text.length > expected.maxBytes) {
		fail(
			'file/too-large',
			`The file is too large: ${text.length} characters, the limit is ${expected.maxBytes}`,
			{ length: text.length, maxBytes: expected.maxBytes }
		);
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (e) {
		const reason = (e as Error).message;
		const match = /position (\d+)/.exec(reason);
		const position = match ? Number(match[1]) : jsonErrorOffset(text);
		const where = position === undefined ? '' : ` (at character ${position} of ${text.length})`;
		fail('file/not-json', `The file is truncated or not JSON${where}: ${reason}`, {
			length: text.length,
			position
		});
	}
	if (!isPlainObject(parsed)) {
		fail('file/bad-format', 'The file is not a musicrec file (top level is not an object)');
	}
	checkKeys(parsed, '$');
	const { format, version, kind, created_at: createdAt, meta, tensors, checksum } = parsed;
	if (format !== ENVELOPE_FORMAT) {
		fail(
			'file/bad-format',
			`The file is not a musicrec file (format is ${JSON.stringify(format) ?? 'missing'})`,
			{ field: 'format', value: format }
		);
	}
	if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
		fail('file/bad-version', `The file has an invalid version (${String(version)})`, {
			field: 'version',
			value: version
		});
	}
	if (version > ENVELOPE_VERSION) {
		fail(
			'file/bad-version',
			`The file was made by a newer musicrec (file version ${version}; this one reads version ${ENVELOPE_VERSION})`,
			{ field: 'version', value: version, supported: ENVELOPE_VERSION }
		);
	}
	if (typeof kind !== 'string' || !KINDS.includes(kind)) {
		fail('file/bad-field', `The file's kind is invalid (${String(kind)})`, { field: 'kind' });
	}
	if (kind !== expected.kind) {
		fail(
			'file/wrong-kind',
			`The file holds ${article(KIND_NAMES[kind as EnvelopeKind])}, expected ${article(KIND_NAMES[expected.kind])}`,
			{
				field: 'kind',
				value: kind,
				expected: expected.kind
			}
		);
	}
	if (typeof createdAt !== 'string') {
		fail('file/bad-field', "The file's created_at is missing or not a string", {
			field: 'created_at'
		});
	}
	if (!isPlainObject(meta)) {
		fail('file/bad-field', "The file's meta is missing or not an object", { field: 'meta' });
	}
	if (!isPlainObject(tensors)) {
		fail('file/bad-field', "The file's tensors are missing or not an object", {
			field: 'tensors'
		});
	}
	if (typeof checksum !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
		fail('file/bad-field', "The file's checksum is missing or not 'sha256:<64 hex digits>'", {
			field: 'checksum'
		});
	}
	const decoded: Record<string, DecodedTensor> = Object.create(null) as Record<
		string,
		DecodedTensor
	>;
	for (const name of Object.keys(tensors)) {
		try {
			decoded[name] = decodeTensor(tensors[name], expected.maxElements);
		} catch (e) {
			fail('file/bad-tensor', `Tensor tensors.${name} is invalid: ${(e as Error).message}`, {
				field: `tensors.${name}`
			});
		}
	}
	const rest: Record<string, unknown> = { ...parsed };
	delete rest.checksum;
	let actual: string;
	try {
		actual = `sha256:${canonicalSha256Hex(rest)}`;
	} catch (e) {
		// JSON.parse reads an overflowing literal such as 1e999 as Infinity.
		const at = /at \$\.(\S+)/.exec((e as Error).message)?.[1] ?? 'an unknown field';
		fail('file/bad-field', `The file holds a number too large to represent at ${at}`, {
			field: at
		});
	}
	if (actual !== checksum) {
		fail(
			'file/checksum',
			'The file is damaged or was edited: its checksum does not match its content',
			{ field: 'checksum', expected: checksum, actual }
		);
	}
	return { kind: kind as EnvelopeKind, createdAt, meta, tensors: decoded };
}
