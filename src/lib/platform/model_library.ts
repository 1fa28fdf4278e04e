/**
 * The stored models as the Models page works with them: saving a trained model (the first one
 * becomes the active model by itself), importing and exporting model files. Decoding checks
 * everything before anything is stored, so a bad file changes nothing.
 */
import { decodeModelFile, encodeModelFile } from '$lib/core/format/model_file';
import { namesForItems, type ItemNames } from '$lib/core/data/item_names';
import type { ModelRecord } from '$lib/core/model_record';
import type { Store } from './store_api';

/** What a dataset adds to the models trained on it. */
export interface TrainedOn {
	/** Names of the dataset's items. */
	readonly names?: ItemNames;
	/** Median of its raw play-count column (EDA), when it has one. */
	readonly medianPlays?: number;
}

/**
 * Store a freshly trained model, with the names of its items and the median play count of the
 * dataset it was trained `on`; when no stored model is active (none set yet, or the active one
 * was deleted), it becomes the active one. Returns whether it did, and the record stored.
 */
export async function saveTrainedModel(
	store: Store,
	trained: ModelRecord,
	on: TrainedOn = {}
): Promise<{ activated: boolean; record: ModelRecord }> {
	const itemNames = on.names ? namesForItems(trained.itemIds, on.names) : undefined;
	let record = itemNames && itemNames.some((n) => n !== '') ? { ...trained, itemNames } : trained;
	if (on.medianPlays !== undefined && Number.isFinite(on.medianPlays) && on.medianPlays > 0) {
		const meta = record.meta;
		record = {
			...record,
			meta: { ...meta, dataset: { ...meta.dataset, medianPlays: on.medianPlays } }
		};
	}
	await store.putModel(record);
	const active = (await store.getSettings()).activeModelId;
	if (active !== undefined && (await store.listModels()).some((m) => m.id === active)) {
		return { activated: false, record };
	}
	await store.updateSettings({ activeModelId: record.meta.id });
	return { activated: true, record };
}

/**
 * Read a model file and store it (under a fresh id when one with its id is stored already).
 * Throws, with nothing stored, when the file is not a valid model file.
 */
export async function importModelFile(store: Store, text: string): Promise<ModelRecord> {
	let record = decodeModelFile(text);
	if ((await store.listModels()).some((m) => m.id === record.meta.id)) {
		record = { ...record, meta: { ...record.meta, id: crypto.randomUUID() } };
	}
	await store.putModel(record);
	return record;
}

/** A stored model as a model file: its text and a file name made from the model's name. */
export async function exportModelFile(
	store: Store,
	id: string
): Promise<{ text: string; fileName: string }> {
	const record = await store.getModel(id);
	if (!record) throw new Error('the model is no longer stored');
	return { text: encodeModelFile(record), fileName: modelFileName(record.meta.name) };
}

/** A file name from a model name: letters, digits, dash and underscore only. */
export function modelFileName(name: string): string {
	const base = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'model';
	return `${base}.musicrec-model.json`;
}
