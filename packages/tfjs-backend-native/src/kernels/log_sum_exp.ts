/**
 * The zhusuan library's optional log-sum-exp kernels (see OPTIONAL_KERNELS in
 * the library for the contract):
 *
 * - `ZsLogSumExp` (input x; attributes `axes`, non-negative and increasing,
 *   and `keepDims`): log Σ exp(x − shift) + shift over the axes, shift = the
 *   max there or 0 where that is not finite, in one pass instead of Max,
 *   IsFinite, ZerosLike, Select, Sub, Exp, Sum, Log, Add and a Reshape (with
 *   the broadcasts' clones, ~13 kernel calls). Each step runs the kernel
 *   table's routine of the kernel it replaces (the max and the sum in the
 *   Max and Sum reductions' order), so the numbers are the composite's.
 * - `ZsLogSumExpGrad` (inputs dy, x; the same attributes): the gradient
 *   (dy / s)·exp(x − shift), s and the exponentials recomputed from x
 *   rather than saved by the forward kernel: the tape then keeps only x
 *   (one clone), and a forward pass without a gradient writes no
 *   exponentials out.
 */
import { KernelConfig, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, shapeArray, sizeOf } from './util.js';

export const ZS_LOG_SUM_EXP = 'ZsLogSumExp';
export const ZS_LOG_SUM_EXP_GRAD = 'ZsLogSumExpGrad';

/** The checked reduction of a log-sum-exp kernel call. */
interface LseShape {
  x: Float32Array;
  /** 1 for each reduced axis of x. */
  mask: Int32Array;
  /** The output's shape (reduced axes dropped, or kept as 1 under keepDims). */
  outShape: number[];
}

function lseShape(kernel: string, backend: NativeBackend, args: KernelArgs): LseShape {
  const x = args.inputs.x;
  if (x === undefined) throw new Error(`${kernel}: input x is missing`);
  const xv = f32(backend, x);
  if (xv === null) throw new Error(`${kernel}: x must be a float32 tensor, got ${x.dtype}`);
  const a = (args.attrs ?? {}) as Record<string, unknown>;
  const rank = x.shape.length;
  const axes = a.axes;
  if (
    !Array.isArray(axes) ||
    !axes.every(
      (ax, i) =>
        Number.isInteger(ax) && ax >= 0 && ax < rank && (i === 0 || ax > (axes[i - 1] as number)),
    )
  ) {
    throw new Error(
      `${kernel}: axes must be increasing integers in [0, ${rank}) (x has shape [${x.shape}]), got ${JSON.stringify(axes)}`,
    );
  }
  if (typeof a.keepDims !== 'boolean') {
    throw new Error(`${kernel}: keepDims must be a boolean, got ${JSON.stringify(a.keepDims)}`);
  }
  const mask = shapeArray(new Array<number>(rank).fill(0), 1);
  for (const ax of axes as number[]) mask[ax] = 1;
  const reduced = x.shape.filter((_, i) => mask[i] === 0);
  const outShape = a.keepDims
    ? backend_util.expandShapeToKeepDim(reduced, axes as number[])
    : reduced;
  return { x: xv, mask, outShape };
}

function logSumExp(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { x, mask, outShape } = lseShape(ZS_LOG_SUM_EXP, backend, args);
  const out = backend.allocF32(sizeOf(outShape));
  const e = backend.allocF32(x.length);
  try {
    backend.addon.logSumExp(x, e, out, shapeArray(args.inputs.x.shape, 0), mask);
  } finally {
    backend.releaseF32(e);
  }
  return backend.makeOutputF32(outShape, out);
}

function logSumExpGrad(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { x, mask, outShape } = lseShape(ZS_LOG_SUM_EXP_GRAD, backend, args);
  const dy = args.inputs.dy;
  if (dy === undefined || sizeOf(dy.shape) !== sizeOf(outShape)) {
    throw new Error(
      `${ZS_LOG_SUM_EXP_GRAD}: dy has shape [${dy?.shape}], expected the output's [${outShape}]`,
    );
  }
  const dv = f32(backend, dy);
  if (dv === null) throw new Error(`${ZS_LOG_SUM_EXP_GRAD}: dy must be a float32 tensor`);
  const shape = args.inputs.x.shape;
  const dx = backend.allocF32(x.length);
  backend.addon.logSumExpGrad(x, dv, dx, shapeArray(shape, 0), mask);
  return backend.makeOutputF32(shape, dx);
}

export const logSumExpConfigs: KernelConfig[] = [
  nativeKernel(ZS_LOG_SUM_EXP, logSumExp),
  nativeKernel(ZS_LOG_SUM_EXP_GRAD, logSumExpGrad),
];
