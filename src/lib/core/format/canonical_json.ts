/**
 * Canonical JSON: object keys sorted, no whitespace. Two writers that hold the same content
 * produce the same text, so its SHA-256 is a checksum of the content, not of the formatting.
 */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') {
		if (typeof value === 'number' && !Number.isFinite(value)) {
			throw new RangeError('canonicalJson: non-finite number');
		}
		const text = JSON.stringify(value);
		if (text === undefined) throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
		return text;
	}
	if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
	const keys = Object.keys(value).sort();
	const record = value as Record<string, unknown>;
	return (
		'{' +
		keys
			.filter((k) => record[k] !== undefined)
			.map((k) => JSON.stringify(k) + ':' + canonicalJson(record[k]))
			.join(',') +
		'}'
	);
}
