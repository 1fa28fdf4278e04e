import type { Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import { evaluateAuc, type AucResult } from './auc';
import { accumulateRanking, emptyRankingSums, finishRanking, type RankingMetrics } from './metrics';
import { PopularityRanker } from './popularity';
import type { Ranker } from './ranker';
import type { HoldoutSplit } from './split';

export interface EvaluateOptions {
	/** Cut-off of the ranking metrics. Default 10. */
	readonly k?: number;
	/** Users per `recommend` call. Default 1024. */
	readonly batchSize?: number;
	/** Called after each batch with the number of users done and the total. */
	readonly onProgress?: (done: number, total: number) => void;
}

/** Users that have at least one entry in `test`, ascending. */
export function usersWithTestItems(test: Csr): Int32Array {
	let count = 0;
	for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1] > test.indptr[u]) count++;
	const out = new Int32Array(count);
	let w = 0;
	for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1] > test.indptr[u]) out[w++] = u;
	return out;
}

/**
 * Ranking metrics at k of `ranker` on a holdout split (docs/design.md, evaluation): each user with test
 * items gets `ranker.recommend(batch, k, train)`, i.e. the full catalog ranked with the user's
 * train items excluded, and the lists are scored against `test` (see `RankingMetrics`).
 * The result does not depend on `batchSize`.
 */
export async function evaluateRanker(
	ranker: Ranker,
	train: Csr,
	test: Csr,
	{ k = 10, batchSize = 1024, onProgress }: EvaluateOptions = {}
): Promise<RankingMetrics> {
	if (train.rows !== test.rows || train.cols !== test.cols) {
		throw new MusicrecError('eval/bad-input', 'train and test shapes differ', {
			train: [train.rows, train.cols],
			test: [test.rows, test.cols]
		});
	}
	if (!Number.isInteger(batchSize) || batchSize < 1) {
		throw new MusicrecError('eval/bad-input', 'batchSize must be a positive integer', {
			batchSize
		});
	}
	const users = usersWithTestItems(test);
	const sums = emptyRankingSums(k);
	for (let start = 0; start < users.length; start += batchSize) {
		// A copy, not a view: a ranker may keep or transfer the array it is given.
		const batch = users.slice(start, Math.min(users.length, start + batchSize));
		const topN = await ranker.recommend(batch, k, train);
		accumulateRanking(sums, topN, batch, test);
		onProgress?.(start + batch.length, users.length);
	}
	return finishRanking(sums);
}

export interface EvaluationReport {
	readonly ranking: RankingMetrics;
	/** Present when the split carries `testTarget` (KKBox). */
	readonly auc?: AucResult;
}

/**
 * Evaluate a model and, beside it, the popularity baseline built from the same train matrix
 * (docs/design.md, evaluation: both, always): ranking metrics at k, plus AUC against
 * `target` when the split has one. `onProgress` runs through the users once per ranker.
 */
export async function evaluateWithBaseline(
	model: Ranker,
	split: HoldoutSplit,
	options: EvaluateOptions = {}
): Promise<{ model: EvaluationReport; popularity: EvaluationReport }> {
	const report = async (ranker: Ranker): Promise<EvaluationReport> => {
		const ranking = await evaluateRanker(ranker, split.train, split.test, options);
		if (!split.testTarget) return { ranking };
		return { ranking, auc: await evaluateAuc(ranker, split.test, split.testTarget) };
	};
	return {
		model: await report(model),
		popularity: await report(new PopularityRanker(split.train))
	};
}
