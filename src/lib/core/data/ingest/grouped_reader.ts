import type { EdaAccumulator } from '../eda';
import { Growable } from '../growable';
import { IdInterner } from '../id_interner';
import type { Schema } from '../schema';
import { countWeight, kkboxWeight } from '../weights';
import { decodeWtf8 } from '../wtf8';
import { findDelimiter, parseWeight, plain } from './fields';
import type { RowSink } from './row_sink';
import type { InPlaceReader } from './types';

/** Most distinct line tails (all but user and item) read once and looked up after. */
const MAX_TAILS = 1 << 16;

/**
 * The fastest path, for files whose user and item are the first two columns (KKBox, Last.fm):
 * the rest of the line (the "tail": context columns, target or weight) takes few distinct
 * values, so each distinct tail is read once (fields checked, target or weight parsed, EDA
 * values resolved) and later rows with the same bytes are one lookup. Up to MAX_TAILS tails;
 * rows with a tail beyond that, or one that needs the field path, are declined.
 */
export class GroupedReader implements InPlaceReader {
	/** Whether a schema's layout suits this path (user and item are columns 0 and 1). */
	static suits(schema: Schema): boolean {
		return schema.userColumn + schema.itemColumn === 1;
	}

	private readonly sink: RowSink;
	private readonly delimiter: string;
	private readonly starts: Int32Array;
	private readonly ends: Int32Array;
	private readonly tails = new IdInterner();
	/** Per tail: its EDA group, or -1 when its rows must take the per-field path. */
	private readonly group = new Growable(Int32Array, 256);
	private readonly target = new Growable(Int8Array, 256);
	private readonly raw = new Growable(Float64Array, 256);
	private readonly weight = new Growable(Float64Array, 256);

	constructor(sink: RowSink) {
		this.sink = sink;
		this.delimiter = sink.schema.delimiter;
		this.starts = new Int32Array(sink.schema.fieldCount + 1);
		this.ends = new Int32Array(sink.schema.fieldCount + 1);
	}

	/** Resolve a new tail, whose row's `fields` fields are in `starts`/`ends`. */
	addTail(b: Uint8Array, fields: number, s: Schema, e: EdaAccumulator): void {
		const sink = this.sink;
		const starts = this.starts;
		const ends = this.ends;
		let target = -1;
		let raw = NaN;
		let w = 1;
		let ok = fields === s.fieldCount;
		if (ok && s.targetColumn !== undefined) {
			const ta = starts[s.targetColumn];
			const c = b[ta];
			ok = ends[s.targetColumn] === ta + 1 && (c === 48 || c === 49);
			target = c - 48;
			w = kkboxWeight(sink.kkboxMode, target);
		} else if (ok && s.weightColumn !== undefined) {
			raw = parseWeight(decodeWtf8(b, starts[s.weightColumn], ends[s.weightColumn]));
			ok = raw === raw;
			w = countWeight(sink.countMode, raw);
		}
		this.group.push(ok ? e.addGroup(b, starts, ends, target) : -1);
		this.target.push(target);
		this.raw.push(raw);
		this.weight.push(w);
	}

	read(text: string | undefined, b: Uint8Array, start: number, end: number): boolean {
		const sink = this.sink;
		const s = sink.schema;
		const n = s.fieldCount;
		const d = this.delimiter;
		const d1 = findDelimiter(d, text, b, end, start);
		if (d1 === -1 || d1 >= end) return false;
		let d2 = findDelimiter(d, text, b, end, d1 + 1);
		if (d2 === -1 || d2 >= end) d2 = end;
		if ((n === 2) !== (d2 === end)) return false;
		if (start === d1 || d1 + 1 === d2) return false;
		if (!plain(b[start]) || !plain(b[d1 - 1]) || !plain(b[d1 + 1]) || !plain(b[d2 - 1])) {
			return false;
		}
		const tailStart = n === 2 ? end : d2 + 1;
		const tails = this.tails;
		let t = tails.findBytes(b, tailStart, end);
		if (t === -1) {
			if (tails.size >= MAX_TAILS) return false;
			t = tails.internBytes(b, tailStart, end);
			const starts = this.starts;
			const ends = this.ends;
			starts[0] = start;
			ends[0] = d1;
			starts[1] = d1 + 1;
			ends[1] = d2;
			let f = 2;
			if (n > 2) {
				// Split the tail; a delimiter after the last expected field means too many.
				let a = tailStart;
				while (f < n) {
					const k = findDelimiter(d, text, b, end, a);
					starts[f] = a;
					if (k === -1 || k >= end) {
						ends[f++] = end;
						a = -1;
						break;
					}
					ends[f++] = k;
					a = k + 1;
				}
				if (a !== -1) f = n + 1;
			}
			this.addTail(b, f, s, sink.eda);
		}
		const group = this.group.at(t);
		if (group < 0) return false;
		sink.countRow();
		sink.groupedRows++;
		sink.eda.addGrouped(group, this.raw.at(t));
		const w = this.weight.at(t);
		if (w < 0) return true;
		const userFirst = s.userColumn === 0;
		const ua = userFirst ? start : d1 + 1;
		const ub = userFirst ? d1 : d2;
		// KKBox rows come in runs of one user: compare with the last row's user before hashing.
		const users = sink.users;
		if (sink.runUser < 0 || !users.bytesEqual(sink.runUser, b, ua, ub)) {
			sink.runUser = users.addBytes(b, ua, ub);
		}
		const item = userFirst ? sink.items.addBytes(b, d1 + 1, d2) : sink.items.addBytes(b, start, d1);
		sink.push(sink.runUser, item, w, this.target.at(t));
		return true;
	}
}
