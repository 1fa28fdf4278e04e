/**
 * Hostile secure-round files: every file of a real round (keys, roster, masked update, unmask
 * request, unmask shares), mutated character by character, is refused with one of the app's
 * errors or read back exactly as written. The coordinator and the clients call these readers on
 * whatever they are handed.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { clientStatistics } from '../../../src/lib/core/federation/client_update';
import { createInitialGlobal, publishGlobal } from '../../../src/lib/core/federation/global_file';
import { splitByUsers } from '../../../src/lib/core/federation/partition';
import {
	decodeKeysFile,
	decodeMaskedUpdate,
	decodeRoster,
	decodeUnmaskRequest,
	decodeUnmaskShares
} from '../../../src/lib/core/federation/secure/files';
import { runLocalSecureRound } from '../../../src/lib/core/federation/secure/local_round';
import { vectorLayout } from '../../../src/lib/core/federation/secure/statistics_vector';
import {
	checkMutant,
	deepRejections,
	mutate,
	mutationArb,
	newTally
} from '../../helpers/file_mutation';

let files: { name: string; text: string; decode: (t: string) => unknown }[] = [];

beforeAll(async () => {
	const data = syntheticZipf({ users: 30, items: 12, nnz: 150, seed: 1 });
	const global = publishGlobal(
		createInitialGlobal({
			federationId: 'mutation',
			mode: 'exact',
			params: alsParams({ factors: 2, seed: 1 }),
			catalog: data.items.toArray(),
			secure: { minCohort: 3, scaleBits: 24, clipPerUser: null }
		})
	);
	const locals = splitByUsers(data, 4, 'even', 1).map((s) => s.interactions);
	const round = await runLocalSecureRound(
		global,
		locals.map((l) => clientStatistics(global, l)),
		{ dropAfterKeys: new Set([3]) }
	);
	const t = round.transcript;
	const length = vectorLayout(global.model).length;
	files = [
		{ name: 'keys', text: t.keys[0], decode: (x) => decodeKeysFile(x).value },
		{ name: 'roster', text: t.roster, decode: (x) => decodeRoster(x).value },
		{
			name: 'masked update',
			text: t.masked[0]!,
			decode: (x) => decodeMaskedUpdate(x, { members: 4, length }).value
		},
		{ name: 'unmask request', text: t.request, decode: (x) => decodeUnmaskRequest(x).value },
		{ name: 'unmask shares', text: t.answers[0]!, decode: (x) => decodeUnmaskShares(x).value }
	];
});

describe('secure-round files (property)', () => {
	it('a mutated file is refused with a file/ or federation/ error, or reads back unchanged', () => {
		for (const f of files) {
			const original = f.decode(f.text);
			const tally = newTally();
			fc.assert(
				fc.property(mutationArb, (m) => {
					checkMutant(f.decode, mutate(f.text, m), original, ['file/', 'federation/'], tally);
				}),
				{ seed: 7, numRuns: 400 }
			);
			// Mutants must get past the JSON parser often enough to test the field checks too.
			expect(deepRejections(tally), f.name).toBeGreaterThan(20);
		}
	});
});
