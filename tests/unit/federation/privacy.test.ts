import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { ingest } from '../../../src/lib/core/data/ingest';
import { decodeBase64 } from '../../../src/lib/core/format/base64';
import { Rng } from '../../../src/lib/core/random';
import { aggregate } from '../../../src/lib/core/federation/aggregate';
import { computeClientUpdate } from '../../../src/lib/core/federation/client_update';
import { createInitialGlobal, publishGlobal } from '../../../src/lib/core/federation/global_file';
import { packedSize } from '../../../src/lib/core/federation/packed_symmetric';
import { splitByUsers } from '../../../src/lib/core/federation/partition';
import { encodeUpdateFile, exactPayloadFloats } from '../../../src/lib/core/federation/update_file';
import { readTextChunks } from '../../../src/lib/node/files';

describe('privacy: what an exact update carries', () => {
	it('no msno, no user-sized block, and exactly f^2 + touched (f(f+1)/2 + f) floats', async () => {
		const { interactions } = await ingest(readTextChunks('static/data/kkbox_train_10k.csv'));
		const f = 8;
		const params = alsParams({ factors: f, regularization: 0.1, alpha: 1, seed: 9 });
		const shares = splitByUsers(interactions, 3, 'activity', 5);
		// Catalog: every song but each fifth one, so some client songs are
		// missing from it (they must not travel either).
		const catalog = interactions.items.toArray().filter((_, i) => i % 5 !== 0);
		let global = publishGlobal(
			createInitialGlobal({ federationId: 'kkbox-demo', mode: 'exact', params, catalog })
		);
		const allUserIds = interactions.users.toArray();
		const uncatalogued = interactions.items.toArray().filter((_, i) => i % 5 === 0);
		expect(allUserIds.length).toBeGreaterThan(100);
		const rng = new Rng(1);
		for (let round = 0; round < 2; round++) {
			const updates = shares.map((share) => {
				const { update, unknownSongEntries } = computeClientUpdate(global, share.interactions, {
					random: () => rng.next()
				});
				expect(unknownSongEntries).toBeGreaterThan(0);
				const text = encodeUpdateFile(update);
				const users = share.interactions.users.size;
				const touched = update.counts.touchedItems;
				// The data is such that no legitimate dimension equals the user count.
				expect([f, touched, packedSize(f)]).not.toContain(users);

				// 1. No user id string (msno), of this client or any other, and no uncatalogued song.
				for (const id of allUserIds) expect(text.includes(id), id).toBe(false);
				for (const id of uncatalogued) expect(text.includes(id), id).toBe(false);

				// 2. Nothing but the documented fields and tensors.
				const parsed = JSON.parse(text) as {
					meta: Record<string, unknown>;
					tensors: Record<string, { dtype: string; shape: number[]; data: string }>;
				};
				expect(Object.keys(parsed).sort()).toEqual(
					['checksum', 'created_at', 'format', 'kind', 'meta', 'tensors', 'version'].sort()
				);
				expect(Object.keys(parsed.meta).sort()).toEqual(
					['baseChecksum', 'clientId', 'counts', 'federationId', 'mode', 'round'].sort()
				);
				expect(parsed.meta.counts).toEqual({
					users: expect.any(Number),
					interactions: expect.any(Number),
					touchedItems: touched,
					// sum c_ui, for robust screening's energy bound; A and b already determine it.
					confidence: expect.any(Number)
				});
				expect(Object.keys(parsed.tensors).sort()).toEqual(['A', 'G', 'b', 'touched']);

				// 3. No tensor dimension is a user count.
				let floats = 0;
				let ints = 0;
				for (const t of Object.values(parsed.tensors)) {
					for (const d of t.shape) expect(d).not.toBe(users);
					const n = t.shape.reduce((a, b) => a * b, 1);
					expect(decodeBase64(t.data).length).toBe(4 * n);
					if (t.dtype === 'float32') floats += n;
					else ints += n;
				}
				// 4. The payload is exactly the formula.
				expect(floats).toBe(f * f + touched * ((f * (f + 1)) / 2 + f));
				expect(floats).toBe(exactPayloadFloats(f, touched));
				expect(ints).toBe(touched);
				expect(parsed.tensors.touched.dtype).toBe('int32');
				return update;
			});
			global = publishGlobal(aggregate(global, updates));
		}
	});
});
