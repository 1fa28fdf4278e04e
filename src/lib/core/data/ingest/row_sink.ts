import { MusicrecError } from '../../errors';
import { csrFromTriplets } from '../csr';
import { EdaAccumulator } from '../eda';
import { Growable } from '../growable';
import type { Interactions } from '../interactions';
import type { Schema } from '../schema';
import { Vocabulary } from '../vocabulary';
import { resolveWeighting } from '../weights';
import type { CountWeighting, KkboxWeighting, Weighting } from '../weights';
import type { AbortSignalLike, BadLine, IngestResult } from './types';

const BAD_LINE_CONTENT_CHARS = 200;
const ABORT_CHECK_ROWS = 16_384;

export function cancelled(signal: AbortSignalLike): MusicrecError {
	return new MusicrecError('data/cancelled', 'Reading the file was cancelled', {
		reason: signal.reason === undefined ? undefined : String(signal.reason)
	});
}

/**
 * Where every read path puts its rows: the schema and weighting found from the header, the
 * user and item vocabularies, growable COO arrays (row, column, weight, KKBox target), the EDA
 * and the counts (rows, kept, bad, and rows per path). `result` builds the CSR (duplicates
 * summed, target max-reduced) and drops the COO arrays.
 */
export class RowSink {
	readonly schema: Schema;
	readonly eda: EdaAccumulator;
	readonly kkboxMode: KkboxWeighting = 'one-plus-target';
	readonly countMode: CountWeighting = 'raw';
	readonly users = new Vocabulary();
	readonly items = new Vocabulary();
	private readonly rowIdx = new Growable(Int32Array, 1 << 16);
	private readonly colIdx = new Growable(Int32Array, 1 << 16);
	private readonly values = new Growable(Float32Array, 1 << 16);
	private readonly targets: Growable<Int8Array> | undefined;
	private readonly skipBad: boolean;
	private readonly signal: AbortSignalLike | undefined;

	/** Data rows read (bad ones included), and those read by the two in-place paths. */
	rows = 0;
	groupedRows = 0;
	inPlaceRows = 0;
	rowsKept = 0;
	badCount = 0;
	firstBad: BadLine | undefined;
	/** Index of the user of the last row (-1: none): KKBox rows come in runs of one user. */
	runUser = -1;

	constructor(
		schema: Schema,
		options: { weighting?: Weighting; badLines?: 'error' | 'skip'; signal?: AbortSignalLike }
	) {
		this.schema = schema;
		this.eda = new EdaAccumulator(schema);
		this.skipBad = options.badLines === 'skip';
		this.signal = options.signal;
		const mode = resolveWeighting(schema.kind, options.weighting);
		if (schema.kind === 'kkbox') {
			this.kkboxMode = mode as KkboxWeighting;
			this.targets = new Growable(Int8Array, 1 << 16);
		} else {
			this.countMode = mode as CountWeighting;
		}
	}

	/** Count one data row; checks for cancellation every ABORT_CHECK_ROWS rows. */
	countRow(): void {
		this.rows++;
		if ((this.rows & (ABORT_CHECK_ROWS - 1)) === 0 && this.signal?.aborted) {
			throw cancelled(this.signal);
		}
	}

	/** One interaction: user and item indices, its weight and (KKBox) target. */
	push(user: number, item: number, weight: number, target: number): void {
		this.rowIdx.push(user);
		this.colIdx.push(item);
		this.values.push(weight);
		if (this.targets) this.targets.push(target);
		this.rowsKept++;
	}

	/** A bad data line: thrown as `csv/bad-line`, or counted when bad lines are skipped. */
	bad(fields: string[], line: number, reason: string): void {
		let content = fields.join(this.schema.delimiter);
		if (content.length > BAD_LINE_CONTENT_CHARS) {
			content = content.slice(0, BAD_LINE_CONTENT_CHARS) + '…';
		}
		if (!this.skipBad) {
			throw new MusicrecError('csv/bad-line', `Line ${line}: ${reason}: ${content}`, {
				line,
				reason,
				content
			});
		}
		this.badCount++;
		if (!this.firstBad) this.firstBad = { line, reason, content };
	}

	result(): IngestResult {
		const s = this.schema;
		if (this.rows === 0) {
			throw new MusicrecError(
				'csv/empty',
				`The file has a header (${s.columns.join(', ')}) but no data rows`,
				{ columns: s.columns.slice() }
			);
		}
		const built = csrFromTriplets(
			this.users.size,
			this.items.size,
			this.rowIdx.view(),
			this.colIdx.view(),
			this.values.view(),
			this.targets?.view()
		);
		this.rowIdx.release();
		this.colIdx.release();
		this.values.release();
		this.targets?.release();
		const interactions: Interactions = {
			users: this.users,
			items: this.items,
			matrix: built.matrix,
			target: built.extra
		};
		const split = this.rows - this.groupedRows - this.inPlaceRows;
		return {
			schema: s.kind,
			columns: s.columns.slice(),
			rows: this.rows,
			rowsKept: this.rowsKept,
			badLines: this.firstBad
				? { count: this.badCount, first: this.firstBad }
				: { count: this.badCount },
			interactions,
			eda: this.eda.finish(interactions, this.rowsKept),
			paths: { grouped: this.groupedRows, inPlace: this.inPlaceRows, split }
		};
	}
}
