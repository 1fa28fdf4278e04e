import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { isMusicrecError } from '../../../src/lib/core/errors';
import { isZip, zipEntries, zipEntryChunks } from '../../../src/lib/core/data/zip';
import { Rng } from '../../../src/lib/core/random';

/** `bytes` as chunks cut at seeded random places. */
async function* cut(bytes: Uint8Array, rng: Rng, max = 5000): AsyncGenerator<Uint8Array> {
	let at = 0;
	while (at < bytes.length) {
		const n = 1 + rng.int(max);
		yield bytes.subarray(at, at + n);
		at += n;
	}
}

async function all(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
	const parts: Uint8Array[] = [];
	for await (const c of chunks) parts.push(c);
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) out.set(p, (at += p.length) - p.length);
	return out;
}

const log = (rows: number) => {
	const lines = ['userID\tartistID\tweight'];
	for (let k = 0; k < rows; k++) lines.push(`${k % 97}\t${(k * 31) % 503}\t${1 + (k % 13)}`);
	return strToU8(lines.join('\n') + '\n');
};

describe('zip archives', () => {
	const data = log(20_000);
	const tags = strToU8('userID\ttagID\n1\t2\n');
	const archive = zipSync({
		'hetrec/user_artists.dat': data,
		'hetrec/tags.dat': [tags, { level: 0 }],
		'hetrec/': new Uint8Array(0),
		'__MACOSX/hetrec/._user_artists.dat': new Uint8Array(10),
		'hetrec/.DS_Store': new Uint8Array(10)
	});

	it('lists the data files, largest first, without folders, resource forks and hidden files', () => {
		expect(isZip(archive)).toBe(true);
		expect(isZip(data)).toBe(false);
		expect(zipEntries(archive)).toEqual([
			{ name: 'hetrec/user_artists.dat', size: data.length },
			{ name: 'hetrec/tags.dat', size: tags.length }
		]);
	});

	it('streams one file out, deflated or stored, whatever the chunks', async () => {
		for (const seed of [1, 2, 3]) {
			const rng = new Rng(seed);
			expect(await all(zipEntryChunks(cut(archive, rng), 'hetrec/user_artists.dat'))).toEqual(data);
			expect(await all(zipEntryChunks(cut(archive, rng, 7), 'hetrec/tags.dat'))).toEqual(tags);
		}
	});

	it('says so when the file is missing, the archive truncated or damaged', async () => {
		const missing = await all(zipEntryChunks(cut(archive, new Rng(4)), 'nope.csv')).catch((e) => e);
		expect(isMusicrecError(missing, 'file/bad-format')).toBe(true);
		expect((missing as Error).message).toBe('The archive has no file named nope.csv');
		const truncated = archive.subarray(0, Math.floor(archive.length / 3));
		const short = await all(
			zipEntryChunks(cut(truncated, new Rng(5)), 'hetrec/user_artists.dat')
		).catch((e) => e);
		expect(isMusicrecError(short, 'file/bad-format')).toBe(true);
		expect(() => zipEntries(truncated, 'x.zip')).toThrow(
			/x.zip is a zip file that could not be read/
		);
		const damaged = archive.slice();
		// Flip bytes inside the deflated data of the first file.
		for (let k = 200; k < 260; k++) damaged[k] ^= 0xa5;
		const bad = await all(
			zipEntryChunks(cut(damaged, new Rng(6)), 'hetrec/user_artists.dat')
		).catch((e) => e);
		expect(bad).toBeInstanceOf(Error);
		expect((bad as Error).message).toMatch(/could not be read|no file named|ends early/);
	});
});
