/**
 * @zhusuan/tfjs-backend-native: a TensorFlow.js backend for Node whose hot
 * kernels (matrix products on OpenBLAS, broadcasting element-wise math,
 * reductions, slices) run in a Node-API addon, and a fused Adam optimizer.
 *
 * Importing never throws: when the addon is not built, `isNativeAvailable()`
 * is false and `nativeLoadError()` says why and how to fix it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerNativeBackend, adam } from '@zhusuan/tfjs-backend-native';
 * if (registerNativeBackend()) await tf.setBackend('native');
 * const opt = adam(1e-3);
 * ```
 */
export { isNativeAvailable, nativeLoadError, addonPath } from './addon.js';
export type { AddonInfo, GemmShapeRecord } from './addon.js';
export { registerNativeBackend, NATIVE_BACKEND, nativeKernelConfigs } from './register.js';
export { NativeBackend } from './backend.js';
export type { PoolStats } from './backend.js';
export { NativeAdamOptimizer, adam, type NamedTensor } from './optimizer.js';
export { dense } from './dense.js';
export { bernoulliRows } from './data.js';
export type { DenseActivation } from './dense.js';
export { nativeInfo, setNativeThreads, traceNativeGemms, nativeGemmShapes } from './info.js';
