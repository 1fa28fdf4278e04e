import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeModelFile, encodeModelFile } from '../../../src/lib/core/format/model_file';
import { openStore } from '../../../src/lib/platform/store';
import { ModelSession, readDataset } from '../../../src/lib/platform/model_session';
import { restoreStoreFixture, storeFixtures } from '../../helpers/store_fixture';
import { onBackend } from '../../helpers/tf_node';

const fixtures = storeFixtures();

/** The fixture's raw record of `store` (base64 fields still encoded). */
function raw(fixture: (typeof fixtures)[number], store: string): Record<string, unknown> {
	return fixture.stores[store].records[0].value as Record<string, unknown>;
}

function floatsOf(tagged: unknown): Float32Array {
	const b = Buffer.from((tagged as { $arrayBuffer: string }).$arrayBuffer, 'base64');
	return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

describe('a database written by an older version of the app', () => {
	onBackend('cpu');

	beforeEach(() => {
		// A fresh, empty IndexedDB per test.
		globalThis.indexedDB = new IDBFactory();
	});

	it('has fixtures from the first version that stored models and from the last one', () => {
		expect(fixtures.map((f) => f.madeBy.slice(0, 7)).sort()).toEqual(['4d93f6b', '9827245']);
	});

	for (const fixture of fixtures) {
		describe(`made by ${fixture.madeBy.slice(0, 7)}`, () => {
			it('opens with its datasets, models and settings as they were written', async () => {
				await restoreStoreFixture(fixture);
				const store = await openStore('musicrec');
				const settings = await store.getSettings();
				const rawSettings = raw(fixture, 'settings');
				expect(settings.activeModelId).toBe(rawSettings.activeModelId);
				expect(settings.activeDatasetId).toBe(rawSettings.activeDatasetId);

				const datasets = await store.listDatasets();
				const rawDataset = raw(fixture, 'datasets');
				expect(datasets.map((d) => d.id)).toEqual([rawDataset.id]);
				const entry = (await store.getDataset(String(rawDataset.id)))!;
				const fileBytes = Buffer.from((rawDataset.file as { $blob: string }).$blob, 'base64');
				expect(Buffer.from(await entry.file.arrayBuffer()).equals(fileBytes)).toBe(true);

				const rawMeta = raw(fixture, 'model_meta');
				const [meta] = await store.listModels();
				expect(meta).toEqual(rawMeta);
				const record = (await store.getModel(String(rawMeta.id)))!;
				const rawData = raw(fixture, 'model_data');
				expect(record.userIds).toEqual(rawData.userIds);
				expect(record.itemIds).toEqual(rawData.itemIds);
				expect(Array.from(record.itemFactors)).toEqual(Array.from(floatsOf(rawData.itemFactors)));
				expect(Array.from(record.userFactors)).toEqual(Array.from(floatsOf(rawData.userFactors)));
			});

			it('recommends, exports, renames, and stores a new model beside the old one', async () => {
				await restoreStoreFixture(fixture);
				const store = await openStore('musicrec');
				const settings = await store.getSettings();
				const record = (await store.getModel(settings.activeModelId!))!;
				const entry = (await store.getDataset(settings.activeDatasetId!))!;

				// Recommendations from the old model on the old dataset: x_u . y_i for the stored x_u,
				// the listener's own songs left out, checked against a direct product.
				const view = await readDataset(entry.file, record.meta.weighting, entry.summary.schema);
				expect(view.weightingNote).toBeUndefined();
				const session = new ModelSession(record, view);
				const user = record.userIds[0];
				const recs = await session.recommendForUser(user, 3);
				const f = record.meta.params.factors;
				const listened = new Set(
					Array.from(session.history(user).items).map((i) => record.itemIds[i])
				);
				const want = record.itemIds
					.map((id, i) => {
						let s = 0;
						for (let a = 0; a < f; a++) s += record.userFactors[a] * record.itemFactors[i * f + a];
						return { id, s };
					})
					.filter((r) => !listened.has(r.id))
					.sort((a, b) => b.s - a.s)
					.slice(0, 3);
				expect(recs.map((r) => r.itemId)).toEqual(want.map((w) => w.id));
				for (let k = 0; k < 3; k++) expect(recs[k].score).toBeCloseTo(want[k].s, 5);
				session.dispose();

				// Exported in today's file format, read back equal.
				const back = decodeModelFile(encodeModelFile(record));
				expect(back.meta).toEqual(record.meta);

				await store.renameModel(record.meta.id, 'renamed after the upgrade');
				await store.putModel({ ...back, meta: { ...back.meta, id: 'new-model', name: 'new' } });
				const names = (await store.listModels()).map((m) => m.name).sort();
				expect(names).toEqual(['new', 'renamed after the upgrade']);
			});
		});
	}
});
