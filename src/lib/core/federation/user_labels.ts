/**
 * Each user's most frequent value of a label column (KKBox's `source_system_tab`), read from
 * the same listening log the interactions came from: the input of a split by label
 * (`ownersFromLabels` in partition.ts), which the simulation takes as its `owner` option.
 */
import { CsvTokenizer } from '../data/csv_tokenizer';
import type { Interactions } from '../data/interactions';
import { sniffDelimiter } from '../data/schema';
import { MusicrecError } from '../errors';

export interface LabelColumns {
	/** Header name of the user column (default `msno`). */
	readonly user?: string;
	/** Header name of the label column (default `source_system_tab`). */
	readonly label?: string;
}

/**
 * For every user of `data` (in its user order), the label of most of their rows (ties: the
 * label met first); null for a user whose rows carry no label. The separator is sniffed from
 * the header line. Rows of users `data` does not hold are ignored.
 */
export async function majorityLabels(
	chunks: AsyncIterable<string> | Iterable<string>,
	data: Interactions,
	columns: LabelColumns = {}
): Promise<(string | null)[]> {
	const userName = columns.user ?? 'msno';
	const labelName = columns.label ?? 'source_system_tab';
	const counts: Map<string, number>[] = Array.from({ length: data.users.size }, () => new Map());
	let userCol = -1;
	let labelCol = -1;
	const onRow = (fields: string[]) => {
		if (userCol < 0) {
			userCol = fields.indexOf(userName);
			labelCol = fields.indexOf(labelName);
			if (userCol < 0 || labelCol < 0) {
				throw new MusicrecError(
					'csv/unknown-schema',
					`the file has no ${userCol < 0 ? userName : labelName} column (columns: ${fields.join(', ')})`,
					{ columns: fields }
				);
			}
			return;
		}
		const u = data.users.indexOf(fields[userCol]);
		const label = fields[labelCol];
		if (u === undefined || !label) return;
		const c = counts[u];
		c.set(label, (c.get(label) ?? 0) + 1);
	};
	let tokenizer: CsvTokenizer | undefined;
	let head = '';
	for await (const chunk of chunks) {
		if (!tokenizer) {
			head += chunk;
			const eol = head.indexOf('\n');
			if (eol < 0) continue;
			tokenizer = new CsvTokenizer(
				sniffDelimiter(head.slice(0, eol).replace(/^\uFEFF/, '')),
				onRow
			);
			tokenizer.push(head.replace(/^\uFEFF/, ''));
		} else {
			tokenizer.push(chunk);
		}
	}
	if (!tokenizer) {
		tokenizer = new CsvTokenizer(sniffDelimiter(head.replace(/^\uFEFF/, '')), onRow);
		tokenizer.push(head.replace(/^\uFEFF/, ''));
	}
	tokenizer.end();
	return counts.map((c) => {
		let best: string | null = null;
		let bestCount = 0;
		for (const [label, n] of c) {
			if (n > bestCount) {
				best = label;
				bestCount = n;
			}
		}
		return best;
	});
}
