/**
 * MaxPoolGrad, channels last, as the cpu kernel computes it: each window's
 * dy goes to the window's first maximum of x (strictly greater than all
 * before it in scan order), summed in double per pixel.
 */
import { MaxPoolGrad, TensorInfo } from '@tensorflow/tfjs-core';
import { PoolAttrs, poolInfo, sameShape } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { dy, input } = inputs;
  const dyv = f32(backend, dy);
  const xv = f32(backend, input);
  const g = dyv === null || xv === null ? null : poolInfo(input, attrs as unknown as PoolAttrs);
  if (dyv === null || xv === null || g === null || !sameShape(dy.shape, g.info.outShape)) {
    return null;
  }
  const dx = backend.allocF32(sizeOf(input.shape));
  backend.addon.maxPoolGrad(dyv, xv, dx, g.geom);
  return backend.makeOutputF32(input.shape, dx);
}

export const maxPoolGradConfig = nativeKernel(MaxPoolGrad, maxPoolGrad);
