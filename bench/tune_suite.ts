import { fit } from '../src/lib/core/als/fit';
import { ALS_PARAM_SPEC, alsParams, type AlsParams } from '../src/lib/core/als/params';
import { evaluateRanker } from '../src/lib/core/eval/evaluate';
import { PopularityRanker } from '../src/lib/core/eval/popularity';
import { holdoutSplit, validationSplit } from '../src/lib/core/eval/split';
import type { Csr } from '../src/lib/core/data/csr';
import { useBackend } from '../src/lib/node/tf_backend';
import type { Options } from './args';
import { DATASETS, loadDataset, type DatasetName } from './datasets';
import { round } from './measure';

export interface TuneRecord {
	suite: 'tune';
	dataset: DatasetName;
	convention: AlsParams['convention'];
	factors: number;
	iterations: number;
	split_seed: number;
	grid: { alpha: number; regularization: number; validation_ndcg_at_10: number }[];
	best_alpha: number;
	best_regularization: number;
	validation_ndcg_at_10: number;
	test_ndcg_at_10: number;
	test_precision_at_10: number;
	test_map_at_10: number;
	default_test_ndcg_at_10: number;
	popularity_test_ndcg_at_10: number;
}

function numbers(text: string): number[] {
	return text.split(',').map((s) => {
		const v = Number(s);
		if (!Number.isFinite(v)) throw new Error(`not a number in list: "${s}"`);
		return v;
	});
}

async function ndcgAt10(train: Csr, test: Csr, params: AlsParams) {
	const model = await fit(train, params, { computeLoss: false });
	try {
		return await evaluateRanker(model, train, test, { k: 10 });
	} finally {
		model.dispose();
	}
}

/**
 * Grid search of alpha x regularization on a validation split carved from the train set
 * (the test set is never looked at while choosing), then one refit on the whole train set
 * with the winner, evaluated on test beside the default parameters and the popularity baseline.
 */
export async function tuneSuite(options: Options): Promise<TuneRecord[]> {
	const name = options.choice('dataset', DATASETS, 'lastfm');
	const backend = options.choice('backend', ['wasm', 'cpu'] as const, 'wasm');
	const alphas = numbers(options.string('alphas', '0.5,1,2,4,8,16,32,64,128,256'));
	const regs = numbers(options.string('regularizations', '0.01,0.05,0.2,1,5,20,80'));
	const seed = options.number('seed', 1);
	const base = alsParams({
		factors: options.number('factors', 64),
		iterations: options.number('iterations', ALS_PARAM_SPEC.iterations.default),
		convention: options.choice('convention', ['hkv', 'implicit'] as const, 'implicit')
	});
	const weighting = options.optionalString('weighting');
	options.assertAllUsed();

	await useBackend(backend);
	const dataset = await loadDataset(name, {
		weighting: weighting as never,
		synthetic: { users: 5000, items: 10000, nnz: 200_000 },
		seed
	});
	const outer = holdoutSplit(dataset.interactions, { seed });
	const inner = validationSplit(outer, { seed });
	const grid: TuneRecord['grid'] = [];
	for (const alpha of alphas) {
		for (const regularization of regs) {
			const m = await ndcgAt10(inner.train, inner.test, { ...base, alpha, regularization });
			grid.push({ alpha, regularization, validation_ndcg_at_10: round(m.ndcg) });
			console.log(
				`alpha ${alpha} regularization ${regularization}: validation NDCG@10 ${round(m.ndcg)}`
			);
		}
	}
	const best = grid.reduce((a, b) => (b.validation_ndcg_at_10 > a.validation_ndcg_at_10 ? b : a));
	const tuned = await ndcgAt10(outer.train, outer.test, {
		...base,
		alpha: best.alpha,
		regularization: best.regularization
	});
	const defaults = await ndcgAt10(outer.train, outer.test, base);
	const popularity = await evaluateRanker(
		new PopularityRanker(outer.train),
		outer.train,
		outer.test
	);
	return [
		{
			suite: 'tune',
			dataset: name,
			convention: base.convention,
			factors: base.factors,
			iterations: base.iterations,
			split_seed: seed,
			grid,
			best_alpha: best.alpha,
			best_regularization: best.regularization,
			validation_ndcg_at_10: best.validation_ndcg_at_10,
			test_ndcg_at_10: round(tuned.ndcg),
			test_precision_at_10: round(tuned.pooledPrecision),
			test_map_at_10: round(tuned.map),
			default_test_ndcg_at_10: round(defaults.ndcg),
			popularity_test_ndcg_at_10: round(popularity.ndcg)
		}
	];
}
