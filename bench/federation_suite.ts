import { ALS_PARAM_SPEC, alsParams } from '../src/lib/core/als/params';
import { nnz } from '../src/lib/core/data/csr';
import { ownersFromLabels } from '../src/lib/core/federation/partition';
import { majorityLabels } from '../src/lib/core/federation/user_labels';
import {
	ALL_ATTACK_KINDS,
	defaultAttackFactor,
	defaultTargetSong,
	type AttackKind
} from '../src/lib/core/federation/attacks';
import { DEFAULT_INFLUENCE_CAPS } from '../src/lib/core/federation/influence_caps';
import { simulate, type ExcludedClient } from '../src/lib/core/federation/simulate';
import { readTextChunks } from '../src/lib/node/files';
import { useBackend } from '../src/lib/node/tf_backend';
import type { Options } from './args';
import {
	DATASET_FILES,
	DATASETS,
	DEFAULT_WEIGHTING,
	loadDataset,
	type DatasetName
} from './datasets';
import { round } from './measure';

/** One round of a federated simulation: the record `npm run bench -- federation` writes. */
export interface FederationRecord {
	suite: 'federation';
	dataset: DatasetName;
	mode: 'exact' | 'compact';
	split: 'even' | 'activity' | 'tab';
	clients: number;
	/** Client labels of a tab split (KKBox source_system_tab; rare tabs merged as `other`). */
	client_labels?: string[];
	round: number;
	ndcg_at_10: number;
	/** Centralized ALS with exact (Cholesky) solves, as many sweeps, same init and split. */
	central_ndcg_at_10: number;
	ratio: number;
	/** Secure aggregation (`--secure on`): masked updates, only the survivors' sum unmasked. */
	secure: boolean;
	/** Clients (share index) that vanished after the key phase this round (`--dropouts D`). */
	dropped: number[];
	/** The plain aggregation of the same surviving clients' statistics against the same global. */
	plain_ndcg_at_10: number;
	max_abs_factor_diff_vs_plain: number;
	/** Secure: the per-user clip bound published in the global (`--clip B`), null = none. */
	clip_per_user?: number | null;
	/** Secure: each client's statistics norm per user before the clip, and its clip factor. */
	per_user_norms?: number[];
	clip_factors?: (number | null)[];
	/** Secure: the unmasked sum's consistency mismatch; refused rounds keep the global. */
	sum_consistency?: number;
	/** Secure exact rounds: the unmasked sum's E / C; above 1 the round is refused. */
	sum_energy?: number;
	refused?: boolean;
	bytes_per_client: number;
	/** Mean wall time of one client's part of the round, s. */
	client_s: number;
	/** Wall time of the coordinator's part of the round, s. */
	coordinator_s: number;
	round_s: number;
	accepted: number;
	users: number;
	items: number;
	nnz: number;
	factors: number;
	regularization: number;
	alpha: number;
	convention: 'hkv' | 'implicit';
	weighting: string;
	seed: number;
	/** compact mode: per-item secant steps or the fixed step `compact_step`. */
	compact_steps?: 'secant' | 'fixed';
	compact_step?: number;
	/** One poisoned client (`--attack`, `--attacker`; a pair with `--accomplice`), or none. */
	attack: 'none' | AttackKind;
	attacker?: number;
	accomplice?: number;
	attack_factor?: number;
	/** `--target`: the song whose top-10 rate is watched (the targeted attack pushes it). */
	target_song?: string;
	/** Its top-10 rate among the honest clients' users with test songs after this round. */
	target_top10_rate?: number;
	/** Robust aggregation (`--robust on`): the clients it left out this round, with reasons. */
	robust: boolean;
	/** Influence caps (`--caps on`): the clients they scaled down this round. */
	caps: boolean;
	/** `--client-cap`, `--song-cap` (Infinity: that cap off); see influence_caps.ts. */
	client_cap?: number | null;
	song_cap?: number | null;
	capped?: { client: number; weight: number; songs: number }[];
	flagged: ExcludedClient[];
	/** Clients the validator rejected this round (norm outliers and the like). */
	rejected: ExcludedClient[];
}

/**
 * Defaults: the tuned implicit-convention settings of docs/benchmarks.md (Last.fm alpha 4, KKBox
 * alpha 128, regularization 80), since at alpha 1 with KKBox's all-ones weights c - 1 = 0 and
 * the item step degenerates (compact would equal exact by construction).
 */
const DEFAULT_ALPHA: Record<DatasetName, number> = { kkbox10k: 128, lastfm: 4, synthetic: 1 };
const DEFAULT_REGULARIZATION: Record<DatasetName, number> = {
	kkbox10k: 80,
	lastfm: 80,
	synthetic: 0.05
};

export async function federationSuite(options: Options): Promise<FederationRecord[]> {
	const name = options.choice('dataset', DATASETS, 'kkbox10k');
	const mode = options.choice('mode', ['exact', 'compact'] as const, 'exact');
	const split = options.choice('split', ['even', 'activity', 'tab'] as const, 'even');
	let clients = options.number('clients', 10);
	const rounds = options.number('rounds', 20);
	const seed = options.number('seed', 1);
	const params = alsParams({
		factors: options.number('factors', 32),
		regularization: options.number('regularization', DEFAULT_REGULARIZATION[name]),
		alpha: options.number('alpha', DEFAULT_ALPHA[name]),
		convention: options.choice('convention', ['hkv', 'implicit'] as const, 'implicit'),
		seed: options.number('init-seed', ALS_PARAM_SPEC.seed.default)
	});
	const weighting = options.optionalString('weighting');
	const synthetic = {
		users: options.number('users', 2000),
		items: options.number('items', 3000),
		nnz: options.number('nnz', 60_000)
	};
	const compactStep = options.number('compact-step', 1);
	const compactSecant = options.choice('compact-steps', ['secant', 'fixed'] as const, 'secant');
	const attack = options.choice('attack', ['none', ...ALL_ATTACK_KINDS] as const, 'none');
	const attacker = options.number('attacker', 0);
	const accompliceText = options.optionalString('accomplice');
	const accomplice = accompliceText === undefined ? undefined : Number(accompliceText);
	const attackFactor = options.number(
		'attack-factor',
		attack === 'none' ? 10 : defaultAttackFactor(attack)
	);
	const targetText = options.optionalString('target') ?? (attack === 'targeted' ? 'auto' : 'none');
	const robust = options.choice('robust', ['on', 'off'] as const, 'off') === 'on';
	const caps = options.choice('caps', ['on', 'off'] as const, 'off') === 'on';
	// A cap's factor, or `off` (Infinity: that cap never applies).
	const capOption = (name: string, fallback: number): number => {
		const text = options.optionalString(name);
		if (text === undefined) return fallback;
		const v = text === 'off' ? Infinity : Number(text);
		if (!(v > 0)) throw new Error(`--${name} must be a positive number or off`);
		return v;
	};
	const clientCap = capOption('client-cap', DEFAULT_INFLUENCE_CAPS.clientCap);
	const songCap = capOption('song-cap', DEFAULT_INFLUENCE_CAPS.songCap);
	const secure = options.choice('secure', ['on', 'off'] as const, 'off') === 'on';
	const dropouts = options.number('dropouts', 0);
	const clipText = options.optionalString('clip');
	const clip = clipText === undefined ? null : Number(clipText);
	options.assertAllUsed();
	if (clip !== null && !(clip > 0)) throw new Error('--clip must be a positive number');
	if (clip !== null && !secure) throw new Error('--clip is a secure-mode bound: add --secure on');
	if (split === 'tab' && name !== 'kkbox10k') {
		throw new Error('--split tab needs KKBox (source_system_tab); use --dataset kkbox10k');
	}

	await useBackend('wasm');
	const dataset = await loadDataset(name, { weighting: weighting as never, synthetic, seed });
	const data = dataset.interactions;
	const targetSong =
		targetText === 'none'
			? undefined
			: targetText === 'auto'
				? data.items.idAt(defaultTargetSong(data.matrix))
				: targetText;
	let owner: Int32Array | undefined;
	let labels: string[] | undefined;
	if (split === 'tab') {
		const partition = ownersFromLabels(
			await majorityLabels(readTextChunks(DATASET_FILES.kkbox10k), data),
			clients
		);
		owner = partition.owner;
		labels = partition.labels;
		clients = labels.length;
	}
	const base = {
		suite: 'federation' as const,
		dataset: name,
		mode,
		split,
		clients,
		...(labels ? { client_labels: labels } : {}),
		users: data.users.size,
		items: data.items.size,
		nnz: nnz(data.matrix),
		factors: params.factors,
		regularization: params.regularization,
		alpha: params.alpha,
		convention: params.convention,
		weighting: weighting ?? DEFAULT_WEIGHTING[name] ?? 'synthetic',
		seed,
		...(mode === 'compact' ? { compact_steps: compactSecant, compact_step: compactStep } : {}),
		attack,
		...(attack !== 'none' ? { attacker } : {}),
		...(attack !== 'none' && accomplice !== undefined ? { accomplice } : {}),
		...(attack !== 'none' && attack !== 'flipped' && attack !== 'random' && attack !== 'targeted'
			? { attack_factor: attackFactor }
			: {}),
		...(targetSong !== undefined ? { target_song: targetSong } : {}),
		robust,
		caps,
		// JSON has no Infinity: an `off` cap is recorded as null.
		...(caps
			? {
					client_cap: Number.isFinite(clientCap) ? clientCap : null,
					song_cap: Number.isFinite(songCap) ? songCap : null
				}
			: {}),
		secure,
		...(secure ? { clip_per_user: clip } : {})
	};
	const records: FederationRecord[] = [];
	await simulate({
		interactions: data,
		clients,
		rounds,
		mode,
		split: split === 'tab' ? 'even' : split,
		owner,
		params,
		seed,
		aggregate: { compactStep },
		compactSecant: compactSecant === 'secant',
		...(attack !== 'none'
			? {
					attack: {
						kind: attack,
						client: attacker,
						factor: attackFactor,
						...(accomplice !== undefined ? { accomplice } : {})
					}
				}
			: {}),
		...(targetSong !== undefined ? { targetSong } : {}),
		robust,
		caps: caps ? { clientCap, songCap } : false,
		...(secure ? { secure: { clipPerUser: clip } } : {}),
		dropouts,
		onRound: (r) => {
			const record: FederationRecord = {
				...base,
				round: r.round,
				ndcg_at_10: round(r.ndcg_at_10),
				central_ndcg_at_10: round(r.central_ndcg_at_10),
				ratio: round(r.ndcg_at_10 / r.central_ndcg_at_10),
				dropped: [...r.dropped],
				plain_ndcg_at_10: round(r.plain_ndcg_at_10),
				max_abs_factor_diff_vs_plain: r.max_abs_factor_diff_vs_plain,
				...(r.per_user_norms ? { per_user_norms: r.per_user_norms.map((v) => round(v, 2)) } : {}),
				...(r.sum_consistency !== undefined
					? { sum_consistency: r.sum_consistency, refused: r.refused === true }
					: {}),
				...(r.sum_energy !== undefined ? { sum_energy: round(r.sum_energy, 4) } : {}),
				...(r.clip_factors
					? { clip_factors: r.clip_factors.map((c) => (c === null ? null : round(c, 4))) }
					: {}),
				bytes_per_client: Math.round(r.bytes_per_client),
				client_s: round(r.client_s, 3),
				coordinator_s: round(r.coordinator_s, 3),
				round_s: round(r.round_s, 2),
				accepted: r.accepted,
				flagged: [...r.flagged],
				rejected: [...r.rejected],
				...(r.capped
					? { capped: r.capped.map((c) => ({ ...c, weight: round(c.weight, 4) })) }
					: {}),
				...(r.target_top10_rate !== undefined
					? { target_top10_rate: round(r.target_top10_rate, 4) }
					: {})
			};
			records.push(record);
			console.error(
				`round ${r.round}: ndcg ${record.ndcg_at_10} central ${record.central_ndcg_at_10} ` +
					`plain ${record.plain_ndcg_at_10} (max |dY| ${record.max_abs_factor_diff_vs_plain.toExponential(2)}) ` +
					(record.target_top10_rate !== undefined
						? `target top-10 rate ${record.target_top10_rate} `
						: '') +
					`bytes ${record.bytes_per_client} client ${record.client_s}s coordinator ${record.coordinator_s}s ${record.round_s}s` +
					(r.dropped.length > 0 ? ` dropped ${r.dropped.join(', ')}` : '') +
					(r.sum_consistency !== undefined
						? ` sum consistency ${r.sum_consistency.toExponential(1)}${r.refused ? ' REFUSED' : ''}`
						: '') +
					(r.capped && r.capped.length > 0
						? ` capped ${r.capped.map((c) => `${c.client} (weight ${round(c.weight, 3)}, ${c.songs} songs)`).join(', ')}`
						: '') +
					(r.flagged.length + r.rejected.length > 0
						? ` left out ${[...r.flagged, ...r.rejected].map((c) => `${c.client} (${c.check})`).join(', ')}`
						: '')
			);
		}
	});
	return records;
}
