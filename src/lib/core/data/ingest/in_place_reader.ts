import { decodeWtf8 } from '../wtf8';
import { countWeight, kkboxWeight } from '../weights';
import { findDelimiter, parseWeight, plain } from './fields';
import type { RowSink } from './row_sink';
import type { InPlaceReader } from './types';

/**
 * The in-place path, field by field: a whole unquoted line whose fields are found as spans
 * `b[starts[c], ends[c])` and whose ids are looked up by their bytes. Only rows that need
 * nothing beyond that (no trimming, target exactly 0 or 1, a valid weight) are taken; any
 * other is declined for the split path, so results and errors are the same either way.
 */
export class FieldSpanReader implements InPlaceReader {
	private readonly sink: RowSink;
	private readonly delimiter: string;
	private starts: Int32Array;
	private ends: Int32Array;

	constructor(sink: RowSink) {
		this.sink = sink;
		this.delimiter = sink.schema.delimiter;
		this.starts = new Int32Array(sink.schema.fieldCount);
		this.ends = new Int32Array(sink.schema.fieldCount);
	}

	read(text: string | undefined, b: Uint8Array, start: number, end: number): boolean {
		const sink = this.sink;
		const s = sink.schema;
		const n = s.fieldCount;
		const starts = this.starts;
		const ends = this.ends;
		let f = 0;
		let a = start;
		for (;;) {
			const k = findDelimiter(this.delimiter, text, b, end, a);
			if (k === -1 || k >= end) break;
			if (f === n - 1) return false; // too many fields
			starts[f] = a;
			ends[f] = k;
			f++;
			a = k + 1;
		}
		starts[f] = a;
		ends[f] = end;
		if (f !== n - 1) return false; // too few fields
		// Ids must start and end with a printable ASCII character (nothing to trim).
		const ua = starts[s.userColumn];
		const ub = ends[s.userColumn];
		const ia = starts[s.itemColumn];
		const ib = ends[s.itemColumn];
		if (
			ua === ub ||
			ia === ib ||
			!plain(b[ua]) ||
			!plain(b[ub - 1]) ||
			!plain(b[ia]) ||
			!plain(b[ib - 1])
		) {
			return false;
		}
		let target = -1;
		let raw = NaN;
		let w = 1;
		if (s.targetColumn !== undefined) {
			const ta = starts[s.targetColumn];
			if (ends[s.targetColumn] !== ta + 1) return false;
			const c = b[ta];
			if (c === 48) target = 0;
			else if (c === 49) target = 1;
			else return false;
			w = kkboxWeight(sink.kkboxMode, target);
		} else if (s.weightColumn !== undefined) {
			raw = parseWeight(decodeWtf8(b, starts[s.weightColumn], ends[s.weightColumn]));
			if (raw !== raw) return false;
			w = countWeight(sink.countMode, raw);
		}
		sink.countRow();
		sink.inPlaceRows++;
		sink.eda.addByteSpans(b, starts, ends, target, raw);
		if (w < 0) return true;
		// KKBox rows come in runs of one user: compare with the last row's user before hashing.
		const users = sink.users;
		if (sink.runUser < 0 || !users.bytesEqual(sink.runUser, b, ua, ub)) {
			sink.runUser = users.addBytes(b, ua, ub);
		}
		sink.push(sink.runUser, sink.items.addBytes(b, ia, ib), w, target);
		return true;
	}
}
