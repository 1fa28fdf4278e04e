import {
	openDB,
	type DBSchema,
	type IDBPDatabase,
	type IDBPTransaction,
	type StoreNames
} from 'idb';
import { MusicrecError } from '$lib/core/errors';
import type { ModelMeta, ModelRecord } from '$lib/core/model_record';
import type { DatasetEntry, DatasetInfo, Settings, Store } from './store_api';

/** Factors and ids of one model, kept apart from ModelMeta so listing models stays cheap. */
interface ModelData {
	readonly id: string;
	readonly userIds: readonly string[];
	readonly itemIds: readonly string[];
	/** Absent for models without names (and for every model stored before names existed). */
	readonly itemNames?: readonly string[];
	readonly userFactors: ArrayBuffer;
	readonly itemFactors: ArrayBuffer;
}

interface MusicrecDb extends DBSchema {
	/** The file is stored as the Blob/File itself (browsers keep File; Node's clone gives Blob). */
	datasets: { key: string; value: DatasetEntry };
	model_meta: { key: string; value: ModelMeta };
	model_data: { key: string; value: ModelData };
	settings: { key: string; value: Settings };
}

type Db = IDBPDatabase<MusicrecDb>;
type Name = StoreNames<MusicrecDb>;
type Mode = 'readonly' | 'readwrite';
type Tx<S extends Name[], M extends Mode> = IDBPTransaction<MusicrecDb, S, M>;

const DB_VERSION = 1;
const SETTINGS_KEY = 'settings';

function isQuota(e: unknown): boolean {
	return (
		e !== null &&
		typeof e === 'object' &&
		'name' in e &&
		((e as { name: unknown }).name === 'QuotaExceededError' ||
			(e as { name: unknown }).name === 'NS_ERROR_DOM_QUOTA_REACHED')
	);
}

/** Map an IndexedDB failure (or the transaction's own error) to a MusicrecError. */
function storeError(e: unknown, what: string, txError?: unknown): MusicrecError {
	if (e instanceof MusicrecError) return e;
	if (isQuota(e) || isQuota(txError)) {
		return new MusicrecError(
			'store/quota',
			`Not enough storage space to ${what}. Free space in the browser or delete models or datasets you no longer need, then try again. Nothing was saved.`,
			{ cause: String(e) }
		);
	}
	const message = e instanceof Error ? e.message : String(e);
	return new MusicrecError('store/failed', `Could not ${what}: ${message}`, {
		cause: String(e)
	});
}

/**
 * Run `body` in one transaction over `stores` and wait for it to commit. On any failure the
 * transaction is aborted, so nothing of it lands, and the error becomes 'store/quota' or
 * 'store/failed'. `body` must await its requests one after another (no dangling promises).
 */
async function inTransaction<S extends Name[], M extends Mode, T>(
	db: Db,
	stores: S,
	mode: M,
	what: string,
	body: (tx: Tx<S, M>) => Promise<T>
): Promise<T> {
	let tx: Tx<S, M>;
	try {
		tx = db.transaction(stores, mode);
	} catch (e) {
		throw storeError(e, what);
	}
	const done = tx.done;
	done.catch(() => {}); // observed below; avoids an unhandled rejection after an abort
	try {
		const result = await body(tx);
		await done;
		return result;
	} catch (e) {
		const txError = tx.error;
		try {
			tx.abort();
		} catch {
			// already committed or aborted
		}
		throw storeError(e, what, txError);
	}
}

/** A copy of exactly the bytes a typed array views (never its whole underlying buffer). */
function bufferOf(array: Float32Array): ArrayBuffer {
	return array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength) as ArrayBuffer;
}

function withoutUndefined(settings: Settings): Settings {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(settings)) if (v !== undefined) out[k] = v;
	return out as Settings;
}

class IdbStore implements Store {
	constructor(private readonly db: Db) {}

	putDataset(entry: DatasetEntry): Promise<void> {
		return inTransaction(this.db, ['datasets'], 'readwrite', 'save the dataset', async (tx) => {
			await tx.objectStore('datasets').put(entry);
		});
	}

	getDataset(id: string): Promise<DatasetEntry | undefined> {
		return inTransaction(this.db, ['datasets'], 'readonly', 'read the dataset', (tx) =>
			tx.objectStore('datasets').get(id)
		);
	}

	listDatasets(): Promise<DatasetInfo[]> {
		return inTransaction(this.db, ['datasets'], 'readonly', 'list datasets', async (tx) => {
			const all = await tx.objectStore('datasets').getAll();
			return all.map(({ file: _file, ...info }) => info);
		});
	}

	/** Deleting the active dataset also clears `activeDatasetId`. */
	deleteDataset(id: string): Promise<void> {
		return inTransaction(
			this.db,
			['datasets', 'settings'],
			'readwrite',
			'delete the dataset',
			async (tx) => {
				await tx.objectStore('datasets').delete(id);
				const settings = tx.objectStore('settings');
				const current = (await settings.get(SETTINGS_KEY)) ?? {};
				if (current.activeDatasetId === id) {
					await settings.put(
						withoutUndefined({ ...current, activeDatasetId: undefined }),
						SETTINGS_KEY
					);
				}
			}
		);
	}

	putModel(record: ModelRecord): Promise<void> {
		const { meta } = record;
		const data: ModelData = {
			id: meta.id,
			userIds: [...record.userIds],
			itemIds: [...record.itemIds],
			...(record.itemNames ? { itemNames: [...record.itemNames] } : {}),
			userFactors: bufferOf(record.userFactors),
			itemFactors: bufferOf(record.itemFactors)
		};
		return inTransaction(
			this.db,
			['model_meta', 'model_data'],
			'readwrite',
			'save the model',
			async (tx) => {
				await tx.objectStore('model_meta').put(meta);
				await tx.objectStore('model_data').put(data);
			}
		);
	}

	getModel(id: string): Promise<ModelRecord | undefined> {
		return inTransaction(
			this.db,
			['model_meta', 'model_data'],
			'readonly',
			'read the model',
			async (tx) => {
				const meta = await tx.objectStore('model_meta').get(id);
				const data = await tx.objectStore('model_data').get(id);
				if (meta === undefined || data === undefined) return undefined;
				return {
					meta,
					userIds: data.userIds,
					itemIds: data.itemIds,
					...(data.itemNames ? { itemNames: data.itemNames } : {}),
					userFactors: new Float32Array(data.userFactors),
					itemFactors: new Float32Array(data.itemFactors)
				};
			}
		);
	}

	/** Reads only the metadata store, never the factors. */
	listModels(): Promise<ModelMeta[]> {
		return inTransaction(this.db, ['model_meta'], 'readonly', 'list models', (tx) =>
			tx.objectStore('model_meta').getAll()
		);
	}

	renameModel(id: string, name: string): Promise<void> {
		return inTransaction(this.db, ['model_meta'], 'readwrite', 'rename the model', async (tx) => {
			const store = tx.objectStore('model_meta');
			const meta = await store.get(id);
			if (meta === undefined) {
				throw new MusicrecError('store/failed', `Could not rename: there is no model ${id}`, {
					id
				});
			}
			await store.put({ ...meta, name });
		});
	}

	deleteModel(id: string): Promise<void> {
		return inTransaction(
			this.db,
			['model_meta', 'model_data', 'settings'],
			'readwrite',
			'delete the model',
			async (tx) => {
				await tx.objectStore('model_meta').delete(id);
				await tx.objectStore('model_data').delete(id);
				const settings = tx.objectStore('settings');
				const current = (await settings.get(SETTINGS_KEY)) ?? {};
				if (current.activeModelId === id) {
					await settings.put(
						withoutUndefined({ ...current, activeModelId: undefined }),
						SETTINGS_KEY
					);
				}
			}
		);
	}

	getSettings(): Promise<Settings> {
		return inTransaction(this.db, ['settings'], 'readonly', 'read settings', async (tx) => {
			return (await tx.objectStore('settings').get(SETTINGS_KEY)) ?? {};
		});
	}

	/** Merge `patch` into the settings; a key given as undefined is removed. */
	updateSettings(patch: Partial<Settings>): Promise<Settings> {
		return inTransaction(this.db, ['settings'], 'readwrite', 'save settings', async (tx) => {
			const store = tx.objectStore('settings');
			const next = withoutUndefined({ ...((await store.get(SETTINGS_KEY)) ?? {}), ...patch });
			await store.put(next, SETTINGS_KEY);
			return next;
		});
	}

	close(): void {
		this.db.close();
	}
}

/**
 * Open (creating on first use) the app's IndexedDB database. Object stores: `datasets`
 * (keyPath id), `model_meta` (keyPath id), `model_data` (keyPath id) and `settings` (one
 * record under the key 'settings').
 */
/** Open the app's store, run `use` on it, and close it again (for one-off reads and writes). */
export async function withStore<T>(use: (store: Store) => Promise<T>): Promise<T> {
	const store = await openStore();
	try {
		return await use(store);
	} finally {
		store.close();
	}
}

export async function openStore(name = 'musicrec'): Promise<Store> {
	try {
		const db = await openDB<MusicrecDb>(name, DB_VERSION, {
			upgrade(db) {
				db.createObjectStore('datasets', { keyPath: 'id' });
				db.createObjectStore('model_meta', { keyPath: 'id' });
				db.createObjectStore('model_data', { keyPath: 'id' });
				db.createObjectStore('settings');
			},
			blocking() {
				// A newer version of the app wants to upgrade: step aside.
				db.close();
			}
		});
		return new IdbStore(db);
	} catch (e) {
		throw storeError(e, 'open the browser database');
	}
}

/** Ask the browser to keep our storage under pressure; true when granted. */
export async function requestPersistence(): Promise<boolean> {
	if (typeof navigator === 'undefined' || typeof navigator.storage?.persist !== 'function') {
		return false;
	}
	try {
		return await navigator.storage.persist();
	} catch {
		return false;
	}
}

/** Bytes used and available to the site, or undefined when the browser does not say. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | undefined> {
	if (typeof navigator === 'undefined' || typeof navigator.storage?.estimate !== 'function') {
		return undefined;
	}
	try {
		const { usage, quota } = await navigator.storage.estimate();
		return usage === undefined || quota === undefined ? undefined : { usage, quota };
	} catch {
		return undefined;
	}
}
