/**
 * Slice as one native strided copy. Always copies: the cpu kernel returns a
 * `subarray` view for contiguous windows, which would pin (and, with the
 * pool, alias) the input's buffer.
 */
import { Slice, SliceAttrs, TensorInfo, slice_util } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, nativeKernel, sizeOf } from './util.js';

const metaCache: Int32Array[] = [];

/**
 * The window [begin, begin + size) of float32 or int32 `x` (checked, tfjs'
 * conventions) as a new tensor of shape `outShape` (default `size`: a
 * reshape of the window for StridedSlice); null for other dtypes.
 */
export function nativeSlice(
  backend: NativeBackend,
  x: TensorInfo,
  begin: number[],
  size: number[],
  outShape: number[] = size,
): TensorInfo | null {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  const xv = backend.data.get(x.dataId).values;
  const isF32 = xv instanceof Float32Array && x.dtype === 'float32';
  const isI32 = xv instanceof Int32Array && x.dtype === 'int32';
  if (!isF32 && !isI32) return null;
  slice_util.assertParamsValid(x, begin, size);
  const rank = x.shape.length;
  const n = sizeOf(size);
  const out = isF32 ? backend.allocF32(n) : new Int32Array(n);
  if (rank === 0) {
    out[0] = xv[0] as number;
  } else if (n > 0) {
    let meta = metaCache[rank];
    if (meta === undefined) {
      meta = new Int32Array(1 + 3 * rank);
      metaCache[rank] = meta;
    }
    meta[0] = rank;
    for (let i = 0; i < rank; i++) {
      meta[1 + i] = x.shape[i];
      meta[1 + rank + i] = begin[i];
      meta[1 + 2 * rank + i] = size[i];
    }
    backend.addon.slice(xv as Float32Array, out, meta, 4);
  }
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

function slice({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs;
  const { begin, size } = attrs as unknown as SliceAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  const [$begin, $size] = slice_util.parseSliceParams(x, begin, size);
  return nativeSlice(backend, x, $begin, $size);
}

export const sliceConfig = nativeKernel(Slice, slice);
