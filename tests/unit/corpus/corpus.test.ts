import { matchExport } from '../../../src/lib/core/data/personal_match';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, type IngestResult } from '../../../src/lib/core/data/ingest';
import { MusicrecError } from '../../../src/lib/core/errors';
import { decodeModelFile } from '../../../src/lib/core/format/model_file';
import { readGlobalFile } from '../../../src/lib/core/federation/global_file';
import { decodeUpdateFile } from '../../../src/lib/core/federation/update_file';
import { readTextChunks } from '../../../src/lib/node/files';

/** One corpus entry, as scripts/make_corpus.ts writes it. */
interface Case {
	name: string;
	kind: 'csv' | 'model' | 'global' | 'update' | 'personal';
	file: string;
	badLines?: 'skip';
	maxFileBytes?: number;
	about: string;
	expect:
		| { error: string; message: string }
		| { accepted: Record<string, unknown>; userIds?: string[]; maxUserIdLength?: number };
}

const ROOT = join(process.cwd(), 'tests', 'corpus');
const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as {
	cases: Case[];
};

function csvSummary(r: IngestResult): Record<string, unknown> {
	return {
		schema: r.schema,
		rows: r.rows,
		rowsKept: r.rowsKept,
		users: r.interactions.users.size,
		items: r.interactions.items.size,
		nnz: r.interactions.matrix.indices.length,
		badLines: r.badLines.count
	};
}

/** The catalogue a person's export is matched against (item index -> name). */
const PERSONAL_CATALOG = ['Radiohead', 'Björk', 'Portishead'];

/** Run a case through the core: a summary of what was read, plus the user ids for CSV. */
async function run(
	c: Case,
	chunkBytes?: number
): Promise<{ summary: Record<string, unknown>; userIds?: string[] }> {
	const path = join(ROOT, c.file);
	if (c.kind === 'csv') {
		const r = await ingest(
			readTextChunks(path, chunkBytes),
			c.badLines ? { badLines: c.badLines } : {}
		);
		for (const v of r.interactions.matrix.data) expect(Number.isFinite(v) && v > 0).toBe(true);
		return { summary: csvSummary(r), userIds: r.interactions.users.toArray() };
	}
	if (c.kind === 'personal') {
		const bytes = new Uint8Array(readFileSync(path));
		const { history, match } = matchExport([{ name: c.file, bytes }], PERSONAL_CATALOG);
		return {
			summary: { plays: history.plays, matched: match.matched.length, distinct: match.distinct }
		};
	}
	const text = readFileSync(path, 'utf8');
	if (c.kind === 'model') {
		const m = decodeModelFile(text);
		return {
			summary: { users: m.userIds.length, items: m.itemIds.length, factors: m.meta.params.factors }
		};
	}
	if (c.kind === 'global') {
		const g = readGlobalFile(text).model;
		return { summary: { catalog: g.catalog.length, round: g.round, factors: g.params.factors } };
	}
	const u = decodeUpdateFile(text);
	const touched = u.payload.mode === 'exact' ? u.payload.touched.length : undefined;
	return { summary: { mode: u.payload.mode, factors: u.factors, touched } };
}

async function caught(p: Promise<unknown>): Promise<unknown> {
	try {
		await p;
	} catch (e) {
		return e;
	}
	return undefined;
}

/** Own property names and descriptors of Object.prototype, to detect pollution. */
function prototypeSnapshot(): string {
	return Object.getOwnPropertyNames(Object.prototype).sort().join(',');
}

describe('hostile-input corpus', () => {
	let before: string;
	beforeAll(() => {
		before = prototypeSnapshot();
	});
	afterAll(() => {
		expect(prototypeSnapshot()).toBe(before);
	});

	it('has cases of every kind, and every file listed exists and is small', () => {
		const kinds = new Set(manifest.cases.map((c) => c.kind));
		expect([...kinds].sort()).toEqual(['csv', 'global', 'model', 'personal', 'update']);
		expect(new Set(manifest.cases.map((c) => c.file)).size).toBe(manifest.cases.length);
		for (const c of manifest.cases) {
			const size = statSync(join(ROOT, c.file)).size;
			expect(size, c.file).toBeLessThanOrEqual(c.maxFileBytes ?? 20_000);
		}
	});

	for (const c of manifest.cases) {
		const label = `${c.file}: ${c.about}`;
		const x = c.expect;
		if ('error' in x) {
			it(`${label} -> ${x.error}`, async () => {
				const e = await caught(run(c));
				expect(e, 'must throw').toBeInstanceOf(MusicrecError);
				const err = e as MusicrecError;
				expect(err.code).toBe(x.error);
				expect(err.message).toContain(x.message);
				// Human-readable: no dump of the hostile content.
				expect(err.message.length).toBeLessThan(700);
				if (c.kind === 'csv') {
					// The same outcome whatever the chunking.
					const small = (await caught(run(c, 7))) as MusicrecError;
					expect([small.code, small.message]).toEqual([err.code, err.message]);
				}
			});
		} else {
			it(`${label} -> accepted`, async () => {
				const r = await run(c);
				expect(r.summary).toEqual(x.accepted);
				if (x.userIds) expect(r.userIds).toEqual(x.userIds);
				if (x.maxUserIdLength !== undefined) {
					expect(Math.max(...r.userIds!.map((u) => u.length))).toBe(x.maxUserIdLength);
				}
				if (c.kind === 'csv') expect((await run(c, 7)).summary).toEqual(r.summary);
			});
		}
	}

	it('leaves Object.prototype untouched after the __proto__ and constructor cases', async () => {
		for (const c of manifest.cases.filter((k) => /proto|constructor/.test(k.name))) {
			await caught(run(c));
		}
		expect(prototypeSnapshot()).toBe(before);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.prototype.constructor).toBe(Object);
	});
});
