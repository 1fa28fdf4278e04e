/**
 * The coordinator's secure round as a workflow over the federation store: files dropped in are
 * sorted by kind and judged for the current phase, and each phase is closed by an action:
 *
 *   keys      -> publishRoster        (at least k keys)
 *   masked    -> publishRequest       ("Continue without the missing clients": their pair masks
 *                                      are then recovered)
 *   unmasking -> finishSecureRound    (at least t answers: the sum is unmasked and aggregated)
 *
 * Every step saves the whole round in one write, so a reload resumes where it stopped. The
 * heavy parts run in the federation worker (`run`).
 */
import { peekKind, KIND_NAMES, type EnvelopeKind } from '$lib/core/format/envelope';
import {
	envelopeChecksum,
	readGlobalFile,
	type PublishedGlobal
} from '$lib/core/federation/global_file';
import {
	buildRoster,
	checkKeys,
	checkUnmaskShares,
	lateReason,
	type SecureRejection
} from '$lib/core/federation/secure/coordinator';
import type { runFederationTask } from './federation_client';
import type {
	FederationStore,
	ReceivedFile,
	SecurePhase,
	SecureRound,
	StoredGlobal
} from './federation_store';

/** A file as the page read it. */
export interface IncomingFile {
	readonly fileName: string;
	readonly text: string;
	readonly bytes: number;
}

export interface CoordinatorDeps {
	readonly fedStore: FederationStore;
	readonly run: typeof runFederationTask;
	/** Stage events of the worker (for the page's progress line). */
	readonly onStage?: (stage: string) => void;
}

/** The file kind each phase collects. */
const PHASE_KIND: Readonly<Record<Exclude<SecurePhase, 'done'>, EnvelopeKind>> = {
	keys: 'keys',
	masked: 'masked-update',
	unmasking: 'unmask-shares'
};

/** The round's stored state, or a fresh one in the key phase. */
export async function loadSecureRound(
	fedStore: FederationStore,
	global: StoredGlobal
): Promise<SecureRound> {
	return (
		(await fedStore.getSecureRound(global.federationId, global.round)) ?? {
			federationId: global.federationId,
			round: global.round,
			phase: 'keys',
			keys: [],
			masked: [],
			answers: []
		}
	);
}

function reject(
	file: IncomingFile,
	index: number,
	code: string,
	reason: string,
	clientId?: string
): ReceivedFile {
	return {
		index,
		fileName: file.fileName,
		bytes: file.bytes,
		...(clientId ? { clientId } : {}),
		verdict: { status: 'rejected', code, reason }
	};
}

function verdicts(
	files: readonly IncomingFile[],
	accepted: readonly { index: number; clientId: string }[],
	rejected: readonly SecureRejection[],
	keepText: boolean
): ReceivedFile[] {
	return files.map((file, index) => {
		const ok = accepted.find((a) => a.index === index);
		const bad = rejected.find((r) => r.index === index);
		if (ok && !bad) {
			return {
				index,
				fileName: file.fileName,
				bytes: file.bytes,
				...(keepText ? { text: file.text } : {}),
				clientId: ok.clientId,
				verdict: { status: 'accepted' }
			};
		}
		return reject(
			file,
			index,
			bad?.code ?? 'federation/bad-input',
			bad?.reason ?? 'Not used',
			bad?.clientId
		);
	});
}

/** Why a file of another kind does not fit the current phase, in words. */
function wrongPhase(kind: EnvelopeKind | undefined, phase: SecurePhase): string {
	const wanted =
		phase === 'done' ? 'nothing (the round is done)' : `${KIND_NAMES[PHASE_KIND[phase]]}s`;
	if (kind === 'masked-update' && phase === 'unmasking') return lateReason(undefined);
	if (kind === 'keys' && phase !== 'keys') {
		return `This public key file came after the roster was published; the client can join the next round. The round now collects ${wanted}.`;
	}
	const what = kind ? `a ${KIND_NAMES[kind]}` : 'not a musicrec file';
	return `This file holds ${what}; the round now collects ${wanted}.`;
}

/**
 * Add files to the current phase. Files of the phase's kind are judged together with those
 * received before (verdicts are recomputed over the whole list); others are listed as refused
 * with the reason. Returns the saved round.
 */
export async function addSecureFiles(
	deps: CoordinatorDeps,
	stored: StoredGlobal,
	files: readonly IncomingFile[]
): Promise<SecureRound> {
	const { fedStore } = deps;
	const global = readGlobalFile(stored.text);
	const round = await loadSecureRound(fedStore, stored);
	const phase = round.phase;
	if (phase === 'done') return round;
	const listKey = phase === 'keys' ? 'keys' : phase === 'masked' ? 'masked' : 'answers';
	const previous = round[listKey];
	// Files refused earlier keep their verdict; the rest are judged again with the new ones.
	const kept: IncomingFile[] = [];
	for (const r of previous) {
		if (r.text !== undefined) kept.push({ fileName: r.fileName, text: r.text, bytes: r.bytes });
	}
	const refusedBefore = previous.filter((r) => r.text === undefined);
	const fresh: IncomingFile[] = [];
	const refusedNow: { file: IncomingFile; kind: EnvelopeKind | undefined }[] = [];
	for (const file of files) {
		const kind = peekKind(file.text);
		if (kind === PHASE_KIND[phase]) fresh.push(file);
		else refusedNow.push({ file, kind });
	}
	const all = [...kept, ...fresh];
	let judged: ReceivedFile[];
	if (phase === 'keys') {
		const { members, rejected } = checkKeys(
			global,
			all.map((f) => f.text)
		);
		judged = verdicts(
			all,
			members.map((m) => ({ index: m.index, clientId: m.key.clientId })),
			rejected,
			true
		);
	} else if (phase === 'masked') {
		const r = await deps.run(
			{
				type: 'secure-check',
				globalText: stored.text,
				rosterText: round.roster!.text,
				maskedTexts: all.map((f) => f.text)
			},
			(e) => (e.type === 'stage' ? deps.onStage?.(e.stage) : undefined)
		);
		judged = verdicts(all, r.accepted, r.rejected, true);
	} else {
		const r = checkUnmaskShares(
			global,
			round.roster!.text,
			round.request!.text,
			all.map((f) => f.text)
		);
		judged = verdicts(all, r.accepted, r.rejected, true);
	}
	// Accepted files of earlier calls that are refused now keep no text either way.
	const list: ReceivedFile[] = [
		...refusedBefore,
		...judged.map((r) => (r.verdict.status === 'accepted' ? r : { ...r, text: undefined })),
		...refusedNow.map(({ file, kind }) =>
			reject(
				file,
				0,
				kind === 'masked-update' && phase === 'unmasking'
					? 'federation/late'
					: 'federation/wrong-phase',
				wrongPhase(kind, phase)
			)
		)
	].map((r, index) => ({ ...r, index }));
	const next: SecureRound = { ...round, [listKey]: list };
	await fedStore.putSecureRound(next);
	return next;
}

function accepted(list: readonly ReceivedFile[]): ReceivedFile[] {
	return list.filter((r) => r.verdict.status === 'accepted' && r.text !== undefined);
}

/** Close the key phase: the roster of every accepted key (at least k). */
export async function publishRoster(
	deps: CoordinatorDeps,
	stored: StoredGlobal
): Promise<SecureRound> {
	const global = readGlobalFile(stored.text);
	const round = await loadSecureRound(deps.fedStore, stored);
	if (round.phase !== 'keys') return round;
	const keys = accepted(round.keys);
	const r = buildRoster(
		global,
		keys.map((k) => k.text!)
	);
	const next: SecureRound = {
		...round,
		phase: 'masked',
		roster: {
			text: r.text,
			checksum: envelopeChecksum(r.text),
			members: r.roster.members.map((m) => m.clientId),
			threshold: r.roster.threshold
		}
	};
	await deps.fedStore.putSecureRound(next);
	return next;
}

/**
 * Close the masked phase with the masked updates received: the unmask request names the
 * survivors and the missing clients (whose pair masks the answers recover), and the sum of the
 * survivors' masked vectors is kept; the masked files themselves are dropped.
 */
export async function publishRequest(
	deps: CoordinatorDeps,
	stored: StoredGlobal
): Promise<SecureRound> {
	const round = await loadSecureRound(deps.fedStore, stored);
	if (round.phase !== 'masked' || !round.roster) return round;
	const masked = accepted(round.masked);
	const r = await deps.run(
		{
			type: 'secure-request',
			globalText: stored.text,
			rosterText: round.roster.text,
			maskedTexts: masked.map((m) => m.text!)
		},
		(e) => (e.type === 'stage' ? deps.onStage?.(e.stage) : undefined)
	);
	const next: SecureRound = {
		...round,
		phase: 'unmasking',
		masked: round.masked.map((m) => ({ ...m, text: undefined })),
		request: {
			text: r.requestText,
			survivors: r.survivors,
			dropped: r.dropped,
			maskedSum: r.maskedSum
		}
	};
	await deps.fedStore.putSecureRound(next);
	return next;
}

/** What finishing a secure round produced. */
export interface FinishedRound {
	readonly round: SecureRound;
	readonly next: PublishedGlobal;
	readonly responders: number;
	readonly users: number;
	readonly interactions: number;
	/** The sum's consistency mismatch (it passed the check, or the round would have failed). */
	readonly consistency: number;
	/** Exact mode: the sum's E / C (it passed the energy bound, or the round would have failed). */
	readonly energy?: number;
	readonly metricsError?: string;
}

/**
 * Close the round: unmask the sum with the answers received (at least t), aggregate, and store
 * the next global together with the closed round (the masked sum is not kept).
 */
export async function finishSecureRound(
	deps: CoordinatorDeps,
	stored: StoredGlobal,
	dataset?: Blob
): Promise<FinishedRound> {
	const round = await loadSecureRound(deps.fedStore, stored);
	if (round.phase !== 'unmasking' || !round.roster || !round.request?.maskedSum) {
		throw new Error('The round is not in its unmasking phase');
	}
	const answers = accepted(round.answers);
	const r = await deps.run(
		{
			type: 'secure-finish',
			globalText: stored.text,
			rosterText: round.roster.text,
			requestText: round.request.text,
			maskedSum: round.request.maskedSum,
			shareTexts: answers.map((a) => a.text!),
			compactState: stored.compactState,
			dataset
		},
		(e) => (e.type === 'stage' ? deps.onStage?.(e.stage) : undefined)
	);
	const closed: SecureRound = {
		...round,
		phase: 'done',
		request: { ...round.request, maskedSum: undefined }
	};
	await deps.fedStore.putGlobal(
		{
			federationId: stored.federationId,
			round: r.round,
			text: r.text,
			checksum: r.checksum,
			createdAt: new Date().toISOString(),
			aggregatedFrom: {
				accepted: r.survivors.length,
				bytes: round.masked
					.filter((m) => m.verdict.status === 'accepted')
					.reduce((s, m) => s + m.bytes, 0)
			},
			...(r.compactState ? { compactState: r.compactState } : {}),
			...(r.metrics ? { metrics: r.metrics } : {})
		},
		closed
	);
	return {
		round: closed,
		next: readGlobalFile(r.text),
		responders: r.responders.length,
		users: r.users,
		interactions: r.interactions,
		consistency: r.consistency,
		...(r.energy !== undefined ? { energy: r.energy } : {}),
		...(r.metricsError ? { metricsError: r.metricsError } : {})
	};
}
