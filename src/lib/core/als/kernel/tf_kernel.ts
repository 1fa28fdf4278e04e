import * as tf from '@tensorflow/tfjs-core';
import { AlsCgKernel, type KernelThreads } from './cg_kernel';

/**
 * The fused CG kernel as a tfjs kernel, `MusicrecAlsCg`, on the backends whose tensors live in
 * CPU memory (cpu, wasm). Inputs: indptr [rows + 1] int32, indices [nnz] int32, conf [nnz]
 * float32, fixed [n, f], gram [f, f] (F'F + lambda I), x0 [rows, f]; attr `steps`. Output: the
 * solved [rows, f]. Other backends keep the stock-op path of conjugate_gradient.ts.
 */
export const ALS_CG_KERNEL = 'MusicrecAlsCg';
export const ALS_KERNEL_BACKENDS: readonly string[] = ['cpu', 'wasm'];

let current: AlsCgKernel | undefined;
let pending: Promise<AlsCgKernel> | undefined;

/**
 * Instantiate the kernel (once; again when `threads` are given, replacing the previous one)
 * and register it with tfjs. Resolves to the kernel in use.
 */
export async function useAlsKernel(threads?: KernelThreads): Promise<AlsCgKernel> {
	if (current && !threads) return current;
	if (pending && !threads) return pending;
	pending = AlsCgKernel.create(threads);
	try {
		current = await pending;
	} finally {
		pending = undefined;
	}
	for (const backendName of ALS_KERNEL_BACKENDS) {
		if (!tf.getKernel(ALS_CG_KERNEL, backendName)) {
			tf.registerKernel({ kernelName: ALS_CG_KERNEL, backendName, kernelFunc: cgKernelFunc });
		}
	}
	return current;
}

/** The instantiated kernel, if `useAlsKernel` has run. */
export function activeAlsKernel(): AlsCgKernel | undefined {
	return current;
}

/** True when the fused kernel can run on the current backend. */
export function alsKernelReady(): boolean {
	return current !== undefined && tf.getKernel(ALS_CG_KERNEL, tf.getBackend()) !== undefined;
}

/** Run the registered kernel on tensors (see ALS_CG_KERNEL). */
export function cgSolveOp(
	indptr: tf.Tensor1D,
	indices: tf.Tensor1D,
	conf: tf.Tensor1D,
	fixed: tf.Tensor2D,
	gram: tf.Tensor2D,
	x0: tf.Tensor2D,
	steps: number
): tf.Tensor2D {
	return tf
		.engine()
		.runKernel(ALS_CG_KERNEL, { indptr, indices, conf, fixed, gram, x0 }, { steps }) as tf.Tensor2D;
}

const cgKernelFunc: tf.KernelFunc = ({ inputs, backend: b, attrs }) => {
	if (!current) throw new Error(`${ALS_CG_KERNEL}: call useAlsKernel() first`);
	const backend = b as tf.KernelBackend;
	const read = (name: string) => {
		const t = inputs[name] as tf.TensorInfo;
		return backend.readSync(t.dataId);
	};
	const x0 = inputs.x0 as tf.TensorInfo;
	const out = current.solveRows({
		indptr: read('indptr') as Int32Array,
		indices: read('indices') as Int32Array,
		conf: read('conf') as Float32Array,
		fixed: read('fixed') as Float32Array,
		gram: read('gram') as Float32Array,
		x0: read('x0') as Float32Array,
		factors: x0.shape[1],
		steps: (attrs as { steps: number }).steps
	});
	return { dataId: backend.write(out, x0.shape, 'float32'), shape: x0.shape, dtype: 'float32' };
};
