/**
 * SplitV (tf.split, and the gradient of Concat) as native row copies: the
 * cpu kernel slices each piece with its JavaScript Slice, which copies a
 * non-contiguous window element by element. Float32 and int32.
 */
import { SplitV, SplitVAttrs, TensorInfo, backend_util, util } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, nativeKernel, sizeOf } from './util.js';

/**
 * The pieces of float32/int32 `x` along `axis` of the given sizes, each of
 * x's shape with `axis` set to its size (`squeeze`: axis dropped, for
 * Unpack); null for other dtypes.
 */
export function splitAlong(
  backend: NativeBackend,
  x: TensorInfo,
  axis: number,
  sizes: number[],
  squeeze = false,
): TensorInfo[] | null {
  const xv = backend.data.get(x.dataId).values;
  const isF32 = xv instanceof Float32Array && x.dtype === 'float32';
  const isI32 = xv instanceof Int32Array && x.dtype === 'int32';
  if (!isF32 && !isI32) return null;
  // x is [outer, x.shape[axis] * unit] as a matrix; a piece is a block of columns.
  const outer = sizeOf(x.shape.slice(0, axis));
  const unit = sizeOf(x.shape.slice(axis + 1));
  const stride = x.shape[axis] * unit;
  let col = 0;
  return sizes.map((s) => {
    const cols = s * unit;
    const out = isF32 ? backend.allocF32(outer * cols) : new Int32Array(outer * cols);
    if (outer > 0 && cols > 0) backend.addon.copy2d(xv, col, stride, out, 0, cols, outer, cols);
    col += cols;
    const shape = x.shape.slice();
    if (squeeze) shape.splice(axis, 1);
    else shape[axis] = s;
    return backend.makeTensorInfo(shape, x.dtype, out);
  });
}

function splitV({ inputs, backend, attrs }: KernelArgs): TensorInfo[] | null {
  const { x } = inputs;
  const { numOrSizeSplits, axis } = attrs as unknown as SplitVAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
  return splitAlong(backend, x, $axis, sizes);
}

export const splitVConfig = nativeKernel(SplitV, splitV);
