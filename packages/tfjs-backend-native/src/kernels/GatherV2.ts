/**
 * GatherV2 as native row copies, for every axis and batchDims tfjs supports:
 * float32, int32 and bool tensors gathered by int32 indices (other dtypes
 * run the cpu kernel). Indices outside the axis throw the cpu kernel's error.
 */
import { GatherV2, GatherV2Attrs, TensorInfo, backend_util, util } from '@tensorflow/tfjs-core';
import { KernelArgs, allocLike, elements, nativeKernel, sizeOf } from './util.js';

function gatherV2({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, indices } = inputs;
  const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
  const xv = elements(backend, x);
  const iv = elements(backend, indices);
  if (xv === null || indices.dtype !== 'int32' || !(iv instanceof Int32Array)) return null;
  const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
  // The cpu kernel's check, first and with its message.
  const axisDim = x.shape[parsedAxis];
  for (let i = 0; i < iv.length; ++i) {
    const index = iv[i];
    util.assert(
      index <= axisDim - 1 && index >= 0,
      () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`,
    );
  }
  const info = backend_util.segment_util.collectGatherOpShapeInfo(
    x,
    indices,
    parsedAxis,
    batchDims ?? 0,
  );
  const n = sizeOf(info.outputShape);
  const out = allocLike(backend, x.dtype, n);
  if (n > 0) {
    backend.addon.gather(xv, iv, out, info.batchSize, info.outerSize, info.dimSize, info.sliceSize);
  }
  return backend.makeTensorInfo(info.outputShape, x.dtype, out);
}

export const gatherV2Config = nativeKernel(GatherV2, gatherV2);
