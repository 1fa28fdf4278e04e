/**
 * KKBox side-file worker: reads the active train dataset once (kept for later files), parses a
 * members.csv or songs.csv against its vocabularies and posts back the join summary over every
 * side file read so far, plus the songs' metadata for the Recommend page.
 */
import { ingest } from '$lib/core/data/ingest';
import type { Interactions } from '$lib/core/data/interactions';
import {
	joinMetadata,
	parseMetadata,
	type MemberInfo,
	type MetadataJoin,
	type MetadataKind,
	type SongInfo
} from '$lib/core/data/metadata';
import { isMusicrecError } from '$lib/core/errors';
import { blobByteChunks, blobTextChunks } from '$lib/platform/file_chunks';

/** Main thread to worker. `trainKey` identifies the train file (its fingerprint). */
export interface MetadataRequest {
	readonly train: Blob;
	readonly trainKey: string;
	readonly file: Blob;
}

/** Worker to main thread. */
export type MetadataResponse =
	| {
			readonly type: 'done';
			readonly kind: MetadataKind;
			/** Data rows in the file, and those about users / songs of the train dataset. */
			readonly rows: number;
			readonly kept: number;
			readonly join: MetadataJoin;
			/** Present for a songs file: metadata of the train dataset's songs. */
			readonly songs?: [string, SongInfo][];
	  }
	| {
			readonly type: 'error';
			readonly code: string;
			readonly message: string;
	  };

const scope = self as unknown as {
	onmessage: ((e: MessageEvent<MetadataRequest>) => void) | null;
	postMessage(message: MetadataResponse): void;
};

let loaded: { key: string; interactions: Interactions } | undefined;
let members: Map<string, MemberInfo> | undefined;
let songs: Map<string, SongInfo> | undefined;

async function handle(request: MetadataRequest): Promise<MetadataResponse> {
	if (loaded?.key !== request.trainKey) {
		const { interactions } = await ingest(blobByteChunks(request.train), { badLines: 'skip' });
		loaded = { key: request.trainKey, interactions };
		members = undefined;
		songs = undefined;
	}
	const { users, items } = loaded.interactions;
	const table = await parseMetadata(blobTextChunks(request.file), {
		keep: (id) => (users.indexOf(id) ?? items.indexOf(id)) !== undefined
	});
	if (table.kind === 'members') members = table.members;
	else songs = table.songs;
	return {
		type: 'done',
		kind: table.kind,
		rows: table.rows,
		kept: table.kept,
		join: joinMetadata(loaded.interactions, { members, songs }),
		songs: table.kind === 'songs' ? [...table.songs] : undefined
	};
}

scope.onmessage = (e) => {
	handle(e.data).then(
		(response) => scope.postMessage(response),
		(err: unknown) =>
			scope.postMessage({
				type: 'error',
				code: isMusicrecError(err) ? err.code : 'worker',
				message: err instanceof Error ? err.message : String(err)
			})
	);
};
