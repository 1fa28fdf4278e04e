import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { MusicrecError } from '../../../src/lib/core/errors';
import { openDB } from 'idb';
import {
	FEDERATION_DB_VERSION,
	openFederationStore,
	type FederationInfo,
	type FederationStore,
	type ReceivedUpdate,
	type StoredGlobal
} from '../../../src/lib/platform/federation_store';

let counter = 0;
const open: FederationStore[] = [];

async function fresh(): Promise<{ store: FederationStore; name: string }> {
	const name = `musicrec-fed-test-${process.pid}-${++counter}`;
	const store = await openFederationStore(name);
	open.push(store);
	return { store, name };
}

afterEach(() => {
	for (const s of open.splice(0)) s.close();
});

function info(id: string): FederationInfo {
	return {
		id,
		mode: 'exact',
		params: alsParams({ factors: 4 }),
		createdAt: '2026-01-01T00:00:00.000Z',
		source: 'test',
		catalogSize: 3
	};
}

function global(federationId: string, round: number, extra: Partial<StoredGlobal> = {}) {
	return {
		federationId,
		round,
		text: `{"round":${round}}`,
		checksum: `sha256:${String(round).repeat(64).slice(0, 64)}`,
		createdAt: '2026-01-01T00:00:00.000Z',
		...extra
	} satisfies StoredGlobal;
}

function received(federationId: string, round: number, index: number, ok: boolean): ReceivedUpdate {
	return {
		federationId,
		round,
		index,
		fileName: `u${index}.json`,
		bytes: 100 + index,
		text: `update ${index}`,
		clientId: index.toString(16).padStart(16, '0'),
		verdict: ok
			? { status: 'accepted' }
			: { status: 'rejected', code: 'federation/wrong-round', reason: 'wrong round' }
	};
}

describe('federation store', () => {
	it('keeps role, federations, rounds, received updates and the client global across reopen', async () => {
		const { store, name } = await fresh();
		expect(await store.getUi()).toEqual({});
		await store.updateUi({ role: 'client' });
		await store.updateUi({ federationId: 'fed-a' });
		await store.createFederation(info('fed-a'), global('fed-a', 0));
		await store.putGlobal(global('fed-a', 1, { aggregatedFrom: { accepted: 2, bytes: 201 } }));
		await store.replaceReceived('fed-a', 0, [
			received('fed-a', 0, 0, true),
			received('fed-a', 0, 1, false)
		]);
		await store.replaceReceived('fed-a', 1, [received('fed-a', 1, 0, true)]);
		await store.putClientGlobal({
			fileName: 'g.json',
			text: 'global text',
			checksum: 'sha256:' + 'a'.repeat(64),
			federationId: 'fed-a',
			round: 1,
			importedAt: '2026-01-02T00:00:00.000Z'
		});
		store.close();
		open.pop();

		const again = await openFederationStore(name);
		open.push(again);
		expect(await again.getUi()).toEqual({ role: 'client', federationId: 'fed-a' });
		expect(await again.getFederation('fed-a')).toEqual(info('fed-a'));
		const globals = await again.listGlobals('fed-a');
		expect(globals.map((g) => g.round)).toEqual([0, 1]);
		expect(globals[1].aggregatedFrom).toEqual({ accepted: 2, bytes: 201 });
		const r0 = await again.listReceived('fed-a', 0);
		expect(r0.map((r) => [r.index, r.verdict.status])).toEqual([
			[0, 'accepted'],
			[1, 'rejected']
		]);
		expect(r0[1].verdict).toMatchObject({ reason: 'wrong round' });
		expect((await again.listReceived('fed-a', 1)).length).toBe(1);
		expect((await again.getClientGlobal())?.text).toBe('global text');
	});

	it('replaces a round of received updates without touching other rounds or federations', async () => {
		const { store } = await fresh();
		await store.createFederation(info('fed-a'), global('fed-a', 0));
		await store.createFederation(info('fed-b'), global('fed-b', 0));
		await store.replaceReceived(
			'fed-a',
			0,
			[0, 1, 2].map((i) => received('fed-a', 0, i, true))
		);
		await store.replaceReceived('fed-b', 0, [received('fed-b', 0, 0, true)]);
		await store.replaceReceived('fed-a', 0, [received('fed-a', 0, 0, false)]);
		const a = await store.listReceived('fed-a', 0);
		expect(a.map((r) => r.verdict.status)).toEqual(['rejected']);
		expect((await store.listReceived('fed-b', 0)).length).toBe(1);
		expect((await store.listFederations()).map((f) => f.id).sort()).toEqual(['fed-a', 'fed-b']);
		expect((await store.listGlobals('fed-b')).length).toBe(1);
		// An update of another round is refused and nothing changes.
		await expect(
			store.replaceReceived('fed-a', 0, [received('fed-a', 1, 0, true)])
		).rejects.toBeInstanceOf(MusicrecError);
		expect((await store.listReceived('fed-a', 0)).length).toBe(1);
	});

	it('refuses a duplicate federation id and globals that skip or repeat a round', async () => {
		const { store } = await fresh();
		await store.createFederation(info('fed-a'), global('fed-a', 0));
		await expect(store.createFederation(info('fed-a'), global('fed-a', 0))).rejects.toThrow(
			/exists already/
		);
		await expect(store.putGlobal(global('fed-a', 2))).rejects.toThrow(/does not follow/);
		await expect(store.putGlobal(global('fed-a', 0))).rejects.toThrow(/does not follow/);
		await expect(store.putGlobal(global('fed-x', 1))).rejects.toThrow(/unknown federation/);
		await store.putGlobal(global('fed-a', 1));
		await expect(store.putGlobal(global('fed-a', 1))).rejects.toThrow(/does not follow/);
		expect((await store.listGlobals('fed-a')).map((g) => g.round)).toEqual([0, 1]);
		// A failed creation (first global not round 0) leaves no federation behind.
		await expect(store.createFederation(info('fed-c'), global('fed-c', 1))).rejects.toThrow(
			/round 0/
		);
		expect(await store.getFederation('fed-c')).toBeUndefined();
	});

	it('upgrades a version-1 database (before secure rounds) without losing anything', async () => {
		const name = `musicrec-fed-v1-${process.pid}`;
		// The version-1 schema, written as the older app did.
		const v1 = await openDB(name, 1, {
			upgrade(db) {
				db.createObjectStore('federations', { keyPath: 'id' });
				db.createObjectStore('globals', { keyPath: ['federationId', 'round'] });
				db.createObjectStore('received', { keyPath: ['federationId', 'round', 'index'] });
				db.createObjectStore('state');
			}
		});
		await v1.put('federations', info('fed-old'));
		await v1.put('globals', global('fed-old', 0));
		await v1.put('received', received('fed-old', 0, 0, true));
		await v1.put('state', { role: 'coordinator', federationId: 'fed-old' }, 'ui');
		v1.close();

		const store = await openFederationStore(name);
		open.push(store);
		expect(await store.getFederation('fed-old')).toEqual(info('fed-old'));
		expect((await store.listGlobals('fed-old')).map((g) => g.round)).toEqual([0]);
		expect((await store.listReceived('fed-old', 0)).map((r) => r.fileName)).toEqual(['u0.json']);
		expect(await store.getUi()).toEqual({ role: 'coordinator', federationId: 'fed-old' });
		// The new store works, and the round it refers to must exist.
		const fresh = {
			federationId: 'fed-old',
			round: 0,
			phase: 'keys' as const,
			keys: [],
			masked: [],
			answers: []
		};
		await store.putSecureRound(fresh);
		expect(await store.getSecureRound('fed-old', 0)).toEqual(fresh);
		await expect(store.putSecureRound({ ...fresh, round: 5 })).rejects.toThrow(/no global/);
		store.close();
		open.pop();
		const raw = await openDB(name);
		expect(raw.version).toBe(FEDERATION_DB_VERSION);
		expect([...raw.objectStoreNames].sort()).toEqual(
			['federations', 'globals', 'received', 'secureRounds', 'state'].sort()
		);
		raw.close();
	});
});
