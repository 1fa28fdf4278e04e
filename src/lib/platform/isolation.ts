/**
 * Cross-origin isolation on a static host that sends no special headers. The service worker adds
 * COOP/COEP to every response it serves (src/service-worker.ts), but the very first visit is not
 * served by it: the page reloads once, as soon as the freshly installed worker takes control,
 * before the app starts (so no parse or training is cut short). Never twice in a tab session
 * (sessionStorage flag), never when the worker is unavailable (no API, insecure context,
 * registration refused, install failed) and never when a worker exists but does not control the
 * page (a hard reload, service workers bypassed). Without isolation the app runs single-threaded.
 */

/** sessionStorage key set just before the reload. */
export const RELOAD_FLAG = 'musicrec:isolation-reload';

/** How long the first visit waits for its service worker before starting without isolation. */
const CONTROL_TIMEOUT_MS = 8000;

export type IsolationOutcome =
	/** Already isolated. */
	| 'isolated'
	/** The page is reloading into isolation. */
	| 'reloading'
	/** No service worker here (or its install failed): the app runs single-threaded. */
	| 'unavailable'
	/** A service worker exists but isolation is not to be had by a reload now. */
	| 'not-isolated'
	/** The worker did not take control in time (slow first download): isolated next visit. */
	| 'timeout';

/** The parts of the browser this module uses (a fake in unit tests). */
export interface IsolationEnv {
	readonly crossOriginIsolated: boolean;
	readonly secureContext: boolean;
	readonly serviceWorker?: Pick<
		ServiceWorkerContainer,
		'controller' | 'register' | 'addEventListener' | 'removeEventListener'
	>;
	/** sessionStorage, or undefined where it is unavailable. */
	readonly storage?: Pick<Storage, 'getItem' | 'setItem'>;
	reload(): void;
}

/** The real browser environment. */
export function browserIsolationEnv(): IsolationEnv {
	let storage: Storage | undefined;
	try {
		storage = sessionStorage;
	} catch {
		storage = undefined;
	}
	return {
		crossOriginIsolated: globalThis.crossOriginIsolated === true,
		secureContext: globalThis.isSecureContext === true,
		serviceWorker: 'serviceWorker' in navigator ? navigator.serviceWorker : undefined,
		storage,
		reload: () => location.reload()
	};
}

/** True when this tab already reloaded for isolation; also true when that cannot be known. */
function alreadyReloaded(storage: IsolationEnv['storage']): boolean {
	try {
		return storage === undefined || storage.getItem(RELOAD_FLAG) !== null;
	} catch {
		return true;
	}
}

/**
 * Register the service worker (`scriptUrl`, the same one SvelteKit registers) and, on a first
 * visit, reload once when it takes control. Resolves when the app may start.
 */
export async function ensureIsolation(
	env: IsolationEnv,
	scriptUrl: string,
	timeoutMs = CONTROL_TIMEOUT_MS
): Promise<IsolationOutcome> {
	if (env.crossOriginIsolated) return 'isolated';
	const container = env.serviceWorker;
	if (!container || !env.secureContext) return 'unavailable';
	// Controlled yet not isolated: an older worker without the headers (the update prompt
	// replaces it) or a browser that ignores them. Reloading would not help.
	if (container.controller) return 'not-isolated';
	if (alreadyReloaded(env.storage)) return 'not-isolated';

	let settle: (controlled: boolean) => void = () => {};
	const controlled = new Promise<boolean>((resolve) => (settle = resolve));
	const onChange = () => settle(true);
	container.addEventListener('controllerchange', onChange);
	const timer = setTimeout(() => settle(false), timeoutMs);
	try {
		let registration: ServiceWorkerRegistration | undefined;
		try {
			const registering = container.register(scriptUrl);
			// A registration that never settles counts as refused once the wait is over.
			registration = await Promise.race([registering, controlled.then(() => undefined)]);
		} catch {
			return 'unavailable';
		}
		if (!container.controller) {
			// Refused in a way the API does not promise (a blocked register() returns nothing).
			if (!registration || typeof registration !== 'object') return 'unavailable';
			// An active worker that does not control this page: it was bypassed on purpose.
			if (registration.active) return 'not-isolated';
			const incoming = registration.installing ?? registration.waiting;
			if (!incoming) return 'not-isolated';
			incoming.addEventListener('statechange', () => {
				if (incoming.state === 'redundant') settle(false);
			});
			if (!(await controlled)) return incoming.state === 'redundant' ? 'unavailable' : 'timeout';
		}
	} finally {
		clearTimeout(timer);
		container.removeEventListener('controllerchange', onChange);
	}
	try {
		env.storage?.setItem(RELOAD_FLAG, String(Date.now()));
	} catch {
		return 'not-isolated';
	}
	env.reload();
	return 'reloading';
}
