import type { Page } from 'playwright-core';

/** SHA-256 of one object store's canonical dump, with its record count. */
interface StoreDigest {
	readonly records: number;
	readonly sha256: string;
}

/** `database/store` -> digest, for every object store of every musicrec database. */
export type IdbDigest = Record<string, StoreDigest>;

/**
 * Dump every object store of every IndexedDB database of the page's origin whose name starts
 * with `musicrec` to a canonical text (keys in key order; object properties sorted; typed
 * arrays, ArrayBuffers and Blobs/Files by their bytes in hex, with their type, name and
 * length) and hash each store. Two equal digests mean byte-identical contents.
 */
export async function idbDigest(page: Page): Promise<IdbDigest> {
	return page.evaluate(async () => {
		const hex = (bytes: Uint8Array): string =>
			Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
		const canon = async (v: unknown): Promise<string> => {
			if (v === undefined) return 'u';
			if (v === null) return 'n';
			if (typeof v === 'number') return Object.is(v, -0) ? 'd-0' : `d${v}`;
			if (typeof v === 'string') return `s${JSON.stringify(v)}`;
			if (typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v}:${String(v)}`;
			if (v instanceof Date) return `date:${v.getTime()}`;
			if (v instanceof ArrayBuffer) return `ab${v.byteLength}:${hex(new Uint8Array(v))}`;
			if (ArrayBuffer.isView(v)) {
				const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
				return `${v.constructor.name}${v.byteLength}:${hex(bytes)}`;
			}
			if (v instanceof Blob) {
				const head =
					v instanceof File ? `file(${JSON.stringify(v.name)},${v.lastModified})` : 'blob';
				return `${head}[${JSON.stringify(v.type)}]${v.size}:${hex(new Uint8Array(await v.arrayBuffer()))}`;
			}
			if (Array.isArray(v)) return `[${(await Promise.all(v.map(canon))).join(',')}]`;
			if (v instanceof Map) {
				const entries = await Promise.all(
					[...v].map(async ([k, x]) => `${await canon(k)}=>${await canon(x)}`)
				);
				return `map{${entries.sort().join(',')}}`;
			}
			if (typeof v === 'object') {
				const keys = Object.keys(v).sort();
				const parts = await Promise.all(
					keys.map(
						async (k) => `${JSON.stringify(k)}:${await canon((v as Record<string, unknown>)[k])}`
					)
				);
				return `{${parts.join(',')}}`;
			}
			return `?${String(v)}`;
		};
		const request = <T>(r: IDBRequest<T>): Promise<T> =>
			new Promise((ok, fail) => {
				r.onsuccess = () => ok(r.result);
				r.onerror = () => fail(r.error);
			});
		const out: Record<string, { records: number; sha256: string }> = {};
		const names = (await indexedDB.databases())
			.map((d) => d.name ?? '')
			.filter((n) => n.startsWith('musicrec'))
			.sort();
		for (const name of names) {
			const db = await request(indexedDB.open(name));
			try {
				for (const storeName of [...db.objectStoreNames].sort()) {
					const tx = db.transaction(storeName, 'readonly');
					const store = tx.objectStore(storeName);
					const [keys, values] = await Promise.all([
						request(store.getAllKeys()),
						request(store.getAll())
					]);
					const lines: string[] = [];
					for (let k = 0; k < keys.length; k++) {
						lines.push(`${await canon(keys[k])}\t${await canon(values[k])}`);
					}
					const digest = await crypto.subtle.digest(
						'SHA-256',
						new TextEncoder().encode(lines.join('\n'))
					);
					out[`${name}/${storeName}`] = {
						records: keys.length,
						sha256: hex(new Uint8Array(digest))
					};
				}
			} finally {
				db.close();
			}
		}
		return out;
	});
}
