/**
 * Databases written by older versions of the app (tests/fixtures/store_v1_<commit>.json, made by
 * scripts/store_fixture.ts run on that commit's code), put back into an IndexedDB as they were.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fixtureFile } from './data_files';

export interface StoreFixture {
	/** The commit whose code wrote the records. */
	readonly madeBy: string;
	readonly name: string;
	readonly version: number;
	readonly stores: Record<
		string,
		{ keyPath: string | null; records: { key: IDBValidKey; value: unknown }[] }
	>;
}

/** Every committed fixture, oldest version of the app first (file names sort by nothing useful). */
export function storeFixtures(): StoreFixture[] {
	return readdirSync(fixtureFile(''))
		.filter((f) => /^store_v\d+_[0-9a-f]+\.json$/.test(f))
		.map((f) => JSON.parse(readFileSync(fixtureFile(f), 'utf8')) as StoreFixture);
}

/**
 * Create the fixture's database (its version, stores and key paths) and put every record back,
 * binary values decoded. Self-contained (only standard web APIs), so a browser test can pass it
 * to page.evaluate; resolves once the writes committed.
 */
export async function restoreStoreFixture(fixture: StoreFixture): Promise<void> {
	const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
	const decode = (v: unknown): unknown => {
		if (Array.isArray(v)) return v.map(decode);
		if (v === null || typeof v !== 'object') return v;
		const o = v as Record<string, unknown>;
		if (typeof o.$blob === 'string') {
			return new Blob([bytes(o.$blob) as BlobPart], { type: String(o.type ?? '') });
		}
		if (typeof o.$arrayBuffer === 'string') return bytes(o.$arrayBuffer).buffer;
		if (typeof o.$typed === 'string') {
			const raw = bytes(String(o.base64)).buffer;
			if (o.$typed === 'Float32Array') return new Float32Array(raw);
			if (o.$typed === 'Int32Array') return new Int32Array(raw);
			if (o.$typed === 'Uint8Array') return new Uint8Array(raw);
			throw new Error(`fixture: unknown typed array ${String(o.$typed)}`);
		}
		const out: Record<string, unknown> = {};
		for (const [k, x] of Object.entries(o)) out[k] = decode(x);
		return out;
	};
	const db = await new Promise<IDBDatabase>((resolve, reject) => {
		const request = indexedDB.open(fixture.name, fixture.version);
		request.onupgradeneeded = () => {
			for (const [name, s] of Object.entries(fixture.stores)) {
				request.result.createObjectStore(name, s.keyPath ? { keyPath: s.keyPath } : undefined);
			}
		};
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error);
	});
	const names = Object.keys(fixture.stores);
	const tx = db.transaction(names, 'readwrite');
	for (const name of names) {
		const s = fixture.stores[name];
		for (const r of s.records) {
			if (s.keyPath) tx.objectStore(name).put(decode(r.value));
			else tx.objectStore(name).put(decode(r.value), r.key);
		}
	}
	await new Promise<void>((resolve, reject) => {
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
	});
	db.close();
}
