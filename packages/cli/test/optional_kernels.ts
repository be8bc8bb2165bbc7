/**
 * Helpers of the tests that run the library's optional kernels on `native`
 * against the library's composites.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadNative } from '../src/backend.js';

/** Loads the native backend, failing the suite with the loader's reason when it cannot. */
export async function requireNative(): Promise<void> {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
}

/**
 * Runs `f` on native with kernel `name` unregistered (so the library composes
 * the operation from tfjs ops), then registers it again.
 */
export function withoutKernel<T>(name: string, f: () => T): T {
  const config = tf.getKernel(name, 'native');
  assert.ok(config !== undefined, `${name} is registered on native`);
  tf.unregisterKernel(name, 'native');
  try {
    return f();
  } finally {
    tf.registerKernel(config);
  }
}
