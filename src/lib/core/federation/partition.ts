import { csrFromTriplets } from '../data/csr';
import type { Interactions } from '../data/interactions';
import { Vocabulary } from '../data/vocabulary';
import { MusicrecError } from '../errors';
import { Rng } from '../random';

/** How users are dealt to clients. */
export type PartitionKind = 'even' | 'activity';

/** One client's share: its own Interactions (local vocabularies) and the global user indices. */
export interface ClientShare {
	readonly interactions: Interactions;
	/** Global user index of each local user. */
	readonly users: Int32Array;
}

/**
 * Split `data` by users into `clients` disjoint shares covering every user
 * (docs/federation.md, Simulation). Users are shuffled by `Rng(seed)`, then:
 * - even: dealt round-robin, so shares differ in size by at most one user;
 * - activity: users sorted by activity (most first) and client k gets a share of users
 *   proportional to `1/(k+1)` (Zipf-like), so client 0 holds the heaviest users and the most.
 * Each share keeps only its users' rows; its item vocabulary lists the songs it has, in the
 * order first met (not the global order), as a real client's file would.
 */
export function splitByUsers(
	data: Interactions,
	clients: number,
	kind: PartitionKind,
	seed: number
): ClientShare[] {
	const m = data.matrix;
	if (!Number.isInteger(clients) || clients < 1 || clients > m.rows) {
		throw new MusicrecError(
			'federation/bad-input',
			`clients must be an integer in [1, ${m.rows}]`,
			{
				clients
			}
		);
	}
	const order = new Int32Array(m.rows);
	for (let u = 0; u < m.rows; u++) order[u] = u;
	new Rng(seed).shuffle(order);
	const owner = new Int32Array(m.rows);
	if (kind === 'even') {
		order.forEach((u, k) => (owner[u] = k % clients));
	} else {
		const sorted = Array.from(order).sort(
			(a, b) => m.indptr[b + 1] - m.indptr[b] - (m.indptr[a + 1] - m.indptr[a])
		);
		const weights = Array.from({ length: clients }, (_, k) => 1 / (k + 1));
		const total = weights.reduce((a, b) => a + b, 0);
		// Every client gets at least one user; the rest by weight.
		const sizes = weights.map((w) => Math.max(1, Math.floor(((m.rows - clients) * w) / total) + 1));
		let excess = sizes.reduce((a, b) => a + b, 0) - m.rows;
		for (let k = clients - 1; excess !== 0; k = (k - 1 + clients) % clients) {
			if (excess > 0 && sizes[k] > 1) {
				sizes[k]--;
				excess--;
			} else if (excess < 0) {
				sizes[0]++;
				excess++;
			}
		}
		let at = 0;
		sizes.forEach((s, k) => {
			for (let j = 0; j < s; j++) owner[sorted[at++]] = k;
		});
	}
	return splitByOwner(data, owner, clients);
}

/**
 * Shares from an explicit assignment: user u goes to client `owner[u]` (0 <= owner[u] <
 * clients). Each share keeps only its users' rows, with local vocabularies as in splitByUsers.
 * A client with no user gets an empty share.
 */
export function splitByOwner(
	data: Interactions,
	owner: Int32Array,
	clients: number
): ClientShare[] {
	const m = data.matrix;
	if (owner.length !== m.rows) {
		throw new MusicrecError('federation/bad-input', 'owner must list one client per user', {
			owner: owner.length,
			users: m.rows
		});
	}
	for (let u = 0; u < owner.length; u++) {
		if (!(owner[u] >= 0 && owner[u] < clients)) {
			throw new MusicrecError('federation/bad-input', `user ${u} has no valid client`, {
				user: u,
				owner: owner[u]
			});
		}
	}
	const members: number[][] = Array.from({ length: clients }, () => []);
	for (let u = 0; u < m.rows; u++) members[owner[u]].push(u);
	const shares: ClientShare[] = [];
	for (let k = 0; k < clients; k++) {
		const users = members[k];
		const userVocab = new Vocabulary();
		const itemVocab = new Vocabulary();
		const rows: number[] = [];
		const cols: number[] = [];
		const vals: number[] = [];
		const targets: number[] = [];
		for (const u of users) {
			const lu = userVocab.add(data.users.idAt(u));
			for (let e = m.indptr[u]; e < m.indptr[u + 1]; e++) {
				rows.push(lu);
				cols.push(itemVocab.add(data.items.idAt(m.indices[e])));
				vals.push(m.data[e]);
				if (data.target) targets.push(data.target[e]);
			}
		}
		const built = csrFromTriplets(
			userVocab.size,
			itemVocab.size,
			Int32Array.from(rows),
			Int32Array.from(cols),
			Float32Array.from(vals),
			data.target ? Int8Array.from(targets) : undefined
		);
		shares.push({
			interactions: {
				users: userVocab,
				items: itemVocab,
				matrix: built.matrix,
				...(built.extra ? { target: built.extra } : {})
			},
			users: Int32Array.from(users)
		});
	}
	return shares;
}

/** Clients grouped by a per-user label (e.g. KKBox's most frequent `source_system_tab`). */
export interface LabelPartition {
	/** Client of each user. */
	readonly owner: Int32Array;
	/** Label of each client; a merged client is named `other`. */
	readonly labels: string[];
}

/**
 * One client per distinct label, users without a label (null) under `other`. With more than
 * `maxClients` groups, the `maxClients - 1` largest (by users; ties by label) keep their own
 * client and the rest merge into one `other` client, which comes last.
 */
export function ownersFromLabels(
	userLabels: readonly (string | null)[],
	maxClients: number
): LabelPartition {
	if (!Number.isInteger(maxClients) || maxClients < 1) {
		throw new MusicrecError('federation/bad-input', 'maxClients must be an integer >= 1', {
			maxClients
		});
	}
	const OTHER = 'other';
	const counts = new Map<string, number>();
	for (const l of userLabels) {
		const key = l ?? OTHER;
		counts.set(key, (counts.get(key) ?? 0) + 1);
	}
	const groups = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
	let kept = groups.map(([l]) => l);
	if (groups.length > maxClients) kept = kept.slice(0, maxClients - 1);
	kept = kept.filter((l) => l !== OTHER);
	const merged = kept.length < groups.length;
	const labels = merged ? [...kept, OTHER] : kept;
	const index = new Map(kept.map((l, k) => [l, k]));
	const owner = new Int32Array(userLabels.length);
	userLabels.forEach((l, u) => (owner[u] = index.get(l ?? OTHER) ?? kept.length));
	return { owner, labels };
}
