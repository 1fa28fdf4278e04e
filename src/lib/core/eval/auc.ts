import { rowOfEntry, type Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import type { Ranker } from './ranker';

/**
 * Area under the ROC curve of `scores` against binary `labels` (nonzero = positive): the
 * probability that a random positive outscores a random negative, ties counting 1/2.
 * Computed as the Mann-Whitney statistic with average ranks for ties, in O(n log n):
 * `AUC = (R_pos - P (P + 1) / 2) / (P N)`, R_pos = sum of the positives' 1-based ranks in
 * ascending score order, P positives, N negatives.
 * Returns NaN when only one class is present (AUC is undefined there). Throws on a NaN score.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
	const n = scores.length;
	if (labels.length !== n) {
		throw new MusicrecError('eval/bad-input', 'scores and labels differ in length', {
			scores: n,
			labels: labels.length
		});
	}
	let positives = 0;
	for (let i = 0; i < n; i++) {
		if (Number.isNaN(scores[i])) {
			throw new MusicrecError('eval/bad-input', 'score is NaN', { index: i });
		}
		if (labels[i] !== 0) positives++;
	}
	const negatives = n - positives;
	if (positives === 0 || negatives === 0) return NaN;

	const order = new Int32Array(n);
	for (let i = 0; i < n; i++) order[i] = i;
	order.sort((a, b) => scores[a] - scores[b] || 0);
	// Walk groups of equal scores; every member of a group gets the group's average rank.
	let positiveRankSum = 0;
	for (let i = 0; i < n;) {
		const s = scores[order[i]];
		let j = i + 1;
		while (j < n && scores[order[j]] === s) j++;
		const averageRank = (i + 1 + j) / 2; // mean of ranks i+1 .. j
		let groupPositives = 0;
		for (let t = i; t < j; t++) if (labels[order[t]] !== 0) groupPositives++;
		positiveRankSum += groupPositives * averageRank;
		i = j;
	}
	return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface AucResult {
	/** Global AUC over all held-out rows (not a mean of per-user AUCs); NaN with one class. */
	readonly auc: number;
	readonly rows: number;
	readonly positives: number;
	readonly negatives: number;
}

/**
 * AUC of the model score against KKBox `target` on held-out rows (docs/design.md, evaluation): every
 * entry (u, i) of `test` is scored with `ranker.scorePairs` (in batches of `batchSize` pairs)
 * and labelled by `testTarget` (aligned with `test`'s entries; 1 = the user listened again).
 */
export async function evaluateAuc(
	ranker: Ranker,
	test: Csr,
	testTarget: Int8Array,
	{ batchSize = 65536 }: { batchSize?: number } = {}
): Promise<AucResult> {
	const rows = test.indptr[test.rows];
	if (testTarget.length !== rows) {
		throw new MusicrecError('eval/bad-input', 'testTarget length differs from test entries', {
			target: testTarget.length,
			entries: rows
		});
	}
	if (!Number.isInteger(batchSize) || batchSize < 1) {
		throw new MusicrecError('eval/bad-input', 'batchSize must be a positive integer', {
			batchSize
		});
	}
	const users = rowOfEntry(test);
	const scores = new Float32Array(rows);
	// Copies, not views: a ranker may keep or transfer the arrays it is given.
	for (let start = 0; start < rows; start += batchSize) {
		const end = Math.min(rows, start + batchSize);
		const batch = await ranker.scorePairs(users.slice(start, end), test.indices.slice(start, end));
		if (batch.length !== end - start) {
			throw new MusicrecError('eval/bad-input', 'scorePairs returned a wrong number of scores', {
				expected: end - start,
				got: batch.length
			});
		}
		scores.set(batch, start);
	}
	let positives = 0;
	for (let e = 0; e < rows; e++) if (testTarget[e] !== 0) positives++;
	return { auc: auc(scores, testTarget), rows, positives, negatives: rows - positives };
}
