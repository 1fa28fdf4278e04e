import { AlsModel } from '../als/model';
import { alsParams, type AlsParams } from '../als/params';
import type { Interactions } from '../data/interactions';
import { MusicrecError } from '../errors';
import { evaluateRanker } from '../eval/evaluate';
import { holdoutSplit, type HoldoutSplit } from '../eval/split';
import { Rng } from '../random';
import { aggregate, createCompactState, type AggregateOptions } from './aggregate';
import { poisonUpdate, type Attack } from './attacks';
import { computeClientUpdate } from './client_update';
import type { FederationMode } from './fields';
import { createInitialGlobal, publishGlobal, type GlobalModel } from './global_file';
import { splitByOwner, splitByUsers, type ClientShare, type PartitionKind } from './partition';
import { encodeUpdateFile } from './update_file';
import { screenUpdates, type RobustCheck, type RobustOptions } from './robust';
import { validateUpdates } from './validate';

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
	/** One client sends poisoned updates every round (see attacks.ts). */
	readonly attack?: Attack;
	/** Screen updates with `screenUpdates` before aggregating (true: default options). */
	readonly robust?: boolean | RobustOptions;
	readonly onRound?: (record: RoundRecord) => void;
}

export interface RoundRecord {
	/** 1-based: the global after this many rounds. */
	readonly round: number;
	readonly ndcg_at_10: number;
	/** Centralized ALS with exact solves after `round` sweeps from the same initial Y. */
	readonly central_ndcg_at_10: number;
	/** Mean size of the clients' update files (characters = bytes: the text is ASCII). */
	readonly bytes_per_client: number;
	/** Wall time of the round: client updates, encoding, validation, aggregation. */
	readonly round_s: number;
	readonly accepted: number;
	/** Clients (share index) left out by robust aggregation, with the check and reason. */
	readonly flagged: readonly ExcludedClient[];
	/** Clients (share index) the validator rejected (e.g. norm outliers). */
	readonly rejected: readonly ExcludedClient[];
}

export interface ExcludedClient {
	readonly client: number;
	readonly check: RobustCheck | 'validation';
	readonly reason: string;
}

interface Run {
	model: GlobalModel;
	/** X of the last round, global user order. */
	userFactors: Float64Array;
}

/**
 * One round with every share as a client: files are encoded, validated and aggregated as
 * between browsers. Returns the next global, the users' factors of this round (which a real
 * client keeps), and the update sizes.
 */
function round(
	model: GlobalModel,
	shares: readonly ClientShare[],
	users: number,
	rng: Rng,
	options: AggregateOptions | undefined,
	viaFiles = true,
	poison?: { attack: Attack; rng: Rng },
	robust?: RobustOptions
): Run & {
	bytes: number[];
	accepted: number;
	flagged: ExcludedClient[];
	rejected: ExcludedClient[];
} {
	const f = model.params.factors;
	const published = publishGlobal(model);
	const userFactors = new Float64Array(users * f);
	const updates = shares.map((share, index) => {
		const r = computeClientUpdate(published, share.interactions, { random: () => rng.next() });
		share.users.forEach((u, lu) =>
			userFactors.set(r.userFactors.subarray(lu * f, (lu + 1) * f), u * f)
		);
		return poison && poison.attack.client === index
			? poisonUpdate(r.update, poison.attack, poison.rng)
			: r.update;
	});
	const clientOf = new Map(updates.map((u, k) => [u.clientId, k]));
	// The centralized reference skips the (lossless) file round trip: it has no files to move.
	const texts = viaFiles ? updates.map((u) => encodeUpdateFile(u)) : [];
	const validation = viaFiles ? validateUpdates(published, texts) : undefined;
	const valid = validation ? validation.accepted : updates;
	const screened = robust ? screenUpdates(published, valid, robust) : undefined;
	const kept = screened ? screened.kept : valid;
	return {
		model: aggregate(published, kept, options),
		userFactors,
		bytes: texts.map((t) => t.length),
		accepted: kept.length,
		flagged: (screened?.flagged ?? []).map((fl) => ({
			client: clientOf.get(fl.clientId) ?? -1,
			check: fl.check,
			reason: fl.reason
		})),
		rejected: (validation?.rejected ?? []).map((rj) => ({
			client: rj.index,
			check: 'validation' as const,
			reason: rj.reason
		}))
	};
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
		return (await evaluateRanker(als, split.train, split.test, { k: 10 })).ndcg;
	} finally {
		als.dispose();
	}
}

/**
 * Federated simulation in one process (DESIGN.md section 5): a per-user holdout of
 * `interactions`, the train part split by users into `clients` shares, `rounds` rounds with
 * every client. After each round the federated model (the clients' user factors of that round,
 * the new Y) and a centralized exact-solve ALS after as many sweeps from the same initial Y
 * (the same code with one client holding every user, exact mode) are scored by NDCG@10 on the
 * holdout. Needs a tfjs backend for the evaluation.
 */
export async function simulate(options: SimulationOptions): Promise<RoundRecord[]> {
	const seed = options.seed ?? 1;
	const params = alsParams(options.params);
	const data = options.interactions;
	const split = holdoutSplit({ matrix: data.matrix }, { seed });
	const train: Interactions = { users: data.users, items: data.items, matrix: split.train };
	const shares = options.owner
		? splitByOwner(train, options.owner, options.clients)
		: splitByUsers(train, options.clients, options.split, seed + 1);
	const everyone: ClientShare[] = [
		{ interactions: train, users: Int32Array.from({ length: data.users.size }, (_, u) => u) }
	];
	const catalog = data.items.toArray();
	let fed = createInitialGlobal({
		federationId: 'simulation',
		mode: options.mode,
		params,
		catalog
	});
	let central = createInitialGlobal({
		federationId: 'simulation-central',
		mode: 'exact',
		params,
		catalog,
		itemFactors: fed.itemFactors
	});
	const rng = new Rng(seed + 2);
	const aggregateOptions: AggregateOptions =
		options.mode === 'compact' && options.compactSecant !== false
			? { compactState: createCompactState(), ...options.aggregate }
			: { ...options.aggregate };
	// The attack has its own random stream, so client ids and splits equal the clean run's.
	const poison = options.attack ? { attack: options.attack, rng: new Rng(seed + 3) } : undefined;
	if (options.attack && !(options.attack.client >= 0 && options.attack.client < shares.length)) {
		throw new MusicrecError('federation/bad-input', 'the attacking client is not in the split', {
			client: options.attack.client,
			clients: shares.length
		});
	}
	const robust = options.robust === true ? {} : options.robust || undefined;
	const records: RoundRecord[] = [];
	for (let r = 1; r <= options.rounds; r++) {
		const t0 = Date.now();
		const next = round(fed, shares, data.users.size, rng, aggregateOptions, true, poison, robust);
		const seconds = (Date.now() - t0) / 1000;
		const centralNext = round(central, everyone, data.users.size, rng, undefined, false);
		fed = next.model;
		central = centralNext.model;
		const record: RoundRecord = {
			round: r,
			ndcg_at_10: await ndcgAt10(next.userFactors, fed, split),
			central_ndcg_at_10: await ndcgAt10(centralNext.userFactors, central, split),
			bytes_per_client: next.bytes.reduce((a, b) => a + b, 0) / next.bytes.length,
			round_s: seconds,
			accepted: next.accepted,
			flagged: next.flagged,
			rejected: next.rejected
		};
		records.push(record);
		options.onRound?.(record);
	}
	return records;
}
