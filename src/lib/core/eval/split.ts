import type { Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import { Rng } from '../random';

/** What a split needs: the weight matrix and, for KKBox, `target` aligned with its entries. */
export interface SplitInput {
	readonly matrix: Csr;
	readonly target?: Int8Array;
}

export interface HoldoutSplit {
	/** Entries kept for training; same shape as the input. */
	readonly train: Csr;
	/** Held-out entries; same shape as the input. */
	readonly test: Csr;
	/** `target` aligned with `train`'s entries (present when the input has a target). */
	readonly trainTarget?: Int8Array;
	/** `target` aligned with `test`'s entries (present when the input has a target). */
	readonly testTarget?: Int8Array;
}

export interface HoldoutOptions {
	/** Fraction of each eligible user's entries held out; in (0, 1). Default 0.2. */
	readonly testFraction?: number;
	/** Seed of the shuffle: the same seed and input give the same split. */
	readonly seed: number;
	/** Users with fewer entries than this keep them all in train. Integer >= 2, default 2. */
	readonly minItems?: number;
}

/**
 * Number of entries held out for a user with `n` entries (docs/design.md, evaluation):
 * `h = min(n - 1, max(1, Math.round(testFraction * n)))` when `n >= minItems`, else 0.
 * `Math.round` rounds halves up. At 0.2: n = 2..7 -> 1, n = 8..12 -> 2, n = 13..17 -> 3.
 */
export function heldOutCount(n: number, testFraction: number, minItems: number): number {
	if (n < minItems || n < 2) return 0;
	return Math.min(n - 1, Math.max(1, Math.round(testFraction * n)));
}

/**
 * Per-user holdout (unlike implicit's `train_test_split`, which draws every entry
 * independently): each user with at least `minItems` entries gets `heldOutCount(n)` of them
 * moved to `test`, chosen by a Fisher-Yates shuffle of the row's positions driven by one
 * `Rng(seed)` consumed user by user in index order; other users keep all entries in train.
 * Train + test is the input exactly (entries, values and targets), and both keep each row's
 * columns sorted.
 */
export function holdoutSplit(input: SplitInput, options: HoldoutOptions): HoldoutSplit {
	const testFraction = options.testFraction ?? 0.2;
	const minItems = options.minItems ?? 2;
	const { seed } = options;
	if (!(testFraction > 0 && testFraction < 1)) {
		throw new MusicrecError('eval/bad-input', 'testFraction must be in (0, 1)', { testFraction });
	}
	if (!Number.isInteger(minItems) || minItems < 2) {
		throw new MusicrecError('eval/bad-input', 'minItems must be an integer >= 2', { minItems });
	}
	if (!Number.isFinite(seed)) {
		throw new MusicrecError('eval/bad-input', 'seed must be a finite number', { seed });
	}
	const m = input.matrix;
	const total = m.indptr[m.rows];
	const target = input.target;
	if (target && target.length !== total) {
		throw new MusicrecError('eval/bad-input', 'target length differs from the number of entries', {
			target: target.length,
			entries: total
		});
	}

	// Pass 1: mark held-out entries.
	const rng = new Rng(seed);
	const isTest = new Uint8Array(total);
	let maxRow = 0;
	for (let u = 0; u < m.rows; u++) maxRow = Math.max(maxRow, m.indptr[u + 1] - m.indptr[u]);
	const positions = new Int32Array(maxRow);
	let testCount = 0;
	for (let u = 0; u < m.rows; u++) {
		const start = m.indptr[u];
		const n = m.indptr[u + 1] - start;
		const h = heldOutCount(n, testFraction, minItems);
		if (h === 0) continue;
		const row = positions.subarray(0, n);
		for (let j = 0; j < n; j++) row[j] = j;
		rng.shuffle(row);
		for (let j = 0; j < h; j++) isTest[start + row[j]] = 1;
		testCount += h;
	}

	// Pass 2: copy entries into the two matrices, row order preserved.
	const trainCount = total - testCount;
	const trainIndptr = new Int32Array(m.rows + 1);
	const testIndptr = new Int32Array(m.rows + 1);
	const trainIndices = new Int32Array(trainCount);
	const testIndices = new Int32Array(testCount);
	const trainData = new Float32Array(trainCount);
	const testData = new Float32Array(testCount);
	const trainTarget = target ? new Int8Array(trainCount) : undefined;
	const testTarget = target ? new Int8Array(testCount) : undefined;
	let a = 0;
	let b = 0;
	for (let u = 0; u < m.rows; u++) {
		for (let e = m.indptr[u]; e < m.indptr[u + 1]; e++) {
			if (isTest[e]) {
				testIndices[b] = m.indices[e];
				testData[b] = m.data[e];
				if (testTarget && target) testTarget[b] = target[e];
				b++;
			} else {
				trainIndices[a] = m.indices[e];
				trainData[a] = m.data[e];
				if (trainTarget && target) trainTarget[a] = target[e];
				a++;
			}
		}
		trainIndptr[u + 1] = a;
		testIndptr[u + 1] = b;
	}
	const shape = { rows: m.rows, cols: m.cols };
	const split: HoldoutSplit = {
		train: { ...shape, indptr: trainIndptr, indices: trainIndices, data: trainData },
		test: { ...shape, indptr: testIndptr, indices: testIndices, data: testData }
	};
	return target ? { ...split, trainTarget, testTarget } : split;
}

/**
 * Validation split for tuning: the same per-user holdout applied to a split's train part, with
 * a seed derived from `options.seed` (so passing the seed used for the outer split still gives
 * a different draw). The outer test set stays untouched for the final report.
 */
export function validationSplit(outer: HoldoutSplit, options: HoldoutOptions): HoldoutSplit {
	const seed = (Math.imul(options.seed >>> 0, 0x9e3779b1) ^ 0x7f4a7c15) >>> 0;
	return holdoutSplit({ matrix: outer.train, target: outer.trainTarget }, { ...options, seed });
}
