import type { MetadataJoin, SongInfo } from '$lib/core/data/metadata';

/**
 * KKBox side files read on the Data page during this page session (kept in memory only, not
 * in IndexedDB): the join summary for the Data page and the songs' metadata for Recommend.
 * `datasetKey` is the fingerprint of the train dataset they were joined with.
 */
export const songMetadata = $state<{
	datasetKey: string | undefined;
	join: MetadataJoin | undefined;
	files: { members?: string; songs?: string };
	songs: Map<string, SongInfo> | undefined;
}>({ datasetKey: undefined, join: undefined, files: {}, songs: undefined });

/** Forget everything (another dataset became active). */
export function resetSongMetadata(datasetKey: string | undefined): void {
	songMetadata.datasetKey = datasetKey;
	songMetadata.join = undefined;
	songMetadata.files = {};
	songMetadata.songs = undefined;
}
