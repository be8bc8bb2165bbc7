/** Kernels that exist only on the native backend (used by this package's fused ops). */
import { KernelConfig } from '@tensorflow/tfjs-core';

export const nativeOnlyConfigs: KernelConfig[] = [];
