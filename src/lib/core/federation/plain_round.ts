/**
 * The coordinator's plain round, one pipeline for the worker and the simulation:
 * validate the update files (validate.ts) -> screen the valid ones against each other when
 * robust aggregation is on (robust.ts) -> aggregate the kept ones (aggregate.ts).
 */
import { aggregate, type AggregateOptions } from './aggregate';
import type { GlobalModel, PublishedGlobal } from './global_file';
import { screenUpdates, type RobustFlag, type RobustOptions } from './robust';
import type { ClientUpdate } from './update_file';
import { validateUpdates, type ValidationOptions, type ValidationResult } from './validate';

export interface ScreenedRound {
	readonly validation: ValidationResult;
	/** Valid updates robust aggregation leaves out, `index` = file position. */
	readonly flagged: RobustFlag[];
	/** The updates to aggregate. */
	readonly kept: readonly ClientUpdate[];
	/** File positions of the updates that are aggregated, ascending. */
	readonly keptPositions: number[];
	/** Client id of each file, where it could be read (file order). */
	readonly clientIds: (string | undefined)[];
}

/** Validate a round's update files, then screen them with `robust` (true: default options). */
export function screenRound(
	current: PublishedGlobal,
	texts: readonly string[],
	options: { robust?: boolean | RobustOptions; validation?: ValidationOptions } = {}
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
	if (!robust) {
		return {
			validation,
			flagged: [],
			kept: validation.accepted,
			keptPositions: positions,
			clientIds
		};
	}
	const screened = screenUpdates(current, validation.accepted, robust);
	const flagged = screened.flagged.map((f) => ({ ...f, index: positions[f.index] }));
	const out = new Set(flagged.map((f) => f.index));
	return {
		validation,
		flagged,
		kept: screened.kept,
		keptPositions: positions.filter((p) => !out.has(p)),
		clientIds
	};
}

/** `screenRound`, then the next global from the kept updates. */
export function plainRound(
	current: PublishedGlobal,
	texts: readonly string[],
	options: {
		robust?: boolean | RobustOptions;
		validation?: ValidationOptions;
		aggregate?: AggregateOptions;
	} = {}
): ScreenedRound & { next: GlobalModel } {
	const screened = screenRound(current, texts, options);
	return { ...screened, next: aggregate(current, screened.kept, options.aggregate) };
}
