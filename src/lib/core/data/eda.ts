import { Rng } from '../random';
import { nnz } from './csr';
import { detachField } from './csv_tokenizer';
import { IdInterner } from './id_interner';
import { decodeWtf8 } from './wtf8';
import type { Csr } from './csr';
import type { Interactions } from './interactions';
import type { Schema, SchemaKind } from './schema';

/** How many data rows `head` keeps. */
export const HEAD_ROWS = 50;
/** Size of the reservoir sample the weight quartiles come from. */
export const WEIGHT_SAMPLE_SIZE = 100_000;

/** pandas-style describe of a categorical column (missing values excluded). */
interface CategoricalDescribe {
	/** Non-missing values. */
	count: number;
	unique: number;
	/** Most frequent value ('' when the column is all missing). */
	top: string;
	freq: number;
}

/** Occurrences of one value, split by KKBox target (both 0 without a target column). */
export interface ValueCount {
	value: string;
	total: number;
	target0: number;
	target1: number;
}

interface CategoricalSummary {
	/** Header name as written in the file. */
	column: string;
	/** Canonical lower-case name. */
	key: string;
	describe: CategoricalDescribe;
	/**
	 * Every value, sorted by total descending (ties by value). The target split is the
	 * value x target table the small-multiples charts draw.
	 */
	valueCounts: ValueCount[];
}

/** pandas-style describe of the numeric weight column. */
export interface NumericDescribe {
	count: number;
	mean: number;
	/** Sample standard deviation (n - 1 in the denominator), as pandas reports. */
	std: number;
	min: number;
	q25: number;
	median: number;
	q75: number;
	max: number;
	/**
	 * `exact` when every value was kept; `sample` when the quartiles come from a uniform
	 * reservoir sample of WEIGHT_SAMPLE_SIZE values (count, mean, std, min, max stay exact).
	 */
	quartiles: 'exact' | 'sample';
}

/** One bin of a log2 histogram: `count` rows with `lo <= value < hi`. */
export interface HistogramBin {
	lo: number;
	hi: number;
	count: number;
}

/** Shape of the interaction matrix after weighting and deduplication. */
interface MatrixSummary {
	users: number;
	items: number;
	/** Rows that entered the matrix (after the weighting filter). */
	rowsKept: number;
	/** Distinct (user, item) pairs. */
	nnz: number;
	/** `nnz / (users * items)`. */
	density: number;
	/** `1 - density`. */
	sparsity: number;
	meanItemsPerUser: number;
	meanUsersPerItem: number;
	/** Distinct items per user, log2-binned (bins 1, 2-3, 4-7, ...). */
	itemsPerUser: HistogramBin[];
	/** Distinct users per item, log2-binned. */
	usersPerItem: HistogramBin[];
}

/** Everything the data page shows; plain JSON (no Map, no typed array). */
export interface EdaSummary {
	schema: SchemaKind;
	columns: string[];
	/** First HEAD_ROWS valid data rows keyed by the original column names. */
	head: Record<string, string>[];
	/** Valid data rows seen (bad lines excluded). */
	rows: number;
	/** Empty (or blank) fields per column. */
	missing: Record<string, number>;
	categorical: CategoricalSummary[];
	/** KKBox target counts and shares (absent without a target column). */
	target?: { counts: { '0': number; '1': number }; share: { '0': number; '1': number } };
	/** Describe of the raw weight column (absent without one). */
	weight?: NumericDescribe;
	matrix: MatrixSummary;
	/**
	 * How the file was read: its separator, whether it had a header, and the column taken for
	 * each role (absent in summaries stored by older versions).
	 */
	reading?: {
		delimiter: string;
		header: boolean;
		user: string;
		item: string;
		weight?: string;
		target?: string;
	};
}

function isMissing(v: string): boolean {
	return v.length === 0 || (v.charCodeAt(0) <= 32 && v.trim().length === 0);
}

/** `isMissing` of the field whose UTF-8 is `bytes[a, b)`. */
function missingSpan(bytes: Uint8Array, a: number, b: number): boolean {
	if (a === b) return true;
	if (bytes[a] > 32) return false;
	return isMissing(decodeWtf8(bytes, a, b));
}

/** Value counts for one categorical column; the value index points into parallel arrays. */
class CategoricalCounter {
	readonly index = new IdInterner();
	readonly total: number[] = [];
	readonly target1: number[] = [];
	readonly target0: number[] = [];

	add(v: string, target: number): void {
		this.count(this.index.intern(v), target);
	}

	/** Index of the value with bytes `b[start, end)` (a field in a chunk), added uncounted if new. */
	indexOfBytes(b: Uint8Array, start: number, end: number): number {
		const k = this.index.internBytes(b, start, end);
		if (k === this.total.length) {
			this.total.push(0);
			this.target0.push(0);
			this.target1.push(0);
		}
		return k;
	}

	get values(): string[] {
		return this.index.toArray();
	}

	/** Count `n` more rows of value `k`. */
	countMany(k: number, target: number, n: number): void {
		this.count(k, target);
		this.total[k] += n - 1;
		if (target === 1) this.target1[k] += n - 1;
		else if (target === 0) this.target0[k] += n - 1;
	}

	/** Count one more row of value `k`. */
	count(k: number, target: number): void {
		if (k === this.total.length) {
			this.total.push(0);
			this.target0.push(0);
			this.target1.push(0);
		}
		this.total[k]++;
		if (target === 1) this.target1[k]++;
		else if (target === 0) this.target0[k]++;
	}
}

/** A copy of `a` with length `n >= a.length`. */
function grownTo<T extends Float64Array | Int32Array | Int8Array>(a: T, n: number): T {
	const next = new (a.constructor as new (n: number) => T)(n);
	next.set(a);
	return next;
}

/** Linear-interpolated quantile of sorted `a` (pandas' default): position `q * (n - 1)`. */
export function quantileSorted(a: Float64Array, q: number): number {
	const n = a.length;
	if (n === 0) return NaN;
	const pos = q * (n - 1);
	const lo = Math.floor(pos);
	const hi = Math.min(n - 1, lo + 1);
	return a[lo] + (a[hi] - a[lo]) * (pos - lo);
}

/**
 * Log2 histogram of `counts`: value `c >= 1` falls in bin `floor(log2 c)` = `[2^b, 2^(b+1))`;
 * zeros get a `[0, 1)` bin when present. Empty bins between the first and last are kept so
 * charts get a continuous axis.
 */
export function log2Histogram(counts: ArrayLike<number>): HistogramBin[] {
	const bins: number[] = [];
	let zeros = 0;
	for (let k = 0; k < counts.length; k++) {
		const c = counts[k];
		if (c <= 0) {
			zeros++;
			continue;
		}
		const b = 31 - Math.clz32(c);
		while (bins.length <= b) bins.push(0);
		bins[b]++;
	}
	const out: HistogramBin[] = [];
	if (zeros > 0) out.push({ lo: 0, hi: 1, count: zeros });
	let first = bins.findIndex((c) => c > 0);
	if (first === -1) first = bins.length;
	for (let b = first; b < bins.length; b++)
		out.push({ lo: 2 ** b, hi: 2 ** (b + 1), count: bins[b] });
	return out;
}

/** Distinct columns per row of `m`. */
function rowCounts(m: Csr): Int32Array {
	const out = new Int32Array(m.rows);
	for (let r = 0; r < m.rows; r++) out[r] = m.indptr[r + 1] - m.indptr[r];
	return out;
}

/** Distinct rows per column of `m`. */
function columnCounts(m: Csr): Int32Array {
	const out = new Int32Array(m.cols);
	const n = nnz(m);
	for (let k = 0; k < n; k++) out[m.indices[k]]++;
	return out;
}

/**
 * EDA aggregates accumulated row by row while a file streams: head, missing counts,
 * categorical value counts split by target, target counts, and the weight column's running
 * moments (Welford) with a reservoir sample for its quartiles. Memory is bounded by the
 * number of distinct categorical values and the sample size, not by the number of rows.
 */
export class EdaAccumulator {
	private readonly schema: Schema;
	private readonly head: Record<string, string>[] = [];
	private readonly missing: Int32Array;
	private readonly counters: CategoricalCounter[];
	private rows = 0;
	private readonly targetCounts = [0, 0];
	// Weight moments (Welford): mean and sum of squared deviations.
	private weightCount = 0;
	private weightMean = 0;
	private weightM2 = 0;
	private weightMin = Infinity;
	private weightMax = -Infinity;
	private readonly sample = new Float64Array(WEIGHT_SAMPLE_SIZE);
	private readonly sampleRng = new Rng(0x5eed);

	/** Whether the categorical columns are adjacent, in order (then looked up as one span). */
	private readonly adjacentCategorical: boolean;
	/** Distinct runs of categorical fields seen by `addByteSpans`. */
	private readonly combos = new IdInterner();
	/** Per combination, the value index of each categorical column (-1 = missing). */
	private comboValues = new Int32Array(256);

	constructor(schema: Schema) {
		this.schema = schema;
		const cats = schema.categorical;
		this.adjacentCategorical =
			cats.length > 1 && cats.every((c, k) => c.index === cats[0].index + k);
		this.missing = new Int32Array(schema.fieldCount);
		this.counters = schema.categorical.map(() => new CategoricalCounter());
	}

	/**
	 * Count one valid data row. `target` is 0/1 for KKBox, else -1; `weight` the raw weight
	 * column value, NaN without one.
	 */
	add(fields: string[], target: number, weight: number): void {
		const schema = this.schema;
		this.rows++;
		if (this.head.length < HEAD_ROWS) {
			const rec: Record<string, string> = {};
			for (let c = 0; c < schema.columns.length; c++)
				rec[schema.columns[c]] = detachField(fields[c]);
			this.head.push(rec);
		}
		const missing = this.missing;
		for (let c = 0; c < fields.length; c++) if (isMissing(fields[c])) missing[c]++;
		const cats = schema.categorical;
		for (let k = 0; k < cats.length; k++) {
			const v = fields[cats[k].index];
			if (!isMissing(v)) this.counters[k].add(v, target);
		}
		if (target === 0 || target === 1) this.targetCounts[target]++;
		if (weight === weight) this.addWeight(weight);
	}

	/**
	 * Rows that differ only in their user and item fields count alike: `addGroup` resolves one
	 * such row's fields once (missing fields, categorical values, target) and `addGrouped`
	 * counts a row of a group; the counts are folded in by `finish`. Group g's missing
	 * fields are `groupMissing[groupMissingAt[g], groupMissingAt[g + 1])`.
	 */
	private groups = 0;
	private groupRows = new Float64Array(64);
	private groupTarget = new Int8Array(64);
	private groupValues = new Int32Array(64);
	private groupMissingAt = new Int32Array(65);
	private groupMissing = new Int32Array(64);

	/**
	 * A new group from a row read in place from its UTF-8 (field `c` is
	 * `bytes[starts[c], ends[c])`, `fieldCount` fields, `wantsHead` false); returns its index.
	 * Its first row is counted by `addGrouped`, like every other.
	 */
	addGroup(bytes: Uint8Array, starts: Int32Array, ends: Int32Array, target: number): number {
		const g = this.groups++;
		const nc = this.counters.length;
		if (g === this.groupRows.length) {
			this.groupRows = grownTo(this.groupRows, 2 * g);
			this.groupTarget = grownTo(this.groupTarget, 2 * g);
		}
		if ((g + 1) * nc > this.groupValues.length) {
			this.groupValues = grownTo(this.groupValues, 2 * (g + 1) * nc);
		}
		if (g + 2 > this.groupMissingAt.length) {
			this.groupMissingAt = grownTo(this.groupMissingAt, 2 * (g + 2));
		}
		this.groupTarget[g] = target;
		let at = this.groupMissingAt[g];
		for (let c = 0; c < this.missing.length; c++) {
			if (!missingSpan(bytes, starts[c], ends[c])) continue;
			if (at === this.groupMissing.length) this.groupMissing = grownTo(this.groupMissing, 2 * at);
			this.groupMissing[at++] = c;
		}
		this.groupMissingAt[g + 1] = at;
		const cats = this.schema.categorical;
		for (let k = 0; k < nc; k++) {
			const a = starts[cats[k].index];
			const b = ends[cats[k].index];
			this.groupValues[g * nc + k] = missingSpan(bytes, a, b)
				? -1
				: this.counters[k].indexOfBytes(bytes, a, b);
		}
		return g;
	}

	/** Count one row of group `g` (`weight`: the raw weight, NaN without a weight column). */
	addGrouped(g: number, weight: number): void {
		this.rows++;
		this.groupRows[g]++;
		if (weight === weight) this.addWeight(weight);
	}

	/** Fold the group counts into the per-column counts (once; the groups are then empty). */
	private foldGroups(): void {
		const nc = this.counters.length;
		for (let g = 0; g < this.groups; g++) {
			const n = this.groupRows[g];
			if (n === 0) continue;
			this.groupRows[g] = 0;
			const target = this.groupTarget[g];
			for (let m = this.groupMissingAt[g]; m < this.groupMissingAt[g + 1]; m++) {
				this.missing[this.groupMissing[m]] += n;
			}
			for (let k = 0; k < nc; k++) {
				const j = this.groupValues[g * nc + k];
				if (j >= 0) this.counters[k].countMany(j, target, n);
			}
			if (target === 0 || target === 1) this.targetCounts[target] += n;
		}
	}

	/** Whether the next row still goes to the head (then it must come through `add`). */
	get wantsHead(): boolean {
		return this.head.length < HEAD_ROWS;
	}

	/**
	 * `add` for a row read in place from its UTF-8: field `c` is `bytes[starts[c], ends[c])`.
	 * The caller has checked there are `fieldCount` fields and that `wantsHead` is false;
	 * counts are the same as `add` of the split fields.
	 */
	addByteSpans(
		bytes: Uint8Array,
		starts: Int32Array,
		ends: Int32Array,
		target: number,
		weight: number
	): void {
		this.rows++;
		const missing = this.missing;
		const n = this.missing.length;
		for (let c = 0; c < n; c++) {
			if (missingSpan(bytes, starts[c], ends[c])) missing[c]++;
		}
		const cats = this.schema.categorical;
		const nc = cats.length;
		if (this.adjacentCategorical) {
			// One lookup of the whole run of categorical fields; a new combination resolves its
			// values (value index per column, -1 for missing) once.
			const first = cats[0].index;
			const known = this.combos.size;
			const combo = this.combos.internBytes(bytes, starts[first], ends[first + nc - 1]);
			if (combo === known) {
				for (let k = 0; k < nc; k++) {
					const a = starts[first + k];
					const b = ends[first + k];
					const at = combo * nc + k;
					if (at === this.comboValues.length) {
						const grown = new Int32Array(2 * at);
						grown.set(this.comboValues);
						this.comboValues = grown;
					}
					this.comboValues[at] = missingSpan(bytes, a, b)
						? -1
						: this.counters[k].indexOfBytes(bytes, a, b);
				}
			}
			const values = this.comboValues;
			for (let k = 0; k < nc; k++) {
				const j = values[combo * nc + k];
				if (j >= 0) this.counters[k].count(j, target);
			}
		} else {
			for (let k = 0; k < nc; k++) {
				const c = cats[k].index;
				const a = starts[c];
				const b = ends[c];
				if (missingSpan(bytes, a, b)) continue;
				this.counters[k].count(this.counters[k].indexOfBytes(bytes, a, b), target);
			}
		}
		if (target === 0 || target === 1) this.targetCounts[target]++;
		if (weight === weight) this.addWeight(weight);
	}

	private addWeight(x: number): void {
		const n = ++this.weightCount;
		const d = x - this.weightMean;
		this.weightMean += d / n;
		this.weightM2 += d * (x - this.weightMean);
		if (x < this.weightMin) this.weightMin = x;
		if (x > this.weightMax) this.weightMax = x;
		// Reservoir sampling (Algorithm R): keep item n with probability size / n.
		const size = this.sample.length;
		if (n <= size) this.sample[n - 1] = x;
		else {
			const j = this.sampleRng.int(n);
			if (j < size) this.sample[j] = x;
		}
	}

	/** The finished summary, with the matrix statistics taken from `interactions`. */
	finish(interactions: Interactions, rowsKept: number): EdaSummary {
		this.foldGroups();
		const schema = this.schema;
		const missing: Record<string, number> = {};
		schema.columns.forEach((c, k) => (missing[c] = this.missing[k]));

		const categorical = schema.categorical.map((col, k): CategoricalSummary => {
			const counter = this.counters[k];
			const valueCounts: ValueCount[] = counter.values.map((value, j) => ({
				value,
				total: counter.total[j],
				target0: counter.target0[j],
				target1: counter.target1[j]
			}));
			valueCounts.sort((a, b) => b.total - a.total || (a.value < b.value ? -1 : 1));
			let count = 0;
			for (const t of counter.total) count += t;
			return {
				column: schema.columns[col.index],
				key: col.key,
				describe: {
					count,
					unique: valueCounts.length,
					top: valueCounts[0]?.value ?? '',
					freq: valueCounts[0]?.total ?? 0
				},
				valueCounts
			};
		});

		const summary: EdaSummary = {
			schema: schema.kind,
			columns: schema.columns.slice(),
			head: this.head.map((r) => ({ ...r })),
			rows: this.rows,
			missing,
			categorical,
			matrix: matrixSummary(interactions.matrix, rowsKept),
			reading: {
				delimiter: schema.delimiter,
				header: schema.headerless !== true,
				user: schema.columns[schema.userColumn],
				item: schema.columns[schema.itemColumn],
				...(schema.weightColumn !== undefined
					? { weight: schema.columns[schema.weightColumn] }
					: {}),
				...(schema.targetColumn !== undefined
					? { target: schema.columns[schema.targetColumn] }
					: {})
			}
		};
		if (schema.targetColumn !== undefined) {
			const [t0, t1] = this.targetCounts;
			const all = t0 + t1;
			summary.target = {
				counts: { '0': t0, '1': t1 },
				share: { '0': all > 0 ? t0 / all : 0, '1': all > 0 ? t1 / all : 0 }
			};
		}
		if (schema.weightColumn !== undefined) summary.weight = this.weightDescribe();
		return summary;
	}

	private weightDescribe(): NumericDescribe {
		const n = this.weightCount;
		const kept = Math.min(n, this.sample.length);
		const sorted = this.sample.slice(0, kept).sort();
		return {
			count: n,
			mean: n > 0 ? this.weightMean : NaN,
			std: n > 1 ? Math.sqrt(this.weightM2 / (n - 1)) : NaN,
			min: n > 0 ? this.weightMin : NaN,
			q25: quantileSorted(sorted, 0.25),
			median: quantileSorted(sorted, 0.5),
			q75: quantileSorted(sorted, 0.75),
			max: n > 0 ? this.weightMax : NaN,
			quartiles: n <= this.sample.length ? 'exact' : 'sample'
		};
	}
}

/** Size, density and log2 degree histograms of an interaction matrix. */
function matrixSummary(m: Csr, rowsKept: number): MatrixSummary {
	const entries = nnz(m);
	const cells = m.rows * m.cols;
	const density = cells > 0 ? entries / cells : 0;
	return {
		users: m.rows,
		items: m.cols,
		rowsKept,
		nnz: entries,
		density,
		sparsity: 1 - density,
		meanItemsPerUser: m.rows > 0 ? entries / m.rows : 0,
		meanUsersPerItem: m.cols > 0 ? entries / m.cols : 0,
		itemsPerUser: log2Histogram(rowCounts(m)),
		usersPerItem: log2Histogram(columnCounts(m))
	};
}
