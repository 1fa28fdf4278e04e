import { describe, expect, it } from 'vitest';
import {
	ensureIsolation,
	RELOAD_FLAG,
	type IsolationEnv
} from '../../../src/lib/platform/isolation';
import { defaultWasmThreads, MAX_WASM_THREADS } from '../../../src/lib/platform/tf_backends';

type WorkerState = 'installing' | 'installed' | 'activating' | 'activated' | 'redundant';

/** A service worker whose state the test moves on by hand. */
class FakeWorker extends EventTarget {
	state: WorkerState = 'installing';
	go(state: WorkerState): void {
		this.state = state;
		this.dispatchEvent(new Event('statechange'));
	}
}

interface Registration {
	installing: FakeWorker | null;
	waiting: FakeWorker | null;
	active: FakeWorker | null;
}

/** navigator.serviceWorker: register() resolves with `registration` or rejects. */
class FakeContainer extends EventTarget {
	controller: FakeWorker | null = null;
	registered: string[] = [];
	constructor(private readonly registration: Registration | Error | 'nothing' | 'hang') {
		super();
	}
	register(url: string): Promise<Registration> | undefined {
		this.registered.push(url);
		const r = this.registration;
		if (r instanceof Error) return Promise.reject(r);
		// What a browser with blocked service workers (Playwright's 'block') answers.
		if (r === 'nothing') return undefined;
		if (r === 'hang') return new Promise(() => {});
		return Promise.resolve(r);
	}
	/** What clients.claim() does to a page. */
	claim(worker: FakeWorker): void {
		this.controller = worker;
		this.dispatchEvent(new Event('controllerchange'));
	}
}

function memoryStorage(): Map<string, string> & Pick<Storage, 'getItem' | 'setItem'> {
	const map = new Map<string, string>() as Map<string, string> &
		Pick<Storage, 'getItem' | 'setItem'>;
	map.getItem = (k) => map.get(k) ?? null;
	map.setItem = (k, v) => void map.set(k, v);
	return map;
}

function setup(
	options: {
		isolated?: boolean;
		secure?: boolean;
		registration?: Registration | Error | 'nothing' | 'hang';
		noServiceWorker?: boolean;
		storage?: IsolationEnv['storage'] | null;
	} = {}
) {
	const worker = new FakeWorker();
	const container = new FakeContainer(
		options.registration ?? { installing: worker, waiting: null, active: null }
	);
	const storage = options.storage === null ? undefined : (options.storage ?? memoryStorage());
	let reloads = 0;
	const env: IsolationEnv = {
		crossOriginIsolated: options.isolated ?? false,
		secureContext: options.secure ?? true,
		serviceWorker: options.noServiceWorker
			? undefined
			: (container as unknown as IsolationEnv['serviceWorker']),
		storage,
		reload: () => void reloads++
	};
	return { env, worker, container, storage, reloads: () => reloads };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ensureIsolation (first-visit reload into cross-origin isolation)', () => {
	it('reloads exactly once when the first service worker takes control', async () => {
		const t = setup();
		const outcome = ensureIsolation(t.env, '/sw.js', 5000);
		await tick();
		expect(t.container.registered).toEqual(['/sw.js']);
		expect(t.reloads()).toBe(0);
		t.worker.go('installed');
		t.worker.go('activated');
		t.container.claim(t.worker);
		await expect(outcome).resolves.toBe('reloading');
		expect(t.reloads()).toBe(1);
		expect(t.storage?.getItem(RELOAD_FLAG)).not.toBeNull();

		// The reloaded page, still not isolated (say the browser ignores COEP): no second reload.
		const again = setup({ storage: t.storage });
		await expect(ensureIsolation(again.env, '/sw.js', 5000)).resolves.toBe('not-isolated');
		expect(again.reloads()).toBe(0);
		expect(again.container.registered).toEqual([]);
	});

	it('reloads when the worker took control before registration resolved', async () => {
		const worker = new FakeWorker();
		const early = setup({ registration: { installing: null, waiting: null, active: worker } });
		// Control arrives while register() is pending.
		const outcome = ensureIsolation(early.env, '/sw.js', 5000);
		early.container.claim(worker);
		await expect(outcome).resolves.toBe('reloading');
		expect(early.reloads()).toBe(1);
	});

	it('does nothing when already isolated', async () => {
		const t = setup({ isolated: true });
		await expect(ensureIsolation(t.env, '/sw.js')).resolves.toBe('isolated');
		expect(t.container.registered).toEqual([]);
		expect(t.reloads()).toBe(0);
	});

	it('starts at once, single-threaded, without a service worker or a secure context', async () => {
		const none = setup({ noServiceWorker: true });
		await expect(ensureIsolation(none.env, '/sw.js')).resolves.toBe('unavailable');
		const insecure = setup({ secure: false });
		await expect(ensureIsolation(insecure.env, '/sw.js')).resolves.toBe('unavailable');
		expect(insecure.container.registered).toEqual([]);
		const refused = setup({ registration: new Error('SecurityError') });
		await expect(ensureIsolation(refused.env, '/sw.js')).resolves.toBe('unavailable');
		const blocked = setup({ registration: 'nothing' });
		await expect(ensureIsolation(blocked.env, '/sw.js', 5000)).resolves.toBe('unavailable');
		const hanging = setup({ registration: 'hang' });
		await expect(ensureIsolation(hanging.env, '/sw.js', 20)).resolves.toBe('unavailable');
		const all = [none, insecure, refused, blocked, hanging];
		expect(all.reduce((n, t) => n + t.reloads(), 0)).toBe(0);
	});

	it('does not reload a controlled page (an older worker without the headers)', async () => {
		const t = setup();
		t.container.controller = new FakeWorker();
		await expect(ensureIsolation(t.env, '/sw.js')).resolves.toBe('not-isolated');
		expect(t.reloads()).toBe(0);
	});

	it('does not fight a hard reload: an active worker that does not control the page', async () => {
		const active = new FakeWorker();
		active.state = 'activated';
		const t = setup({ registration: { installing: new FakeWorker(), waiting: null, active } });
		await expect(ensureIsolation(t.env, '/sw.js', 5000)).resolves.toBe('not-isolated');
		expect(t.reloads()).toBe(0);
	});

	it('gives up when the install fails or takes too long, and ignores later control', async () => {
		const failed = setup();
		const outcome = ensureIsolation(failed.env, '/sw.js', 5000);
		await tick();
		failed.worker.go('redundant');
		await expect(outcome).resolves.toBe('unavailable');
		expect(failed.reloads()).toBe(0);

		const slow = setup();
		await expect(ensureIsolation(slow.env, '/sw.js', 20)).resolves.toBe('timeout');
		slow.container.claim(slow.worker);
		await tick();
		expect(slow.reloads()).toBe(0);
	});

	it('never reloads when sessionStorage is unavailable (no loop guard)', async () => {
		const t = setup({ storage: null });
		await expect(ensureIsolation(t.env, '/sw.js', 20)).resolves.toBe('not-isolated');
		const throwing = setup({
			storage: {
				getItem: () => {
					throw new Error('denied');
				},
				setItem: () => {}
			}
		});
		await expect(ensureIsolation(throwing.env, '/sw.js', 20)).resolves.toBe('not-isolated');
		expect(t.reloads() + throwing.reloads()).toBe(0);
	});
});

describe('defaultWasmThreads', () => {
	const env = (crossOriginIsolated: boolean, hardwareConcurrency: number, inWorker = true) => ({
		crossOriginIsolated,
		hardwareConcurrency,
		inWorker
	});

	it('uses one thread per logical core in an isolated worker, capped at the pthread pool', () => {
		expect(defaultWasmThreads(env(true, 2))).toBe(2);
		expect(defaultWasmThreads(env(true, 6))).toBe(6);
		expect(defaultWasmThreads(env(true, 64))).toBe(MAX_WASM_THREADS);
		expect(MAX_WASM_THREADS).toBe(8);
	});

	it('is single-threaded when not isolated, on the main thread, or with odd core counts', () => {
		expect(defaultWasmThreads(env(false, 8))).toBe(1);
		expect(defaultWasmThreads(env(true, 8, false))).toBe(1);
		expect(defaultWasmThreads(env(true, 1))).toBe(1);
		expect(defaultWasmThreads(env(true, 0))).toBe(1);
		expect(defaultWasmThreads(env(true, Number.NaN))).toBe(1);
	});
});
