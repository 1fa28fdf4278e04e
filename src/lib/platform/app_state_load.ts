import { appState } from './app_state.svelte';
import { openStore, requestPersistence } from './store';

/**
 * Fill the header's state from IndexedDB (active dataset and model) and ask the browser to
 * keep this origin's storage (models and datasets are the user's work). Called once per page
 * load by the root layout; a failure leaves the header at "none" and is logged, not thrown.
 */
export async function loadAppState(): Promise<void> {
	try {
		const store = await openStore();
		try {
			const settings = await store.getSettings();
			if (settings.activeDatasetId && !appState.dataset) {
				const datasets = await store.listDatasets();
				appState.dataset = datasets.find((d) => d.id === settings.activeDatasetId);
			}
			if (settings.activeModelId && !appState.activeModel) {
				const models = await store.listModels();
				appState.activeModel = models.find((m) => m.id === settings.activeModelId);
			}
		} finally {
			store.close();
		}
		await requestPersistence();
	} catch (error) {
		console.warn('could not read the stored state', error);
	}
}
