/**
 * Creating a federation on the coordinator's page: round 0's catalog and item factors (from
 * the active model, or a fresh initialisation over the active dataset's songs), its settings
 * (mode, parameters, weighting, secure aggregation), the published global scored on the
 * coordinator's own data, all stored in one write.
 */
import { alsParams, type AlsParams } from '$lib/core/als/params';
import type { Weighting } from '$lib/core/data/weights';
import type { FederationMode } from '$lib/core/federation/fields';
import type { GlobalEvaluation } from '$lib/core/federation/global_eval';
import {
	createInitialGlobal,
	publishGlobal,
	type SecureSettings
} from '$lib/core/federation/global_file';
import { activeDataset } from './active_dataset';
import type { runFederationTask } from './federation_client';
import type { FederationInfo, FederationStore } from './federation_store';
import type { Store } from './store_api';

export interface FederationForm {
	readonly id: string;
	readonly source: 'model' | 'fresh';
	readonly mode: FederationMode;
	/** From the active model: its factor count is kept; lambda and alpha come from the form. */
	readonly params: Pick<AlsParams, 'factors' | 'regularization' | 'alpha' | 'seed'>;
	/** Fresh initialisation: '' = the dataset's default mapping. */
	readonly weighting: Weighting | '';
	/** Absent: plain updates. */
	readonly secure?: SecureSettings;
}

/**
 * Create and store the federation; returns its info, and why round 0 could not be scored on
 * the coordinator's data when it could not (the federation is created all the same). Throws
 * with a sentence for people.
 */
export async function createFederation(
	store: Store,
	fedStore: FederationStore,
	run: typeof runFederationTask,
	form: FederationForm,
	onStage: (stage: string) => void = () => undefined
): Promise<{ info: FederationInfo; metricsError?: string }> {
	const onEvent = (e: { type: string; stage?: string }): void => {
		if (e.type === 'stage' && e.stage) onStage(e.stage);
	};
	let catalog: readonly string[];
	let itemFactors: Float32Array | undefined;
	let params: AlsParams;
	let source: string;
	let weighting: Weighting;
	if (form.source === 'model') {
		const settings = await store.getSettings();
		const record = settings.activeModelId
			? await store.getModel(settings.activeModelId)
			: undefined;
		if (!record) throw new Error('There is no active model: train one on the Models page');
		catalog = record.itemIds;
		itemFactors = record.itemFactors;
		params = alsParams({
			...record.meta.params,
			regularization: form.params.regularization,
			alpha: form.params.alpha
		});
		weighting = record.meta.weighting;
		source = `item factors of model '${record.meta.name}'`;
	} else {
		const entry = await activeDataset(store);
		if (!entry) throw new Error('Load a dataset on the Data page first: its songs are the catalog');
		const result = await run(
			{
				type: 'catalog',
				file: entry.file,
				weighting: form.weighting === '' ? undefined : form.weighting
			},
			onEvent
		);
		catalog = result.itemIds;
		weighting = result.weighting;
		params = alsParams(form.params);
		source = `fresh initialisation (seed ${form.params.seed}) over the songs of '${entry.name}'`;
	}
	const model = createInitialGlobal({
		federationId: form.id,
		mode: form.mode,
		params,
		catalog,
		itemFactors,
		weighting,
		...(form.secure ? { secure: form.secure } : {})
	});
	const published = publishGlobal(model);
	// Round 0 scored on this browser's dataset: the reference the next rounds compare with.
	const dataset = await activeDataset(store);
	let metrics: GlobalEvaluation | undefined;
	let metricsError: string | undefined;
	if (dataset) {
		try {
			metrics = await run(
				{ type: 'evaluate', globalText: published.text, dataset: dataset.file },
				onEvent
			);
		} catch (e) {
			// The score is informative: a dataset that does not fit is reported, not fatal.
			metricsError = e instanceof Error ? e.message : String(e);
		}
	}
	const createdAt = new Date().toISOString();
	const info: FederationInfo = {
		id: form.id,
		mode: form.mode,
		params: model.params,
		createdAt,
		source,
		catalogSize: catalog.length,
		weighting,
		...(form.secure ? { secure: model.secure } : {})
	};
	await fedStore.createFederation(info, {
		federationId: form.id,
		round: 0,
		text: published.text,
		checksum: published.checksum,
		createdAt,
		metrics
	});
	return { info, ...(metricsError === undefined ? {} : { metricsError }) };
}
