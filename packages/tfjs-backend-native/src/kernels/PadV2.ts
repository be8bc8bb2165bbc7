/**
 * PadV2 (tf.pad, and the gradient of Slice) as a native fill and a window
 * of row copies; float32 and int32.
 */
import { PadV2, PadV2Attrs, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelArgs, allocLike, elements, nativeKernel, sizeOf } from './util.js';

function padV2({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs;
  const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
  const xv = elements(backend, x);
  const rank = x.shape.length;
  if (xv === null || xv instanceof Uint8Array || rank === 0 || rank > 8) return null;
  if (paddings.length !== rank || paddings.some((p) => p[0] < 0 || p[1] < 0)) return null;
  const outShape = paddings.map((p, i) => p[0] + x.shape[i] + p[1]);
  const out = allocLike(backend, x.dtype, sizeOf(outShape)) as Float32Array | Int32Array;
  const meta = new Int32Array(1 + 3 * rank);
  meta[0] = rank;
  for (let i = 0; i < rank; i++) {
    meta[1 + i] = outShape[i];
    meta[1 + rank + i] = paddings[i][0];
    meta[1 + 2 * rank + i] = x.shape[i];
  }
  // An Int32Array converts what it is filled with by ToInt32 (x | 0).
  backend.addon.pad(xv, out, meta, x.dtype === 'int32' ? constantValue | 0 : constantValue);
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

export const padV2Config = nativeKernel(PadV2, padV2);
