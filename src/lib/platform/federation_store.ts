/**
 * Federation state in its own IndexedDB database (apart from the main store): the role this
 * browser plays, the coordinator's federations with every published global and the updates
 * received for each round (file text and verdict), and the client's imported global.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { AlsParams } from '$lib/core/als/params';
import type { Weighting } from '$lib/core/data/weights';
import type { CompactState } from '$lib/core/federation/aggregate';
import { MusicrecError } from '$lib/core/errors';
import type { FederationMode } from '$lib/core/federation/fields';
import type { GlobalEvaluation } from '$lib/core/federation/global_eval';
import type { SecureSettings } from '$lib/core/federation/global_file';
import type { SecureClientState } from '$lib/core/federation/secure/client';

export type FederationRole = 'coordinator' | 'client';

/** A federation this browser coordinates. */
export interface FederationInfo {
	readonly id: string;
	readonly mode: FederationMode;
	readonly params: AlsParams;
	readonly createdAt: string;
	/** Where round 0's item factors came from, in words (e.g. "model 'demo' (5,772 songs)"). */
	readonly source: string;
	readonly catalogSize: number;
	/** The weighting written into its globals (absent in federations created before it was). */
	readonly weighting?: Weighting;
	/** Secure aggregation settings; absent for a plain federation. */
	readonly secure?: SecureSettings;
}

/** One published global file of a federation. */
export interface StoredGlobal {
	readonly federationId: string;
	readonly round: number;
	readonly text: string;
	readonly checksum: string;
	readonly createdAt: string;
	/**
	 * For round r > 0: accepted updates and their bytes that produced it (round r - 1's), and
	 * how many proposed songs were added to the catalog.
	 */
	readonly aggregatedFrom?: {
		readonly accepted: number;
		readonly bytes: number;
		readonly addedSongs?: number;
	};
	/** This global scored on the coordinator's own data (seeded holdout), when it had some. */
	readonly metrics?: GlobalEvaluation;
	/** Compact mode: the coordinator's step state after producing this global (for round r + 1). */
	readonly compactState?: CompactState;
}

/** How the coordinator judged one update file. */
export type UpdateVerdict =
	| {
			readonly status: 'accepted';
			readonly clipped?: { factor: number; reason: string };
			/** Robust aggregation's influence caps scaled it down (weight, or some songs). */
			readonly capped?: { weight: number; songs: number; reason: string };
	  }
	| { readonly status: 'rejected'; readonly code: string; readonly reason: string }
	/** Valid, but left out by robust aggregation (`check`: consistency, scale, direction or energy). */
	| { readonly status: 'flagged'; readonly check: string; readonly reason: string };

/** An update file received for a round, in the order it was dropped in. */
export interface ReceivedUpdate {
	readonly federationId: string;
	readonly round: number;
	/** Position in the round's list (0-based, the order files were added). */
	readonly index: number;
	readonly fileName: string;
	readonly bytes: number;
	readonly text: string;
	readonly clientId?: string;
	readonly verdict: UpdateVerdict;
}

/** The global a client imported (the one its next update is computed against). */
export interface ClientGlobal {
	readonly fileName: string;
	readonly text: string;
	readonly checksum: string;
	readonly federationId: string;
	readonly round: number;
	readonly importedAt: string;
}

/** A file received in one phase of a secure round, with the coordinator's verdict. */
export interface ReceivedFile {
	/** Position in the phase's list (0-based, the order files were added). */
	readonly index: number;
	readonly fileName: string;
	readonly bytes: number;
	/** The text, while the phase needs it (masked updates are dropped once they are summed). */
	readonly text?: string;
	readonly clientId?: string;
	readonly verdict:
		| { readonly status: 'accepted' }
		| { readonly status: 'rejected'; readonly code: string; readonly reason: string };
}

/** Where a secure round is: collecting public keys, masked updates, or unmask shares. */
export type SecurePhase = 'keys' | 'masked' | 'unmasking' | 'done';

/** The coordinator's state of one secure round (secure/coordinator.ts has the protocol). */
export interface SecureRound {
	readonly federationId: string;
	readonly round: number;
	readonly phase: SecurePhase;
	readonly keys: readonly ReceivedFile[];
	/** Published when the key phase closes. */
	readonly roster?: {
		readonly text: string;
		readonly checksum: string;
		readonly members: readonly string[];
		readonly threshold: number;
	};
	readonly masked: readonly ReceivedFile[];
	/** Published when the masked phase closes, with the sum of the survivors' masked updates. */
	readonly request?: {
		readonly text: string;
		readonly survivors: readonly string[];
		readonly dropped: readonly string[];
		/** Ring words of sum_{u in S} y_u; dropped once the round is done. */
		readonly maskedSum?: ArrayBuffer;
	};
	readonly answers: readonly ReceivedFile[];
}

/** What a client of a secure federation keeps during one round (its private key included). */
export interface SecureClientRecord {
	readonly state: SecureClientState;
	/** Keys sent; masked update sent; unmask shares sent. */
	readonly phase: 'keys' | 'masked' | 'answered';
	readonly keysText: string;
	readonly maskedText?: string;
	readonly sharesText?: string;
	/** What the masked update held, for the page's disclosure. */
	readonly summary?: {
		readonly users: number;
		readonly interactions: number;
		readonly touchedItems: number;
		readonly vectorLength: number;
		readonly clipFactor: number;
		readonly members: number;
	};
}

/** Page-level choices. */
interface FederationUi {
	role?: FederationRole;
	/** The federation the coordinator tab shows. */
	federationId?: string;
	/** The tab last shown (the simulation tab is not a role). */
	tab?: FederationRole | 'simulation';
	/** The coordinator's robust aggregation choice (absent = on). */
	robust?: boolean;
	/** The coordinator's influence caps choice (absent = off: plain mode is for consortia, whose
	 * members often differ in size on purpose, and the caps cost those). */
	caps?: boolean;
}

export interface FederationStore {
	getUi(): Promise<FederationUi>;
	updateUi(patch: Partial<FederationUi>): Promise<FederationUi>;
	/** A new federation with its round-0 global, in one transaction; the id must be new. */
	createFederation(info: FederationInfo, first: StoredGlobal): Promise<void>;
	getFederation(id: string): Promise<FederationInfo | undefined>;
	listFederations(): Promise<FederationInfo[]>;
	/** Globals of a federation by ascending round. */
	listGlobals(federationId: string): Promise<StoredGlobal[]>;
	/**
	 * Store the next global; its round must be the latest + 1. `closing`, the secure round it
	 * was aggregated from, is saved in the same transaction (as 'done').
	 */
	putGlobal(global: StoredGlobal, closing?: SecureRound): Promise<void>;
	/** A secure round's coordinator state. */
	getSecureRound(federationId: string, round: number): Promise<SecureRound | undefined>;
	putSecureRound(round: SecureRound): Promise<void>;
	/** The secure round this browser takes part in as a client, if any. */
	getSecureClient(): Promise<SecureClientRecord | undefined>;
	putSecureClient(record: SecureClientRecord): Promise<void>;
	/** Updates received for a round, by index. */
	listReceived(federationId: string, round: number): Promise<ReceivedUpdate[]>;
	/** Replace a round's received updates (verdicts are recomputed over the whole round). */
	replaceReceived(federationId: string, round: number, list: ReceivedUpdate[]): Promise<void>;
	getClientGlobal(): Promise<ClientGlobal | undefined>;
	putClientGlobal(global: ClientGlobal): Promise<void>;
	close(): void;
}

interface FederationDb extends DBSchema {
	federations: { key: string; value: FederationInfo };
	globals: { key: [string, number]; value: StoredGlobal };
	received: { key: [string, number, number]; value: ReceivedUpdate };
	/** 'ui' -> FederationUi, 'client' -> ClientGlobal, 'secure-client' -> SecureClientRecord. */
	state: { key: string; value: FederationUi | ClientGlobal | SecureClientRecord };
	/** Added in version 2. */
	secureRounds: { key: [string, number]; value: SecureRound };
}

type Db = IDBPDatabase<FederationDb>;

function failed(what: string, e: unknown): MusicrecError {
	if (e instanceof MusicrecError) return e;
	const name = e !== null && typeof e === 'object' && 'name' in e ? String(e.name) : '';
	if (name === 'QuotaExceededError') {
		return new MusicrecError(
			'store/quota',
			`Not enough storage space to ${what}. Nothing was saved.`,
			{ cause: String(e) }
		);
	}
	const message = e instanceof Error ? e.message : String(e);
	return new MusicrecError('store/failed', `Could not ${what}: ${message}`, { cause: String(e) });
}

async function guarded<T>(what: string, body: () => Promise<T>): Promise<T> {
	try {
		return await body();
	} catch (e) {
		throw failed(what, e);
	}
}

class IdbFederationStore implements FederationStore {
	readonly #db: Db;
	constructor(db: Db) {
		this.#db = db;
	}

	async getUi(): Promise<FederationUi> {
		const v = (await this.#db.get('state', 'ui')) as FederationUi | undefined;
		return { ...v };
	}

	updateUi(patch: Partial<FederationUi>): Promise<FederationUi> {
		return guarded('save the federation settings', async () => {
			const tx = this.#db.transaction('state', 'readwrite');
			const current = (await tx.store.get('ui')) as FederationUi | undefined;
			const next: FederationUi = { ...current, ...patch };
			await tx.store.put(next, 'ui');
			await tx.done;
			return next;
		});
	}

	createFederation(info: FederationInfo, first: StoredGlobal): Promise<void> {
		return guarded('create the federation', async () => {
			if (first.federationId !== info.id || first.round !== 0) {
				throw new MusicrecError('federation/bad-input', 'the first global must be round 0', {
					federationId: first.federationId,
					round: first.round
				});
			}
			const tx = this.#db.transaction(['federations', 'globals'], 'readwrite');
			try {
				if (await tx.objectStore('federations').get(info.id)) {
					throw new MusicrecError(
						'federation/bad-input',
						`A federation named '${info.id}' exists already`,
						{ federationId: info.id }
					);
				}
				await tx.objectStore('federations').add(info);
				await tx.objectStore('globals').add(first);
				await tx.done;
			} catch (e) {
				abort(tx);
				throw e;
			}
		});
	}

	getFederation(id: string): Promise<FederationInfo | undefined> {
		return this.#db.get('federations', id);
	}

	async listFederations(): Promise<FederationInfo[]> {
		const all = await this.#db.getAll('federations');
		return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
	}

	listGlobals(federationId: string): Promise<StoredGlobal[]> {
		return this.#db.getAll(
			'globals',
			IDBKeyRange.bound([federationId, 0], [federationId, Number.MAX_SAFE_INTEGER])
		);
	}

	putGlobal(global: StoredGlobal, closing?: SecureRound): Promise<void> {
		return guarded(`save global round ${global.round}`, async () => {
			const tx = this.#db.transaction(['federations', 'globals', 'secureRounds'], 'readwrite');
			try {
				if (!(await tx.objectStore('federations').get(global.federationId))) {
					throw new MusicrecError('federation/bad-input', 'unknown federation', {
						federationId: global.federationId
					});
				}
				const previous = await tx
					.objectStore('globals')
					.get([global.federationId, global.round - 1]);
				const existing = await tx.objectStore('globals').get([global.federationId, global.round]);
				if (!previous || existing) {
					throw new MusicrecError(
						'federation/bad-input',
						`round ${global.round} does not follow the latest stored global`,
						{ round: global.round }
					);
				}
				await tx.objectStore('globals').add(global);
				if (closing) {
					if (closing.federationId !== global.federationId || closing.round !== global.round - 1) {
						throw new MusicrecError('federation/bad-input', 'the closed round does not match', {});
					}
					await tx.objectStore('secureRounds').put(closing);
				}
				await tx.done;
			} catch (e) {
				abort(tx);
				throw e;
			}
		});
	}

	getSecureRound(federationId: string, round: number): Promise<SecureRound | undefined> {
		return this.#db.get('secureRounds', [federationId, round]);
	}

	putSecureRound(round: SecureRound): Promise<void> {
		return guarded('save the secure round', async () => {
			const tx = this.#db.transaction(['globals', 'secureRounds'], 'readwrite');
			try {
				if (!(await tx.objectStore('globals').get([round.federationId, round.round]))) {
					throw new MusicrecError('federation/bad-input', 'no global for this secure round', {
						federationId: round.federationId,
						round: round.round
					});
				}
				await tx.objectStore('secureRounds').put(round);
				await tx.done;
			} catch (e) {
				abort(tx);
				throw e;
			}
		});
	}

	async getSecureClient(): Promise<SecureClientRecord | undefined> {
		return (await this.#db.get('state', 'secure-client')) as SecureClientRecord | undefined;
	}

	putSecureClient(record: SecureClientRecord): Promise<void> {
		return guarded("save this round's keys", async () => {
			await this.#db.put('state', record, 'secure-client');
		});
	}

	listReceived(federationId: string, round: number): Promise<ReceivedUpdate[]> {
		return this.#db.getAll(
			'received',
			IDBKeyRange.bound([federationId, round, 0], [federationId, round, Number.MAX_SAFE_INTEGER])
		);
	}

	replaceReceived(federationId: string, round: number, list: ReceivedUpdate[]): Promise<void> {
		return guarded('save the received updates', async () => {
			for (const u of list) {
				if (u.federationId !== federationId || u.round !== round) {
					throw new MusicrecError('federation/bad-input', 'update of another round', {
						federationId: u.federationId,
						round: u.round
					});
				}
			}
			const tx = this.#db.transaction('received', 'readwrite');
			try {
				await tx.store.delete(
					IDBKeyRange.bound(
						[federationId, round, 0],
						[federationId, round, Number.MAX_SAFE_INTEGER]
					)
				);
				for (const u of list) await tx.store.put(u);
				await tx.done;
			} catch (e) {
				abort(tx);
				throw e;
			}
		});
	}

	async getClientGlobal(): Promise<ClientGlobal | undefined> {
		return (await this.#db.get('state', 'client')) as ClientGlobal | undefined;
	}

	putClientGlobal(global: ClientGlobal): Promise<void> {
		return guarded('save the imported global', async () => {
			await this.#db.put('state', global, 'client');
		});
	}

	close(): void {
		this.#db.close();
	}
}

function abort(tx: { abort(): void; done: Promise<void> }): void {
	tx.done.catch(() => undefined);
	try {
		tx.abort();
	} catch {
		// already finished
	}
}

/** The federation database's schema version: 2 added `secureRounds`. */
export const FEDERATION_DB_VERSION = 2;

/** Open (creating on first use, upgrading an older version) the federation database. */
export async function openFederationStore(name = 'musicrec-federation'): Promise<FederationStore> {
	const db = await guarded('open the federation database', () =>
		openDB<FederationDb>(name, FEDERATION_DB_VERSION, {
			upgrade(db, oldVersion) {
				if (oldVersion < 1) {
					db.createObjectStore('federations', { keyPath: 'id' });
					db.createObjectStore('globals', { keyPath: ['federationId', 'round'] });
					db.createObjectStore('received', { keyPath: ['federationId', 'round', 'index'] });
					db.createObjectStore('state');
				}
				if (oldVersion < 2) {
					db.createObjectStore('secureRounds', { keyPath: ['federationId', 'round'] });
				}
			}
		})
	);
	return new IdbFederationStore(db);
}
