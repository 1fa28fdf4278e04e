import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDB } from 'idb';
import { alsParams } from '../../../src/lib/core/als/params';
import { MusicrecError } from '../../../src/lib/core/errors';
import type { ModelRecord } from '../../../src/lib/core/model_record';
import type { EdaSummary } from '../../../src/lib/core/data/eda';
import { openStore, requestPersistence, storageEstimate } from '../../../src/lib/platform/store';
import type { DatasetEntry, Store } from '../../../src/lib/platform/store_api';

let counter = 0;
const open: Store[] = [];

async function fresh(): Promise<{ store: Store; name: string }> {
	const name = `musicrec-test-${process.pid}-${++counter}`;
	const store = await openStore(name);
	open.push(store);
	return { store, name };
}

afterEach(() => {
	for (const s of open.splice(0)) s.close();
});

function model(id: string, seed: number, users = 3, items = 5, f = 4): ModelRecord {
	const userFactors = Float32Array.from({ length: users * f }, (_, i) => Math.sin(seed + i));
	const itemFactors = Float32Array.from({ length: items * f }, (_, i) => Math.cos(seed * 3 + i));
	itemFactors[0] = -0;
	itemFactors[1] = 1e-42;
	return {
		meta: {
			id,
			name: `model ${id}`,
			type: 'als',
			createdAt: '2026-01-01T00:00:00.000Z',
			params: alsParams({ factors: f }),
			weighting: 'raw',
			holdout: false,
			dataset: { name: 'd.csv', fingerprint: 'f'.repeat(64), users, items, nnz: 9 },
			training: { seconds: 0.5, sweeps: 2, backend: 'cpu', loss: [2, 1] },
			sizeBytes: (users + items) * f * 4
		},
		userIds: Array.from({ length: users }, (_, i) => `user-${seed}-${i}`),
		itemIds: Array.from({ length: items }, (_, i) => `item-${seed}-${i}`),
		userFactors,
		itemFactors
	};
}

function bytes(a: Float32Array): number[] {
	return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function expectSameModel(actual: ModelRecord | undefined, expected: ModelRecord): void {
	expect(actual).toBeDefined();
	expect(actual!.meta).toEqual(expected.meta);
	expect(actual!.userIds).toEqual(expected.userIds);
	expect(actual!.itemIds).toEqual(expected.itemIds);
	expect(bytes(actual!.userFactors)).toEqual(bytes(expected.userFactors));
	expect(bytes(actual!.itemFactors)).toEqual(bytes(expected.itemFactors));
}

const summary = { rows: 3, note: 'summary stand-in' } as unknown as EdaSummary;

function dataset(id: string, text: string): DatasetEntry {
	return {
		id,
		name: `${id}.csv`,
		createdAt: '2026-01-01T00:00:00.000Z',
		fingerprint: '0'.repeat(64),
		file: new Blob([text], { type: 'text/csv' }),
		summary
	};
}

describe('store', () => {
	it('round-trips datasets with their file blob, lists them without it, deletes them', async () => {
		const { store } = await fresh();
		await store.putDataset(dataset('d1', 'user,item\n1,2\n'));
		await store.putDataset(dataset('d2', 'a,b\n'));
		const got = await store.getDataset('d1');
		expect(got?.name).toBe('d1.csv');
		expect(got?.summary).toEqual(summary);
		expect(got?.file).toBeInstanceOf(Blob);
		expect(got?.file.type).toBe('text/csv');
		expect(await got?.file.text()).toBe('user,item\n1,2\n');
		const list = await store.listDatasets();
		expect(list.map((d) => d.id).sort()).toEqual(['d1', 'd2']);
		expect(list.every((d) => !('file' in d))).toBe(true);
		await store.updateSettings({ activeDatasetId: 'd1' });
		await store.deleteDataset('d1');
		expect(await store.getDataset('d1')).toBeUndefined();
		expect((await store.getSettings()).activeDatasetId).toBeUndefined();
		expect((await store.listDatasets()).map((d) => d.id)).toEqual(['d2']);
	});

	it('round-trips models bit for bit and lists only metadata', async () => {
		const { store } = await fresh();
		const a = model('a', 1);
		// a view into a larger buffer: only the viewed bytes must be stored
		const big = new Float32Array(100).fill(9);
		big.set(a.userFactors, 10);
		const aView = { ...a, userFactors: big.subarray(10, 10 + a.userFactors.length) };
		await store.putModel(aView);
		await store.putModel(model('b', 2, 6, 2, 8));
		expectSameModel(await store.getModel('a'), a);
		expectSameModel(await store.getModel('b'), model('b', 2, 6, 2, 8));
		expect(await store.getModel('nope')).toBeUndefined();
		const list = await store.listModels();
		expect(list.map((m) => m.id).sort()).toEqual(['a', 'b']);
		expect(list.find((m) => m.id === 'a')).toEqual(a.meta);
	});

	it('renames a model and refuses to rename a missing one', async () => {
		const { store } = await fresh();
		const a = model('a', 1);
		await store.putModel(a);
		await store.renameModel('a', 'Renamed ♪');
		const got = await store.getModel('a');
		expect(got?.meta.name).toBe('Renamed ♪');
		expect(got?.meta).toEqual({ ...a.meta, name: 'Renamed ♪' });
		expect(bytes(got!.userFactors)).toEqual(bytes(a.userFactors));
		await expect(store.renameModel('zzz', 'x')).rejects.toMatchObject({
			code: 'store/failed',
			message: expect.stringMatching(/no model zzz/)
		});
	});

	it('deletes meta and data together and clears the active model', async () => {
		const { store, name } = await fresh();
		await store.putModel(model('a', 1));
		await store.putModel(model('b', 2));
		await store.updateSettings({ activeModelId: 'a', backend: 'wasm' });
		await store.deleteModel('a');
		expect(await store.getModel('a')).toBeUndefined();
		expect((await store.listModels()).map((m) => m.id)).toEqual(['b']);
		expect(await store.getSettings()).toEqual({ backend: 'wasm' });
		// the factor record is gone too (looked up directly)
		const raw = await openDB(name);
		expect(await raw.get('model_data', 'a')).toBeUndefined();
		expect(await raw.get('model_data', 'b')).toBeDefined();
		raw.close();
		// deleting another model leaves a different active model alone
		await store.updateSettings({ activeModelId: 'b' });
		await store.putModel(model('c', 3));
		await store.deleteModel('c');
		expect((await store.getSettings()).activeModelId).toBe('b');
	});

	it('merges settings updates and removes keys set to undefined', async () => {
		const { store } = await fresh();
		expect(await store.getSettings()).toEqual({});
		expect(await store.updateSettings({ backend: 'cpu' })).toEqual({ backend: 'cpu' });
		await store.updateSettings({ activeModelId: 'm' });
		expect(await store.getSettings()).toEqual({ backend: 'cpu', activeModelId: 'm' });
		await store.updateSettings({ backend: undefined });
		expect(await store.getSettings()).toEqual({ activeModelId: 'm' });
	});

	it('persists across reopening the database', async () => {
		const { store, name } = await fresh();
		const a = model('a', 5);
		await store.putModel(a);
		await store.updateSettings({ activeModelId: 'a' });
		store.close();
		const again = await openStore(name);
		open.push(again);
		expectSameModel(await again.getModel('a'), a);
		expect((await again.getSettings()).activeModelId).toBe('a');
	});

	it('a quota failure while writing the factors leaves neither meta nor data, nor harm', async () => {
		const { store, name } = await fresh();
		const keep = model('keep', 7);
		await store.putModel(keep);
		// the IDBObjectStore prototype of the implementation in use
		const probe = await openDB(name);
		const proto = Object.getPrototypeOf(
			probe.transaction('model_data').objectStore('model_data')
		) as { put: (...args: unknown[]) => unknown };
		probe.close();
		const realPut = proto.put;
		let calls = 0;
		proto.put = function (this: IDBObjectStore, ...args: unknown[]) {
			if (this.name === 'model_data') {
				calls++;
				throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
			}
			return realPut.apply(this, args);
		};
		let caught: unknown;
		try {
			await store.putModel(model('new', 8));
		} catch (e) {
			caught = e;
		} finally {
			proto.put = realPut;
		}
		expect(calls).toBe(1);
		expect(caught).toBeInstanceOf(MusicrecError);
		expect((caught as MusicrecError).code).toBe('store/quota');
		expect((caught as MusicrecError).message).toMatch(/storage space/);
		expect((caught as MusicrecError).message).toMatch(/delete models/);
		// nothing of the failed model landed
		expect((await store.listModels()).map((m) => m.id)).toEqual(['keep']);
		expect(await store.getModel('new')).toBeUndefined();
		const raw = await openDB(name);
		expect(await raw.get('model_meta', 'new')).toBeUndefined();
		expect(await raw.get('model_data', 'new')).toBeUndefined();
		raw.close();
		// the model stored before is byte-identical
		expectSameModel(await store.getModel('keep'), keep);
		// and the store still works
		await store.putModel(model('new', 8));
		expectSameModel(await store.getModel('new'), model('new', 8));
	});

	it('a value that cannot be cloned fails as store/failed and writes nothing', async () => {
		const { store } = await fresh();
		const bad = model('bad', 1);
		const unclonable = { ...bad, userIds: [(() => 1) as unknown as string] };
		await expect(store.putModel(unclonable)).rejects.toMatchObject({ code: 'store/failed' });
		expect(await store.listModels()).toEqual([]);
		expect(await store.getModel('bad')).toBeUndefined();
	});

	it('requests persistence and reads the estimate through navigator.storage', async () => {
		vi.stubGlobal('navigator', {
			storage: { persist: async () => true, estimate: async () => ({ usage: 5, quota: 100 }) }
		});
		try {
			expect(await requestPersistence()).toBe(true);
			expect(await storageEstimate()).toEqual({ usage: 5, quota: 100 });
		} finally {
			vi.unstubAllGlobals();
		}
		vi.stubGlobal('navigator', {});
		try {
			expect(await requestPersistence()).toBe(false);
			expect(await storageEstimate()).toBeUndefined();
		} finally {
			vi.unstubAllGlobals();
		}
	});
});
