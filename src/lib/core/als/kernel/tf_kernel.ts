import * as tf from '@tensorflow/tfjs-core';
import { AlsCgKernel, type KernelThreads } from './cg_kernel';

/**
 * The fused CG kernel as a tfjs kernel, `MusicrecAlsCg`, on the backends whose tensors live in
 * CPU memory (cpu, wasm). Inputs: indptr [rows + 1] int32, indices [nnz] int32, conf [nnz]
 * float32, fixed [n, f], x0 [rows, f]; attrs `steps`, `lambda` (the kernel builds
 * F'F + lambda I), `exactShortRows` (CgProblem). Output: the solved [rows, f]. Other backends keep the stock-op path of
 * conjugate_gradient.ts.
 */
const ALS_CG_KERNEL = 'MusicrecAlsCg';
const ALS_KERNEL_BACKENDS: readonly string[] = ['cpu', 'wasm'];

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
	registerAlsKernel();
	return current;
}

function registerAlsKernel(): void {
	for (const backendName of ALS_KERNEL_BACKENDS) {
		if (!tf.getKernel(ALS_CG_KERNEL, backendName)) {
			tf.registerKernel({ kernelName: ALS_CG_KERNEL, backendName, kernelFunc: cgKernelFunc });
		}
	}
}

/**
 * Make `kernel` (from AlsCgKernel.create) the one fits use, e.g. to alternate between thread
 * counts in one process. Registers the tfjs kernel like useAlsKernel.
 */
export function useAlsKernelInstance(kernel: AlsCgKernel): void {
	current = kernel;
	registerAlsKernel();
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
	x0: tf.Tensor2D,
	attrs: { steps: number; lambda: number; exactShortRows?: boolean }
): tf.Tensor2D {
	return tf
		.engine()
		.runKernel(
			ALS_CG_KERNEL,
			{ indptr, indices, conf, fixed, x0 },
			{ exactShortRows: true, ...attrs }
		) as tf.Tensor2D;
}

/**
 * tfjs-wasm keeps tensors in its own heap and exposes views of it; reading inputs and writing
 * the output through them saves a copy each way. Other backends go through readSync/write.
 */
interface HeapBackend {
	typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
	makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function heapOf(backend: tf.KernelBackend): HeapBackend | undefined {
	const b = backend as unknown as Partial<HeapBackend>;
	return typeof b.typedArrayFromHeap === 'function' && typeof b.makeOutput === 'function'
		? (b as HeapBackend)
		: undefined;
}

const cgKernelFunc: tf.KernelFunc = ({ inputs, backend: b, attrs }) => {
	if (!current) throw new Error(`${ALS_CG_KERNEL}: call useAlsKernel() first`);
	const backend = b as tf.KernelBackend;
	const heap = heapOf(backend);
	const x0 = inputs.x0 as tf.TensorInfo;
	// Allocate the output first: an allocation may grow the wasm heap, which would detach
	// views taken before it. No tfjs allocation happens after the views below are taken.
	const info = heap?.makeOutput(x0.shape, 'float32');
	const read = (name: string) => {
		const t = inputs[name] as tf.TensorInfo;
		return heap ? heap.typedArrayFromHeap(t) : backend.readSync(t.dataId);
	};
	const { steps, lambda, exactShortRows } = attrs as {
		steps: number;
		lambda: number;
		exactShortRows: boolean;
	};
	const problem = {
		indptr: read('indptr') as Int32Array,
		indices: read('indices') as Int32Array,
		conf: read('conf') as Float32Array,
		fixed: read('fixed') as Float32Array,
		x0: read('x0') as Float32Array,
		factors: x0.shape[1],
		steps,
		lambda,
		exactShortRows,
		// tensors are immutable: a dataId names the same values for as long as it exists
		keys: {
			fixed: (inputs.fixed as tf.TensorInfo).dataId,
			x0: x0.dataId,
			rows: [
				(inputs.indptr as tf.TensorInfo).dataId,
				(inputs.indices as tf.TensorInfo).dataId,
				(inputs.conf as tf.TensorInfo).dataId
			] as const
		}
	};
	if (heap && info) {
		current.solveRows(problem, heap.typedArrayFromHeap(info) as Float32Array);
		current.keepResultAs(info.dataId);
		return info;
	}
	const out = current.solveRows(problem);
	const dataId = backend.write(out, x0.shape, 'float32');
	current.keepResultAs(dataId);
	return { dataId, shape: x0.shape, dtype: 'float32' };
};
