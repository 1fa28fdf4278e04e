/**
 * Names of a dataset's items, read from a names file and kept with the stored dataset (models
 * trained on it take them along; the Recommend page shows them and matches a person's own
 * history against them).
 */
import { parseItemNames, type ItemNames } from '$lib/core/data/item_names';
import { MusicrecError } from '$lib/core/errors';
import { blobTextChunks } from './file_chunks';
import type { DatasetEntry, Store } from './store_api';

/** Parse a names file (artists.dat, song_extra_info.csv, any id + name table). */
export function readItemNames(file: Blob, source: string): Promise<ItemNames> {
	return parseItemNames(blobTextChunks(file), source);
}

/** Fetch and parse a names file shipped with the app (the Last.fm demo's artists). */
export async function fetchItemNames(url: string, source: string): Promise<ItemNames> {
	const response = await fetch(url);
	if (!response.ok) {
		throw new MusicrecError(
			'file/bad-format',
			`Could not fetch ${source}: HTTP ${response.status}`,
			{
				url
			}
		);
	}
	return readItemNames(await response.blob(), source);
}

/** Keep `names` with the stored dataset `id` (replacing names it had); returns the entry. */
export async function attachItemNames(
	store: Store,
	id: string,
	names: ItemNames
): Promise<DatasetEntry> {
	const entry = await store.getDataset(id);
	if (!entry) throw new Error('the dataset is no longer stored in this browser');
	const updated: DatasetEntry = { ...entry, itemNames: names };
	await store.putDataset(updated);
	return updated;
}
