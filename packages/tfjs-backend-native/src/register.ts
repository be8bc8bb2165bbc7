/**
 * Registers the tfjs backend `native`: every cpu kernel under the new name,
 * then the native overrides on top.
 */
import {
  KernelConfig,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
  findBackendFactory,
} from '@tensorflow/tfjs-core';
// Registers the cpu backend and its kernels (peer dependency, one engine).
import '@tensorflow/tfjs-backend-cpu';
import { getAddon } from './addon.js';
import { NativeBackend } from './backend.js';
import { installNativeGradients } from './gradients.js';
import { broadcastToConfig } from './kernels/BroadcastTo.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { castConfig } from './kernels/Cast.js';
import { concatConfig, packConfig } from './kernels/Concat.js';
import { fusedMatMulConfig } from './kernels/_FusedMatMul.js';
import { binaryConfigs } from './kernels/binary.js';
import { reduceConfigs } from './kernels/reduce.js';
import { sliceConfig } from './kernels/Slice.js';
import { transposeConfig } from './kernels/Transpose.js';
import { unaryConfigs } from './kernels/unary.js';
import { nativeOnlyConfigs } from './kernels/native_ops.js';
import { randomConfigs } from './kernels/random.js';
import { distributionConfigs } from './kernels/distributions.js';
import { gpConfigs } from './kernels/gp.js';
import { sgmcmcConfigs } from './kernels/sgmcmc.js';
import { logSumExpConfigs } from './kernels/log_sum_exp.js';
import { gatherV2Config } from './kernels/GatherV2.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
import { gatherGradConfig } from './kernels/GatherGrad.js';
import { splitVConfig } from './kernels/SplitV.js';
import { unpackConfig } from './kernels/Unpack.js';
import { stridedSliceConfig } from './kernels/StridedSlice.js';
import { tileConfig } from './kernels/Tile.js';
import { padV2Config } from './kernels/PadV2.js';
import { conv2DConfig } from './kernels/Conv2D.js';
import { fusedConv2DConfig } from './kernels/FusedConv2D.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { maxPoolConfig } from './kernels/MaxPool.js';
import { avgPoolConfig } from './kernels/AvgPool.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { avgPoolGradConfig } from './kernels/AvgPoolGrad.js';
import { softmaxConfig } from './kernels/Softmax.js';
import { linalgConfigs } from './kernels/linalg.js';
import { logicalConfigs } from './kernels/logical.js';

/** The name the backend is registered under. */
export const NATIVE_BACKEND = 'native';

/** Priority of the backend: above wasm/webgl (2) and cpu (1), like tfjs-node. */
const PRIORITY = 3;

/**
 * Kernels added for the model zoo (issue 17): gathers and segment sums,
 * the library's `ZsGatherGrad` (the gradient of `zs.gather`), splits,
 * stacks, tiles, broadcasts (the gradients of Sum and Mean), padding,
 * convolutions, pooling, softmax, Select and the boolean kernels, and the Cholesky factorisation and triangular solve the
 * library's `cholesky` and `triangularSolve` run when a backend has them.
 * `bench/zoo-kernels.mjs` times the backend with and without them.
 */
const zooConfigs: KernelConfig[] = [
  gatherV2Config,
  unsortedSegmentSumConfig,
  gatherGradConfig,
  splitVConfig,
  unpackConfig,
  packConfig,
  stridedSliceConfig,
  tileConfig,
  broadcastToConfig,
  padV2Config,
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  maxPoolConfig,
  avgPoolConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  softmaxConfig,
  ...linalgConfigs,
  ...logicalConfigs,
];

/** Names of the kernels added for the model zoo (issue 17). */
export const ZOO_KERNELS: readonly string[] = zooConfigs.map((k) => k.kernelName);

/** Kernels the addon runs (the rest are the cpu backend's, inherited). */
export function nativeKernelConfigs(): KernelConfig[] {
  return [
    batchMatMulConfig,
    fusedMatMulConfig,
    ...binaryConfigs,
    ...unaryConfigs,
    ...reduceConfigs,
    sliceConfig,
    transposeConfig,
    concatConfig,
    castConfig,
    ...nativeOnlyConfigs,
    ...randomConfigs,
    ...distributionConfigs,
    ...gpConfigs,
    ...sgmcmcConfigs,
    ...logSumExpConfigs,
    ...zooConfigs,
  ];
}

let registered = false;

/**
 * Registers tfjs backend `native` (idempotent). Returns false, registering
 * nothing, when the addon is not available (see `nativeLoadError()`).
 *
 * @example
 * ```ts
 * if (registerNativeBackend()) await tf.setBackend('native');
 * ```
 */
export function registerNativeBackend(): boolean {
  const addon = getAddon();
  if (addon === null) return false;
  if (registered || findBackendFactory(NATIVE_BACKEND) != null) {
    registered = true;
    return true;
  }
  const overrides = nativeKernelConfigs();
  const overridden = new Set(overrides.map((k) => k.kernelName));
  for (const config of getKernelsForBackend('cpu')) {
    if (!overridden.has(config.kernelName)) {
      registerKernel({ ...config, backendName: NATIVE_BACKEND });
    }
  }
  for (const config of overrides) registerKernel(config);
  // The gradients are wrapped when the backend is made (a program's first
  // setBackend('native'), after its imports have registered tfjs' own).
  registerBackend(
    NATIVE_BACKEND,
    () => {
      installNativeGradients();
      return new NativeBackend(addon);
    },
    PRIORITY,
  );
  registered = true;
  return true;
}
