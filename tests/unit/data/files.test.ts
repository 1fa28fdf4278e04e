import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Growable } from '../../../src/lib/core/data/growable';
import { ingest } from '../../../src/lib/core/data/ingest';
import { nodeUtf8Decoder, readByteChunks, readTextChunks } from '../../../src/lib/node/files';

const dir = mkdtempSync(join(tmpdir(), 'musicrec-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTextChunks', () => {
	it('decodes multi-byte characters split across reads', async () => {
		const text = 'user,item\n' + 'élodie,日本の歌\n🎵,ß\n'.repeat(20);
		const path = join(dir, 'utf8.csv');
		writeFileSync(path, text, 'utf8');
		const chunks: string[] = [];
		for await (const c of readTextChunks(path, 5)) chunks.push(c);
		expect(chunks.length).toBeGreaterThan(10);
		expect(chunks.join('')).toBe(text);
		const r = await ingest(readTextChunks(path, 3));
		expect(r.interactions.users.toArray()).toEqual(['élodie', '🎵']);
		expect(r.interactions.items.toArray()).toEqual(['日本の歌', 'ß']);
	});
});

describe('readByteChunks with nodeUtf8Decoder', () => {
	it('gives ingest the same result as text, for multi-byte characters and bytes that are not UTF-8', async () => {
		const text = 'user,item\n' + 'élodie,日本の歌\n🎵,ß\nplain,ascii\n'.repeat(20);
		const path = join(dir, 'utf8_bytes.csv');
		writeFileSync(path, text, 'utf8');
		for (const size of [3, 7, 64]) {
			const r = await ingest(readByteChunks(path, size), { decoder: nodeUtf8Decoder() });
			expect(r.interactions.users.toArray()).toEqual(['élodie', '🎵', 'plain']);
			expect(r.interactions.items.toArray()).toEqual(['日本の歌', 'ß', 'ascii']);
			expect(r.rows).toBe(60);
		}
		// A Latin-1 byte (0xe9) is not UTF-8: the id is refused, as with the global TextDecoder.
		const bad = join(dir, 'latin1.csv');
		writeFileSync(
			bad,
			Buffer.concat([
				Buffer.from('user,item\nplain,a\n'),
				Buffer.from([0xe9]),
				Buffer.from('x,b\n')
			])
		);
		for (const decoder of [nodeUtf8Decoder(), undefined]) {
			await expect(ingest(readByteChunks(bad, 4), { decoder })).rejects.toThrow(/not UTF-8/);
		}
	});
});

describe('Growable', () => {
	it('keeps every pushed value across growth', () => {
		const g = new Growable(Int32Array, 2);
		for (let k = 0; k < 1000; k++) g.push(k * 3 - 7);
		expect(g.length).toBe(1000);
		const v = g.view();
		expect(v).toBeInstanceOf(Int32Array);
		expect(Array.from(v)).toEqual(Array.from({ length: 1000 }, (_, k) => k * 3 - 7));
		const f = new Growable(Float32Array, 1);
		f.push(0.5);
		f.push(1.5);
		f.push(-2);
		expect(Array.from(f.view())).toEqual([0.5, 1.5, -2]);
		f.release();
		expect(f.length).toBe(0);
	});
});
