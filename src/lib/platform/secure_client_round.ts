/**
 * A client's secure round as a workflow over the federation store (secure/client.ts has the
 * protocol): join (a fresh key), mask (with the roster), answer (the unmask request). The
 * private key and the files sent are kept in this browser's federation database, so a reload
 * or a lost download never makes the client send a second, different file for the same round
 * (which could unmask it).
 */
import { MusicrecError } from '$lib/core/errors';
import { peekKind, type EnvelopeKind } from '$lib/core/format/envelope';
import type { PublishedGlobal } from '$lib/core/federation/global_file';
import { answerUnmask, startSecureRound } from '$lib/core/federation/secure/client';
import { decodeRoster } from '$lib/core/federation/secure/files';
import type { SecureMaskResult } from '$lib/workers/federation.worker';
import type { runFederationTask } from './federation_client';
import type { FederationStore, SecureClientRecord } from './federation_store';

/** The coordinator's files a client imports. */
export type CoordinatorFileKind = Extract<EnvelopeKind, 'global' | 'roster' | 'unmask-request'>;

/** Which coordinator file a text is, or undefined when it is none of them. */
export function coordinatorFileKind(text: string): CoordinatorFileKind | undefined {
	const kind = peekKind(text);
	return kind === 'global' || kind === 'roster' || kind === 'unmask-request' ? kind : undefined;
}

function sameRound(record: SecureClientRecord | undefined, global: PublishedGlobal): boolean {
	return (
		record !== undefined &&
		record.state.federationId === global.model.federationId &&
		record.state.round === global.model.round &&
		record.state.baseChecksum === global.checksum
	);
}

/** This browser's record for the global's round, if it has joined it. */
export async function secureRecordFor(
	fedStore: FederationStore,
	global: PublishedGlobal
): Promise<SecureClientRecord | undefined> {
	const record = await fedStore.getSecureClient();
	return sameRound(record, global) ? record : undefined;
}

/**
 * Join the global's round: a fresh key pair and client id, saved before the keys file is
 * returned. Joining again returns the same keys file (a second key would be a second client).
 */
export async function joinSecureRound(
	fedStore: FederationStore,
	global: PublishedGlobal
): Promise<SecureClientRecord> {
	const existing = await secureRecordFor(fedStore, global);
	if (existing) return existing;
	const { state, keysText } = await startSecureRound(global);
	const record: SecureClientRecord = { state, phase: 'keys', keysText };
	await fedStore.putSecureClient(record);
	return record;
}

/**
 * Mask this browser's statistics for the roster (in the worker), and save the masked update
 * before returning it. For the roster already masked for, the saved file is returned as is.
 */
export async function maskForRoster(
	fedStore: FederationStore,
	run: typeof runFederationTask,
	global: PublishedGlobal,
	rosterText: string,
	dataset: Blob,
	onEvent?: Parameters<typeof runFederationTask>[1]
): Promise<{ record: SecureClientRecord; result?: SecureMaskResult }> {
	const record = await secureRecordFor(fedStore, global);
	if (!record) {
		throw new MusicrecError(
			'federation/not-in-roster',
			'This browser has not joined this round: send the coordinator your public key first',
			{}
		);
	}
	const roster = decodeRoster(rosterText);
	if (record.maskedText !== undefined && record.state.roster?.checksum === roster.checksum) {
		return { record };
	}
	const result = await run(
		{
			type: 'secure-mask',
			globalText: global.text,
			rosterText,
			file: dataset,
			state: record.state
		},
		onEvent
	);
	const next: SecureClientRecord = {
		...record,
		state: result.state,
		phase: 'masked',
		maskedText: result.maskedText,
		summary: {
			users: result.counts.users,
			interactions: result.counts.interactions,
			touchedItems: result.counts.touchedItems,
			vectorLength: result.vectorLength,
			clipFactor: result.clipFactor,
			members: roster.value.members.length
		}
	};
	await fedStore.putSecureClient(next);
	return { record: next, result };
}

/** Open the shares the unmask request forwards to this browser; saved before returning. */
export async function answerRequest(
	fedStore: FederationStore,
	global: PublishedGlobal,
	requestText: string
): Promise<{ record: SecureClientRecord; survivors: number; dropped: number }> {
	const record = await secureRecordFor(fedStore, global);
	if (!record || record.maskedText === undefined) {
		throw new MusicrecError(
			'federation/secure-refused',
			'This browser sent no masked update this round, so it has nothing to answer',
			{}
		);
	}
	const r = await answerUnmask(record.state, requestText);
	const next: SecureClientRecord = {
		...record,
		state: r.state,
		phase: 'answered',
		sharesText: r.sharesText
	};
	await fedStore.putSecureClient(next);
	return { record: next, survivors: r.survivors, dropped: r.dropped };
}
