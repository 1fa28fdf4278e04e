import { describe, expect, it } from 'vitest';
import {
	MAX_KERNEL_THREADS,
	maxTrainingThreads,
	trainingThreads
} from '../../../src/lib/platform/thread_count';

describe('training threads', () => {
	it('one per reported core, capped, at least one', () => {
		expect(maxTrainingThreads(2)).toBe(2);
		expect(maxTrainingThreads(12)).toBe(12);
		expect(maxTrainingThreads(64)).toBe(MAX_KERNEL_THREADS);
		expect(maxTrainingThreads(0)).toBe(1);
		expect(maxTrainingThreads(NaN)).toBe(1);
	});

	it('the setting chooses fewer, never more than the cores, never below one', () => {
		expect(trainingThreads(undefined, 8)).toBe(8);
		expect(trainingThreads(3, 8)).toBe(3);
		expect(trainingThreads(12, 8)).toBe(8);
		expect(trainingThreads(0, 8)).toBe(1);
		expect(trainingThreads(2.7, 8)).toBe(2);
		expect(trainingThreads(Infinity, 4)).toBe(4);
	});
});
