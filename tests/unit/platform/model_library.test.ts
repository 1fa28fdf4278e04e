import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { decodeModelFile, encodeModelFile } from '../../../src/lib/core/format/model_file';
import type { ModelRecord } from '../../../src/lib/core/model_record';
import {
	exportModelFile,
	importModelFile,
	modelFileName,
	saveTrainedModel
} from '../../../src/lib/platform/model_library';
import { openStore } from '../../../src/lib/platform/store';
import type { Store } from '../../../src/lib/platform/store_api';

const open: Store[] = [];
afterEach(() => open.splice(0).forEach((s) => s.close()));

let counter = 0;
async function fresh(): Promise<Store> {
	const store = await openStore(`model-library-${process.pid}-${++counter}`);
	open.push(store);
	return store;
}

function model(id: string, name: string): ModelRecord {
	const f = 2;
	return {
		meta: {
			id,
			name,
			type: 'als',
			createdAt: '2026-01-01T00:00:00.000Z',
			params: alsParams({ factors: f }),
			weighting: 'raw',
			holdout: false,
			dataset: { name: 'd.csv', fingerprint: 'f'.repeat(64), users: 2, items: 3, nnz: 4 },
			training: { seconds: 0.5, sweeps: 2, backend: 'cpu', loss: [2, 1] },
			sizeBytes: 5 * f * 4
		},
		userIds: ['u1', 'u2'],
		itemIds: ['a', 'b', 'c'],
		userFactors: Float32Array.from([1, 2, 3, 4]),
		itemFactors: Float32Array.from([5, 6, 7, 8, 9, 10])
	};
}

describe('model library', () => {
	it('exports a stored model as its file, and imports it back under a fresh id', async () => {
		const store = await fresh();
		await store.putModel(model('m1', 'Mon modèle: v2!'));
		const { text, fileName } = await exportModelFile(store, 'm1');
		expect(fileName).toBe('Mon_mod_le_v2.musicrec-model.json');
		const stored = (await store.getModel('m1'))!;
		expect(decodeModelFile(text).meta).toEqual(stored.meta);
		expect(decodeModelFile(text).itemFactors).toEqual(stored.itemFactors);
		const imported = await importModelFile(store, text);
		expect(imported.meta.id).not.toBe('m1');
		expect(imported.meta.name).toBe('Mon modèle: v2!');
		expect((await store.listModels()).map((m) => m.id).sort()).toEqual(
			[imported.meta.id, 'm1'].sort()
		);
		expect(Array.from((await store.getModel(imported.meta.id))!.itemFactors)).toEqual([
			5, 6, 7, 8, 9, 10
		]);
	});

	it('a damaged file is refused and nothing is stored', async () => {
		const store = await fresh();
		const text = encodeModelFile(model('m2', 'x'));
		await expect(
			importModelFile(store, text.replace('"factors":2', '"factors":3'))
		).rejects.toThrow();
		await expect(importModelFile(store, 'not json')).rejects.toThrow();
		expect(await store.listModels()).toEqual([]);
		await expect(exportModelFile(store, 'missing')).rejects.toThrow(/no longer stored/);
	});

	it('file names keep letters, digits, dash and underscore', () => {
		expect(modelFileName('  ')).toBe('model.musicrec-model.json');
		expect(modelFileName('a-b_c 1')).toBe('a-b_c_1.musicrec-model.json');
	});

	it('the first trained model becomes active by itself; later ones do not, until the active one is deleted', async () => {
		const store = await fresh();
		expect((await saveTrainedModel(store, model('a', 'first'))).activated).toBe(true);
		expect((await store.getSettings()).activeModelId).toBe('a');
		expect((await saveTrainedModel(store, model('b', 'second'))).activated).toBe(false);
		expect((await store.getSettings()).activeModelId).toBe('a');
		await store.deleteModel('a');
		expect((await saveTrainedModel(store, model('c', 'third'))).activated).toBe(true);
		expect((await store.getSettings()).activeModelId).toBe('c');
	});

	it('a model trained on a dataset with names keeps them through the store, export and import', async () => {
		const store = await fresh();
		const names = { source: 'artists.dat', ids: ['c', 'a', 'zz'], names: ['Cee', 'Ay', 'Zed'] };
		const { record } = await saveTrainedModel(store, model('n', 'named'), {
			names,
			medianPlays: 12.5
		});
		expect(record.itemNames).toEqual(['Ay', '', 'Cee']);
		expect((await store.getModel('n'))!.itemNames).toEqual(['Ay', '', 'Cee']);
		const { text } = await exportModelFile(store, 'n');
		const imported = await importModelFile(store, text);
		expect((await store.getModel(imported.meta.id))!.itemNames).toEqual(['Ay', '', 'Cee']);
		expect((await store.getModel(imported.meta.id))!.meta.dataset.medianPlays).toBe(12.5);
		// Names of other data (none of the items): the model is stored without names.
		const other = { source: 'x', ids: ['q'], names: ['Q'] };
		const { record: plain } = await saveTrainedModel(store, model('p', 'plain'), {
			names: other
		});
		expect('itemNames' in plain).toBe(false);
		expect('itemNames' in (await store.getModel('p'))!).toBe(false);
		expect('medianPlays' in plain.meta.dataset).toBe(false);
	});
});
