/**
 * Errors the core raises on purpose. Each carries a stable `code` the UI maps to a message,
 * and `details` with the facts a person needs to fix the input.
 */
export type ErrorCode =
	| 'file/not-json'
	| 'file/too-large'
	| 'file/bad-format'
	| 'file/bad-version'
	| 'file/wrong-kind'
	| 'file/bad-field'
	| 'file/bad-tensor'
	| 'file/checksum'
	| 'store/quota'
	| 'store/failed'
	| 'csv/empty'
	| 'csv/unknown-schema'
	| 'csv/bad-line'
	| 'csv/unterminated-quote'
	| 'data/cancelled'
	| 'data/bad-options'
	| 'als/bad-params'
	| 'als/not-finite'
	| 'als/cancelled'
	| 'als/bad-input'
	| 'als/disposed'
	| 'als/no-kernel'
	| 'als/kernel-failed'
	| 'als/out-of-memory'
	| 'eval/bad-input'
	| 'model/no-overlap'
	| 'model/no-names'
	| 'federation/bad-input'
	| 'federation/bad-shape'
	| 'federation/not-finite'
	| 'federation/wrong-federation'
	| 'federation/wrong-round'
	| 'federation/wrong-base'
	| 'federation/wrong-mode'
	| 'federation/duplicate-client'
	| 'federation/outlier'
	| 'federation/no-updates'
	| 'federation/bad-proposal'
	| 'federation/no-crypto'
	| 'federation/bad-key'
	| 'federation/bad-share'
	| 'federation/cohort-too-small'
	| 'federation/not-in-roster'
	| 'federation/wrong-roster'
	| 'federation/late'
	| 'federation/secure-refused'
	| 'federation/too-few-shares'
	| 'federation/inconsistent-sum';

export class MusicrecError extends Error {
	readonly code: ErrorCode;
	readonly details: Readonly<Record<string, unknown>>;

	constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
		super(message);
		this.name = 'MusicrecError';
		this.code = code;
		this.details = details;
	}
}

export function isMusicrecError(e: unknown, code?: ErrorCode): e is MusicrecError {
	return e instanceof MusicrecError && (code === undefined || e.code === code);
}
