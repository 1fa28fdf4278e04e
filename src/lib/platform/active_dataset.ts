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
