import type { ItemNames } from '$lib/core/data/item_names';
import type { EdaSummary } from '$lib/core/data/eda';
import type { ModelMeta, ModelRecord } from '$lib/core/model_record';

/** A loaded dataset as kept in IndexedDB: the original file and its parsed summary. */
export interface DatasetEntry {
	readonly id: string;
	readonly name: string;
	readonly createdAt: string;
	/** SHA-256 of the file bytes. */
	readonly fingerprint: string;
	readonly file: Blob;
	readonly summary: EdaSummary;
	/** Names of the items, from a side file (Last.fm artists.dat, song_extra_info.csv…). */
	readonly itemNames?: ItemNames;
}

export type DatasetInfo = Omit<DatasetEntry, 'file'>;

export interface Settings {
	activeModelId?: string;
	activeDatasetId?: string;
	/** Backend the user chose; undefined = chosen by the probe. */
	backend?: 'webgpu' | 'webgl' | 'wasm' | 'cpu';
	/**
	 * Winner of the last automatic probe, reused (after a quick check) so that pages and
	 * trainings do not probe every backend each time; cleared when the user re-runs the probe.
	 */
	probedBackend?: 'webgpu' | 'webgl' | 'wasm' | 'cpu';
	/** Threads training uses (the ALS kernel and tfjs-wasm); undefined = one per core, capped. */
	trainingThreads?: number;
	/**
	 * False: the ALS kernel runs CG steps on every row, as the GPU backends and implicit do;
	 * undefined or true: rows with few plays are solved exactly (faster).
	 */
	exactShortRows?: boolean;
}

/**
 * The app's persistent state (IndexedDB). Every write is one transaction: it lands whole or
 * not at all, and a failed write (quota) rejects with StoreError and leaves the rest intact.
 */
export interface Store {
	putDataset(entry: DatasetEntry): Promise<void>;
	getDataset(id: string): Promise<DatasetEntry | undefined>;
	listDatasets(): Promise<DatasetInfo[]>;
	deleteDataset(id: string): Promise<void>;

	/** Metadata and factors in a single transaction. */
	putModel(record: ModelRecord): Promise<void>;
	getModel(id: string): Promise<ModelRecord | undefined>;
	listModels(): Promise<ModelMeta[]>;
	renameModel(id: string, name: string): Promise<void>;
	/** Deleting the active model also clears `activeModelId`. */
	deleteModel(id: string): Promise<void>;

	getSettings(): Promise<Settings>;
	updateSettings(patch: Partial<Settings>): Promise<Settings>;
	close(): void;
}
