import type { ModelMeta } from '$lib/core/model_record';
import type { DatasetInfo } from './store_api';

/**
 * What the header shows on every page: the dataset loaded, the active model and the tfjs
 * backend in use. Pages update it after they change any of these.
 */
export const appState = $state<{
	dataset: DatasetInfo | undefined;
	activeModel: ModelMeta | undefined;
	backend: string | undefined;
}>({ dataset: undefined, activeModel: undefined, backend: undefined });
