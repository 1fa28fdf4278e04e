/**
 * A client's side of a secure round (Bonawitz et al. 2017, with every secret shared on its
 * own; docs/federation.md):
 *
 * 1. keys: a fresh P-256 key pair and random client id; the public key goes to the coordinator.
 * 2. masked update: with the roster of all keys, the client derives a mask seed s_uv with each
 *    member (agreement.ts), draws a self-mask seed b_u, and sends
 *      y_u = encode(stats_u) + PRG(b_u) + sum_{v != u} sign(u, v) PRG(s_uv)   (mod 2^64)
 *    together with t-of-n shares of b_u and of every s_uv, one bundle sealed for each member.
 * 3. unmask: given who sent a masked update (S) and who did not (D), the client opens the shares
 *    forwarded to it: of b_u for u in S, and of s_ud for u in S, d in D. It never opens a share
 *    of s_uv with both u and v in S, so the coordinator learns b_u or the pair masks of u, never
 *    both: the pair masks of two survivors cancel only in their sum.
 *
 * Refusals protect the person: a roster without this client's key, fewer than k members or
 * survivors, a second roster or a second unmask request for the same round.
 */
import { MusicrecError } from '../../errors';
import type { ClientStatistics } from '../client_update';
import { clipStatistics } from '../client_update';
import { secureSettingsOf, type PublishedGlobal } from '../global_file';
import { maskSign, pairKeys, roundSalt, type RoundContext } from './agreement';
import {
	checkRef,
	decodeRoster,
	decodeUnmaskRequest,
	encodeKeysFile,
	encodeMaskedUpdate,
	encodeUnmaskShares,
	requestedShares,
	type Roster
} from './files';
import { applyMask } from './masks';
import { openShare, sealBundle, sealedShareAt, SHARE_BYTES, splitSecrets } from './shares';
import { encodeStatistics, vectorLayout } from './statistics_vector';
import { generateKeyPair, importPrivateKey, randomBytes, SEED_BYTES } from './webcrypto';

/** What a client keeps between the phases of one secure round (in its own browser only). */
export interface SecureClientState extends RoundContext {
	readonly clientId: string;
	/** PKCS #8 ECDH private key of this round. */
	readonly privateKey: Uint8Array;
	readonly publicKey: Uint8Array;
	/** Set once the masked update is made: the roster it was masked for. */
	readonly roster?: { readonly checksum: string; readonly value: Roster };
	/** Set once an unmask request is answered: its checksum. */
	readonly answered?: string;
}

function hex(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
	a.length === b.length && a.every((v, i) => v === b[i]);

/** Phase 1: fresh keys and client id for this global's round, and the keys file to send. */
export async function startSecureRound(
	global: PublishedGlobal
): Promise<{ state: SecureClientState; keysText: string }> {
	secureSettingsOf(global);
	const { privateKey, publicKey } = await generateKeyPair();
	const m = global.model;
	const state: SecureClientState = {
		federationId: m.federationId,
		round: m.round,
		baseChecksum: global.checksum,
		clientId: hex(randomBytes(8)),
		privateKey,
		publicKey
	};
	const keysText = encodeKeysFile({
		federationId: state.federationId,
		round: state.round,
		baseChecksum: state.baseChecksum,
		clientId: state.clientId,
		publicKey
	});
	return { state, keysText };
}

/** Check a roster against this client's round and key; returns it decoded. */
function checkRosterFor(
	state: SecureClientState,
	global: PublishedGlobal,
	rosterText: string
): { checksum: string; value: Roster } {
	const settings = secureSettingsOf(global);
	const { value: roster, checksum } = decodeRoster(rosterText);
	checkRef('roster', roster, state);
	const me = roster.members.find((m) => m.clientId === state.clientId);
	if (!me || !sameBytes(me.publicKey, state.publicKey)) {
		throw new MusicrecError(
			'federation/not-in-roster',
			`This roster does not hold this browser's key (client ${state.clientId}): the coordinator did not receive it in time, or the roster is for other clients`,
			{ clientId: state.clientId }
		);
	}
	if (roster.minCohort !== settings.minCohort || roster.members.length < settings.minCohort) {
		throw new MusicrecError(
			'federation/cohort-too-small',
			`The roster has ${roster.members.length} member(s); this federation needs at least ${settings.minCohort}`,
			{ members: roster.members.length, minCohort: settings.minCohort }
		);
	}
	if (state.roster && state.roster.checksum !== checksum) {
		throw new MusicrecError(
			'federation/secure-refused',
			'This browser already masked its update for another roster of this round; it will not mask the same statistics twice',
			{}
		);
	}
	return { checksum, value: roster };
}

/**
 * Phase 2: mask `stats` for the roster and seal the shares. `stats` must be computed against
 * the same global; they are clipped in place to the global's bound (`clipStatistics`) first.
 */
export async function maskStatistics(
	state: SecureClientState,
	global: PublishedGlobal,
	rosterText: string,
	stats: ClientStatistics
): Promise<{ state: SecureClientState; maskedText: string; clipFactor: number }> {
	const settings = secureSettingsOf(global);
	if (global.checksum !== state.baseChecksum) {
		throw new MusicrecError(
			'federation/wrong-base',
			'The statistics were computed against another global',
			{}
		);
	}
	const roster = checkRosterFor(state, global, rosterText);
	const members = roster.value.members;
	const n = members.length;
	const clipFactor =
		settings.clipPerUser === null ? 1 : clipStatistics(stats, settings.clipPerUser);
	const vector = encodeStatistics(stats, vectorLayout(global.model), settings.scaleBits);

	const salt = await roundSalt(state);
	const key = await importPrivateKey(state.privateKey);
	const pairs = await Promise.all(
		members.map((m) => pairKeys(key, state.clientId, m.clientId, m.publicKey, salt))
	);
	const self = members.findIndex((m) => m.clientId === state.clientId);
	const selfSeed = randomBytes(SEED_BYTES);
	await applyMask(vector, selfSeed, 1);
	for (let j = 0; j < n; j++) {
		if (j === self) continue;
		await applyMask(vector, pairs[j].maskSeed, maskSign(state.clientId, members[j].clientId));
	}
	// Secret j: b_u at the client's own position, else the pair seed with member j.
	const secrets = members.map((_, j) => (j === self ? selfSeed : pairs[j].maskSeed));
	const shares = await splitSecrets(secrets, n, roster.value.threshold);
	const bundles = await Promise.all(
		members.map((m, holder) =>
			sealBundle(
				pairs[holder].sendKey,
				state.clientId,
				m.clientId,
				shares.map((s) => s[holder])
			)
		)
	);
	const maskedText = encodeMaskedUpdate({
		federationId: state.federationId,
		round: state.round,
		baseChecksum: state.baseChecksum,
		rosterChecksum: roster.checksum,
		clientId: state.clientId,
		mode: global.model.mode,
		masked: vector,
		bundles
	});
	return { state: { ...state, roster }, maskedText, clipFactor };
}

/** Phase 3: open the shares the unmask request forwards to this client. */
export async function answerUnmask(
	state: SecureClientState,
	requestText: string
): Promise<{ state: SecureClientState; sharesText: string; survivors: number; dropped: number }> {
	if (!state.roster) {
		throw new MusicrecError(
			'federation/secure-refused',
			'This browser sent no masked update this round',
			{}
		);
	}
	const { value: request, checksum } = decodeUnmaskRequest(requestText);
	checkRef('unmask request', request, state);
	const roster = state.roster.value;
	if (request.rosterChecksum !== state.roster.checksum) {
		throw new MusicrecError(
			'federation/wrong-roster',
			'The unmask request is for another roster of this round',
			{}
		);
	}
	if (state.answered !== undefined && state.answered !== checksum) {
		throw new MusicrecError(
			'federation/secure-refused',
			'This browser already answered a different unmask request for this round; answering a second one could unmask its update',
			{}
		);
	}
	const ids = roster.members.map((m) => m.clientId);
	const listed = [...request.survivors, ...request.dropped].sort();
	if (listed.length !== ids.length || listed.some((id, k) => id !== ids[k])) {
		throw new MusicrecError(
			'federation/secure-refused',
			'The unmask request does not split the roster into survivors and missing clients',
			{}
		);
	}
	if (request.survivors.length < roster.minCohort) {
		throw new MusicrecError(
			'federation/cohort-too-small',
			`Only ${request.survivors.length} masked update(s) would be summed; this federation unmasks no sum of fewer than ${roster.minCohort}`,
			{ survivors: request.survivors.length, minCohort: roster.minCohort }
		);
	}
	const me = request.survivors.indexOf(state.clientId);
	if (me < 0) {
		throw new MusicrecError(
			'federation/secure-refused',
			'The unmask request lists this browser as missing',
			{}
		);
	}
	const wanted = requestedShares(roster, request.survivors, request.dropped);
	const bundle = request.forwarded[me];
	const salt = await roundSalt(state);
	const key = await importPrivateKey(state.privateKey);
	const keys = new Map<string, Uint8Array>();
	for (const u of request.survivors) {
		const m = roster.members.find((x) => x.clientId === u)!;
		keys.set(u, (await pairKeys(key, state.clientId, u, m.publicKey, salt)).receiveKey);
	}
	const out = new Uint8Array(wanted.length * SHARE_BYTES);
	for (let k = 0; k < wanted.length; k++) {
		const w = wanted[k];
		const share = await openShare(
			keys.get(w.owner)!,
			w.owner,
			state.clientId,
			w.secret,
			sealedShareAt(bundle, k)
		);
		out.set(share, k * SHARE_BYTES);
	}
	const sharesText = encodeUnmaskShares({
		federationId: state.federationId,
		round: state.round,
		baseChecksum: state.baseChecksum,
		rosterChecksum: state.roster.checksum,
		requestChecksum: checksum,
		clientId: state.clientId,
		shares: out
	});
	return {
		state: { ...state, answered: checksum },
		sharesText,
		survivors: request.survivors.length,
		dropped: request.dropped.length
	};
}
