import { countWeight, kkboxWeight } from '../weights';
import { MAX_WEIGHT, parseTarget, parseWeight, REPLACEMENT, shown } from './fields';
import type { RowSink } from './row_sink';

/**
 * The general path: a record cut into field strings (by the CSV tokenizer, quotes resolved),
 * every check made with a reason. The head rows, lines with quotes, lines across chunks and
 * every line the in-place paths decline come here, so results and errors never depend on
 * the path a line took.
 */
export class SplitReader {
	private readonly sink: RowSink;
	private lastUser = '';
	private lastUserIndex = -1;

	constructor(sink: RowSink) {
		this.sink = sink;
	}

	record(fields: string[], line: number): void {
		const sink = this.sink;
		const s = sink.schema;
		sink.countRow();
		if (fields.length !== s.fieldCount) {
			return sink.bad(fields, line, `expected ${s.fieldCount} fields, found ${fields.length}`);
		}
		const user = fields[s.userColumn].trim();
		if (user.length === 0) return sink.bad(fields, line, `empty ${s.columns[s.userColumn]}`);
		const item = fields[s.itemColumn].trim();
		if (item.length === 0) return sink.bad(fields, line, `empty ${s.columns[s.itemColumn]}`);
		if (user.includes(REPLACEMENT) || item.includes(REPLACEMENT)) {
			const name = s.columns[user.includes(REPLACEMENT) ? s.userColumn : s.itemColumn];
			return sink.bad(
				fields,
				line,
				`${name} holds bytes that are not UTF-8 (shown as U+FFFD); save the file as UTF-8`
			);
		}

		let target = -1;
		let raw = NaN;
		let w = 1;
		if (s.targetColumn !== undefined) {
			const t = fields[s.targetColumn];
			target = parseTarget(t);
			if (target < 0) {
				const name = s.columns[s.targetColumn];
				return sink.bad(
					fields,
					line,
					t.trim() === '' ? `empty ${name}` : `${name} must be 0 or 1, found '${shown(t)}'`
				);
			}
			w = kkboxWeight(sink.kkboxMode, target);
		} else if (s.weightColumn !== undefined) {
			const t = fields[s.weightColumn];
			raw = parseWeight(t);
			if (raw !== raw) {
				const name = s.columns[s.weightColumn];
				return sink.bad(
					fields,
					line,
					`${name} must be a positive number up to ${MAX_WEIGHT.toExponential()}, found '${shown(t)}'`
				);
			}
			w = countWeight(sink.countMode, raw);
		}
		sink.eda.add(fields, target, raw);
		if (w < 0) return; // filtered out by the weighting (KKBox positive-only)
		// KKBox rows come in runs of one user: reuse the last lookup.
		if (user !== this.lastUser) {
			this.lastUser = user;
			this.lastUserIndex = sink.users.add(user);
		}
		sink.push(this.lastUserIndex, sink.items.add(item), w, target);
	}
}
