/**
 * The coordinator's side of a secure round: it relays files and, at the end, learns the sum of
 * the survivors' statistics and nothing else (client.ts has the protocol).
 *
 *   buildRoster         keys files -> the roster (needs at least k keys)
 *   buildUnmaskRequest  masked updates -> survivors S, missing D, the shares to forward
 *   unmaskSum           unmask shares (at least t) -> sum_{u in S} encode(stats_u), exactly
 *
 * A masked update that arrives after the unmask request is refused ('federation/late'): its
 * pair masks may have been revealed, and its self-mask never will be.
 */
import { MusicrecError, isMusicrecError, type ErrorCode } from '../../errors';
import { MAX_COHORT, secureSettingsOf, type PublishedGlobal } from '../global_file';
import { maskSign } from './agreement';
import {
	checkRef,
	decodeKeysFile,
	decodeMaskedUpdate,
	decodeRoster,
	decodeUnmaskRequest,
	decodeUnmaskShares,
	encodeRoster,
	encodeUnmaskRequest,
	requestedShares,
	thresholdFor,
	type Roster,
	type RosterMember,
	type UnmaskRequest
} from './files';
import { applyMask } from './masks';
import { addInto, ringVector, subtractInto } from './ring';
import { combineShares, sealedShareAt, SEALED_SHARE_BYTES, SHARE_BYTES } from './shares';
import { decodeSum, vectorLayout, type DecodedSum } from './statistics_vector';

/** A file the coordinator did not use, with the reason in words. */
export interface SecureRejection {
	readonly index: number;
	readonly clientId?: string;
	readonly code: ErrorCode;
	readonly reason: string;
}

function refOf(global: PublishedGlobal) {
	return {
		federationId: global.model.federationId,
		round: global.model.round,
		baseChecksum: global.checksum
	};
}

function rejection(index: number, e: unknown, clientId?: string): SecureRejection {
	if (!isMusicrecError(e)) throw e;
	return { index, clientId, code: e.code, reason: e.message };
}

/**
 * Check the keys files of a round: each valid key once (the same file twice counts once; two
 * different keys under one client id are both refused), at most MAX_COHORT (later files are
 * refused). Returns the members in file order with their file positions.
 */
export function checkKeys(
	global: PublishedGlobal,
	keyTexts: readonly string[]
): { members: { index: number; key: RosterMember }[]; rejected: SecureRejection[] } {
	secureSettingsOf(global);
	const ref = refOf(global);
	const rejected: SecureRejection[] = [];
	const byId = new Map<string, { index: number; key: RosterMember; checksum: string }[]>();
	keyTexts.forEach((text, index) => {
		try {
			const { value, checksum } = decodeKeysFile(text);
			checkRef('public key file', value, ref);
			const list = byId.get(value.clientId) ?? [];
			list.push({ index, key: { clientId: value.clientId, publicKey: value.publicKey }, checksum });
			byId.set(value.clientId, list);
		} catch (e) {
			rejected.push(rejection(index, e));
		}
	});
	const members: { index: number; key: RosterMember }[] = [];
	for (const [clientId, list] of byId) {
		if (new Set(list.map((l) => l.checksum)).size > 1) {
			for (const l of list) {
				rejected.push({
					index: l.index,
					clientId,
					code: 'federation/duplicate-client',
					reason: `Two different public keys claim client id ${clientId}; neither is used`
				});
			}
			continue;
		}
		members.push(list[0]);
		for (const l of list.slice(1)) {
			rejected.push({
				index: l.index,
				clientId,
				code: 'federation/duplicate-client',
				reason: `The same public key file of client ${clientId} was given twice; one copy is used`
			});
		}
	}
	members.sort((a, b) => a.index - b.index);
	for (const m of members.splice(MAX_COHORT)) {
		rejected.push({
			index: m.index,
			clientId: m.key.clientId,
			code: 'federation/bad-input',
			reason: `A secure round holds at most ${MAX_COHORT} clients; this key came later`
		});
	}
	return { members, rejected };
}

/**
 * The roster of a round from the keys files received (`checkKeys`), sorted by client id.
 * Throws 'federation/cohort-too-small' with fewer than the global's k keys.
 */
export function buildRoster(
	global: PublishedGlobal,
	keyTexts: readonly string[]
): { text: string; roster: Roster; accepted: number[]; rejected: SecureRejection[] } {
	const settings = secureSettingsOf(global);
	const { members, rejected } = checkKeys(global, keyTexts);
	if (members.length < settings.minCohort) {
		throw new MusicrecError(
			'federation/cohort-too-small',
			`${members.length} valid public key(s); a secure round needs at least ${settings.minCohort} clients`,
			{ members: members.length, minCohort: settings.minCohort }
		);
	}
	const sorted = members.map((m) => m.key).sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
	const roster: Roster = {
		...refOf(global),
		threshold: thresholdFor(sorted.length),
		minCohort: settings.minCohort,
		members: sorted
	};
	return {
		text: encodeRoster(roster),
		roster,
		accepted: members.map((m) => m.index).sort((a, b) => a - b),
		rejected
	};
}

/** A masked update checked against the round: its client id, and the shares it seals. */
interface CheckedMasked {
	readonly index: number;
	readonly clientId: string;
	readonly bundles: readonly Uint8Array[];
}

/** Decode and check one masked update for a roster; returns it with its vector. */
function readMasked(
	global: PublishedGlobal,
	roster: { checksum: string; value: Roster },
	text: string
) {
	const layout = vectorLayout(global.model);
	const { value, checksum } = decodeMaskedUpdate(text, {
		members: roster.value.members.length,
		length: layout.length
	});
	checkRef('masked update', value, refOf(global));
	if (value.rosterChecksum !== roster.checksum) {
		throw new MusicrecError(
			'federation/wrong-roster',
			'The masked update was made for another roster',
			{}
		);
	}
	if (value.mode !== global.model.mode) {
		throw new MusicrecError(
			'federation/wrong-mode',
			`The masked update is in ${value.mode} mode, the federation uses ${global.model.mode} mode`,
			{}
		);
	}
	if (!roster.value.members.some((m) => m.clientId === value.clientId)) {
		throw new MusicrecError(
			'federation/not-in-roster',
			`Client ${value.clientId} is not in this round's roster`,
			{}
		);
	}
	return { ...value, checksum };
}

/**
 * Verdicts on the masked updates of a round without summing them (what the coordinator shows
 * while the masked phase is open): the same checks and duplicate rules as buildUnmaskRequest.
 */
export function checkMaskedUpdates(
	global: PublishedGlobal,
	rosterText: string,
	maskedTexts: readonly string[]
): { accepted: { index: number; clientId: string }[]; rejected: SecureRejection[] } {
	const roster = decodeRoster(rosterText);
	checkRef('roster', roster.value, refOf(global));
	const rejected: SecureRejection[] = [];
	const seen = new Map<string, { index: number; checksum: string }[]>();
	maskedTexts.forEach((text, index) => {
		try {
			const v = readMasked(global, roster, text);
			seen.set(v.clientId, [...(seen.get(v.clientId) ?? []), { index, checksum: v.checksum }]);
		} catch (e) {
			rejected.push(rejection(index, e));
		}
	});
	const accepted: { index: number; clientId: string }[] = [];
	for (const [clientId, list] of seen) {
		const conflict = new Set(list.map((l) => l.checksum)).size > 1;
		list.forEach((l, k) => {
			if (!conflict && k === 0) accepted.push({ index: l.index, clientId });
			else {
				rejected.push({
					index: l.index,
					clientId,
					code: 'federation/duplicate-client',
					reason: conflict
						? `Two different masked updates claim client id ${clientId}; neither is used`
						: `The same masked update of client ${clientId} was given twice; one copy is used`
				});
			}
		});
	}
	accepted.sort((a, b) => a.index - b.index);
	return { accepted, rejected };
}

/** Why a masked update that comes after the unmask request is refused. */
export function lateReason(clientId: string | undefined): string {
	return `${clientId ? `Client ${clientId}'s` : 'This'} masked update came after the unmask request: its masks with the others may be revealed, and its own mask never will be, so it cannot be used this round`;
}

/**
 * The unmask request from the masked updates received: survivors S are the roster members with
 * a valid masked update (one per client: different files from one client id are all refused),
 * D the others. Throws 'federation/cohort-too-small' when S has fewer than k members or fewer
 * than t (then no t answers can come).
 */
export function buildUnmaskRequest(
	global: PublishedGlobal,
	rosterText: string,
	maskedTexts: readonly string[]
): {
	text: string;
	request: UnmaskRequest;
	accepted: number[];
	rejected: SecureRejection[];
	/** sum_{u in S} y_u modulo 2^64: all the coordinator keeps of the masked updates. */
	maskedSum: Uint32Array;
} {
	const settings = secureSettingsOf(global);
	const roster = decodeRoster(rosterText);
	checkRef('roster', roster.value, refOf(global));
	const rejected: SecureRejection[] = [];
	// One pass: each valid update is added to the running sum and its vector dropped. A client
	// id met again with a different file is refused with its first file (read again to take it
	// out of the sum); the same file again counts once.
	const layout = vectorLayout(global.model);
	const maskedSum = ringVector(layout.length);
	const first = new Map<string, CheckedMasked & { checksum: string; text: string }>();
	const conflicted = new Set<string>();
	maskedTexts.forEach((text, index) => {
		let value;
		try {
			value = readMasked(global, roster, text);
		} catch (e) {
			rejected.push(rejection(index, e));
			return;
		}
		const id = value.clientId;
		const seen = first.get(id);
		if (conflicted.has(id) || (seen && seen.checksum !== value.checksum)) {
			if (seen) {
				subtractInto(maskedSum, readMasked(global, roster, seen.text).masked);
				first.delete(id);
				rejected.push({
					index: seen.index,
					clientId: id,
					code: 'federation/duplicate-client',
					reason: `Two different masked updates claim client id ${id}; neither is used`
				});
			}
			conflicted.add(id);
			rejected.push({
				index,
				clientId: id,
				code: 'federation/duplicate-client',
				reason: `Two different masked updates claim client id ${id}; neither is used`
			});
			return;
		}
		if (seen) {
			rejected.push({
				index,
				clientId: id,
				code: 'federation/duplicate-client',
				reason: `The same masked update of client ${id} was given twice; one copy is used`
			});
			return;
		}
		addInto(maskedSum, value.masked);
		first.set(id, { index, clientId: id, bundles: value.bundles, checksum: value.checksum, text });
	});
	const survivors: CheckedMasked[] = [...first.values()];
	survivors.sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
	const s = survivors.map((v) => v.clientId);
	const need = Math.max(settings.minCohort, roster.value.threshold);
	if (s.length < need) {
		throw new MusicrecError(
			'federation/cohort-too-small',
			`${s.length} masked update(s) received; the sum can be unmasked from ${need} (at least k = ${settings.minCohort} clients, and t = ${roster.value.threshold} answers to come)`,
			{ survivors: s.length, needed: need }
		);
	}
	const dropped = roster.value.members.map((m) => m.clientId).filter((id) => !s.includes(id));
	const position = new Map(roster.value.members.map((m, j) => [m.clientId, j]));
	const wanted = requestedShares(roster.value, s, dropped);
	const bundleOf = new Map(survivors.map((v) => [v.clientId, v.bundles]));
	// For recipient v: the sealed share of secret w.secret that w.owner sealed for v.
	const forwarded = s.map((v) => {
		const out = new Uint8Array(wanted.length * SEALED_SHARE_BYTES);
		const holder = position.get(v)!;
		wanted.forEach((w, k) => {
			const bundle = bundleOf.get(w.owner)![holder];
			out.set(sealedShareAt(bundle, w.secret), k * SEALED_SHARE_BYTES);
		});
		return out;
	});
	const request: UnmaskRequest = {
		...refOf(global),
		rosterChecksum: roster.checksum,
		survivors: s,
		dropped,
		forwarded
	};
	return {
		text: encodeUnmaskRequest(request),
		request,
		accepted: survivors.map((v) => v.index).sort((a, b) => a - b),
		rejected,
		maskedSum
	};
}

/** The result of the unmasking phase. */
export interface UnmaskedSum extends DecodedSum {
	/** The exact ring sum of the survivors' encoded statistics (2 words per element). */
	readonly ring: Uint32Array;
	/** Clients whose shares were used. */
	readonly responders: readonly string[];
	readonly survivors: readonly string[];
	readonly dropped: readonly string[];
	readonly rejected: readonly SecureRejection[];
}

/**
 * Check the unmask shares received; those from survivors that fit the request are kept (one per
 * client). Returns them by client id, with the rejected ones.
 */
export function checkUnmaskShares(
	global: PublishedGlobal,
	rosterText: string,
	requestText: string,
	shareTexts: readonly string[]
): {
	answers: Map<string, Uint8Array>;
	accepted: { index: number; clientId: string }[];
	rejected: SecureRejection[];
} {
	const roster = decodeRoster(rosterText);
	const request = decodeUnmaskRequest(requestText);
	const count = requestedShares(
		roster.value,
		request.value.survivors,
		request.value.dropped
	).length;
	const answers = new Map<string, Uint8Array>();
	const accepted: { index: number; clientId: string }[] = [];
	const rejected: SecureRejection[] = [];
	shareTexts.forEach((text, index) => {
		try {
			const { value } = decodeUnmaskShares(text);
			checkRef('unmask shares file', value, refOf(global));
			if (value.rosterChecksum !== roster.checksum || value.requestChecksum !== request.checksum) {
				throw new MusicrecError(
					'federation/wrong-roster',
					'The unmask shares answer another request of this round',
					{}
				);
			}
			if (!request.value.survivors.includes(value.clientId)) {
				throw new MusicrecError(
					'federation/not-in-roster',
					`Client ${value.clientId} is not among this round's survivors`,
					{}
				);
			}
			if (value.shares.length !== count * SHARE_BYTES) {
				throw new MusicrecError(
					'federation/bad-shape',
					`The unmask shares hold ${value.shares.length / SHARE_BYTES} shares, the request asked for ${count}`,
					{}
				);
			}
			if (answers.has(value.clientId)) {
				rejected.push({
					index,
					clientId: value.clientId,
					code: 'federation/duplicate-client',
					reason: `Client ${value.clientId} answered twice; the first answer is used`
				});
				return;
			}
			answers.set(value.clientId, value.shares);
			accepted.push({ index, clientId: value.clientId });
		} catch (e) {
			rejected.push(rejection(index, e));
		}
	});
	return { answers, accepted, rejected };
}

/**
 * Unmask the survivors' sum from `maskedSum` (buildUnmaskRequest's sum of their masked
 * updates) and at least t valid unmask answers. Recovers each survivor's self-mask seed and
 * each (survivor, missing) pair seed from t shares, then
 *   Z = sum_{u in S} y_u - sum_{u in S} PRG(b_u) - sum_{u in S, d in D} sign(u, d) PRG(s_ud)
 * which is sum_{u in S} encode(stats_u) modulo 2^64 (the pair masks within S cancel).
 */
export async function unmaskSum(
	global: PublishedGlobal,
	rosterText: string,
	requestText: string,
	maskedSum: Uint32Array,
	shareTexts: readonly string[]
): Promise<UnmaskedSum> {
	const settings = secureSettingsOf(global);
	const roster = decodeRoster(rosterText);
	checkRef('roster', roster.value, refOf(global));
	const request = decodeUnmaskRequest(requestText);
	checkRef('unmask request', request.value, refOf(global));
	if (request.value.rosterChecksum !== roster.checksum) {
		throw new MusicrecError(
			'federation/wrong-roster',
			'The unmask request is for another roster',
			{}
		);
	}
	const { survivors, dropped } = request.value;
	if (survivors.length < settings.minCohort) {
		throw new MusicrecError(
			'federation/cohort-too-small',
			`${survivors.length} survivor(s); no sum of fewer than ${settings.minCohort} clients is unmasked`,
			{ survivors: survivors.length, minCohort: settings.minCohort }
		);
	}
	const layout = vectorLayout(global.model);
	if (maskedSum.length !== 2 * layout.length) {
		throw new MusicrecError('federation/bad-input', 'the masked sum does not fit this round', {});
	}
	const { answers, rejected } = checkUnmaskShares(global, rosterText, requestText, shareTexts);
	const t = roster.value.threshold;
	if (answers.size < t) {
		throw new MusicrecError(
			'federation/too-few-shares',
			`${answers.size} of the ${survivors.length} survivors answered; ${t} answers are needed to unmask the sum`,
			{ answers: answers.size, threshold: t }
		);
	}
	const sum = Uint32Array.from(maskedSum);
	// Shares by (owner, secret), from every responder.
	const wanted = requestedShares(roster.value, survivors, dropped);
	const responders = [...answers.keys()].sort();
	const sharesOf = (k: number): Uint8Array[] =>
		responders.map((r) => answers.get(r)!.subarray(k * SHARE_BYTES, (k + 1) * SHARE_BYTES));
	for (let k = 0; k < wanted.length; k++) {
		const w = wanted[k];
		const seed = await combineShares(
			sharesOf(k),
			t,
			w.peer === null ? `the self-mask of ${w.owner}` : `the pair mask of ${w.owner} and ${w.peer}`
		);
		// u added +PRG(b_u) and sign(u, d) PRG(s_ud): take both away.
		await applyMask(sum, seed, w.peer === null ? -1 : (-maskSign(w.owner, w.peer) as 1 | -1));
	}
	return {
		...decodeSum(sum, layout, settings.scaleBits),
		ring: sum,
		responders,
		survivors,
		dropped,
		rejected
	};
}
