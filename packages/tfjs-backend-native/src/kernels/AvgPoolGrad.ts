/**
 * AvgPoolGrad, channels last, as the cpu kernel computes it: each window's
 * dy spread over its in-image pixels and divided by the *full* window size
 * fH·fW (tfjs' choice; TensorFlow divides by the in-image count, which the
 * forward pass uses), summed in double per pixel.
 */
import { AvgPoolGrad, TensorInfo } from '@tensorflow/tfjs-core';
import { PoolAttrs, poolInfo, sameShape } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

function avgPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { dy, input } = inputs;
  const dyv = f32(backend, dy);
  // No dimRoundingMode: the cpu kernel computes the geometry without it.
  const a = { ...(attrs as unknown as PoolAttrs), dimRoundingMode: undefined };
  const g = dyv === null ? null : poolInfo(input, a);
  if (dyv === null || g === null || !sameShape(dy.shape, g.info.outShape)) return null;
  const dx = backend.allocF32(sizeOf(input.shape));
  backend.addon.avgPoolGrad(dyv, dx, g.geom);
  return backend.makeOutputF32(input.shape, dx);
}

export const avgPoolGradConfig = nativeKernel(AvgPoolGrad, avgPoolGrad);
