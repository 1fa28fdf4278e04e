import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/lib/core/random';
import { Sha256, sha256Hex, utf8 } from '../../../src/lib/core/format/sha256';

const nodeSha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('sha256', () => {
	it('matches the FIPS 180-4 examples', () => {
		expect(sha256Hex('abc')).toBe(
			'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
		);
		expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
		expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
			'248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'
		);
	});

	it('matches node:crypto on every length around block boundaries, fed in pieces', () => {
		const rng = new Rng(7);
		for (let len = 0; len < 200; len++) {
			const bytes = new Uint8Array(len).map(() => rng.int(256));
			const h = new Sha256();
			let k = 0;
			while (k < len) {
				const step = 1 + rng.int(70);
				h.update(bytes.subarray(k, k + step));
				k += step;
			}
			expect(h.hex()).toBe(nodeSha(bytes));
		}
	});

	it('encodes UTF-8 like Node, including astral characters', () => {
		const text = 'KKBox 周杰倫 🎵 café \u0000';
		expect(Buffer.from(utf8(text)).equals(Buffer.from(text, 'utf8'))).toBe(true);
		expect(sha256Hex(text)).toBe(nodeSha(text));
	});

	it('hashes long text as its UTF-8 (buffer boundaries inside multi-byte characters, lone surrogates)', () => {
		const rng = new Rng(3);
		const pieces = ['a', 'Z', '0', 'é', '周', '🎵', '\ud800', '\udfff', '"', '\n'];
		for (const length of [70_000, 131_075]) {
			let text = '';
			while (text.length < length) text += pieces[rng.int(pieces.length)].repeat(1 + rng.int(40));
			const h = new Sha256();
			// In two calls, cut at an arbitrary point.
			const cut = rng.int(text.length);
			h.updateText(text.slice(0, cut)).updateText(text.slice(cut));
			const whole = Buffer.concat([
				Buffer.from(text.slice(0, cut), 'utf8'),
				Buffer.from(text.slice(cut), 'utf8')
			]);
			expect(h.hex()).toBe(nodeSha(whole));
			expect(sha256Hex(text)).toBe(nodeSha(Buffer.from(text, 'utf8')));
		}
	});
});
