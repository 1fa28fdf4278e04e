/**
 * A tiny reader for the KKBox demo CSV, local to the tests so they do not depend on the app's
 * parser: columns msno (1) and song_id (2), weight 1 + target (last column), duplicates summed.
 */
import { readFileSync } from 'node:fs';
import { csrFromTriplets, type Csr } from '../../src/lib/core/data/csr';
import { demoDataFile } from './data_files';

/** Path of the demo file shipped in static/data (throws when it is missing). */
export function kkboxDemoPath(): string {
	return demoDataFile('kkbox_train_10k.csv');
}

/** Users x songs weight matrix of the demo file (ids are not kept). */
export function readKkboxDemo(path: string): Csr {
	const lines = readFileSync(path, 'utf8').split(/\r?\n/).slice(1);
	const users = new Map<string, number>();
	const songs = new Map<string, number>();
	const r: number[] = [];
	const c: number[] = [];
	const w: number[] = [];
	for (const line of lines) {
		if (!line) continue;
		const cols = line.split(',');
		const u = cols[1];
		const s = cols[2];
		if (!users.has(u)) users.set(u, users.size);
		if (!songs.has(s)) songs.set(s, songs.size);
		r.push(users.get(u)!);
		c.push(songs.get(s)!);
		w.push(1 + Number(cols[cols.length - 1]));
	}
	return csrFromTriplets(
		users.size,
		songs.size,
		Int32Array.from(r),
		Int32Array.from(c),
		Float32Array.from(w)
	).matrix;
}
