import { describe, expect, it } from 'vitest';
import { bomEncoding, decodeByBom } from '../../../src/lib/core/data/text_encoding';

/** "a,b" + "é" written by hand in each encoding. */
const UTF16LE = Uint8Array.from([0xff, 0xfe, 0x61, 0, 0x2c, 0, 0x62, 0, 0xe9, 0]);
const UTF16BE = Uint8Array.from([0xfe, 0xff, 0, 0x61, 0, 0x2c, 0, 0x62, 0, 0xe9]);
const UTF8_BOM = Uint8Array.from([0xef, 0xbb, 0xbf, 0x61, 0x2c, 0x62, 0xc3, 0xa9]);

describe('text encoding by byte order mark', () => {
	it('names UTF-16 by its mark and reads everything else as UTF-8', () => {
		expect(bomEncoding(UTF16LE)).toBe('utf-16le');
		expect(bomEncoding(UTF16BE)).toBe('utf-16be');
		expect(bomEncoding(UTF8_BOM)).toBe('utf-8');
		expect(bomEncoding(Uint8Array.from([0xff]))).toBe('utf-8');
		expect(bomEncoding(new Uint8Array(0))).toBe('utf-8');
	});

	it('decodes whole buffers without the mark', () => {
		for (const bytes of [UTF16LE, UTF16BE, UTF8_BOM]) expect(decodeByBom(bytes)).toBe('a,bé');
		expect(decodeByBom(Uint8Array.from([0x61, 0x2c, 0x62]))).toBe('a,b');
	});
});
