/**
 * MaxPool, channels last, in one native pass (binding/pooling.cc), with the
 * cpu kernel's semantics: windows cover in-image pixels only, NaN is
 * ignored, an empty or all-NaN window gives −∞.
 */
import { MaxPool, TensorInfo } from '@tensorflow/tfjs-core';
import { PoolAttrs, poolInfo, sameShape } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

/** Max (isMax) or average pooling of float32 x; null where the cpu kernel runs. */
export function nativePool(
  isMax: boolean,
  { inputs, backend, attrs }: KernelArgs,
): TensorInfo | null {
  const { x } = inputs;
  const xv = f32(backend, x);
  const g = xv === null ? null : poolInfo(x, attrs as unknown as PoolAttrs);
  if (xv === null || g === null) return null;
  const { info, geom } = g;
  // A 1×1 window that keeps the shape: the cpu kernel's identity (no copy).
  if (info.filterHeight === 1 && info.filterWidth === 1 && sameShape(info.inShape, info.outShape)) {
    return null;
  }
  const out = backend.allocF32(sizeOf(info.outShape));
  backend.addon.pool2d(xv, out, isMax, geom);
  return backend.makeOutputF32(info.outShape, out);
}

export const maxPoolConfig = nativeKernel(MaxPool, (args) => nativePool(true, args));
