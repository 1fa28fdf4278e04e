/**
 * What a worker task rejects with: the worker's error code (a core `MusicrecError` code such as
 * 'data/cancelled', or 'worker' when the worker itself failed), its message in plain words and
 * any details. One class for the parse, training, federation and metadata workers.
 */
export class WorkerTaskError extends Error {
	readonly code: string;
	readonly details: Readonly<Record<string, unknown>>;

	constructor(code: string, message: string, details: Record<string, unknown> = {}) {
		super(message);
		this.name = 'WorkerTaskError';
		this.code = code;
		this.details = details;
	}
}

/**
 * Plain-words message for a worker's 'error' event: an uncaught exception inside the worker,
 * or (empty message) a worker script that could not be loaded. Marks the event handled so the
 * browser does not report it a second time.
 */
export function workerFailureMessage(
	worker: string,
	event: Pick<ErrorEvent, 'message' | 'preventDefault'>
): string {
	event.preventDefault();
	return event.message
		? `The ${worker} stopped unexpectedly: ${event.message}`
		: `The ${worker} could not start (its script did not load); reload the page and try again`;
}
