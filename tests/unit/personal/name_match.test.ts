import { describe, expect, it } from 'vitest';
import { matchNames, normalizeName } from '../../../src/lib/core/data/name_match';

describe('normalizeName', () => {
	it.each([
		['Beyoncé', 'beyonce'],
		['BEYONCE', 'beyonce'],
		['The Beatles', 'beatles'],
		['Beatles', 'beatles'],
		['Earth, Wind & Fire', 'earthwindandfire'],
		['Earth Wind and Fire', 'earthwindandfire'],
		['AC/DC', 'acdc'],
		['Daft Punk feat. Pharrell Williams', 'daftpunk'],
		['Daft Punk ft. Pharrell', 'daftpunk'],
		['Get Lucky (feat. Pharrell Williams)', 'getlucky'],
		['Get Lucky [Featuring Pharrell]', 'getlucky'],
		['Sigur Rós', 'sigurros'],
		['Mötley Crüe', 'motleycrue'],
		['ＡＢＣ', 'abc'],
		['周杰倫', '周杰倫'],
		['!!!', '!!!'],
		['  The   The ', 'the']
	])('%s -> %s', (name, key) => {
		expect(normalizeName(name)).toBe(key);
	});

	it('keeps words apart that only look alike', () => {
		// Japanese voicing marks change the word: が is not か.
		expect(normalizeName('がく')).not.toBe(normalizeName('かく'));
		// "feat" inside a word is not a featured artist.
		expect(normalizeName('Defeat Nation')).toBe('defeatnation');
		// A name that is only "The" stays itself.
		expect(normalizeName('Theory of a Deadman')).toBe('theoryofadeadman');
	});
});

describe('matchNames', () => {
	const catalog = ['Radiohead', '', 'The Beatles', 'Björk', 'beatles', 'Sigur Rós'];

	it('matches by key, sums plays of spellings, counts the matched share of plays', () => {
		const m = matchNames(catalog, [
			{ name: 'Beatles', plays: 5 },
			{ name: 'radiohead', plays: 10 },
			{ name: 'Bjork', plays: 3 },
			{ name: 'BEATLES', plays: 7 },
			{ name: 'Unknown Band', plays: 4 },
			{ name: 'Nobody', plays: 1 }
		]);
		// "The Beatles" (2) is the first item with the key "beatles"; both spellings add there.
		expect(m.matched).toEqual([
			{ item: 2, name: 'BEATLES', catalogName: 'The Beatles', plays: 12 },
			{ item: 0, name: 'radiohead', catalogName: 'Radiohead', plays: 10 },
			{ item: 3, name: 'Bjork', catalogName: 'Björk', plays: 3 }
		]);
		expect(m.unmatched).toEqual([
			{ name: 'Unknown Band', plays: 4 },
			{ name: 'Nobody', plays: 1 }
		]);
		expect(m.playShare).toBeCloseTo(25 / 30, 12);
	});

	it('never matches an unnamed item, and an empty history has share 0', () => {
		const m = matchNames(['', 'x'], [{ name: '', plays: 2 }]);
		expect(m.matched).toEqual([]);
		expect(matchNames(catalog, []).playShare).toBe(0);
	});
});
