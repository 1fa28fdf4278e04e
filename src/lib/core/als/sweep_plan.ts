import * as tf from '@tensorflow/tfjs-core';
import { transpose, type Csr } from '../data/csr';
import { gramPlusRidge, solveBlock } from './conjugate_gradient';
import { activeAlsKernel, cgSolveOp } from './kernel/tf_kernel';
import { alsLoss, denseLoss } from './loss';
import { confidence, type AlsParams } from './params';
import { buildRowBlocks, disposeRowBlock, type RowBlock } from './row_blocks';

/** How the rows' CG solves run: the fused kernel, or stock tfjs ops (any backend). */
export type AlsSolver = 'kernel' | 'ops';

/** The resident data of one fit and the two half-sweeps on it. */
export interface SweepPlan {
	readonly solver: AlsSolver;
	/** New user factors against fixed item factors. */
	solveUsers(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
	/** New item factors against fixed user factors. */
	solveItems(y: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D;
	/** The raw objective of loss.ts. */
	loss(x: tf.Tensor2D, y: tf.Tensor2D): Promise<number>;
	/**
	 * |X|^2 (+ |Y|^2 when `y` is given) of the factors the last solveUsers (and solveItems)
	 * returned: finite exactly when no factor is NaN or infinite (barring overflow).
	 */
	squares(x: tf.Tensor2D, y?: tf.Tensor2D): Promise<number>;
	dispose(): void;
}

type PlanParams = Pick<
	AlsParams,
	'alpha' | 'convention' | 'factors' | 'regularization' | 'cgSteps'
>;

/** Stock ops: entries in memory-budgeted row blocks (conjugate_gradient.ts). */
export function opsPlan(matrix: Csr, p: PlanParams, memoryBudgetBytes: number): SweepPlan {
	const userBlocks = buildRowBlocks(matrix, p, memoryBudgetBytes);
	const itemBlocks = buildRowBlocks(transpose(matrix), p, memoryBudgetBytes);
	return {
		solver: 'ops',
		solveUsers: (x, y) => halfSweep(userBlocks, x, y, p),
		solveItems: (y, x) => halfSweep(itemBlocks, y, x, p),
		loss: (x, y) => alsLoss(userBlocks, x, y, p.regularization),
		squares: sumOfSquares,
		dispose() {
			userBlocks.forEach(disposeRowBlock);
			itemBlocks.forEach(disposeRowBlock);
		}
	};
}

/** One side's CSR with confidences, as the kernel's input tensors. */
interface KernelSide {
	readonly indptr: tf.Tensor1D;
	readonly indices: tf.Tensor1D;
	readonly conf: tf.Tensor1D;
	readonly csr: { indptr: Int32Array; indices: Int32Array; conf: Float32Array };
}

function kernelSide(m: Csr, p: PlanParams): KernelSide {
	const indptr = m.indptr.slice();
	const indices = m.indices.slice();
	const conf = new Float32Array(m.data.length);
	for (let k = 0; k < conf.length; k++) conf[k] = confidence(m.data[k], p);
	return {
		indptr: tf.tensor1d(indptr, 'int32'),
		indices: tf.tensor1d(indices, 'int32'),
		conf: tf.tensor1d(conf, 'float32'),
		csr: { indptr, indices, conf }
	};
}

/**
 * The fused kernel (kernel/tf_kernel.ts): each side's CSR and confidences stay resident as
 * three tensors; a half-sweep is one kernel call (it builds F'F + lambda I itself; rows with few
 * entries are solved exactly unless `exactShortRows` is false). Needs `useAlsKernel`
 * to have run and a cpu or wasm backend.
 */
export function kernelPlan(matrix: Csr, p: PlanParams, exactShortRows = true): SweepPlan {
	const users = kernelSide(matrix, p);
	const items = kernelSide(transpose(matrix), p);
	const solve = (side: KernelSide, solved: tf.Tensor2D, fixed: tf.Tensor2D) =>
		cgSolveOp(side.indptr, side.indices, side.conf, fixed, solved, {
			steps: p.cgSteps,
			lambda: p.regularization,
			exactShortRows
		});
	// the kernel sums the squares of what it solves (AlsCgKernel.lastSolve)
	let usersSquares = NaN;
	let itemsSquares = NaN;
	const lastSquares = () => activeAlsKernel()?.lastSolve.sumSquares ?? NaN;
	return {
		solver: 'kernel',
		solveUsers(x, y) {
			const next = solve(users, x, y);
			usersSquares = lastSquares();
			return next;
		},
		solveItems(y, x) {
			const next = solve(items, y, x);
			itemsSquares = lastSquares();
			return next;
		},
		squares: async (_x, y) => usersSquares + (y ? itemsSquares : 0),
		async loss(x, y) {
			const kernel = activeAlsKernel();
			if (!kernel) throw new Error('the ALS kernel is not loaded');
			const dense = denseLoss(x, y, p.regularization);
			try {
				const observed = kernel.observedLoss(
					users.csr,
					(await x.data()) as Float32Array,
					(await y.data()) as Float32Array,
					p.factors
				);
				return (await dense.data())[0] + observed;
			} finally {
				dense.dispose();
			}
		},
		dispose() {
			for (const s of [users, items]) tf.dispose([s.indptr, s.indices, s.conf]);
		}
	};
}

/**
 * One half-sweep with stock ops: new factors for every row of `blocks` against the fixed side,
 * `(F'F + F'(C_r - I)F + lambda I) x_r = F' C_r p_r`, block by block.
 */
export function halfSweep(
	blocks: readonly RowBlock[],
	solved: tf.Tensor2D,
	fixed: tf.Tensor2D,
	params: Pick<AlsParams, 'regularization' | 'cgSteps'>
): tf.Tensor2D {
	if (blocks.length === 0) return tf.clone(solved);
	const gram = gramPlusRidge(fixed, params.regularization);
	try {
		if (blocks.length === 1) return solveBlock(blocks[0], gram, fixed, solved, params.cgSteps);
		const parts = blocks.map((b) => {
			const x0 = tf.slice(solved, [b.start, 0], [b.rows, -1]);
			try {
				return solveBlock(b, gram, fixed, x0, params.cgSteps);
			} finally {
				x0.dispose();
			}
		});
		try {
			return tf.concat(parts, 0);
		} finally {
			tf.dispose(parts);
		}
	} finally {
		gram.dispose();
	}
}

/** |X|^2 (+ |Y|^2) with tfjs ops, read back. */
async function sumOfSquares(x: tf.Tensor2D, y?: tf.Tensor2D): Promise<number> {
	const s = tf.tidy(() => {
		const sx = tf.sum(tf.square(x));
		return y ? tf.add(sx, tf.sum(tf.square(y))) : sx;
	});
	try {
		return (await s.data())[0];
	} finally {
		s.dispose();
	}
}
