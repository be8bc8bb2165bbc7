/**
 * StridedSlice when every stride is 1 (tfjs' "simple slice": the window
 * copied by the native Slice, then given the final shape); strided and
 * identity slices run the cpu kernel (the latter is a reshape there).
 */
import { StridedSlice, StridedSliceAttrs, TensorInfo, slice_util } from '@tensorflow/tfjs-core';
import { nativeSlice } from './Slice.js';
import { KernelArgs, nativeKernel } from './util.js';

function stridedSlice({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs;
  const a = attrs as unknown as StridedSliceAttrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length < 1) return null;
  const info = slice_util.sliceInfo(
    x.shape,
    a.begin,
    a.end,
    a.strides,
    a.beginMask,
    a.endMask,
    a.ellipsisMask,
    a.newAxisMask,
    a.shrinkAxisMask,
  );
  if (info.isIdentity || !(info.sliceDim0 || info.isSimpleSlice)) return null;
  const size = slice_util.computeOutShape(info.begin, info.end, info.strides);
  if (size.some((s) => s < 0)) return null;
  return nativeSlice(backend, x, info.begin, size, info.finalShape);
}

export const stridedSliceConfig = nativeKernel(StridedSlice, stridedSlice);
