import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from 'vitest';
import { useBackend } from '../../src/lib/node/tf_backend';

/** Backends every tfjs test runs on. */
export const TF_BACKENDS = ['cpu', 'wasm'] as const;
export type TfBackendName = (typeof TF_BACKENDS)[number];

/** Inside a describe block: switch to `name` before its tests. */
export function onBackend(name: TfBackendName): void {
	beforeAll(async () => {
		await useBackend(name);
		if (tf.getBackend() !== name) throw new Error(`backend ${name} not active`);
	});
}
