import { alsParams, DEFAULT_ALS_PARAMS, type AlsParams } from '../als/params';
import { COUNT_WEIGHTINGS, KKBOX_WEIGHTINGS, type Weighting } from '../data/weights';
import { MusicrecError, isMusicrecError } from '../errors';
import type { DatasetRef, ModelMeta, ModelMetrics, ModelRecord } from '../model_record';
import { decodeEnvelope, encodeEnvelope, type EnvelopeLimits } from './envelope';

/** Default limits for model files: 512 MiB of text, 100 million values per factor matrix. */
const MODEL_FILE_LIMITS: EnvelopeLimits = Object.freeze({
	maxBytes: 512 * 1024 * 1024,
	maxElements: 100_000_000
});

/**
 * Write a model as a 'model' envelope: meta = ModelMeta + userIds + itemIds (+ itemNames when
 * the model has names); tensors userFactors [users, f] and itemFactors [items, f] (float32,
 * row-major).
 */
export function encodeModelFile(record: ModelRecord, options: { createdAt?: string } = {}): string {
	const f = record.meta.params.factors;
	const meta = {
		...record.meta,
		userIds: [...record.userIds],
		itemIds: [...record.itemIds],
		...(record.itemNames ? { itemNames: [...record.itemNames] } : {})
	};
	return encodeEnvelope(
		'model',
		meta,
		{
			userFactors: { array: record.userFactors, shape: [record.userIds.length, f] },
			itemFactors: { array: record.itemFactors, shape: [record.itemIds.length, f] }
		},
		options
	);
}

function bad(field: string, expected: string, value?: unknown): never {
	const shown = value === undefined ? 'missing' : truncate(JSON.stringify(value) ?? String(value));
	throw new MusicrecError(
		'file/bad-field',
		`Model file field ${field} must be ${expected} (got ${shown})`,
		{
			field
		}
	);
}

function truncate(s: string): string {
	return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function object(v: unknown, field: string): Record<string, unknown> {
	if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(field, 'an object', v);
	return v as Record<string, unknown>;
}

function string(v: unknown, field: string, nonEmpty = false): string {
	if (typeof v !== 'string' || (nonEmpty && v.length === 0)) {
		bad(field, nonEmpty ? 'a non-empty string' : 'a string', v);
	}
	return v;
}

function finite(v: unknown, field: string, min = -Infinity): number {
	if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
		bad(field, min === -Infinity ? 'a finite number' : `a finite number >= ${min}`, v);
	}
	return v;
}

function integer(v: unknown, field: string, min = 0): number {
	if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
		bad(field, `an integer >= ${min}`, v);
	}
	return v;
}

function boolean(v: unknown, field: string): boolean {
	if (typeof v !== 'boolean') bad(field, 'true or false', v);
	return v;
}

function params(v: unknown): AlsParams {
	const o = object(v, 'meta.params');
	const picked: Record<string, unknown> = {};
	for (const key of Object.keys(DEFAULT_ALS_PARAMS)) {
		if (!(key in o)) bad(`meta.params.${key}`, 'present');
		picked[key] = o[key];
	}
	try {
		return alsParams(picked as Partial<AlsParams>);
	} catch (e) {
		if (isMusicrecError(e, 'als/bad-params')) {
			const field = `meta.params.${String(e.details.field)}`;
			throw new MusicrecError('file/bad-field', `Model file field ${field}: ${e.message}`, {
				field
			});
		}
		throw e;
	}
}

function weighting(v: unknown): Weighting {
	const all: readonly string[] = [...KKBOX_WEIGHTINGS, ...COUNT_WEIGHTINGS];
	if (typeof v !== 'string' || !all.includes(v))
		bad('meta.weighting', `one of ${all.join(', ')}`, v);
	return v as Weighting;
}

function dataset(v: unknown): DatasetRef {
	const o = object(v, 'meta.dataset');
	return {
		name: string(o.name, 'meta.dataset.name'),
		fingerprint: string(o.fingerprint, 'meta.dataset.fingerprint'),
		users: integer(o.users, 'meta.dataset.users'),
		items: integer(o.items, 'meta.dataset.items'),
		nnz: integer(o.nnz, 'meta.dataset.nnz'),
		...(o.medianPlays === undefined
			? {}
			: { medianPlays: finite(o.medianPlays, 'meta.dataset.medianPlays') })
	};
}

function ranking(o: Record<string, unknown>, at: string) {
	const r = {
		precision: finite(o.precision, `${at}.precision`),
		recall: finite(o.recall, `${at}.recall`),
		ndcg: finite(o.ndcg, `${at}.ndcg`),
		map: finite(o.map, `${at}.map`)
	};
	return o.auc === undefined ? r : { ...r, auc: finite(o.auc, `${at}.auc`) };
}

function metrics(v: unknown): ModelMetrics {
	const o = object(v, 'meta.metrics');
	return {
		k: integer(o.k, 'meta.metrics.k', 1),
		...ranking(o, 'meta.metrics'),
		popularity: ranking(object(o.popularity, 'meta.metrics.popularity'), 'meta.metrics.popularity'),
		evalUsers: integer(o.evalUsers, 'meta.metrics.evalUsers')
	};
}

function notes(v: unknown): string[] {
	if (!Array.isArray(v)) return bad('meta.training.notes', 'a list of strings', v);
	return v.map((x, i) => string(x, `meta.training.notes[${i}]`));
}

function training(v: unknown): ModelMeta['training'] {
	const o = object(v, 'meta.training');
	if (!Array.isArray(o.loss)) bad('meta.training.loss', 'a list of numbers', o.loss);
	return {
		seconds: finite(o.seconds, 'meta.training.seconds', 0),
		sweeps: integer(o.sweeps, 'meta.training.sweeps'),
		backend: string(o.backend, 'meta.training.backend'),
		...(o.solver === undefined
			? {}
			: {
					solver:
						o.solver === 'kernel' ? 'kernel' : o.solver === 'ops' ? 'ops' : badSolver(o.solver)
				}),
		...(o.threads === undefined ? {} : { threads: integer(o.threads, 'meta.training.threads') }),
		...(o.exactShortRows === undefined
			? {}
			: { exactShortRows: boolean(o.exactShortRows, 'meta.training.exactShortRows') }),
		...(o.notes === undefined ? {} : { notes: notes(o.notes) }),
		loss: (o.loss as unknown[]).map((x, i) => finite(x, `meta.training.loss[${i}]`))
	};
}

function badSolver(v: unknown): never {
	return bad('meta.training.solver', "'kernel' or 'ops'", v);
}

function ids(v: unknown, field: string): string[] {
	if (!Array.isArray(v)) bad(field, 'a list of strings', v);
	const seen = new Set<string>();
	for (let i = 0; i < v.length; i++) {
		const id: unknown = v[i];
		if (typeof id !== 'string') bad(`${field}[${i}]`, 'a string', id);
		if (seen.has(id)) bad(`${field}[${i}]`, 'unique', id);
		seen.add(id);
	}
	return v as string[];
}

/** Narrow the untrusted meta of a model file to ModelMeta, naming the first bad field. */
function modelMeta(v: unknown): ModelMeta {
	const o = object(v, 'meta');
	if (o.type !== 'als') bad('meta.type', "'als'", o.type);
	const meta: ModelMeta = {
		id: string(o.id, 'meta.id', true),
		name: string(o.name, 'meta.name'),
		type: 'als',
		createdAt: string(o.createdAt, 'meta.createdAt'),
		params: params(o.params),
		weighting: weighting(o.weighting),
		holdout: boolean(o.holdout, 'meta.holdout'),
		dataset: dataset(o.dataset),
		...(o.metrics === undefined ? {} : { metrics: metrics(o.metrics) }),
		training: training(o.training),
		sizeBytes: integer(o.sizeBytes, 'meta.sizeBytes')
	};
	return meta;
}

function factorMatrix(
	tensor: { array: Float32Array | Int32Array; shape: number[] } | undefined,
	name: string,
	rows: number,
	rowsField: string,
	factors: number
): Float32Array {
	const field = `tensors.${name}`;
	if (tensor === undefined) {
		throw new MusicrecError('file/bad-tensor', `Model file has no ${field}`, { field });
	}
	const { array, shape } = tensor;
	if (!(array instanceof Float32Array)) {
		throw new MusicrecError('file/bad-tensor', `Model file ${field} must be float32`, { field });
	}
	if (shape.length !== 2 || shape[0] !== rows || shape[1] !== factors) {
		throw new MusicrecError(
			'file/bad-tensor',
			`Model file ${field} has shape [${shape.join(', ')}], expected [${rows}, ${factors}] (${rowsField} length, meta.params.factors)`,
			{ field, shape, expected: [rows, factors] }
		);
	}
	for (let i = 0; i < array.length; i++) {
		if (!Number.isFinite(array[i])) {
			throw new MusicrecError(
				'file/bad-tensor',
				`Model file ${field} holds a value that is not finite (${array[i]}) at row ${Math.floor(i / factors)}, column ${i % factors}`,
				{ field, index: i }
			);
		}
	}
	return array;
}

/**
 * Read a model file: the envelope checks (envelope.ts), then every ModelMeta field, id lists of
 * unique strings whose lengths equal the factor rows, item names (optional) one string per item,
 * factor columns equal meta.params.factors, and finite factor values. The id is the file's; the importer decides about collisions.
 */
export function decodeModelFile(text: string, limits: Partial<EnvelopeLimits> = {}): ModelRecord {
	const envelope = decodeEnvelope(text, { kind: 'model', ...MODEL_FILE_LIMITS, ...limits });
	const raw = object(envelope.meta, 'meta');
	const meta = modelMeta(raw);
	const userIds = ids(raw.userIds, 'meta.userIds');
	const itemIds = ids(raw.itemIds, 'meta.itemIds');
	const f = meta.params.factors;
	const userFactors = factorMatrix(
		envelope.tensors.userFactors,
		'userFactors',
		userIds.length,
		'meta.userIds',
		f
	);
	const itemFactors = factorMatrix(
		envelope.tensors.itemFactors,
		'itemFactors',
		itemIds.length,
		'meta.itemIds',
		f
	);
	const itemNames = names(raw.itemNames, itemIds.length);
	return { meta, userIds, itemIds, ...(itemNames ? { itemNames } : {}), userFactors, itemFactors };
}

/** meta.itemNames: absent, or one string per item ('' where the name is unknown). */
function names(value: unknown, items: number): string[] | undefined {
	if (value === undefined) return undefined;
	if (!Array.isArray(value) || value.length !== items) {
		bad(
			'meta.itemNames',
			`a list of ${items} names, one per item`,
			Array.isArray(value) ? `${value.length} entries` : value
		);
	}
	value.forEach((v, k) => {
		if (typeof v !== 'string') bad(`meta.itemNames[${k}]`, 'a string', v);
	});
	return value as string[];
}
