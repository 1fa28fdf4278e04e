import * as tf from '@tensorflow/tfjs-core';
import type { Csr } from '../data/csr';
import { MusicrecError } from '../errors';
import { initFactors } from './init';
import { alsKernelReady, useAlsKernel } from './kernel/tf_kernel';
import { AlsModel } from './model';
import { alsParams, type AlsParams } from './params';
import { kernelPlan, opsPlan, type AlsSolver, type SweepPlan } from './sweep_plan';

export { halfSweep } from './sweep_plan';
export type { AlsSolver } from './sweep_plan';

/** Progress after each sweep; `loss` is the raw objective of loss.ts (NaN if not computed). */
interface SweepReport {
	/** 1-based sweep number. */
	readonly sweep: number;
	readonly loss: number;
	/** Wall time of this sweep, loss included. */
	readonly seconds: number;
}

export interface FitOptions {
	onSweep?(report: SweepReport): void;
	/** Checked after every sweep (an AbortSignal fits); set it to stop with 'als/cancelled'. */
	signal?: { readonly aborted: boolean };
	/**
	 * Bound on the entry-sized temporaries of one block solve (about six `entries x f` float32
	 * tensors); rows are solved block by block to stay under it. Default 256 MiB.
	 */
	memoryBudgetBytes?: number;
	/** Compute the loss after each sweep (default true); without it only finiteness is checked. */
	computeLoss?: boolean;
	/**
	 * 'kernel': the fused WebAssembly CG kernel (cpu and wasm backends); 'ops': stock tfjs ops
	 * (any backend); 'auto' (default): the kernel where it can run, else ops.
	 */
	solver?: AlsSolver | 'auto';
	/**
	 * With the kernel, solve rows with few entries exactly (Woodbury identity) where that is
	 * cheaper than their CG steps; default true. False: every row by `cgSteps` CG steps, as the
	 * stock ops (which always do) and implicit.
	 */
	exactShortRows?: boolean;
	/** Told which solver the fit uses, before the first sweep. */
	onSolver?(solver: AlsSolver): void;
	/** Called with the cause when 'auto' wanted the kernel and it did not load (ops run instead). */
	onFallback?(reason: string): void;
	/**
	 * Start from these factors (row-major float32, [rows, f] and [cols, f]) instead of
	 * `initFactors(rows, cols, f, seed)`, e.g. a federation's initial item factors or the
	 * factors of an earlier fit to continue it; either may be given alone.
	 */
	initialFactors?: { readonly userFactors?: Float32Array; readonly itemFactors?: Float32Array };
}

const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024;

/**
 * Fit implicit ALS (Hu, Koren, Volinsky 2008) to `matrix` (users x items, weights w) on the
 * current tfjs backend. Each sweep solves every user, then every item (from the transposed
 * matrix), by `cgSteps` warm-started conjugate-gradient steps (Takacs, Pilaszy, Tikk 2011, as
 * in implicit). Returns a model that owns its factor tensors.
 */
export async function fit(
	matrix: Csr,
	params: Partial<AlsParams> = {},
	options: FitOptions = {}
): Promise<AlsModel> {
	const p = alsParams(params);
	checkMatrix(matrix);
	const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
	if (!(budget > 0)) {
		throw new MusicrecError('als/bad-params', 'memoryBudgetBytes must be > 0', {
			field: 'memoryBudgetBytes',
			value: budget
		});
	}
	checkCancelled(options.signal);
	const f = p.factors;
	const plan = await sweepPlan(matrix, p, budget, options);
	options.onSolver?.(plan.solver);
	const init = startFactors(matrix, f, p.seed, options.initialFactors);
	let x: tf.Tensor2D | undefined;
	let y: tf.Tensor2D | undefined;
	try {
		x = tf.tensor2d(init.userFactors, [matrix.rows, f]);
		y = tf.tensor2d(init.itemFactors, [matrix.cols, f]);
		for (let sweep = 1; sweep <= p.iterations; sweep++) {
			const t0 = tf.util.now();
			x = replace(x, plan.solveUsers(x, y));
			y = replace(y, plan.solveItems(y, x));
			// Without the loss, |X|^2 is the finiteness check: X alone suffices between sweeps (a
			// non-finite y_i makes G = Y'Y, hence every x_u of the next sweep, non-finite); the
			// last sweep checks Y too
			const loss =
				options.computeLoss === false
					? await plan.squares(x, sweep === p.iterations ? y : undefined)
					: await plan.loss(x, y);
			if (!Number.isFinite(loss)) {
				throw new MusicrecError(
					'als/not-finite',
					`factors became NaN or infinite in sweep ${sweep}: increase regularization`,
					{ sweep, regularization: p.regularization }
				);
			}
			const seconds = (tf.util.now() - t0) / 1000;
			options.onSweep?.({ sweep, loss: options.computeLoss === false ? NaN : loss, seconds });
			await yieldToEventLoop();
			checkCancelled(options.signal);
		}
		const model = new AlsModel(x, y, p);
		x = y = undefined;
		return model;
	} finally {
		if (x) x.dispose();
		if (y) y.dispose();
		plan.dispose();
	}
}

/** The solver `requested` resolves to on the current backend, with its resident data. */
async function sweepPlan(
	matrix: Csr,
	p: AlsParams,
	budget: number,
	options: Pick<FitOptions, 'solver' | 'onFallback' | 'exactShortRows'>
): Promise<SweepPlan> {
	const requested = options.solver ?? 'auto';
	if (requested !== 'ops') {
		try {
			await useAlsKernel();
		} catch (e) {
			// e.g. WebAssembly compilation refused by a Content-Security-Policy
			if (requested === 'kernel') throw e;
			options.onFallback?.(
				`the fused WebAssembly kernel did not load (${e instanceof Error ? e.message : String(e)}); solving with stock tfjs ops`
			);
		}
		if (alsKernelReady()) return kernelPlan(matrix, p, options.exactShortRows ?? true);
		if (requested === 'kernel') {
			throw new MusicrecError(
				'als/no-kernel',
				`the fused ALS kernel does not run on the '${tf.getBackend()}' backend`
			);
		}
	}
	return opsPlan(matrix, p, budget);
}

function startFactors(
	m: Csr,
	f: number,
	seed: number,
	given: FitOptions['initialFactors']
): { userFactors: Float32Array; itemFactors: Float32Array } {
	const drawn = initFactors(m.rows, m.cols, f, seed);
	const pick = (field: 'userFactors' | 'itemFactors', length: number): Float32Array => {
		const a = given?.[field];
		if (a === undefined) return drawn[field];
		if (a.length !== length || !a.every(Number.isFinite)) {
			throw new MusicrecError(
				'als/bad-params',
				`initialFactors.${field} must hold ${length} finite numbers (got ${a.length})`,
				{ field: `initialFactors.${field}`, value: a.length }
			);
		}
		return a;
	};
	return {
		userFactors: pick('userFactors', m.rows * f),
		itemFactors: pick('itemFactors', m.cols * f)
	};
}

function replace(old: tf.Tensor2D, next: tf.Tensor2D): tf.Tensor2D {
	old.dispose();
	return next;
}

function checkCancelled(signal: { readonly aborted: boolean } | undefined): void {
	if (signal?.aborted) throw new MusicrecError('als/cancelled', 'training was cancelled');
}

/** Weights must be finite and >= 0 (negative "dislike" weights are not supported). */
function checkMatrix(m: Csr): void {
	for (let k = 0; k < m.data.length; k++) {
		const w = m.data[k];
		if (!(w >= 0) || !Number.isFinite(w)) {
			throw new MusicrecError('als/bad-input', `weight ${w} at entry ${k} is not finite and >= 0`, {
				entry: k,
				weight: w
			});
		}
	}
}

/**
 * Let other tasks (a cancel message, a progress repaint) run between sweeps: `setImmediate`
 * in Node, a MessageChannel round trip in browsers and workers (a nested `setTimeout(0)` is
 * clamped to 4 ms there), `setTimeout` otherwise.
 */
function yieldToEventLoop(): Promise<void> {
	const g = globalThis as {
		setImmediate?: (cb: () => void) => unknown;
		MessageChannel?: new () => {
			port1: { onmessage: (() => void) | null; close(): void };
			port2: { postMessage(m: unknown): void; close(): void };
		};
		setTimeout?: (cb: () => void, ms: number) => unknown;
	};
	return new Promise((resolve) => {
		if (g.setImmediate) {
			g.setImmediate(resolve);
		} else if (g.MessageChannel) {
			const channel = new g.MessageChannel();
			channel.port1.onmessage = () => {
				channel.port1.close();
				channel.port2.close();
				resolve();
			};
			channel.port2.postMessage(null);
		} else if (g.setTimeout) {
			g.setTimeout(resolve, 0);
		} else {
			resolve();
		}
	});
}
