import { describe, expect, it } from 'vitest';
import { isMusicrecError } from '../../../src/lib/core/errors';
import {
	ALS_PARAM_SPEC,
	alsParams,
	APP_TRAINING_PARAMS,
	confidence,
	DEFAULT_ALS_PARAMS,
	FEDERATION_PARAMS
} from '../../../src/lib/core/als/params';

function fieldOf(f: () => unknown): unknown {
	try {
		f();
	} catch (e) {
		if (isMusicrecError(e, 'als/bad-params')) return e.details.field;
		throw e;
	}
	return undefined;
}

describe('alsParams', () => {
	it('fills the documented defaults', () => {
		expect(alsParams()).toEqual({
			factors: 64,
			iterations: 15,
			regularization: 0.05,
			alpha: 1,
			cgSteps: 3,
			convention: 'hkv',
			seed: 42
		});
		expect(alsParams({ factors: 8 }).factors).toBe(8);
		expect(DEFAULT_ALS_PARAMS.factors).toBe(64);
	});

	it.each([
		['factors', { factors: 0 }],
		['factors', { factors: 2.5 }],
		['iterations', { iterations: -1 }],
		['regularization', { regularization: -0.1 }],
		['regularization', { regularization: NaN }],
		['alpha', { alpha: 0 }],
		['alpha', { alpha: Infinity }],
		['cgSteps', { cgSteps: 0 }],
		['convention', { convention: 'paper' as never }],
		['seed', { seed: -3 }]
	])('rejects a bad %s and names it with its range', (field, partial) => {
		expect(fieldOf(() => alsParams(partial))).toBe(field);
		expect(() => alsParams(partial)).toThrow(new RegExp(`'${field}' must be`));
	});

	it('maps weights to confidences per convention', () => {
		expect(confidence(2, { alpha: 3, convention: 'hkv' })).toBe(7);
		expect(confidence(2, { alpha: 3, convention: 'implicit' })).toBe(6);
		expect(confidence(0.1, { alpha: 1, convention: 'implicit' })).toBeCloseTo(0.1);
	});

	it('accepts exactly the range the spec states, for every numeric parameter', () => {
		for (const [name, spec] of Object.entries(ALS_PARAM_SPEC)) {
			const at = (v: number) => () => alsParams({ [name]: v });
			if (spec.minExclusive) {
				expect(fieldOf(at(spec.min))).toBe(name);
				expect(fieldOf(at(spec.min + 1e-9))).toBeUndefined();
			} else {
				expect(fieldOf(at(spec.min))).toBeUndefined();
				expect(fieldOf(at(spec.min - (spec.integer ? 1 : 1e-9)))).toBe(name);
			}
			if (spec.max < Number.MAX_VALUE) {
				expect(fieldOf(at(spec.max))).toBeUndefined();
				expect(fieldOf(at(spec.max + 1))).toBe(name);
			}
			if (spec.integer) expect(fieldOf(at(spec.min + 1.5))).toBe(name);
			expect(DEFAULT_ALS_PARAMS[name as keyof typeof DEFAULT_ALS_PARAMS]).toBe(spec.default);
		}
	});

	it('the app and federation starting points are valid parameters', () => {
		expect(alsParams(APP_TRAINING_PARAMS)).toMatchObject({ factors: 32, iterations: 10 });
		expect(alsParams(FEDERATION_PARAMS).factors).toBe(16);
	});
});
