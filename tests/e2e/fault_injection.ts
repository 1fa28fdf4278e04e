import type { Page } from 'playwright-core';

/** What the page should suffer next; armed through sessionStorage, so it survives a reload. */
export type Fault =
	/** The first put or add into this object store keeps its transaction open and reloads. */
	| { kind: 'reload-in-write'; store: string }
	/** The first put or add into this object store throws a QuotaExceededError DOMException. */
	| { kind: 'quota-in-write'; store: string }
	/** The next worker whose script URL contains `worker` is built from a missing script. */
	| { kind: 'worker-missing'; worker: string }
	/** The next such worker is sent a null message (it throws) after its first `after` event. */
	| { kind: 'worker-throws'; worker: string; after: string }
	/**
	 * The next such worker hangs after its first 'progress' event: nothing it posts later reaches
	 * the page, and it never receives a 'cancel' command (a worker stuck in a computation).
	 */
	| { kind: 'worker-deaf'; worker: string };

const KEY = 'musicrec-e2e-fault';
const FIRED = 'musicrec-e2e-fault-fired';

/**
 * Installed before any page script: patches IDBObjectStore.prototype.put/add and Worker so that an
 * armed fault fires once. Unarmed, both behave exactly as the originals.
 */
function install(keys: { key: string; fired: string }): void {
	const armed = (): Fault | undefined => {
		const raw = sessionStorage.getItem(keys.key);
		return raw ? (JSON.parse(raw) as Fault) : undefined;
	};
	const fire = (fault: Fault): void => {
		sessionStorage.removeItem(keys.key);
		sessionStorage.setItem(keys.fired, JSON.stringify(fault));
	};
	// put and add: a store's first write of either kind meets the fault.
	for (const method of ['put', 'add'] as const) {
		const original = IDBObjectStore.prototype[method];
		IDBObjectStore.prototype[method] = function (
			this: IDBObjectStore,
			...args: [unknown, IDBValidKey?]
		) {
			const fault = armed();
			if (fault?.kind === 'quota-in-write' && fault.store === this.name) {
				fire(fault);
				throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
			}
			const request = original.apply(this, args);
			if (fault?.kind === 'reload-in-write' && fault.store === this.name) {
				fire(fault);
				// Keep the transaction busy so it cannot commit before the page goes away.
				const keepAlive = (): void => {
					try {
						this.count().onsuccess = keepAlive;
					} catch {
						// the transaction ended with the page
					}
				};
				keepAlive();
				location.reload();
			}
			return request;
		};
	}
	const Original = Worker;
	class FaultyWorker extends Original {
		#deaf = false;
		constructor(url: string | URL, options?: WorkerOptions) {
			const fault = armed();
			const hit = fault !== undefined && 'worker' in fault && String(url).includes(fault.worker);
			if (hit && fault.kind === 'worker-missing') {
				fire(fault);
				super(new URL('missing-worker.js', location.href), options);
				return;
			}
			super(url, options);
			if (!hit) return;
			fire(fault);
			if (fault.kind === 'worker-deaf') {
				this.#deaf = true;
				let progressed = false;
				// registered before the page's own handler, so it can hide later events from it
				this.addEventListener('message', (e: MessageEvent<{ type?: string } | null>) => {
					if (progressed) e.stopImmediatePropagation();
					else if (e.data?.type === 'progress') progressed = true;
				});
			}
			if (fault.kind === 'worker-throws') {
				let sent = false;
				this.addEventListener('message', (e: MessageEvent<{ type?: string } | null>) => {
					if (!sent && e.data?.type === fault.after) {
						sent = true;
						super.postMessage(null);
					}
				});
			}
		}
		override postMessage(
			message: unknown,
			options?: Transferable[] | StructuredSerializeOptions
		): void {
			const type = (message as { type?: unknown } | null)?.type;
			if (this.#deaf && type === 'cancel') return;
			super.postMessage(message, options as Transferable[]);
		}
	}
	window.Worker = FaultyWorker;
}

/** Install the fault hooks in every document the page loads from now on. */
export async function installFaults(page: Page): Promise<void> {
	await page.addInitScript(install, { key: KEY, fired: FIRED });
}

/** Arm `fault` for the page's current tab. */
export async function arm(page: Page, fault: Fault): Promise<void> {
	await page.evaluate(
		([key, fired, value]) => {
			sessionStorage.removeItem(fired);
			sessionStorage.setItem(key, value);
		},
		[KEY, FIRED, JSON.stringify(fault)] as const
	);
}

/** The fault that fired since it was armed (undefined if none did). */
export async function fired(page: Page): Promise<Fault | undefined> {
	const raw = await page.evaluate((k) => sessionStorage.getItem(k), FIRED);
	return raw ? (JSON.parse(raw) as Fault) : undefined;
}

/** Consistency of the main store: every model whole, every reference resolvable. */
export interface StoreAudit {
	models: { id: string; name: string; users: number; items: number; factors: number }[];
	/** Problems found; empty when the store holds only complete entries. */
	problems: string[];
	datasets: number;
}

export async function auditStore(page: Page): Promise<StoreAudit> {
	return page.evaluate(async () => {
		const request = <T>(r: IDBRequest<T>): Promise<T> =>
			new Promise((ok, fail) => {
				r.onsuccess = () => ok(r.result);
				r.onerror = () => fail(r.error);
			});
		const db = await request(indexedDB.open('musicrec'));
		const tx = db.transaction(['model_meta', 'model_data', 'settings', 'datasets'], 'readonly');
		const metas = (await request(tx.objectStore('model_meta').getAll())) as {
			id: string;
			name: string;
			params: { factors: number };
			sizeBytes: number;
		}[];
		const data = (await request(tx.objectStore('model_data').getAll())) as {
			id: string;
			userIds: string[];
			itemIds: string[];
			userFactors: ArrayBuffer;
			itemFactors: ArrayBuffer;
		}[];
		const settings = ((await request(tx.objectStore('settings').get('settings'))) ?? {}) as {
			activeModelId?: string;
			activeDatasetId?: string;
		};
		const datasets = (await request(tx.objectStore('datasets').getAll())) as {
			id: string;
			file: Blob;
			summary: { rows: number };
		}[];
		db.close();
		const problems: string[] = [];
		const byId = new Map(data.map((d) => [d.id, d]));
		const models = [];
		for (const m of metas) {
			const d = byId.get(m.id);
			if (!d) {
				problems.push(`model ${m.id} has metadata but no factors`);
				continue;
			}
			const f = m.params.factors;
			if (d.userFactors.byteLength !== d.userIds.length * f * 4)
				problems.push(`model ${m.id}: user factors ${d.userFactors.byteLength} bytes`);
			if (d.itemFactors.byteLength !== d.itemIds.length * f * 4)
				problems.push(`model ${m.id}: item factors ${d.itemFactors.byteLength} bytes`);
			if (!(m.sizeBytes >= d.userFactors.byteLength + d.itemFactors.byteLength))
				problems.push(`model ${m.id}: size ${m.sizeBytes} below its factors`);
			for (const buf of [d.userFactors, d.itemFactors]) {
				if (!new Float32Array(buf).every(Number.isFinite))
					problems.push(`model ${m.id}: a factor is not finite`);
			}
			models.push({
				id: m.id,
				name: m.name,
				users: d.userIds.length,
				items: d.itemIds.length,
				factors: f
			});
		}
		const metaIds = new Set(metas.map((m) => m.id));
		for (const d of data) if (!metaIds.has(d.id)) problems.push(`factors ${d.id} without metadata`);
		if (settings.activeModelId !== undefined && !metaIds.has(settings.activeModelId))
			problems.push(`active model ${settings.activeModelId} is not stored`);
		if (
			settings.activeDatasetId !== undefined &&
			!datasets.some((d) => d.id === settings.activeDatasetId)
		)
			problems.push(`active dataset ${settings.activeDatasetId} is not stored`);
		for (const d of datasets) {
			if (!(d.file instanceof Blob) || d.file.size === 0) problems.push(`dataset ${d.id}: no file`);
		}
		return { models, problems, datasets: datasets.length };
	});
}
