/** `--name value` and `--flag` options after a positional suite name. */
export interface ParsedArgs {
	readonly suite: string;
	readonly options: ReadonlyMap<string, string>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
	const [suite, ...rest] = argv;
	if (suite === undefined || suite.startsWith('--')) {
		throw new Error('usage: npm run bench -- <suite> [--option value ...]');
	}
	const options = new Map<string, string>();
	for (let k = 0; k < rest.length; k++) {
		const arg = rest[k];
		if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
		const eq = arg.indexOf('=');
		if (eq > 0) {
			options.set(arg.slice(2, eq), arg.slice(eq + 1));
		} else if (k + 1 < rest.length && !rest[k + 1].startsWith('--')) {
			options.set(arg.slice(2), rest[++k]);
		} else {
			options.set(arg.slice(2), 'true');
		}
	}
	return { suite, options };
}

/** Typed option readers that name the option in their errors. */
export class Options {
	private readonly used = new Set<string>();

	constructor(private readonly options: ReadonlyMap<string, string>) {}

	string(name: string, fallback: string): string {
		this.used.add(name);
		return this.options.get(name) ?? fallback;
	}

	choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
		const value = this.string(name, fallback);
		if (!(choices as readonly string[]).includes(value)) {
			throw new Error(`--${name} must be one of ${choices.join(', ')} (got "${value}")`);
		}
		return value as T;
	}

	number(name: string, fallback: number): number {
		const raw = this.string(name, String(fallback));
		const value = Number(raw);
		if (!Number.isFinite(value)) throw new Error(`--${name} must be a number (got "${raw}")`);
		return value;
	}

	optionalString(name: string): string | undefined {
		this.used.add(name);
		return this.options.get(name);
	}

	/** Throws on options no reader asked for, so a typo is not silently ignored. */
	assertAllUsed(): void {
		const unknown = [...this.options.keys()].filter((k) => !this.used.has(k));
		if (unknown.length > 0)
			throw new Error(`unknown option(s): ${unknown.map((k) => '--' + k).join(', ')}`);
	}
}
