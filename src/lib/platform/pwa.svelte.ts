/**
 * Installability and updates: keeps the browser's install prompt for an "Install" button, and
 * notices a new service worker waiting (a new version was deployed) for an "Update" prompt.
 */
interface InstallPromptEvent extends Event {
	prompt(): Promise<void>;
	userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

export const pwa = $state<{ canInstall: boolean; updateReady: boolean; offlineReady: boolean }>({
	canInstall: false,
	updateReady: false,
	offlineReady: false
});

let deferredPrompt: InstallPromptEvent | undefined;
let waiting: ServiceWorker | undefined;

function watchRegistration(registration: ServiceWorkerRegistration): void {
	const consider = (worker: ServiceWorker | null) => {
		if (!worker) return;
		const check = () => {
			// A second worker installed while one controls the page: a new version is waiting.
			if (worker.state === 'installed' && navigator.serviceWorker.controller) {
				waiting = worker;
				pwa.updateReady = true;
			}
			if (worker.state === 'activated') pwa.offlineReady = true;
		};
		check();
		worker.addEventListener('statechange', check);
	};
	consider(registration.waiting);
	consider(registration.installing);
	if (registration.active) pwa.offlineReady = true;
	registration.addEventListener('updatefound', () => consider(registration.installing));
}

/** Call once from the root layout, in the browser. */
export function initPwa(): void {
	addEventListener('beforeinstallprompt', (event) => {
		event.preventDefault();
		deferredPrompt = event as InstallPromptEvent;
		pwa.canInstall = true;
	});
	addEventListener('appinstalled', () => (pwa.canInstall = false));
	if (!('serviceWorker' in navigator)) return;
	void navigator.serviceWorker.ready.then(() => (pwa.offlineReady = true));
	void navigator.serviceWorker.getRegistration().then((r) => r && watchRegistration(r));
	let reloading = false;
	navigator.serviceWorker.addEventListener('controllerchange', () => {
		if (waiting && !reloading) {
			reloading = true;
			location.reload();
		}
	});
}

export async function install(): Promise<void> {
	if (!deferredPrompt) return;
	await deferredPrompt.prompt();
	await deferredPrompt.userChoice;
	deferredPrompt = undefined;
	pwa.canInstall = false;
}

/** Activate the waiting version; the page reloads when it takes control. */
export function applyUpdate(): void {
	waiting?.postMessage({ type: 'SKIP_WAITING' });
}
