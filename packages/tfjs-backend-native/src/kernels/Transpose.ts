/** Transpose of float32/int32 tensors as one native gather (blocked for 2-D). */
import { TensorInfo, Transpose, TransposeAttrs } from '@tensorflow/tfjs-core';
import { KernelArgs, nativeKernel, sizeOf } from './util.js';

const metaCache: Int32Array[] = [];

function transpose({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs;
  const { perm } = attrs as unknown as TransposeAttrs;
  const xv = backend.data.get(x.dataId).values;
  const isF32 = xv instanceof Float32Array && x.dtype === 'float32';
  const isI32 = xv instanceof Int32Array && x.dtype === 'int32';
  const rank = x.shape.length;
  if ((!isF32 && !isI32) || rank === 0 || rank > 8) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const n = sizeOf(outShape);
  const out = isF32 ? backend.allocF32(n) : new Int32Array(n);
  let meta = metaCache[rank];
  if (meta === undefined) {
    meta = new Int32Array(1 + 2 * rank);
    metaCache[rank] = meta;
  }
  meta[0] = rank;
  for (let i = 0; i < rank; i++) {
    meta[1 + i] = x.shape[i];
    meta[1 + rank + i] = perm[i];
  }
  backend.addon.transpose(xv as Float32Array, out, meta);
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

export const transposeConfig = nativeKernel(Transpose, transpose);
