import type { ItemNames } from '$lib/core/data/item_names';
import type { ParseOutcome } from './parse_client';
import type { DatasetEntry, Store } from './store_api';

/** The dataset the Data page made active (its file and summary), if any. */
export async function activeDataset(store: Store): Promise<DatasetEntry | undefined> {
	const settings = await store.getSettings();
	return settings.activeDatasetId ? store.getDataset(settings.activeDatasetId) : undefined;
}

/** Store `entry` and make it the active dataset (one after the other; either may fail). */
export async function storeActiveDataset(store: Store, entry: DatasetEntry): Promise<void> {
	await store.putDataset(entry);
	await store.updateSettings({ activeDatasetId: entry.id });
}

/** The stored form of a parsed file (with the names of its items when there are some). */
export function datasetEntry(out: ParseOutcome, itemNames?: ItemNames): DatasetEntry {
	return {
		id: `${Date.now().toString(36)}-${out.fingerprint.slice(0, 12)}`,
		name: out.name,
		createdAt: new Date().toISOString(),
		fingerprint: out.fingerprint,
		file: out.file,
		summary: out.summary,
		...(itemNames ? { itemNames } : {})
	};
}
