/**
 * Writes tests/fixtures/store_v1_<commit>.json: the app's IndexedDB ("musicrec") as an older
 * version of the app leaves it after a person loaded a small dataset and trained a model on it.
 * Run with the older version's source: check that commit out in a worktree, link node_modules,
 * and run this file from there (`npx tsx scripts/store_fixture.ts OUT`), so that every record
 * is written by that version's own store, ingest and training code. The dump keeps the raw
 * records (binary as base64), so a test can put them back byte for byte and open them with the
 * current code. Node-only (fake-indexeddb).
 */
import 'fake-indexeddb/auto';
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { ingest } from '../src/lib/core/data/ingest';
import { Sha256 } from '../src/lib/core/format/sha256';
import { openStore } from '../src/lib/platform/store';
import { runTraining, type TrainEvent } from '../src/lib/workers/train.worker';
import { useBackend } from '../src/lib/node/tf_backend';

/** A KKBox-shaped file: 12 listeners in two taste groups over 16 songs. */
function csv(): string {
	const lines = [',msno,song_id,source_system_tab,source_screen_name,source_type,target'];
	let row = 0;
	for (let u = 0; u < 12; u++) {
		const group = u % 2;
		for (let k = 0; k < 5; k++) {
			const s = group * 8 + ((u * 3 + k * 5) % 8);
			lines.push(
				`${row++},user${u},song${s},my library,Local playlist more,local-library,${(u + k) % 3 ? 1 : 0}`
			);
		}
	}
	return lines.join('\n') + '\n';
}

type Tagged = unknown;

/** JSON-safe copy: ArrayBuffer/typed arrays/Blob tagged with their bytes in base64. */
async function encode(v: unknown): Promise<Tagged> {
	if (v instanceof Blob) {
		return { $blob: Buffer.from(await v.arrayBuffer()).toString('base64'), type: v.type };
	}
	if (v instanceof ArrayBuffer) return { $arrayBuffer: Buffer.from(v).toString('base64') };
	if (ArrayBuffer.isView(v)) {
		return {
			$typed: v.constructor.name,
			base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
		};
	}
	if (Array.isArray(v)) return Promise.all(v.map(encode));
	if (v && typeof v === 'object') {
		const out: Record<string, Tagged> = {};
		for (const [k, x] of Object.entries(v)) out[k] = await encode(x);
		return out;
	}
	return v;
}

async function main(): Promise<void> {
	const out = process.argv[2];
	if (!out) throw new Error('usage: tsx scripts/store_fixture.ts OUT.json');
	await useBackend('cpu');
	const text = csv();
	const file = new Blob([text], { type: 'text/csv' });
	const hash = new Sha256();
	hash.update(new TextEncoder().encode(text));
	const fingerprint = hash.hex();
	const parsed = await ingest(
		(async function* () {
			yield text;
		})()
	);
	const store = await openStore('musicrec');
	const datasetId = `fixture-${fingerprint.slice(0, 12)}`;
	await store.putDataset({
		id: datasetId,
		name: 'listening.csv',
		createdAt: '2026-11-28T10:00:00.000Z',
		fingerprint,
		file,
		summary: parsed.eda
	});
	const events: TrainEvent[] = [];
	await runTraining(
		{
			type: 'train',
			file,
			dataset: { name: 'listening.csv', fingerprint },
			name: 'stored by an older version',
			weighting: 'one-plus-target',
			params: { factors: 4, iterations: 4, regularization: 0.1, alpha: 2, seed: 3 },
			holdout: true
		},
		{
			post: (e) => void events.push(e),
			selectBackend: async () => ({ backend: 'cpu', probes: [{ name: 'cpu', ok: true, ms: 1 }] }),
			signal: { aborted: false },
			newId: () => 'model-from-older-version',
			now: () => new Date('2026-11-28T10:05:00.000Z')
		} as Parameters<typeof runTraining>[1]
	);
	const done = events.at(-1);
	if (!done || done.type !== 'done') throw new Error(`training failed: ${JSON.stringify(done)}`);
	await store.putModel(done.record);
	await store.updateSettings({ activeModelId: done.record.meta.id, activeDatasetId: datasetId });

	// The raw database, as IndexedDB holds it.
	const db = await new Promise<IDBDatabase>((resolve, reject) => {
		const r = indexedDB.open('musicrec');
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
	const stores: Record<string, unknown> = {};
	for (const name of Array.from(db.objectStoreNames)) {
		const tx = db.transaction(name, 'readonly');
		const os = tx.objectStore(name);
		const [keys, values] = await Promise.all(
			[os.getAllKeys(), os.getAll()].map(
				(r) => new Promise<unknown[]>((res) => (r.onsuccess = () => res(r.result as unknown[])))
			)
		);
		stores[name] = {
			keyPath: os.keyPath,
			records: await Promise.all(
				keys.map(async (k, i) => ({ key: k, value: await encode(values[i]) }))
			)
		};
	}
	const commit = execSync('git rev-parse HEAD').toString().trim();
	writeFileSync(
		out,
		JSON.stringify({ madeBy: commit, name: 'musicrec', version: db.version, stores }, null, '\t') +
			'\n'
	);
	console.log(`wrote ${out} (version ${db.version}, commit ${commit})`);
}

void main();
