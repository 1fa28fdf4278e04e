/**
 * A whole secure round in one process, every message going through its file text: what the
 * simulation, the bench and the tests run, with the same client and coordinator functions
 * the browsers use. Clients may vanish after the key phase (no masked update) or after the
 * masked update (no unmask answer).
 */
import { aggregateSums, type AggregateOptions } from '../aggregate';
import type { ClientStatistics } from '../client_update';
import type { GlobalModel, PublishedGlobal } from '../global_file';
import { answerUnmask, maskStatistics, startSecureRound, type SecureClientState } from './client';
import { buildRoster, buildUnmaskRequest, unmaskSum, type UnmaskedSum } from './coordinator';

export interface LocalRoundOptions {
	/** Clients (indices) that send keys but never a masked update. */
	readonly dropAfterKeys?: ReadonlySet<number>;
	/** Clients that send a masked update but never answer the unmask request. */
	readonly dropAfterMasked?: ReadonlySet<number>;
	readonly aggregate?: AggregateOptions;
}

/** Everything that crossed the wire, per phase (what an honest-but-curious coordinator holds). */
interface RoundTranscript {
	readonly keys: string[];
	readonly roster: string;
	/** Masked update of client k, or undefined when it dropped after the keys. */
	readonly masked: (string | undefined)[];
	readonly request: string;
	/** Unmask shares of client k, or undefined. */
	readonly answers: (string | undefined)[];
	/** The round's client id of each client. */
	readonly clientIds: string[];
}

export interface LocalRoundResult {
	readonly next: GlobalModel;
	readonly sum: UnmaskedSum;
	readonly transcript: RoundTranscript;
	/** Characters each client uploaded (keys + masked update + unmask shares). */
	readonly bytesPerClient: number[];
	/** Wall time of each client's steps (s). */
	readonly clientSeconds: number[];
	/** Wall time of the coordinator's steps (s): roster, request, unmasking and aggregation. */
	readonly coordinatorSeconds: number;
	/** Clip factor each masked client applied (1 when within the bound). */
	readonly clipFactors: (number | undefined)[];
	/** Each client's private round state (its key stays in its browser; tests play colluders with it). */
	readonly states: SecureClientState[];
}

/**
 * Run one secure round for clients holding `stats` (computed against `published`; clipped in
 * place when the global has a bound).
 */
export async function runLocalSecureRound(
	published: PublishedGlobal,
	stats: readonly ClientStatistics[],
	options: LocalRoundOptions = {}
): Promise<LocalRoundResult> {
	const now = (): number => Date.now() / 1000;
	const n = stats.length;
	const clientSeconds = new Array<number>(n).fill(0);
	const bytes = new Array<number>(n).fill(0);
	let coordinatorSeconds = 0;

	const started = [];
	for (let k = 0; k < n; k++) {
		const t0 = now();
		started.push(await startSecureRound(published));
		clientSeconds[k] += now() - t0;
		bytes[k] += started[k].keysText.length;
	}
	let t0 = now();
	const keys = started.map((s) => s.keysText);
	const roster = buildRoster(published, keys);
	coordinatorSeconds += now() - t0;

	const masked: (string | undefined)[] = [];
	const states = started.map((s) => s.state);
	const clipFactors: (number | undefined)[] = [];
	for (let k = 0; k < n; k++) {
		if (options.dropAfterKeys?.has(k)) {
			masked.push(undefined);
			clipFactors.push(undefined);
			continue;
		}
		const t = now();
		const r = await maskStatistics(states[k], published, roster.text, stats[k]);
		clientSeconds[k] += now() - t;
		states[k] = r.state;
		masked.push(r.maskedText);
		clipFactors.push(r.clipFactor);
		bytes[k] += r.maskedText.length;
	}
	t0 = now();
	const request = buildUnmaskRequest(
		published,
		roster.text,
		masked.filter((m): m is string => m !== undefined)
	);
	coordinatorSeconds += now() - t0;

	const answers: (string | undefined)[] = [];
	for (let k = 0; k < n; k++) {
		if (masked[k] === undefined || options.dropAfterMasked?.has(k)) {
			answers.push(undefined);
			continue;
		}
		const t = now();
		const r = await answerUnmask(states[k], request.text);
		clientSeconds[k] += now() - t;
		answers.push(r.sharesText);
		bytes[k] += r.sharesText.length;
	}
	t0 = now();
	const sum = await unmaskSum(
		published,
		roster.text,
		request.text,
		request.maskedSum,
		answers.filter((a): a is string => a !== undefined)
	);
	const next = aggregateSums(published, sum.sums, options.aggregate);
	coordinatorSeconds += now() - t0;
	return {
		next,
		sum,
		transcript: {
			keys,
			roster: roster.text,
			masked,
			request: request.text,
			answers,
			clientIds: states.map((s) => s.clientId)
		},
		bytesPerClient: bytes,
		clientSeconds,
		coordinatorSeconds,
		clipFactors,
		states
	};
}
