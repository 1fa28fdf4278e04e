import { existsSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nnz } from '../src/lib/core/data/csr';
import { ingest } from '../src/lib/core/data/ingest';
import { nodeUtf8Decoder, readByteChunks } from '../src/lib/node/files';
import { KKBOX_FULL_ROWS, writeKkboxCsv } from '../src/lib/node/kkbox_generator';
import type { Options } from './args';
import { peakRssMb, round } from './measure';

/** The record `npm run bench -- ingest` writes. */
export interface IngestRecord {
	suite: 'ingest';
	file: string;
	rows: number;
	bytes: number;
	generate_s?: number;
	seconds: number;
	/** CPU seconds of this process during the ingest (user + system; less sensitive to load). */
	cpu_s: number;
	rows_per_s: number;
	mb_per_s: number;
	peak_rss_mb: number;
	users: number;
	items: number;
	nnz: number;
	/** Rows by how they were read (IngestResult.paths). */
	paths: { grouped: number; inPlace: number; split: number };
	/** `uptime`'s 1-minute load average when the ingest started (2 cores: 2 is a busy machine). */
	load_before: number;
}

/**
 * Streams a KKBox-schema CSV through `ingest` (EDA included) with `readByteChunks`. Without
 * `--file` a seeded file of `--rows` rows is generated in the OS temp folder first (kept and
 * reused when it already exists, `--regenerate` to force).
 */
export async function ingestSuite(options: Options): Promise<IngestRecord[]> {
	const rows = options.number('rows', KKBOX_FULL_ROWS);
	const seed = options.number('seed', 1);
	const given = options.optionalString('file');
	const regenerate = options.optionalString('regenerate') === 'true';
	options.assertAllUsed();

	const file = given ?? join(tmpdir(), `musicrec_kkbox_${rows}_seed${seed}.csv`);
	let generateSeconds: number | undefined;
	if (given === undefined && (regenerate || !existsSync(file))) {
		const start = performance.now();
		writeKkboxCsv(file, { rows, seed });
		generateSeconds = (performance.now() - start) / 1000;
	}
	const bytes = statSync(file).size;
	const load = loadavg()[0];
	const start = performance.now();
	const cpuStart = process.cpuUsage();
	const result = await ingest(readByteChunks(file), { decoder: nodeUtf8Decoder() });
	const seconds = (performance.now() - start) / 1000;
	const cpu = process.cpuUsage(cpuStart);
	const m = result.interactions.matrix;
	return [
		{
			suite: 'ingest',
			file,
			rows: result.rows,
			bytes,
			generate_s: generateSeconds === undefined ? undefined : round(generateSeconds, 2),
			seconds: round(seconds, 3),
			cpu_s: round((cpu.user + cpu.system) / 1e6, 3),
			rows_per_s: Math.round(result.rows / seconds),
			mb_per_s: round(bytes / 1e6 / seconds, 1),
			peak_rss_mb: round(peakRssMb(), 1),
			users: m.rows,
			items: m.cols,
			nnz: nnz(m),
			paths: result.paths,
			load_before: round(load, 2)
		}
	];
}
