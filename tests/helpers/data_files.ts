/**
 * Data files the tests read, all inside the checkout (the app's demo datasets in static/data,
 * slices of side files in tests/fixtures). A missing file is a failed test, never a skip.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

function required(path: string): string {
	const full = resolve(process.cwd(), path);
	if (!existsSync(full)) throw new Error(`test data file missing from the checkout: ${path}`);
	return full;
}

/** A demo dataset the app ships, e.g. `kkbox_train_10k.csv`. */
export function demoDataFile(name: string): string {
	return required(`static/data/${name}`);
}

/** A fixture in tests/fixtures. */
export function fixtureFile(name: string): string {
	return required(`tests/fixtures/${name}`);
}
