import { isMusicrecError, type ErrorCode } from '../errors';
import type { EnvelopeLimits } from '../format/envelope';
import { envelopeChecksum, type PublishedGlobal } from './global_file';
import { decodeUpdateFile, type ClientUpdate, type UpdatePayload } from './update_file';
import { fmt, median } from './round_statistics';

interface OutlierPolicy {
	/** 'reject' drops an outlier update; 'clip' scales it down to the threshold. */
	readonly action: 'clip' | 'reject';
	/** An update is an outlier when a norm exceeds this multiple of the round's median. */
	readonly multiple: number;
	/** Below this many updates no median is trusted and no outlier check runs. */
	readonly minUpdates: number;
}

const DEFAULT_OUTLIER_POLICY: OutlierPolicy = Object.freeze({
	action: 'reject',
	multiple: 100,
	minUpdates: 3
});

export interface ValidationOptions {
	readonly limits?: Partial<EnvelopeLimits>;
	readonly outliers?: Partial<OutlierPolicy>;
	/** Most new songs one update may propose; default DEFAULT_MAX_PROPOSALS. */
	readonly maxProposals?: number;
}

/** Default cap on the songs one update may propose. */
const DEFAULT_MAX_PROPOSALS = 100_000;

interface Rejection {
	/** Position of the file in the input list. */
	readonly index: number;
	/** Present when the file was readable far enough to name its client. */
	readonly clientId?: string;
	readonly code: ErrorCode;
	/** A sentence for people. */
	readonly reason: string;
}

interface Clipping {
	readonly index: number;
	readonly clientId: string;
	/** Every tensor of the update was multiplied by this factor (< 1). */
	readonly factor: number;
	readonly reason: string;
}

export interface ValidationResult {
	readonly accepted: ClientUpdate[];
	readonly rejected: Rejection[];
	readonly clipped: Clipping[];
}

interface Candidate {
	index: number;
	update: ClientUpdate;
	checksum: string;
}

/**
 * Check the update files of a round against the current global (docs/federation.md), in
 * order: format, version, size limits, checksum, meta fields, shapes and finite values
 * (decodeUpdateFile); then federation id, round, base checksum, mode, factor count and catalog
 * range; then duplicate client ids (the same file twice keeps one copy; different files with
 * one client id are all rejected, since which is genuine cannot be told); then norm outliers:
 * with at least `minUpdates` updates, an update whose `|G|_F` or root-mean-square row norm of
 * b (exact) or g (compact) exceeds `multiple` times the round's median is rejected, or, with
 * 'clip', all its tensors are scaled by `multiple / ratio` (its largest ratio to the median).
 * Proposals of new songs: at most `maxProposals`, none already in the catalog
 * ('federation/bad-proposal'); their norms are not part of the outlier check.
 * Bad updates are listed with a reason; the round proceeds with the accepted ones.
 */
export function validateUpdates(
	current: PublishedGlobal,
	texts: readonly string[],
	options: ValidationOptions = {}
): ValidationResult {
	const policy: OutlierPolicy = { ...DEFAULT_OUTLIER_POLICY, ...options.outliers };
	const model = current.model;
	const f = model.params.factors;
	const n = model.catalog.length;
	const rejected: Rejection[] = [];
	const candidates: Candidate[] = [];
	let catalog: Set<string> | undefined;
	const catalogSet = (): Set<string> => (catalog ??= new Set(model.catalog));
	texts.forEach((text, index) => {
		let update: ClientUpdate;
		try {
			update = decodeUpdateFile(text, options.limits);
		} catch (e) {
			if (!isMusicrecError(e)) throw e;
			rejected.push({ index, code: e.code, reason: e.message });
			return;
		}
		const reject = (code: ErrorCode, reason: string): void => {
			rejected.push({ index, clientId: update.clientId, code, reason });
		};
		if (update.federationId !== model.federationId) {
			return reject(
				'federation/wrong-federation',
				`The update belongs to federation '${update.federationId}', not '${model.federationId}'`
			);
		}
		if (update.round !== model.round) {
			return reject(
				'federation/wrong-round',
				`The update is for round ${update.round}, but the current round is ${model.round}`
			);
		}
		if (update.baseChecksum !== current.checksum) {
			return reject(
				'federation/wrong-base',
				`The update was computed against a different global (checksum ${update.baseChecksum.slice(0, 19)}..., current ${current.checksum.slice(0, 19)}...)`
			);
		}
		if (update.payload.mode !== model.mode) {
			return reject(
				'federation/wrong-mode',
				`The update is in ${update.payload.mode} mode, the federation uses ${model.mode} mode`
			);
		}
		if (update.factors !== f) {
			return reject(
				'federation/bad-shape',
				`The update has ${update.factors} factors (G is ${update.factors} x ${update.factors}), the global has ${f}`
			);
		}
		const p = update.payload;
		if (p.mode === 'exact') {
			const last = p.touched.length > 0 ? p.touched[p.touched.length - 1] : -1;
			if (last >= n) {
				return reject(
					'federation/bad-shape',
					`The update touches song index ${last}, but the catalog has only ${n} songs`
				);
			}
		} else if (p.gradient.length !== n * f) {
			return reject(
				'federation/bad-shape',
				`The update's gradient has ${p.gradient.length / f} rows, the catalog has ${n} songs`
			);
		}
		const q = update.proposals;
		if (q !== undefined) {
			const max = options.maxProposals ?? DEFAULT_MAX_PROPOSALS;
			if (q.songIds.length > max) {
				return reject(
					'federation/bad-proposal',
					`The update proposes ${q.songIds.length} new songs, more than the limit of ${max}`
				);
			}
			const known = q.songIds.find((id) => catalogSet().has(id));
			if (known !== undefined) {
				return reject(
					'federation/bad-proposal',
					`The update proposes song '${known.slice(0, 60)}' as new, but the catalog has it`
				);
			}
		}
		candidates.push({ index, update, checksum: envelopeChecksum(text) });
	});

	// Duplicate client ids.
	const byClient = new Map<string, Candidate[]>();
	for (const c of candidates) {
		const list = byClient.get(c.update.clientId) ?? [];
		list.push(c);
		byClient.set(c.update.clientId, list);
	}
	const unique: Candidate[] = [];
	for (const [clientId, list] of byClient) {
		const distinct = new Set(list.map((c) => c.checksum));
		if (distinct.size === 1) {
			unique.push(list[0]);
			for (const c of list.slice(1)) {
				rejected.push({
					index: c.index,
					clientId,
					code: 'federation/duplicate-client',
					reason: `The same update file from client ${clientId} was given twice; one copy is used`
				});
			}
		} else {
			for (const c of list) {
				rejected.push({
					index: c.index,
					clientId,
					code: 'federation/duplicate-client',
					reason: `Client id ${clientId} appears in ${list.length} different updates this round; all are rejected`
				});
			}
		}
	}
	unique.sort((a, b) => a.index - b.index);

	// Norm outliers.
	const clipped: Clipping[] = [];
	let accepted = unique;
	if (unique.length >= policy.minUpdates) {
		const gNorms = unique.map((c) => frobenius(c.update.payload.gram));
		const rowNorms = unique.map((c) => rmsRowNorm(c.update.payload, f));
		const gMedian = median(gNorms);
		const rowMedian = median(rowNorms);
		accepted = [];
		unique.forEach((c, k) => {
			const gRatio = gMedian > 0 ? gNorms[k] / gMedian : gNorms[k] > 0 ? Infinity : 0;
			const rowRatio = rowMedian > 0 ? rowNorms[k] / rowMedian : rowNorms[k] > 0 ? Infinity : 0;
			const ratio = Math.max(gRatio, rowRatio);
			if (!(ratio > policy.multiple)) {
				accepted.push(c);
				return;
			}
			const what =
				gRatio >= rowRatio
					? `its G norm is ${fmt(gRatio)} times the median of this round`
					: `its ${c.update.payload.mode === 'exact' ? 'b' : 'g'} row norm is ${fmt(rowRatio)} times the median of this round`;
			if (policy.action === 'reject' || !Number.isFinite(ratio)) {
				rejected.push({
					index: c.index,
					clientId: c.update.clientId,
					code: 'federation/outlier',
					reason: `The update is an outlier: ${what} (limit ${policy.multiple} times)`
				});
				return;
			}
			const factor = policy.multiple / ratio;
			clipped.push({
				index: c.index,
				clientId: c.update.clientId,
				factor,
				reason: `The update was scaled by ${fmt(factor)}: ${what} (limit ${policy.multiple} times)`
			});
			const q = c.update.proposals;
			accepted.push({
				...c,
				update: {
					...c.update,
					payload: scalePayload(c.update.payload, factor),
					...(q
						? {
								proposals: {
									...q,
									itemGrams: scale(q.itemGrams, factor),
									itemTargets: scale(q.itemTargets, factor)
								}
							}
						: {})
				}
			});
		});
	}
	rejected.sort((a, b) => a.index - b.index);
	return { accepted: accepted.map((c) => c.update), rejected, clipped };
}

function frobenius(a: Float32Array): number {
	let s = 0;
	for (let k = 0; k < a.length; k++) s += a[k] * a[k];
	return Math.sqrt(s);
}

/** sqrt(mean over non-zero rows of |row|^2) of b (exact) or g (compact). */
function rmsRowNorm(p: UpdatePayload, f: number): number {
	const rows = p.mode === 'exact' ? p.itemTargets : p.gradient;
	let sum = 0;
	let count = 0;
	for (let r = 0; r < rows.length / f; r++) {
		let s = 0;
		for (let c = 0; c < f; c++) s += rows[r * f + c] ** 2;
		if (s > 0) {
			sum += s;
			count++;
		}
	}
	return count === 0 ? 0 : Math.sqrt(sum / count);
}

function scale(a: Float32Array, s: number): Float32Array {
	return a.map((v) => v * s);
}

function scalePayload(p: UpdatePayload, s: number): UpdatePayload {
	if (p.mode === 'exact') {
		return {
			...p,
			gram: scale(p.gram, s),
			itemGrams: scale(p.itemGrams, s),
			itemTargets: scale(p.itemTargets, s)
		};
	}
	return { ...p, gram: scale(p.gram, s), gradient: scale(p.gradient, s) };
}
