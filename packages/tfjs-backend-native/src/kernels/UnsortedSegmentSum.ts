/**
 * UnsortedSegmentSum (the gradient of a gather) in one native pass over x,
 * O(x + output): the cpu kernel builds an Equal mask and a masked sum per
 * segment, O(segments × x). Same sums for finite x (in double, rows in
 * order, rounded once: bit for bit); ids outside [0, numSegments) drop their
 * row. Float32 x with rank-1 int32 segment ids; other cases run the cpu
 * kernel.
 *
 * One difference by design: a NaN or ±Infinity in x stays in its own
 * segment, as in TensorFlow; the cpu kernel's masks multiply it by 0 and so
 * spread NaN into every segment.
 */
import { TensorInfo, UnsortedSegmentSum, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { KernelArgs, elements, f32, nativeKernel, sizeOf } from './util.js';

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, segmentIds } = inputs;
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const xv = f32(backend, x);
  const ids = elements(backend, segmentIds);
  if (
    xv === null ||
    segmentIds.dtype !== 'int32' ||
    !(ids instanceof Int32Array) ||
    segmentIds.shape.length !== 1 ||
    x.shape.length < 1 ||
    x.shape[0] !== ids.length ||
    !(numSegments > 0)
  ) {
    return null;
  }
  const innerShape = x.shape.slice(1);
  const inner = sizeOf(innerShape);
  const out = backend.allocF32(numSegments * inner);
  backend.addon.unsortedSegmentSum(xv, ids, out, inner, numSegments);
  return backend.makeOutputF32([numSegments, ...innerShape], out);
}

export const unsortedSegmentSumConfig = nativeKernel(UnsortedSegmentSum, unsortedSegmentSum);
