import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import { publishGlobal, readGlobalFile } from '../../../src/lib/core/federation/global_file';
import type { GlobalModel } from '../../../src/lib/core/federation/global_file';
import { packedSize } from '../../../src/lib/core/federation/packed_symmetric';
import { decodeUpdateFile, encodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import type { ClientUpdate } from '../../../src/lib/core/federation/update_file';
import { decodeModelFile, encodeModelFile } from '../../../src/lib/core/format/model_file';
import type { ModelRecord } from '../../../src/lib/core/model_record';
import {
	canon,
	checkMutant,
	deepRejections,
	mutate,
	mutationArb,
	newTally
} from '../../helpers/file_mutation';

const CREATED_AT = '2026-01-02T03:04:05.000Z';

// ---------------------------------------------------------------------------------------------
// Generators

const idArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 });
const idsArb = (max: number) => fc.uniqueArray(idArb, { maxLength: max });
/** Any finite float32 (including -0 and subnormals), as stored. */
const float32Arb = fc.float({ noNaN: true, noDefaultInfinity: true });
const floatsArb = (n: number) => fc.array(float32Arb, { minLength: n, maxLength: n });
/** JSON writes -0 as 0, so metadata numbers are generated without it (factors keep it). */
const noNegativeZero = (x: number) => (x === 0 ? 0 : x);
const finiteArb = fc.double({ noNaN: true, noDefaultInfinity: true }).map(noNegativeZero);
const weightingArb = fc.constantFrom(
	'one-plus-target',
	'all-ones',
	'positive-only',
	'raw',
	'log1p',
	'binary'
) as fc.Arbitrary<ModelRecord['meta']['weighting']>;
const paramsArb = fc
	.record({
		factors: fc.integer({ min: 1, max: 3 }),
		iterations: fc.integer({ min: 0, max: 20 }),
		regularization: fc.double({ min: 0, max: 10, noNaN: true }).map(noNegativeZero),
		alpha: fc.double({ min: 0.01, max: 100, noNaN: true }),
		cgSteps: fc.integer({ min: 1, max: 5 }),
		convention: fc.constantFrom('hkv' as const, 'implicit' as const),
		seed: fc.integer({ min: 0, max: 0xffffffff })
	})
	.map((p) => alsParams(p));
const rankingArb = fc.record(
	{ precision: finiteArb, recall: finiteArb, ndcg: finiteArb, map: finiteArb, auc: finiteArb },
	{ requiredKeys: ['precision', 'recall', 'ndcg', 'map'] }
);

const modelArb: fc.Arbitrary<ModelRecord> = fc
	.record({
		params: paramsArb,
		userIds: idsArb(4),
		itemIds: idsArb(4),
		id: idArb,
		name: fc.string({ maxLength: 8 }),
		weighting: weightingArb,
		holdout: fc.boolean(),
		metrics: fc.option(
			fc.record({
				k: fc.integer({ min: 1, max: 50 }),
				ranking: rankingArb,
				popularity: rankingArb,
				evalUsers: fc.nat()
			}),
			{ nil: undefined }
		),
		loss: fc.array(finiteArb, { maxLength: 3 }),
		seconds: fc.double({ min: 0, max: 1e6, noNaN: true }).map(noNegativeZero),
		seed: fc.nat()
	})
	.chain((r) => {
		const f = r.params.factors;
		return fc
			.tuple(floatsArb(r.userIds.length * f), floatsArb(r.itemIds.length * f))
			.map(([uf, itf]): ModelRecord => {
				const { metrics } = r;
				return {
					meta: {
						id: r.id,
						name: r.name,
						type: 'als',
						createdAt: CREATED_AT,
						params: r.params,
						weighting: r.weighting,
						holdout: r.holdout,
						dataset: {
							name: 'data.csv',
							fingerprint: 'ab'.repeat(32),
							users: r.userIds.length,
							items: r.itemIds.length,
							nnz: r.seed
						},
						...(metrics === undefined
							? {}
							: {
									metrics: {
										k: metrics.k,
										...metrics.ranking,
										popularity: metrics.popularity,
										evalUsers: metrics.evalUsers
									}
								}),
						training: { seconds: r.seconds, sweeps: r.loss.length, backend: 'cpu', loss: r.loss },
						sizeBytes: 4 * (uf.length + itf.length)
					},
					userIds: r.userIds,
					itemIds: r.itemIds,
					userFactors: Float32Array.from(uf),
					itemFactors: Float32Array.from(itf)
				};
			});
	});

const hexArb = (n: number) =>
	fc
		.array(fc.constantFrom(...'0123456789abcdef'), { minLength: n, maxLength: n })
		.map((cs) => cs.join(''));
const federationIdArb = fc
	.array(fc.constantFrom(...'abcXYZ019._-'), { minLength: 1, maxLength: 10 })
	.map((cs) => cs.join(''));

const updateArb: fc.Arbitrary<ClientUpdate> = fc
	.record({
		federationId: federationIdArb,
		round: fc.nat({ max: 1000 }),
		baseChecksum: hexArb(64).map((h) => `sha256:${h}`),
		clientId: hexArb(16),
		users: fc.nat(),
		interactions: fc.nat(),
		f: fc.integer({ min: 1, max: 3 }),
		mode: fc.constantFrom('exact' as const, 'compact' as const),
		touched: fc.uniqueArray(fc.nat({ max: 50 }), { maxLength: 4 }),
		catalog: fc.nat({ max: 4 }),
		songIds: fc.uniqueArray(idArb, { maxLength: 3 })
	})
	.chain((r) => {
		const f = r.f;
		const ps = packedSize(f);
		const touched = Int32Array.from(r.touched.sort((a, b) => a - b));
		const t = touched.length;
		const n = r.songIds.length;
		return fc
			.tuple(
				floatsArb(f * f),
				floatsArb(r.mode === 'exact' ? t * ps : 0),
				floatsArb(r.mode === 'exact' ? t * f : r.catalog * f),
				floatsArb(n * ps),
				floatsArb(n * f)
			)
			.map(([gram, a, b, pa, pb]): ClientUpdate => {
				const payload =
					r.mode === 'exact'
						? {
								mode: 'exact' as const,
								gram: Float32Array.from(gram),
								touched,
								itemGrams: Float32Array.from(a),
								itemTargets: Float32Array.from(b)
							}
						: {
								mode: 'compact' as const,
								gram: Float32Array.from(gram),
								gradient: Float32Array.from(b)
							};
				return {
					federationId: r.federationId,
					round: r.round,
					baseChecksum: r.baseChecksum,
					clientId: r.clientId,
					counts: {
						users: r.users,
						interactions: r.interactions,
						touchedItems: r.mode === 'exact' ? t : r.catalog
					},
					factors: f,
					payload,
					...(n === 0
						? {}
						: {
								proposals: {
									songIds: r.songIds,
									itemGrams: Float32Array.from(pa),
									itemTargets: Float32Array.from(pb)
								}
							})
				};
			});
	});

const globalArb: fc.Arbitrary<GlobalModel> = fc
	.record({
		federationId: federationIdArb,
		round: fc.nat({ max: 1000 }),
		previous: hexArb(64).map((h) => `sha256:${h}`),
		mode: fc.constantFrom('exact' as const, 'compact' as const),
		params: paramsArb,
		catalog: fc.uniqueArray(idArb, { maxLength: 4 }),
		weighting: fc.option(weightingArb, { nil: undefined })
	})
	.chain((r) =>
		floatsArb(r.catalog.length * r.params.factors).map((y): GlobalModel => ({
			federationId: r.federationId,
			round: r.round,
			mode: r.mode,
			params: r.params,
			catalog: r.catalog,
			previousChecksum: r.round === 0 ? null : r.previous,
			itemFactors: Float32Array.from(y),
			...(r.weighting === undefined ? {} : { weighting: r.weighting })
		}))
	);

const RUNS = 1500;

describe('model file (property)', () => {
	it('encode -> decode gives back the record bit for bit', () => {
		fc.assert(
			fc.property(modelArb, (record) => {
				const text = encodeModelFile(record, { createdAt: CREATED_AT });
				expect(canon(decodeModelFile(text))).toStrictEqual(canon(record));
				// Encoding is deterministic: the decoded record writes the same text.
				expect(encodeModelFile(decodeModelFile(text), { createdAt: CREATED_AT })).toBe(text);
			}),
			{ seed: 42, numRuns: 200 }
		);
	});

	it('a mutated file is rejected with a file/ error or decodes to the original', () => {
		const tally = newTally();
		fc.assert(
			fc.property(modelArb, mutationArb, (record, m) => {
				const text = encodeModelFile(record, { createdAt: CREATED_AT });
				checkMutant(decodeModelFile, mutate(text, m), record, ['file/'], tally);
			}),
			{ seed: 42, numRuns: RUNS }
		);
		// Not vacuous: mutants are mostly refused, and not only by the JSON parser.
		expect(tally.accepted).toBeLessThan(RUNS / 2);
		expect(deepRejections(tally)).toBeGreaterThan(RUNS / 10);
	});
});

describe('update file (property)', () => {
	it('encode -> decode gives back the update bit for bit', () => {
		fc.assert(
			fc.property(updateArb, (update) => {
				const text = encodeUpdateFile(update, { createdAt: CREATED_AT });
				expect(canon(decodeUpdateFile(text))).toStrictEqual(canon(update));
			}),
			{ seed: 42, numRuns: 200 }
		);
	});

	it('a mutated file is rejected with a file/ or federation/ error or decodes to the original', () => {
		const tally = newTally();
		fc.assert(
			fc.property(updateArb, mutationArb, (update, m) => {
				const text = encodeUpdateFile(update, { createdAt: CREATED_AT });
				checkMutant(decodeUpdateFile, mutate(text, m), update, ['file/', 'federation/'], tally);
			}),
			{ seed: 42, numRuns: RUNS }
		);
		expect(tally.accepted).toBeLessThan(RUNS / 2);
		expect(deepRejections(tally)).toBeGreaterThan(RUNS / 10);
	});
});

describe('global file (property)', () => {
	it('publish -> read gives back the model bit for bit, with the same checksum', () => {
		fc.assert(
			fc.property(globalArb, (model) => {
				const published = publishGlobal(model, { createdAt: CREATED_AT });
				const read = readGlobalFile(published.text);
				expect(canon(read.model)).toStrictEqual(canon(model));
				expect(read.checksum).toBe(published.checksum);
			}),
			{ seed: 42, numRuns: 200 }
		);
	});

	it('a mutated file is rejected with a file/ or federation/ error or reads as the original', () => {
		const tally = newTally();
		fc.assert(
			fc.property(globalArb, mutationArb, (model, m) => {
				const published = publishGlobal(model, { createdAt: CREATED_AT });
				const original = { model, checksum: published.checksum };
				const read = (text: string) => {
					const g = readGlobalFile(text);
					return { model: g.model, checksum: g.checksum };
				};
				checkMutant(read, mutate(published.text, m), original, ['file/', 'federation/'], tally);
			}),
			{ seed: 42, numRuns: RUNS }
		);
		expect(tally.accepted).toBeLessThan(RUNS / 2);
		expect(deepRejections(tally)).toBeGreaterThan(RUNS / 10);
	});
});
