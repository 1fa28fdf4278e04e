/**
 * Progressive rendering: raise a stage counter from 1 to `stages`, one step per task, so that
 * a page with many tables and charts is built and laid out in several short main-thread
 * tasks instead of one long one (the Long Tasks API flags any task over 50 ms).
 */

/** Resolves in a new task after the next frame, so the previous stage is painted first. */
function nextFrameTask(): Promise<void> {
	return new Promise((resolve) => {
		const later = () => setTimeout(resolve, 0);
		if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
			requestAnimationFrame(later);
		} else later();
	});
}

/**
 * Call `onStage(1)`, then `onStage(2)` … `onStage(stages)`, each in its own task after a
 * frame. Returns a function that stops the sequence (call it when the content is replaced).
 */
export function revealInStages(stages: number, onStage: (stage: number) => void): () => void {
	let stopped = false;
	void (async () => {
		for (let s = 1; s <= stages && !stopped; s++) {
			await nextFrameTask();
			if (!stopped) onStage(s);
		}
	})();
	return () => {
		stopped = true;
	};
}
