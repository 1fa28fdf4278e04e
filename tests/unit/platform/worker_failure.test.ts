import { describe, expect, it } from 'vitest';
import { workerFailureMessage, WorkerTaskError } from '../../../src/lib/platform/worker_failure';

describe('workerFailureMessage', () => {
	const event = (message: string) => {
		const e = { message, prevented: false, preventDefault: () => (e.prevented = true) };
		return e;
	};

	it('names the worker and quotes the uncaught exception, and marks the event handled', () => {
		const e = event("Uncaught TypeError: Cannot read properties of null (reading 'type')");
		expect(workerFailureMessage('training worker', e)).toBe(
			"The training worker stopped unexpectedly: Uncaught TypeError: Cannot read properties of null (reading 'type')"
		);
		expect(e.prevented).toBe(true);
	});

	it('says the script did not load when the event has no message', () => {
		expect(workerFailureMessage('file reader', event(''))).toBe(
			'The file reader could not start (its script did not load); reload the page and try again'
		);
	});
});

describe('WorkerTaskError', () => {
	it('carries the worker code, message and details, and is an Error', () => {
		const e = new WorkerTaskError('data/cancelled', 'Reading the file was cancelled', { rows: 3 });
		expect(e).toBeInstanceOf(Error);
		expect([e.name, e.code, e.message, e.details]).toEqual([
			'WorkerTaskError',
			'data/cancelled',
			'Reading the file was cancelled',
			{ rows: 3 }
		]);
		expect(new WorkerTaskError('worker', 'x').details).toEqual({});
	});
});
