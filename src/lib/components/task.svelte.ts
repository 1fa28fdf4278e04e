/**
 * One long step of a page at a time: what it is doing (`busy`, the worker's `stage`), and the
 * error it ended with, as a sentence for people.
 */
export class PageTask {
	busy = $state<string>();
	stage = $state<string>();
	error = $state<string>();

	/** Run `body` unless a step is running; its error (if any) is kept in `error`. */
	async run(label: string, body: () => Promise<void>): Promise<void> {
		if (this.busy !== undefined) return;
		this.error = undefined;
		this.busy = label;
		try {
			await body();
		} catch (e) {
			this.error = e instanceof Error ? e.message : String(e);
		} finally {
			this.busy = undefined;
			this.stage = undefined;
		}
	}
}
