import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../../src/lib/core/data/ingest';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import {
	ownersFromLabels,
	splitByOwner,
	splitByUsers
} from '../../../src/lib/core/federation/partition';
import { readTextChunks } from '../../../src/lib/node/files';
import { majorityLabels } from '../../../src/lib/core/federation/user_labels';

describe('split by a per-user label (KKBox source_system_tab)', () => {
	it('one client per label, null under other, rare labels merged when capped', () => {
		const labels = ['a', 'b', 'a', null, 'c', 'a', 'b', 'd'];
		const all = ownersFromLabels(labels, 10);
		// Groups by size: a (3), b (2), then c, d, other (1 each) by label.
		expect(all.labels).toEqual(['a', 'b', 'c', 'd', 'other']);
		expect(Array.from(all.owner)).toEqual([0, 1, 0, 4, 2, 0, 1, 3]);
		const capped = ownersFromLabels(labels, 3);
		expect(capped.labels).toEqual(['a', 'b', 'other']);
		expect(Array.from(capped.owner)).toEqual([0, 1, 0, 2, 2, 0, 1, 2]);
		expect(ownersFromLabels(['x', 'x'], 1).labels).toEqual(['x']);
	});

	it('splitByOwner gives each client exactly its users and their rows', () => {
		const data = syntheticZipf({ users: 30, items: 20, nnz: 200, seed: 2 });
		const owner = Int32Array.from({ length: 30 }, (_, u) => (u * 7) % 4);
		const shares = splitByOwner(data, owner, 4);
		const m = data.matrix;
		shares.forEach((share, k) => {
			const expected = Array.from(owner.keys()).filter((u) => owner[u] === k);
			expect(Array.from(share.users)).toEqual(expected);
			share.users.forEach((u, lu) => {
				const sm = share.interactions.matrix;
				const got = [];
				for (let e = sm.indptr[lu]; e < sm.indptr[lu + 1]; e++) {
					got.push([share.interactions.items.idAt(sm.indices[e]), sm.data[e]]);
				}
				const want = [];
				for (let e = m.indptr[u]; e < m.indptr[u + 1]; e++) {
					want.push([data.items.idAt(m.indices[e]), m.data[e]]);
				}
				expect(share.interactions.users.idAt(lu)).toBe(data.users.idAt(u));
				expect(got.sort()).toEqual(want.sort());
			});
		});
		// splitByUsers still deals evenly through the same path.
		const even = splitByUsers(data, 4, 'even', 1);
		expect(even.map((s) => s.users.length).sort()).toEqual([7, 7, 8, 8]);
	});

	it('majorityLabels: each user gets the tab of most of their rows', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'tabs-'));
		const path = join(dir, 'train.csv');
		const rows = [
			['u1', 's1', 'my library'],
			['u1', 's2', 'discover'],
			['u1', 's3', 'my library'],
			['u2', 's1', 'search'],
			['u2', 's4', ''],
			['u3', 's2', ''],
			['u4', 's3', 'discover'],
			['u4', 's4', 'radio'],
			['u4', 's1', 'radio']
		];
		writeFileSync(
			path,
			'msno,song_id,source_system_tab,source_screen_name,source_type,target\n' +
				rows.map(([u, s, t]) => `${u},${s},"${t}",x,y,1`).join('\n') +
				'\n'
		);
		const { interactions } = await ingest(readTextChunks(path));
		const tabs = await majorityLabels(readTextChunks(path), interactions);
		const byUser = Object.fromEntries(interactions.users.toArray().map((id, u) => [id, tabs[u]]));
		expect(byUser).toEqual({ u1: 'my library', u2: 'search', u3: null, u4: 'radio' });
	});

	it('majorityLabels: sniffs the separator, reads other column names, and says which column is missing', async () => {
		const text = 'user;item;tab\nu1;s1;a\nu1;s2;b\nu1;s3;b\nu2;s1;a\n';
		const { interactions } = await ingest(
			(async function* () {
				yield 'user;item\nu1;s1\nu1;s2\nu1;s3\nu2;s1\n';
			})()
		);
		// Chunks cut inside the header line.
		const tabs = await majorityLabels([text.slice(0, 5), text.slice(5)], interactions, {
			user: 'user',
			label: 'tab'
		});
		const byUser = Object.fromEntries(interactions.users.toArray().map((id, u) => [id, tabs[u]]));
		expect(byUser).toEqual({ u1: 'b', u2: 'a' });
		await expect(majorityLabels([text], interactions)).rejects.toThrow(/no msno column/);
	});
});
