import { MusicrecError } from '../errors';

/**
 * Guards for the untrusted `meta` of federation files: each narrows one value or throws
 * 'file/bad-field' with a message naming the field (`what` is e.g. 'Update file').
 */
export function badField(what: string, field: string, expected: string, value?: unknown): never {
	const shown = value === undefined ? 'missing' : truncate(JSON.stringify(value) ?? String(value));
	throw new MusicrecError(
		'file/bad-field',
		`${what} field ${field} must be ${expected} (got ${shown})`,
		{
			field
		}
	);
}

function truncate(s: string): string {
	return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export function objectField(what: string, v: unknown, field: string): Record<string, unknown> {
	if (v === null || typeof v !== 'object' || Array.isArray(v))
		badField(what, field, 'an object', v);
	return v as Record<string, unknown>;
}

export function stringField(what: string, v: unknown, field: string, pattern?: RegExp): string {
	if (typeof v !== 'string' || v.length === 0 || (pattern && !pattern.test(v))) {
		badField(
			what,
			field,
			pattern ? `a string matching ${String(pattern)}` : 'a non-empty string',
			v
		);
	}
	return v;
}

export function integerField(what: string, v: unknown, field: string, min = 0): number {
	if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
		badField(what, field, `an integer >= ${min}`, v);
	}
	return v;
}

export function numberField(what: string, v: unknown, field: string, min = 0): number {
	if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
		badField(what, field, `a finite number >= ${min}`, v);
	}
	return v;
}

/** The two federation modes (docs/federation.md). */
export type FederationMode = 'exact' | 'compact';

export function modeField(what: string, v: unknown, field: string): FederationMode {
	if (v !== 'exact' && v !== 'compact') badField(what, field, "'exact' or 'compact'", v);
	return v;
}

/** Checksums as the envelope writes them. */
export const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** Federation ids: 1-64 characters of letters, digits, '-', '_', '.'. */
export const FEDERATION_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
