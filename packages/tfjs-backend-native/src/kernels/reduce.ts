/**
 * Reductions (Sum, Mean, Max, Min, Prod) over any set of axes in one native
 * pass, without the transpose the cpu backend does first; sums accumulate in
 * double.
 */
import {
  KernelConfig,
  Max,
  Mean,
  Min,
  Prod,
  Sum,
  TensorInfo,
  backend_util,
  util,
} from '@tensorflow/tfjs-core';
import { ReduceOp } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, shapeArray, sizeOf } from './util.js';

/** Reduces float32 `x` over `axis` (tfjs conventions); null when x is not float32. */
export function nativeReduce(
  backend: NativeBackend,
  op: ReduceOp,
  x: TensorInfo,
  axis: number | number[] | null | undefined,
  keepDims: boolean,
): TensorInfo | null {
  const xv = f32(backend, x);
  if (xv === null) return null;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape);
  const mask = shapeArray(new Array<number>(rank).fill(0), 1);
  for (const ax of axes) mask[ax] = 1;
  const outShape: number[] = [];
  for (let i = 0; i < rank; i++) if (mask[i] === 0) outShape.push(x.shape[i]);
  const out = backend.allocF32(sizeOf(outShape));
  backend.addon.reduce(op, xv, out, shapeArray(x.shape, 0), mask);
  const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  return backend.makeOutputF32(shape, out);
}

function reduceKernel(name: string, op: ReduceOp, axisAttr: string): KernelConfig {
  return nativeKernel(name, ({ inputs, backend, attrs }: KernelArgs) => {
    const a = (attrs ?? {}) as Record<string, unknown>;
    return nativeReduce(
      backend,
      op,
      inputs.x,
      a[axisAttr] as number | number[],
      Boolean(a.keepDims),
    );
  });
}

export const reduceConfigs: KernelConfig[] = [
  reduceKernel(Sum, ReduceOp.Sum, 'axis'),
  reduceKernel(Mean, ReduceOp.Mean, 'axis'),
  reduceKernel(Max, ReduceOp.Max, 'reductionIndices'),
  reduceKernel(Min, ReduceOp.Min, 'axis'),
  reduceKernel(Prod, ReduceOp.Prod, 'axis'),
];
