import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Growable } from '../../../src/lib/core/data/growable';
import { Rng } from '../../../src/lib/core/random';
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

describe('nodeUtf8Decoder', () => {
	it('decodes like the WHATWG TextDecoder in streaming mode, for any bytes cut anywhere', () => {
		const rng = new Rng(3);
		const pieces = [
			[0x61],
			[0x2c, 0x0a],
			[0xc3, 0xa9], // é
			[0xe6, 0x97, 0xa5], // 日
			[0xf0, 0x9f, 0x8e, 0xb5], // 🎵
			[0xe9], // Latin-1 é: not UTF-8
			[0xed, 0xa0, 0x80], // an encoded surrogate: not UTF-8
			[0xf0, 0x9f], // a truncated sequence
			[0xff]
		];
		for (let n = 0; n < 300; n++) {
			const bytes: number[] = [];
			const ascii = rng.int(3) === 0;
			for (let k = rng.int(60); k > 0; k--) {
				bytes.push(...(ascii ? pieces[rng.int(2)] : pieces[rng.int(pieces.length)]));
			}
			const all = Uint8Array.from(bytes);
			const cuts = [0, ...Array.from({ length: rng.int(6) }, () => rng.int(all.length + 1))];
			cuts.sort((a, b) => a - b);
			cuts.push(all.length);
			const mine = nodeUtf8Decoder();
			const reference = new TextDecoder('utf-8');
			let got = '';
			let want = '';
			for (let k = 0; k + 1 < cuts.length; k++) {
				const piece = all.slice(cuts[k], cuts[k + 1]);
				got += mine.decode(piece, { stream: true });
				want += reference.decode(piece, { stream: true });
			}
			got += mine.decode();
			want += reference.decode();
			expect(got).toBe(want);
		}
	});
});
