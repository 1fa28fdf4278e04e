/**
 * The README and docs/ stand alone: every Markdown link resolves to a file of this repository
 * (and to a heading of it, when it names one), and none leaves the repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const DOCS = [
	'README.md',
	...readdirSync(join(ROOT, 'docs'))
		.filter((f) => f.endsWith('.md'))
		.map((f) => `docs/${f}`)
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(text: string): Set<string> {
	const out = new Set<string>();
	for (const m of text.matchAll(/^#+ (.+)$/gm)) {
		out.add(
			m[1]
				.trim()
				.toLowerCase()
				.replace(/[^\p{L}\p{N}\- _]/gu, '')
				.replace(/ /g, '-')
		);
	}
	return out;
}

/** Markdown links and images outside code spans and fenced blocks. */
function links(text: string): string[] {
	const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
	return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** The links of `text` (the file `doc`) that leave the repository or do not resolve. */
function brokenLinks(doc: string, text: string): string[] {
	const broken: string[] = [];
	for (const link of links(text)) {
		if (/^[a-z]+:/i.test(link)) {
			broken.push(`${link} (leaves the repository)`);
			continue;
		}
		const [path, anchor] = link.split('#');
		const target = path ? resolve(ROOT, dirname(doc), path) : join(ROOT, doc);
		if (relative(ROOT, target).startsWith('..')) broken.push(`${link} (outside the repository)`);
		else if (!existsSync(target)) broken.push(`${link} (no such file)`);
		else if (anchor && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(anchor))
			broken.push(`${link} (no such heading)`);
	}
	return broken;
}

describe('documentation links', () => {
	it('finds the README and the four docs', () => {
		expect(DOCS).toEqual(
			expect.arrayContaining([
				'README.md',
				'docs/design.md',
				'docs/input-files.md',
				'docs/federation.md',
				'docs/benchmarks.md'
			])
		);
	});

	for (const doc of DOCS) {
		it(`${doc}: every link stays in the repository and resolves`, () => {
			expect(brokenLinks(doc, readFileSync(join(ROOT, doc), 'utf8'))).toEqual([]);
		});
	}

	it('the checker catches a missing file, an outside link, a web link and a missing heading', () => {
		const sample =
			'[a](docs/nope.md) [b](../shared/DESIGN.md) [c](https://example.com) [d](#nowhere) [e](docs/federation.md#simulation) `[f](x.md)`';
		expect(brokenLinks('README.md', sample)).toEqual([
			'docs/nope.md (no such file)',
			'../shared/DESIGN.md (outside the repository)',
			'https://example.com (leaves the repository)',
			'#nowhere (no such heading)'
		]);
	});
});
