/**
 * The coordinator's plain round, one pipeline for the worker and the simulation:
 * validate the update files (validate.ts) -> screen the valid ones against each other when
 * robust aggregation is on (robust.ts) -> cap the kept ones' influence (influence_caps.ts) ->
 * aggregate (aggregate.ts).
 */
import { aggregate, type AggregateOptions } from './aggregate';
import type { GlobalModel, PublishedGlobal } from './global_file';
import { capInfluence, type CappedClient, type InfluenceCapOptions } from './influence_caps';
import { screenUpdates, type RobustFlag, type RobustOptions } from './robust';
import type { ClientUpdate } from './update_file';
import { validateUpdates, type ValidationOptions, type ValidationResult } from './validate';

export interface ScreenedRound {
	readonly validation: ValidationResult;
	/** Valid updates robust aggregation leaves out, `index` = file position. */
	readonly flagged: RobustFlag[];
	/** The updates that are kept (valid, not flagged), as sent. */
	readonly kept: readonly ClientUpdate[];
	/** File positions of the kept updates, ascending. */
	readonly keptPositions: number[];
	/** Kept updates the influence caps scaled down, `index` = file position. */
	readonly capped: CappedClient[];
	/** What is aggregated: the kept updates after the influence caps (`kept` when none applied). */
	readonly toAggregate: readonly ClientUpdate[];
	/** Client id of each file, where it could be read (file order). */
	readonly clientIds: (string | undefined)[];
}

export interface RoundOptions {
	/** Screen the valid updates against each other (robust.ts); true: default options. */
	readonly robust?: boolean | RobustOptions;
	/** Influence caps on the kept updates (influence_caps.ts); true: default options. */
	readonly caps?: boolean | InfluenceCapOptions;
	readonly validation?: ValidationOptions;
}

/**
 * Validate a round's update files, screen them with `robust`, then cap the kept ones' influence
 * with `caps`.
 */
export function screenRound(
	current: PublishedGlobal,
	texts: readonly string[],
	options: RoundOptions = {}
): ScreenedRound {
	const validation = validateUpdates(current, texts, options.validation);
	const bad = new Set(validation.rejected.map((r) => r.index));
	// File position of each accepted update (validation keeps file order, duplicates dropped).
	const positions: number[] = [];
	for (let i = 0; i < texts.length; i++) if (!bad.has(i)) positions.push(i);
	const clientIds: (string | undefined)[] = texts.map(() => undefined);
	for (const r of validation.rejected) clientIds[r.index] = r.clientId;
	validation.accepted.forEach((u, k) => (clientIds[positions[k]] = u.clientId));
	const robust = options.robust === true ? {} : options.robust || undefined;
	let flagged: RobustFlag[] = [];
	let kept: readonly ClientUpdate[] = validation.accepted;
	let keptPositions = positions;
	if (robust) {
		const screened = screenUpdates(current, validation.accepted, robust);
		flagged = screened.flagged.map((f) => ({ ...f, index: positions[f.index] }));
		const out = new Set(flagged.map((f) => f.index));
		kept = screened.kept;
		keptPositions = positions.filter((p) => !out.has(p));
	}
	const caps = options.caps === true ? {} : options.caps || undefined;
	const capResult = caps ? capInfluence(current, kept, caps) : { updates: kept, capped: [] };
	return {
		validation,
		flagged,
		kept,
		keptPositions,
		capped: capResult.capped.map((c) => ({ ...c, index: keptPositions[c.index] })),
		toAggregate: capResult.updates,
		clientIds
	};
}

/** `screenRound`, then the next global from what it keeps (after the caps). */
export function plainRound(
	current: PublishedGlobal,
	texts: readonly string[],
	options: RoundOptions & { aggregate?: AggregateOptions } = {}
): ScreenedRound & { next: GlobalModel } {
	const screened = screenRound(current, texts, options);
	return { ...screened, next: aggregate(current, screened.toAggregate, options.aggregate) };
}
