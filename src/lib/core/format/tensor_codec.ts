import { decodeBase64, decodedBase64Length, encodeBase64 } from './base64';

/** A tensor as it travels in a file: little-endian bytes in base64. */
export interface TensorRecord {
	readonly dtype: 'float32' | 'int32';
	readonly shape: readonly number[];
	readonly data: string;
}

export type TensorArray = Float32Array | Int32Array;

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function bytesOf(array: TensorArray): Uint8Array {
	const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
	if (littleEndian) return bytes;
	const swapped = new Uint8Array(bytes.length);
	for (let i = 0; i < bytes.length; i += 4) {
		swapped[i] = bytes[i + 3];
		swapped[i + 1] = bytes[i + 2];
		swapped[i + 2] = bytes[i + 1];
		swapped[i + 3] = bytes[i];
	}
	return swapped;
}

export function encodeTensor(array: TensorArray, shape: readonly number[]): TensorRecord {
	const size = shape.reduce((a, b) => a * b, 1);
	if (size !== array.length) {
		throw new RangeError(
			`encodeTensor: shape [${shape}] holds ${size} values, data has ${array.length}`
		);
	}
	return {
		dtype: array instanceof Float32Array ? 'float32' : 'int32',
		shape: [...shape],
		data: encodeBase64(bytesOf(array))
	};
}

/**
 * Elements a shape holds (possibly beyond 2^53 or Infinity, for the caller's limit check), or
 * undefined unless every dimension is a non-negative integer.
 */
export function shapeSize(shape: unknown): number | undefined {
	if (!Array.isArray(shape)) return undefined;
	let size = 1;
	for (const d of shape) {
		if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return undefined;
		size *= d;
	}
	return size;
}

/**
 * Decode a tensor record after checking, before any allocation, that its dtype is known, its
 * shape is well formed and within `maxElements`, and the base64 text holds exactly that many
 * values. Throws a RangeError saying which check failed.
 */
export function decodeTensor(
	record: unknown,
	maxElements: number
): { array: TensorArray; shape: number[] } {
	if (record === null || typeof record !== 'object')
		throw new RangeError('tensor is not an object');
	const { dtype, shape, data } = record as Record<string, unknown>;
	if (dtype !== 'float32' && dtype !== 'int32')
		throw new RangeError(`unknown dtype ${String(dtype)}`);
	const size = shapeSize(shape);
	if (size === undefined) throw new RangeError('shape must be a list of non-negative integers');
	if (size > maxElements) {
		throw new RangeError(
			`shape [${String(shape)}] holds ${size} values, more than the limit ${maxElements}`
		);
	}
	if (typeof data !== 'string') throw new RangeError('data must be a base64 string');
	const bytes = decodedBase64Length(data);
	if (bytes !== size * 4) {
		throw new RangeError(
			`shape [${String(shape)}] needs ${size * 4} bytes, data holds ${bytes ?? 'malformed base64'}`
		);
	}
	const raw = decodeBase64(data);
	const aligned = littleEndian ? raw : bytesOf(new Float32Array(raw.buffer));
	const array =
		dtype === 'float32' ? new Float32Array(aligned.buffer) : new Int32Array(aligned.buffer);
	return { array, shape: [...(shape as number[])] };
}
