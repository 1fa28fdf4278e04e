import type { DatasetEntry, Store } from './store_api';

/** The dataset the Data page made active (its file and summary), if any. */
export async function activeDataset(store: Store): Promise<DatasetEntry | undefined> {
	const settings = await store.getSettings();
	return settings.activeDatasetId ? store.getDataset(settings.activeDatasetId) : undefined;
}
