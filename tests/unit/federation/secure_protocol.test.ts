/**
 * The secure round's parts against independent references (Node's crypto for AES-CTR, ECDH
 * and HKDF; BigInt for the ring), and every refusal that protects a client.
 */
import { createCipheriv, createECDH, createPrivateKey, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alsParams } from '../../../src/lib/core/als/params';
import type { Interactions } from '../../../src/lib/core/data/interactions';
import { syntheticZipf } from '../../../src/lib/core/data/synthetic';
import { isMusicrecError, type ErrorCode } from '../../../src/lib/core/errors';
import {
	absCosine,
	recoverFromSums,
	strippedStatistics
} from '../../../src/lib/core/federation/adversary';
import { clientStatistics } from '../../../src/lib/core/federation/client_update';
import {
	createInitialGlobal,
	MAX_COHORT,
	publishGlobal,
	type PublishedGlobal
} from '../../../src/lib/core/federation/global_file';
import { splitByOwner, splitByUsers } from '../../../src/lib/core/federation/partition';
import { pairKeys, roundSalt } from '../../../src/lib/core/federation/secure/agreement';
import {
	answerUnmask,
	maskStatistics,
	startSecureRound
} from '../../../src/lib/core/federation/secure/client';
import {
	buildRoster,
	buildUnmaskRequest
} from '../../../src/lib/core/federation/secure/coordinator';
import {
	decodeRoster,
	decodeUnmaskRequest,
	encodeRoster,
	encodeUnmaskRequest,
	thresholdFor
} from '../../../src/lib/core/federation/secure/files';
import { runLocalSecureRound } from '../../../src/lib/core/federation/secure/local_round';
import { maskOf } from '../../../src/lib/core/federation/secure/masks';
import {
	addInto,
	decodeFixed,
	encodeFixed,
	entryBound,
	ringVector,
	signedAt,
	subtractInto
} from '../../../src/lib/core/federation/secure/ring';
import { combineShares, splitSecrets } from '../../../src/lib/core/federation/secure/shares';
import {
	generateKeyPair,
	importPrivateKey,
	randomBytes
} from '../../../src/lib/core/federation/secure/webcrypto';
import { decodeBase64, encodeBase64 } from '../../../src/lib/core/format/base64';
import { Rng } from '../../../src/lib/core/random';

async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<string> {
	try {
		await (typeof p === 'function' ? p() : p);
	} catch (e) {
		if (!isMusicrecError(e)) throw e;
		expect(e.code).toBe(code);
		return e.message;
	}
	throw new Error(`expected ${code}`);
}

const M64 = (1n << 64n) - 1n;
const big = (v: Uint32Array, k: number): bigint => (BigInt(v[2 * k + 1]) << 32n) + BigInt(v[2 * k]);

describe('ring: fixed point in Z_2^64 against BigInt', () => {
	it('encodes, adds, subtracts and decodes like modular integer arithmetic', () => {
		const rng = new Rng(4);
		const s = 24;
		const n = 2000;
		const a = new Float64Array(n).map(() => (rng.next() - 0.5) * 10 ** (rng.int(12) - 4));
		const b = new Float64Array(n).map(() => (rng.next() - 0.5) * 10 ** (rng.int(12) - 4));
		a[0] = -0.5 * 2 ** -24; // rounds to -0
		a[1] = -(2 ** -24);
		const bound = entryBound(s, MAX_COHORT);
		const va = ringVector(n);
		const vb = ringVector(n);
		encodeFixed(a, s, va, 0, bound, 'a');
		encodeFixed(b, s, vb, 0, bound, 'b');
		const sum = Uint32Array.from(va);
		addInto(sum, vb);
		const diff = Uint32Array.from(va);
		subtractInto(diff, vb);
		for (let k = 0; k < n; k++) {
			const qa = BigInt(Math.round(a[k] * 2 ** s));
			const qb = BigInt(Math.round(b[k] * 2 ** s));
			expect(big(va, k)).toBe(qa & M64);
			expect(big(sum, k)).toBe((qa + qb) & M64);
			expect(big(diff, k)).toBe((qa - qb) & M64);
			expect(signedAt(sum, k)).toBe(Number(BigInt.asIntN(64, (qa + qb) & M64)));
		}
		const back = decodeFixed(va, 0, n, s);
		for (let k = 0; k < n; k++) expect(Math.abs(back[k] - a[k])).toBeLessThanOrEqual(2 ** -25);
	});

	it('MAX_COHORT clients at the entry bound sum without overflow; beyond it is refused', () => {
		for (const s of [8, 24, 40]) {
			const bound = entryBound(s, MAX_COHORT);
			const acc = ringVector(2);
			const v = ringVector(2);
			encodeFixed([bound, -bound], s, v, 0, bound, 'v');
			for (let c = 0; c < MAX_COHORT; c++) addInto(acc, v);
			const q = BigInt(Math.round(bound * 2 ** s)) * BigInt(MAX_COHORT);
			expect(BigInt.asIntN(64, big(acc, 0))).toBe(q);
			expect(BigInt.asIntN(64, big(acc, 1))).toBe(-q);
			expect(q < 1n << 63n).toBe(true);
		}
		expect(() =>
			encodeFixed(
				[entryBound(24, MAX_COHORT) * 1.0001],
				24,
				ringVector(1),
				0,
				entryBound(24, MAX_COHORT),
				'x'
			)
		).toThrow(/outside the range/);
		expect(() => encodeFixed([Number.NaN], 24, ringVector(1), 0, 1, 'x')).toThrow(
			/outside the range/
		);
	});
});

describe('the platform crypto against Node crypto', () => {
	it('masks are the AES-256-CTR keystream of the seed (zero counter), across chunk boundaries', async () => {
		const seed = randomBytes(32);
		const length = (1 << 19) + 3; // 4 MB of keystream and a bit: crosses the 4 MiB chunk
		const mask = await maskOf(seed, length);
		const cipher = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16));
		const reference = cipher.update(Buffer.alloc(8 * length));
		expect(Buffer.from(mask.buffer).equals(reference)).toBe(true);
	});

	it('pair keys: both sides agree, and they are HKDF-SHA-256 of the ECDH secret', async () => {
		const a = await generateKeyPair();
		const b = await generateKeyPair();
		const ctx = { federationId: 'fed', round: 3, baseChecksum: 'sha256:' + '0'.repeat(64) };
		const salt = await roundSalt(ctx);
		const ab = await pairKeys(
			await importPrivateKey(a.privateKey),
			'aaaa',
			'bbbb',
			b.publicKey,
			salt
		);
		const ba = await pairKeys(
			await importPrivateKey(b.privateKey),
			'bbbb',
			'aaaa',
			a.publicKey,
			salt
		);
		expect(Buffer.from(ab.maskSeed).equals(Buffer.from(ba.maskSeed))).toBe(true);
		expect(Buffer.from(ab.sendKey).equals(Buffer.from(ba.receiveKey))).toBe(true);
		expect(Buffer.from(ab.sendKey).equals(Buffer.from(ab.receiveKey))).toBe(false);
		// Independent derivation with node:crypto.
		const ecdh = createECDH('prime256v1');
		const jwk = createPrivateKey({
			key: Buffer.from(a.privateKey),
			format: 'der',
			type: 'pkcs8'
		}).export({
			format: 'jwk'
		});
		ecdh.setPrivateKey(Buffer.from(jwk.d!, 'base64url'));
		const secret = ecdh.computeSecret(Buffer.from(b.publicKey));
		const mask = hkdfSync('sha256', secret, Buffer.from(salt), Buffer.from('mask\0aaaa\0bbbb'), 32);
		expect(Buffer.from(ab.maskSeed).equals(Buffer.from(mask))).toBe(true);
	});

	it('t shares of a secret give it back; t - 1 are refused', async () => {
		const secrets = [randomBytes(32), randomBytes(32)];
		const shares = await splitSecrets(secrets, 7, 4);
		const got = await combineShares(
			[shares[0][6], shares[0][2], shares[0][4], shares[0][0]],
			4,
			's'
		);
		expect(Buffer.from(got).equals(Buffer.from(secrets[0]))).toBe(true);
		await expectCode(combineShares(shares[1].slice(0, 3), 4, 's'), 'federation/too-few-shares');
		// Duplicates do not count twice.
		await expectCode(
			combineShares([shares[1][0], shares[1][0], shares[1][1], shares[1][2]], 4, 's'),
			'federation/too-few-shares'
		);
	});
});

function setup(
	clients: number,
	minCohort = 3
): { global: PublishedGlobal; locals: Interactions[] } {
	const data = syntheticZipf({ users: 60, items: 40, nnz: 600, seed: 7 });
	const global = publishGlobal(
		createInitialGlobal({
			federationId: 'protocol',
			mode: 'exact',
			params: alsParams({ factors: 4, regularization: 0.5, alpha: 2, seed: 1 }),
			catalog: data.items.toArray(),
			secure: { minCohort, scaleBits: 24, clipPerUser: null }
		})
	);
	return { global, locals: splitByUsers(data, clients, 'even', 2).map((s) => s.interactions) };
}

describe('dropouts, thresholds and the minimum cohort', () => {
	it('n = 6, t = 4: two clients may vanish after the keys; a third is one too many', async () => {
		expect(thresholdFor(6)).toBe(4);
		const { global, locals } = setup(6);
		const stats = () => locals.map((l) => clientStatistics(global, l));
		const ok = await runLocalSecureRound(global, stats(), { dropAfterKeys: new Set([0, 3]) });
		expect(ok.sum.survivors).toHaveLength(4);
		await expectCode(
			runLocalSecureRound(global, stats(), { dropAfterKeys: new Set([0, 3, 5]) }),
			'federation/cohort-too-small'
		);
		// Vanishing after the masked update: the sum still needs t answers.
		await expectCode(
			runLocalSecureRound(global, stats(), { dropAfterMasked: new Set([0, 1, 2]) }),
			'federation/too-few-shares'
		);
		const late = await runLocalSecureRound(global, stats(), {
			dropAfterKeys: new Set([1]),
			dropAfterMasked: new Set([2])
		});
		expect(late.sum.responders).toHaveLength(4);
	});

	it('fewer keys than k: no roster; a forged request with fewer than k survivors is refused by the clients', async () => {
		const { global, locals } = setup(4, 4);
		const started = await Promise.all(locals.map(() => startSecureRound(global)));
		await expectCode(
			() =>
				buildRoster(
					global,
					started.slice(0, 3).map((s) => s.keysText)
				),
			'federation/cohort-too-small'
		);
		const roster = buildRoster(
			global,
			started.map((s) => s.keysText)
		);
		const masked: string[] = [];
		const states = started.map((s) => s.state);
		for (let k = 0; k < 4; k++) {
			const r = await maskStatistics(
				states[k],
				global,
				roster.text,
				clientStatistics(global, locals[k])
			);
			states[k] = r.state;
			masked.push(r.maskedText);
		}
		await expectCode(
			() => buildUnmaskRequest(global, roster.text, masked.slice(0, 3)),
			'federation/cohort-too-small'
		);
		// A coordinator that wrote the request itself with 3 survivors of k = 4.
		const real = buildUnmaskRequest(global, roster.text, masked).request;
		const ids = real.survivors;
		const forged = encodeUnmaskRequest({
			...real,
			survivors: ids.slice(0, 3),
			dropped: ids.slice(3),
			// The right size (3 survivors x (1 + 1 missing) sealed shares); the client refuses
			// before opening any.
			forwarded: [0, 1, 2].map(() => new Uint8Array(3 * 2 * 49))
		});
		const me = states.findIndex((s) => s.clientId === ids[0]);
		await expectCode(answerUnmask(states[me], forged), 'federation/cohort-too-small');
	});

	it('a client answers one unmask request per round, and refuses one that lists it as missing', async () => {
		const { global, locals } = setup(5);
		const started = await Promise.all(locals.map(() => startSecureRound(global)));
		const roster = buildRoster(
			global,
			started.map((s) => s.keysText)
		);
		const states = started.map((s) => s.state);
		const masked: string[] = [];
		for (let k = 0; k < 5; k++) {
			const r = await maskStatistics(
				states[k],
				global,
				roster.text,
				clientStatistics(global, locals[k])
			);
			states[k] = r.state;
			masked.push(r.maskedText);
		}
		// Masking twice, for another roster of the round, is refused.
		const other = buildRoster(
			global,
			started.slice(0, 4).map((s) => s.keysText)
		);
		await expectCode(
			maskStatistics(states[0], global, other.text, clientStatistics(global, locals[0])),
			'federation/secure-refused'
		);
		const first = buildUnmaskRequest(global, roster.text, masked);
		const answered = await answerUnmask(states[0], first.text);
		// The same request again is fine (a lost file); a different one is not.
		await answerUnmask(answered.state, first.text);
		const second = buildUnmaskRequest(global, roster.text, masked.slice(1));
		const me = states.findIndex(
			(s) => s.clientId === decodeUnmaskRequest(second.text).value.survivors[0]
		);
		if (me === 0) throw new Error('unexpected order');
		const again = await answerUnmask(states[me], first.text);
		await expectCode(answerUnmask(again.state, second.text), 'federation/secure-refused');
		// Client 0 is missing from `second`: it will not answer it.
		await expectCode(answerUnmask(answered.state, second.text), 'federation/secure-refused');
	});

	it('a roster without this client, with a changed key, or for another round is refused', async () => {
		const { global } = setup(3);
		const started = await Promise.all([0, 1, 2, 3].map(() => startSecureRound(global)));
		const roster = buildRoster(
			global,
			started.slice(1).map((s) => s.keysText)
		);
		await expectCode(
			maskStatistics(started[0].state, global, roster.text, { factors: 4 } as never),
			'federation/not-in-roster'
		);
		const value = decodeRoster(roster.text).value;
		const swapped = encodeRoster({
			...value,
			members: value.members.map((m) =>
				m.clientId === started[1].state.clientId
					? { ...m, publicKey: started[0].state.publicKey }
					: m
			)
		});
		await expectCode(
			maskStatistics(started[1].state, global, swapped, { factors: 4 } as never),
			'federation/not-in-roster'
		);
		const nextRound = encodeRoster({ ...value, round: 1 });
		await expectCode(
			maskStatistics(started[1].state, global, nextRound, { factors: 4 } as never),
			'federation/wrong-round'
		);
	});

	it('a tampered sealed share fails to open', async () => {
		const { global, locals } = setup(3);
		const started = await Promise.all(locals.map(() => startSecureRound(global)));
		const roster = buildRoster(
			global,
			started.map((s) => s.keysText)
		);
		const states = started.map((s) => s.state);
		const masked: string[] = [];
		for (let k = 0; k < 3; k++) {
			const r = await maskStatistics(
				states[k],
				global,
				roster.text,
				clientStatistics(global, locals[k])
			);
			states[k] = r.state;
			masked.push(r.maskedText);
		}
		const request = buildUnmaskRequest(global, roster.text, masked);
		const value = request.request;
		const bad = Uint8Array.from(value.forwarded[0]);
		bad[5] ^= 1;
		const tampered = encodeUnmaskRequest({
			...value,
			forwarded: [bad, ...value.forwarded.slice(1)]
		});
		const me = states.findIndex((s) => s.clientId === value.survivors[0]);
		await expectCode(answerUnmask(states[me], tampered), 'federation/bad-share');
		expect(encodeBase64(decodeBase64(encodeBase64(bad)))).toBe(encodeBase64(bad));
	});
});

describe('a client late after its masks were recovered cannot be unmasked', () => {
	it('the coordinator holds every pair mask of the late client, but not its self-mask', async () => {
		const data = syntheticZipf({ users: 40, items: 400, nnz: 800, seed: 3 });
		const f = 32;
		const global = publishGlobal(
			createInitialGlobal({
				federationId: 'late',
				mode: 'exact',
				params: alsParams({ factors: f, regularization: 0.1, alpha: 2, seed: 1 }),
				catalog: data.items.toArray(),
				secure: { minCohort: 3, scaleBits: 24, clipPerUser: null }
			})
		);
		// Five one-person clients; client 4 is late.
		const owner = new Int32Array(40).fill(5);
		[0, 1, 2, 3, 4].forEach((k) => (owner[k] = k));
		const locals = splitByOwner(data, owner, 6)
			.slice(0, 5)
			.map((s) => s.interactions);
		const stats = locals.map((l) => clientStatistics(global, l));
		const lateStats = clientStatistics(global, locals[4]);
		const round = await runLocalSecureRound(global, stats, { dropAfterKeys: new Set([4]) });
		// The late client masks its update for the same roster and sends it after the request.
		const late = await maskStatistics(round.states[4], global, round.transcript.roster, lateStats);
		const view = {
			...round.transcript,
			masked: [...round.transcript.masked.slice(0, 4), late.maskedText]
		};
		const sums = await strippedStatistics(global, view, 4);
		const got = recoverFromSums(global.model, sums, lateStats.touchedItems);
		expect(absCosine(got.factor, lateStats.userFactors)).toBeLessThan(0.7);
		// The late file does not fit the sum: the request's survivors are fixed.
		const survivors = decodeUnmaskRequest(round.transcript.request).value.survivors;
		expect(survivors).not.toContain(round.states[4].clientId);
		// Positive control: with t = 3 colluding survivors, who hold t shares of the late
		// client's self-mask, the same adversary recovers its factor.
		expect(decodeRoster(round.transcript.roster).value.threshold).toBe(3);
		const colluded = await strippedStatistics(global, view, 4, round.states.slice(0, 3));
		const all = recoverFromSums(global.model, colluded, lateStats.touchedItems);
		expect(absCosine(all.factor, lateStats.userFactors)).toBeGreaterThan(0.9999);
	});
});
