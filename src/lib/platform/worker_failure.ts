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
