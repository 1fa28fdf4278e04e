import { fit } from '../als/fit';
import { AlsModel } from '../als/model';
import { alsParams, type AlsParams } from '../als/params';
import type { Csr } from '../data/csr';
import type { Interactions } from '../data/interactions';
import { MusicrecError } from '../errors';
import { evaluateRanker } from '../eval/evaluate';
import { holdoutSplit, type HoldoutSplit } from '../eval/split';
import { Rng } from '../random';
import { aggregate, createCompactState, type AggregateOptions } from './aggregate';
import { attackers, poisonInteractions, poisonStatistics, type Attack } from './attacks';
import { topKRate } from '../eval/target_rate';
import { usersWithTestItems } from '../eval/evaluate';
import {
	clientStatistics,
	statisticsNorm,
	updateFromStatistics,
	type ClientStatistics
} from './client_update';
import type { FederationMode } from './fields';
import {
	createInitialGlobal,
	DEFAULT_SECURE_SETTINGS,
	publishGlobal,
	type GlobalModel,
	type PublishedGlobal,
	type SecureSettings
} from './global_file';
import type { InfluenceCapOptions } from './influence_caps';
import { plainRound } from './plain_round';
import { runLocalSecureRound } from './secure/local_round';
import { splitByOwner, splitByUsers, type ClientShare, type PartitionKind } from './partition';
import { encodeUpdateFile, randomClientId } from './update_file';
import {
	DEFAULT_ROBUST_OPTIONS,
	sumConsistency,
	sumEnergy,
	type RobustCheck,
	type RobustOptions
} from './robust';

export interface SimulationOptions {
	readonly interactions: Interactions;
	readonly clients: number;
	readonly rounds: number;
	readonly mode: FederationMode;
	readonly split: PartitionKind;
	/**
	 * Client of each user (global user order, values in [0, clients)); when given it replaces
	 * `split`, e.g. `ownersFromLabels(...).owner` for a split by KKBox source_system_tab.
	 */
	readonly owner?: Int32Array;
	readonly params?: Partial<AlsParams>;
	/** Seed of the holdout, the client split and the client ids. Default 1. */
	readonly seed?: number;
	readonly aggregate?: AggregateOptions;
	/**
	 * compact mode: per-item secant steps (`createCompactState`) unless false. Ignored when
	 * `aggregate.compactState` is given.
	 */
	readonly compactSecant?: boolean;
	/** One client (two with an accomplice) sends poisoned statistics every round (attacks.ts). */
	readonly attack?: Attack;
	/**
	 * A catalog song whose top-10 rate among the honest clients' evaluated users is recorded
	 * each round (`target_top10_rate`); a targeted attack without a target pushes this one.
	 */
	readonly targetSong?: string;
	/** Screen updates with `screenUpdates` before aggregating (true: default options; plain only). */
	readonly robust?: boolean | RobustOptions;
	/** Influence caps (influence_caps.ts) on the kept updates (true: defaults; plain only). */
	readonly caps?: boolean | InfluenceCapOptions;
	/**
	 * Secure aggregation (secure/): every round runs the keys, masked update and unmask phases
	 * through their files, and the coordinator sees only the survivors' sum. true: default
	 * settings.
	 */
	readonly secure?: boolean | Partial<SecureSettings>;
	/**
	 * Clients that vanish after the key phase each round (drawn at random per round); in a
	 * plain round they simply send nothing.
	 */
	readonly dropouts?: number;
	readonly onRound?: (record: RoundRecord) => void;
}

export interface RoundRecord {
	/** 1-based: the global after this many rounds. */
	readonly round: number;
	readonly ndcg_at_10: number;
	/**
	 * Centralized ALS by the core's trainer (`fit`, solves run to convergence) after `round`
	 * sweeps from the same initial Y (`centralReference`).
	 */
	readonly central_ndcg_at_10: number;
	/**
	 * The plain aggregation of the same surviving clients' statistics against the same global
	 * (in a plain round: the round itself).
	 */
	readonly plain_ndcg_at_10: number;
	/** max |Y_round - Y_plain| over the item factors of the two. */
	readonly max_abs_factor_diff_vs_plain: number;
	readonly secure: boolean;
	/** Clients (share index) that vanished after the key phase this round. */
	readonly dropped: readonly number[];
	/**
	 * Mean characters (= bytes: the text is ASCII) a client that took part uploaded: its update
	 * file, or in a secure round its keys, masked update and unmask shares files.
	 */
	readonly bytes_per_client: number;
	/** Mean wall time of a client's part (statistics, encoding, masking and shares), s. */
	readonly client_s: number;
	/** Wall time of the coordinator's part (validation or the secure phases, aggregation), s. */
	readonly coordinator_s: number;
	/** Wall time of the whole round, s. */
	readonly round_s: number;
	readonly accepted: number;
	/** Clients (share index) left out by robust aggregation, with the check and reason. */
	readonly flagged: readonly ExcludedClient[];
	/** Clients (share index) the validator rejected (e.g. norm outliers). */
	readonly rejected: readonly ExcludedClient[];
	/** Clients (share index) whose statistics the influence caps scaled down. */
	readonly capped?: readonly CappedShare[];
	/**
	 * Secure rounds: each client's statistics norm per user before the clip
	 * (`statisticsNorm / users`), and the factor its clip applied (null: it dropped out).
	 */
	readonly per_user_norms?: readonly number[];
	readonly clip_factors?: readonly (number | null)[];
	/**
	 * Secure rounds: the relative mismatch of the unmasked sum's consistency identity
	 * (`sumConsistency`); above the tolerance the round is refused and the global kept.
	 */
	readonly sum_consistency?: number;
	/** Secure exact rounds: the unmasked sum's E / C (`sumEnergy`); above 1 + tolerance, refused. */
	readonly sum_energy?: number;
	readonly refused?: boolean;
	/** With `targetSong`: its top-10 rate among the honest clients' users with test songs. */
	readonly target_top10_rate?: number;
}

interface CappedShare {
	readonly client: number;
	readonly weight: number;
	readonly songs: number;
}

export interface ExcludedClient {
	readonly client: number;
	readonly check: RobustCheck | 'validation';
	readonly reason: string;
}

interface RoundOutcome {
	readonly model: GlobalModel;
	/** X of this round, global user order. */
	readonly userFactors: Float64Array;
	/** Next global of the plain aggregation of the same survivors (the round itself when plain). */
	readonly plain: GlobalModel;
	readonly dropped: number[];
	readonly bytesPerClient: number;
	readonly clientSeconds: number;
	readonly coordinatorSeconds: number;
	readonly accepted: number;
	readonly flagged: ExcludedClient[];
	readonly rejected: ExcludedClient[];
	readonly capped?: CappedShare[];
	readonly perUserNorms?: number[];
	readonly clipFactors?: (number | null)[];
	readonly sumConsistency?: number;
	readonly sumEnergy?: number;
	readonly refused?: boolean;
}

/**
 * The attack of a simulation; `rng()` gives the stream of one attacker in the current round:
 * every attacker of a round gets the same draws (a colluding pair adds the same noise).
 */
interface Poison {
	readonly attack: Attack;
	readonly rng: () => Rng;
}

const seconds = (t0: number): number => (Date.now() - t0) / 1000;

/** Every share's statistics against `published` (poisoned for the attacker), timed. */
function allStatistics(
	published: PublishedGlobal,
	shares: readonly ClientShare[],
	users: number,
	poison?: Poison
): { stats: ClientStatistics[]; userFactors: Float64Array; clientSeconds: number[] } {
	const f = published.model.params.factors;
	const userFactors = new Float64Array(users * f);
	const clientSeconds: number[] = [];
	const stats = shares.map((share, index) => {
		const t0 = Date.now();
		const honest = clientStatistics(published, share.interactions);
		share.users.forEach((u, lu) =>
			userFactors.set(honest.userFactors.subarray(lu * f, (lu + 1) * f), u * f)
		);
		const s =
			poison && poison.attack.kind !== 'targeted' && attackers(poison.attack).includes(index)
				? poisonStatistics(honest, poison.attack, poison.rng(), {
						itemFactors: published.model.itemFactors
					})
				: honest;
		clientSeconds.push(seconds(t0));
		return s;
	});
	return { stats, userFactors, clientSeconds };
}

/**
 * One plain round: each taking share's update is encoded, validated, screened and aggregated
 * as between browsers (plainRound). `viaFiles` false skips the lossless file round trip (the
 * centralized reference has no files to move).
 */
function plainSimRound(
	published: PublishedGlobal,
	shares: readonly ClientShare[],
	users: number,
	rng: Rng,
	options: AggregateOptions | undefined,
	dropped: readonly number[],
	viaFiles = true,
	poison?: Poison,
	robust?: RobustOptions,
	caps?: InfluenceCapOptions
): RoundOutcome {
	const { stats, userFactors, clientSeconds } = allStatistics(published, shares, users, poison);
	const taking = shares.map((_, k) => k).filter((k) => !dropped.includes(k));
	const updates = taking.map((k) => {
		const t0 = Date.now();
		const u = updateFromStatistics(
			published,
			stats[k],
			randomClientId(() => rng.next())
		);
		clientSeconds[k] += seconds(t0);
		return u;
	});
	const clientOf = new Map(updates.map((u, j) => [u.clientId, taking[j]]));
	if (!viaFiles) {
		const model = aggregate(published, updates, options);
		return {
			model,
			userFactors,
			plain: model,
			dropped: [...dropped],
			bytesPerClient: 0,
			clientSeconds: 0,
			coordinatorSeconds: 0,
			accepted: updates.length,
			flagged: [],
			rejected: []
		};
	}
	const texts = updates.map((u, j) => {
		const t0 = Date.now();
		const text = encodeUpdateFile(u);
		clientSeconds[taking[j]] += seconds(t0);
		return text;
	});
	const t0 = Date.now();
	const r = plainRound(published, texts, { robust, caps, aggregate: options });
	const coordinatorSeconds = seconds(t0);
	return {
		model: r.next,
		userFactors,
		plain: r.next,
		dropped: [...dropped],
		bytesPerClient: mean(texts.map((t) => t.length)),
		clientSeconds: mean(taking.map((k) => clientSeconds[k])),
		coordinatorSeconds,
		accepted: r.kept.length,
		flagged: r.flagged.map((fl) => ({
			client: clientOf.get(fl.clientId) ?? -1,
			check: fl.check,
			reason: fl.reason
		})),
		rejected: r.validation.rejected.map((rj) => ({
			client: taking[rj.index],
			check: 'validation' as const,
			reason: rj.reason
		})),
		...(caps
			? {
					capped: r.capped.map((c) => ({
						client: taking[c.index],
						weight: c.weight,
						songs: c.songs
					}))
				}
			: {})
	};
}

/**
 * One secure round (secure/local_round.ts) for every share, the `dropped` ones vanishing
 * after the key phase; and the plain aggregation of the same survivors' (clipped) statistics.
 */
async function secureSimRound(
	published: PublishedGlobal,
	shares: readonly ClientShare[],
	users: number,
	options: AggregateOptions | undefined,
	dropped: readonly number[],
	poison?: Poison
): Promise<RoundOutcome> {
	const { stats, userFactors, clientSeconds } = allStatistics(published, shares, users, poison);
	// The compact step state advances once per round, and only with an accepted sum: the
	// secure round and the plain reference each work on a copy.
	const withCopy = (): AggregateOptions | undefined =>
		options?.compactState ? { ...options, compactState: { ...options.compactState } } : options;
	const plainOptions = withCopy();
	const secureOptions = withCopy();
	const perUserNorms = stats.map((st) => (st.users > 0 ? statisticsNorm(st) / st.users : 0));
	const r = await runLocalSecureRound(published, stats, {
		dropAfterKeys: new Set(dropped),
		aggregate: secureOptions
	});
	const survivors = shares.map((_, k) => k).filter((k) => !dropped.includes(k));
	// A sum that fails the consistency identity or the energy bound is refused: the global stays
	// as it was.
	const consistency = sumConsistency(published, r.sum.sums);
	const energy = sumEnergy(published, r.sum.sums, r.sum.confidence);
	const refused =
		!(consistency <= DEFAULT_ROBUST_OPTIONS.consistencyTolerance) ||
		energy > 1 + DEFAULT_ROBUST_OPTIONS.energyTolerance;
	if (!refused && options?.compactState && secureOptions?.compactState) {
		Object.assign(options.compactState, secureOptions.compactState);
	}
	// The survivors' statistics after their clip (done in place by the round).
	const plain = aggregate(
		published,
		survivors.map((k) => updateFromStatistics(published, stats[k], r.transcript.clientIds[k])),
		plainOptions
	);
	return {
		model: refused ? { ...published.model } : r.next,
		userFactors,
		plain,
		dropped: [...dropped],
		bytesPerClient: mean(survivors.map((k) => r.bytesPerClient[k])),
		clientSeconds: mean(survivors.map((k) => clientSeconds[k] + r.clientSeconds[k])),
		coordinatorSeconds: r.coordinatorSeconds,
		accepted: r.sum.survivors.length,
		flagged: [],
		rejected: [],
		perUserNorms,
		clipFactors: r.clipFactors.map((c) => c ?? null),
		sumConsistency: consistency,
		...(Number.isNaN(energy) ? {} : { sumEnergy: energy }),
		refused
	};
}

function mean(values: readonly number[]): number {
	return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
	let worst = 0;
	for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
	return worst;
}

/**
 * Centralized ALS by the core's trainer, not the federation code: `fit` from the federation's
 * initial item factors `y0`, each call one more sweep continuing from the last one's factors
 * (the same as one fit of that many sweeps). Each row gets 2f conjugate-gradient steps: on an
 * f x f positive definite system CG is exact after f steps in exact arithmetic, the rest covers
 * float32 rounding, and a row stops once its squared residual is below CG_TOLERANCE; so each
 * half-step is the exact least-squares solve up to float32 rounding.
 */
function centralReference(
	train: Csr,
	params: AlsParams,
	y0: Float32Array
): () => Promise<AlsModel> {
	let start: { userFactors?: Float32Array; itemFactors: Float32Array } = { itemFactors: y0 };
	const sweep = { ...params, iterations: 1, cgSteps: 2 * params.factors };
	return async () => {
		const model = await fit(train, sweep, { initialFactors: start, computeLoss: false });
		start = model.toArrays();
		return model;
	};
}

/** NDCG@10 of a ranker on the holdout. */
async function rankerNdcgAt10(als: AlsModel, split: HoldoutSplit): Promise<number> {
	return (await evaluateRanker(als, split.train, split.test, { k: 10 })).ndcg;
}

async function ndcgAt10(x: Float64Array, model: GlobalModel, split: HoldoutSplit): Promise<number> {
	const als = AlsModel.fromArrays(
		{
			userFactors: Float32Array.from(x),
			itemFactors: model.itemFactors,
			users: split.train.rows,
			items: split.train.cols,
			factors: model.params.factors
		},
		model.params
	);
	try {
		return await rankerNdcgAt10(als, split);
	} finally {
		als.dispose();
	}
}

/**
 * Federated simulation in one process (docs/federation.md, Simulation): a per-user holdout of
 * `interactions`, the train part split by users into `clients` shares, `rounds` rounds with
 * every client (but the `dropouts` drawn per round). After each round the federated model (the
 * clients' user factors of that round, the new Y) and centralized ALS after as many sweeps
 * from the same initial Y (the core's `fit`, see `centralReference`) are scored by NDCG@10 on
 * the holdout; so is the plain aggregation of the same survivors (equal to the round itself
 * unless it is secure). Needs a tfjs backend for the evaluation and the centralized fit.
 */
export async function simulate(options: SimulationOptions): Promise<RoundRecord[]> {
	const seed = options.seed ?? 1;
	const params = alsParams(options.params);
	const data = options.interactions;
	const split = holdoutSplit({ matrix: data.matrix }, { seed });
	const train: Interactions = { users: data.users, items: data.items, matrix: split.train };
	const honestShares = options.owner
		? splitByOwner(train, options.owner, options.clients)
		: splitByUsers(train, options.clients, options.split, seed + 1);
	const catalog = data.items.toArray();
	const secure =
		options.secure === true
			? { ...DEFAULT_SECURE_SETTINGS }
			: options.secure
				? { ...DEFAULT_SECURE_SETTINGS, ...options.secure }
				: undefined;
	let fed = createInitialGlobal({
		federationId: 'simulation',
		mode: options.mode,
		params,
		catalog,
		...(secure ? { secure } : {})
	});
	const central = centralReference(split.train, params, fed.itemFactors);
	const rng = new Rng(seed + 2);
	const aggregateOptions: AggregateOptions =
		options.mode === 'compact' && options.compactSecant !== false
			? { compactState: createCompactState(), ...options.aggregate }
			: { ...options.aggregate };
	// The attack and the dropouts have random streams of their own, so client ids and splits
	// equal the clean run's.
	const attack = options.attack;
	const bad = attack ? attackers(attack) : [];
	if (bad.some((k) => !(Number.isInteger(k) && k >= 0 && k < honestShares.length))) {
		throw new MusicrecError('federation/bad-input', 'an attacking client is not in the split', {
			attackers: bad,
			clients: honestShares.length
		});
	}
	const targetSong =
		attack?.kind === 'targeted' ? (attack.target ?? options.targetSong) : options.targetSong;
	const targetIndex = targetSong === undefined ? undefined : data.items.indexOf(targetSong);
	if (targetSong !== undefined && targetIndex === undefined) {
		throw new MusicrecError('federation/bad-input', 'the target song is not in the catalog', {
			targetSong
		});
	}
	// A targeted attacker's data gains the song for every one of its users.
	const shares =
		attack?.kind === 'targeted'
			? honestShares.map((share, k) =>
					bad.includes(k)
						? { ...share, interactions: poisonInteractions(share.interactions, targetSong!) }
						: share
				)
			: honestShares;
	let attackRound = 0;
	const poison: Poison | undefined = attack
		? { attack, rng: () => new Rng(seed + 3 + 7919 * attackRound) }
		: undefined;
	// The users whose top-10 the target rate reads: honest clients' users with test songs.
	const attackerUsers = new Set(bad.flatMap((k) => Array.from(honestShares[k].users)));
	const watched = Int32Array.from(
		Array.from(usersWithTestItems(split.test)).filter((u) => !attackerUsers.has(u))
	);
	const dropouts = options.dropouts ?? 0;
	if (!(Number.isInteger(dropouts) && dropouts >= 0 && dropouts < shares.length)) {
		throw new MusicrecError(
			'federation/bad-input',
			'dropouts must be an integer below the client count',
			{
				dropouts,
				clients: shares.length
			}
		);
	}
	const dropRng = new Rng(seed + 4);
	const robust = options.robust === true ? {} : options.robust || undefined;
	const caps = options.caps === true ? {} : options.caps || undefined;
	if (secure && caps) {
		throw new MusicrecError(
			'federation/bad-input',
			'influence caps read single updates, which secure aggregation hides: choose one',
			{}
		);
	}
	if (secure && robust) {
		throw new MusicrecError(
			'federation/bad-input',
			'robust screening reads single updates, which secure aggregation hides: choose one',
			{}
		);
	}
	const records: RoundRecord[] = [];
	for (let r = 1; r <= options.rounds; r++) {
		const t0 = Date.now();
		const dropped = dropRng
			.shuffle(Array.from({ length: shares.length }, (_, k) => k))
			.slice(0, dropouts)
			.sort((a, b) => a - b);
		const published = publishGlobal(fed);
		attackRound = r;
		const next = secure
			? await secureSimRound(published, shares, data.users.size, aggregateOptions, dropped, poison)
			: plainSimRound(
					published,
					shares,
					data.users.size,
					rng,
					aggregateOptions,
					dropped,
					true,
					poison,
					robust,
					caps
				);
		const roundSeconds = seconds(t0);
		const centralModel = await central();
		const centralNdcg = await rankerNdcgAt10(centralModel, split).finally(() =>
			centralModel.dispose()
		);
		fed = next.model;
		const ndcg = await ndcgAt10(next.userFactors, fed, split);
		const record: RoundRecord = {
			round: r,
			ndcg_at_10: ndcg,
			central_ndcg_at_10: centralNdcg,
			plain_ndcg_at_10: secure ? await ndcgAt10(next.userFactors, next.plain, split) : ndcg,
			max_abs_factor_diff_vs_plain: maxAbsDiff(fed.itemFactors, next.plain.itemFactors),
			secure: secure !== undefined,
			dropped: next.dropped,
			bytes_per_client: next.bytesPerClient,
			client_s: next.clientSeconds,
			coordinator_s: next.coordinatorSeconds,
			round_s: roundSeconds,
			accepted: next.accepted,
			flagged: next.flagged,
			rejected: next.rejected,
			...(next.capped ? { capped: next.capped } : {}),
			...(next.perUserNorms ? { per_user_norms: next.perUserNorms } : {}),
			...(next.clipFactors ? { clip_factors: next.clipFactors } : {}),
			...(next.sumConsistency !== undefined
				? { sum_consistency: next.sumConsistency, refused: next.refused === true }
				: {}),
			...(next.sumEnergy !== undefined ? { sum_energy: next.sumEnergy } : {}),
			...(targetIndex !== undefined
				? {
						target_top10_rate: topKRate(
							next.userFactors,
							fed.itemFactors,
							params.factors,
							split.train,
							watched,
							targetIndex
						).rate
					}
				: {})
		};
		records.push(record);
		options.onRound?.(record);
	}
	return records;
}
