import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Interactions } from '../src/lib/core/data/interactions';
import { ingest } from '../src/lib/core/data/ingest';
import { syntheticZipf } from '../src/lib/core/data/synthetic';
import type { Weighting } from '../src/lib/core/data/weights';
import { readTextChunks } from '../src/lib/node/files';

export type DatasetName = 'kkbox10k' | 'lastfm' | 'synthetic';
export const DATASETS: readonly DatasetName[] = ['kkbox10k', 'lastfm', 'synthetic'];

/** Where each file-backed dataset lives: both demos ship with the app (static/data). */
export const DATASET_FILES: Record<Exclude<DatasetName, 'synthetic'>, string> = {
	kkbox10k: resolve('static/data/kkbox_train_10k.csv'),
	lastfm: resolve('static/data/lastfm_hetrec2011_user_artists.dat')
};

/** The weighting each dataset is benchmarked with, matching the implicit reference runs. */
export const DEFAULT_WEIGHTING: Record<DatasetName, Weighting | undefined> = {
	kkbox10k: 'all-ones',
	lastfm: 'log1p',
	synthetic: undefined
};

export interface SyntheticSize {
	users: number;
	items: number;
	nnz: number;
}

export interface LoadedDataset {
	name: DatasetName;
	interactions: Interactions;
	/** Seconds spent reading and parsing (or generating). */
	load_s: number;
}

export class DatasetMissingError extends Error {}

export async function loadDataset(
	name: DatasetName,
	options: { weighting?: Weighting; synthetic: SyntheticSize; seed: number }
): Promise<LoadedDataset> {
	const start = performance.now();
	let interactions: Interactions;
	if (name === 'synthetic') {
		interactions = syntheticZipf({ ...options.synthetic, seed: options.seed });
	} else {
		const path = DATASET_FILES[name];
		if (!existsSync(path)) {
			throw new DatasetMissingError(
				`dataset ${name} is absent: ${path} not found (it ships in static/data)`
			);
		}
		const result = await ingest(readTextChunks(path), {
			weighting: options.weighting ?? DEFAULT_WEIGHTING[name]
		});
		interactions = result.interactions;
	}
	return { name, interactions, load_s: (performance.now() - start) / 1000 };
}
