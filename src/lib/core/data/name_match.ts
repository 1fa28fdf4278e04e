/**
 * Matching names written by different services: a person's export says "Beyoncé feat. JAY-Z",
 * a model's catalogue "Beyonce". Both sides are reduced to a key (normalizeName) and compared
 * exactly; nothing fuzzier, so a match is never a guess the person cannot check.
 */

/**
 * The matching key of a name: Unicode compatibility form (NFKD) without the combining marks of
 * Latin and Greek letters (diacritics; Japanese voicing marks stay, they change the word),
 * lower case, "&" and "+" read as "and", a featured-artist tail ("feat.", "ft.", "featuring",
 * also inside brackets) dropped, a leading "the " dropped, and only letters, digits and the
 * marks left kept. A name with none of those (such as "!!!") keeps its lower-cased,
 * space-trimmed self, so it still matches only itself.
 */
export function normalizeName(name: string): string {
	const plain = name
		.normalize('NFKD')
		.replace(/(?<=[\p{Script=Latin}\p{Script=Greek}])\p{M}+/gu, '')
		.toLowerCase();
	const cut = plain
		.replace(/[([]\s*(?:feat\.?|ft\.?|featuring)\s[^)\]]*[)\]]/gu, ' ')
		.replace(/\s(?:feat\.?|ft\.|featuring)\s.*$/u, ' ')
		.replace(/[&+]/g, ' and ')
		.trim()
		.replace(/^the\s+/u, '');
	const key = cut.replace(/[^\p{L}\p{N}\p{M}]+/gu, '').normalize('NFC');
	return key !== '' ? key : name.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** One name with its play count, as read from a listening history. */
export interface NamedPlays {
	readonly name: string;
	readonly plays: number;
}

export interface NameMatch {
	/** Names found in the catalogue: the catalogue's item index and its name as written there. */
	readonly matched: readonly {
		readonly item: number;
		readonly name: string;
		readonly catalogName: string;
		readonly plays: number;
	}[];
	/** Names the catalogue lacks, most played first. */
	readonly unmatched: readonly NamedPlays[];
	/** Share of the plays whose name was found (0 when there are none). */
	readonly playShare: number;
}

/**
 * Match `wanted` names to `catalog` (item index -> name, '' where unknown) by normalizeName.
 * When several catalogue items share a key the first wins; several wanted names with one key
 * add their plays onto one item. Output lists are sorted by plays, most first.
 */
export function matchNames(catalog: readonly string[], wanted: readonly NamedPlays[]): NameMatch {
	const index = new Map<string, number>();
	catalog.forEach((name, i) => {
		if (name === '') return;
		const k = normalizeName(name);
		if (!index.has(k)) index.set(k, i);
	});
	const byItem = new Map<number, { name: string; plays: number }>();
	const unmatched: NamedPlays[] = [];
	let total = 0;
	let found = 0;
	for (const w of wanted) {
		total += w.plays;
		const i = index.get(normalizeName(w.name));
		if (i === undefined) {
			unmatched.push(w);
			continue;
		}
		found += w.plays;
		const had = byItem.get(i);
		// The most played spelling names the match.
		if (!had) byItem.set(i, { name: w.name, plays: w.plays });
		else
			byItem.set(i, { name: had.plays >= w.plays ? had.name : w.name, plays: had.plays + w.plays });
	}
	const matched = [...byItem].map(([item, m]) => ({
		item,
		name: m.name,
		catalogName: catalog[item],
		plays: m.plays
	}));
	matched.sort((a, b) => b.plays - a.plays);
	unmatched.sort((a, b) => b.plays - a.plays);
	return { matched, unmatched, playShare: total > 0 ? found / total : 0 };
}
