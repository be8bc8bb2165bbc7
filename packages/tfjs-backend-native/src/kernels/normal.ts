/**
 * The zhusuan library's optional Normal log-density kernels:
 * `ZsNormalLogProb` (inputs given, mean, logstd; broadcasting) computes
 * −½((given − mean)·e^−logstd)² − ½log 2π − logstd in one pass instead of
 * eight kernels, rounded the same way; `ZsNormalLogProbGrad` (inputs dy,
 * given, mean, logstd) returns [gGiven, gLogstd] at the output's shape (the
 * mean's gradient is −gGiven), which the library sums down to each input's
 * shape.
 */
import { KernelConfig, TensorInfo, broadcast_util } from '@tensorflow/tfjs-core';
import { BinaryOp } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, shapeArray, sizeOf } from './util.js';

export const ZS_NORMAL_LOG_PROB = 'ZsNormalLogProb';
export const ZS_NORMAL_LOG_PROB_GRAD = 'ZsNormalLogProbGrad';

/**
 * True when `shape` broadcasts to `out` by repetition of its flat values:
 * a scalar, or a shape equal to the trailing dimensions of `out` after
 * leading 1s (the addon then reads element i % size).
 */
function periodic(shape: number[], out: number[]): boolean {
  if (sizeOf(shape) === 1) return true;
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  const tail = shape.slice(i);
  if (tail.length > out.length) return false;
  const outTail = out.slice(out.length - tail.length);
  return tail.every((d, j) => d === outTail[j]);
}

/**
 * The float32 values of `t` for an output of shape `out`: its own array when
 * it broadcasts periodically, else a copy expanded to `out` (rare: a
 * broadcast along a middle axis).
 */
function operand(
  backend: NativeBackend,
  t: TensorInfo,
  out: number[],
  what: string,
  scratch: Float32Array[],
): Float32Array {
  const v = f32(backend, t);
  if (v === null) throw new Error(`${ZS_NORMAL_LOG_PROB}: ${what} must be a float32 tensor`);
  if (periodic(t.shape, out)) return v;
  const zeros = backend.allocF32(sizeOf(out));
  backend.addon.fill(zeros, 0);
  const full = backend.allocF32(sizeOf(out));
  backend.addon.binary(BinaryOp.Add, v, shapeArray(t.shape, 0), zeros, shapeArray(out, 1), full);
  backend.releaseF32(zeros);
  scratch.push(full);
  return full;
}

function outShapeOf(a: TensorInfo, b: TensorInfo, c: TensorInfo): number[] {
  return broadcast_util.assertAndGetBroadcastShape(
    broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape),
    c.shape,
  );
}

function normalLogProb({ inputs, backend }: KernelArgs): TensorInfo {
  const { given, mean, logstd } = inputs;
  const shape = outShapeOf(given, mean, logstd);
  const out = backend.allocF32(sizeOf(shape));
  if (out.length > 0) {
    const scratch: Float32Array[] = [];
    backend.addon.normalLogProb(
      operand(backend, given, shape, 'given', scratch),
      operand(backend, mean, shape, 'mean', scratch),
      operand(backend, logstd, shape, 'logstd', scratch),
      out,
    );
    for (const a of scratch) backend.releaseF32(a);
  }
  return backend.makeOutputF32(shape, out);
}

function normalLogProbGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const { dy, given, mean, logstd } = inputs;
  const shape = outShapeOf(given, mean, logstd);
  const n = sizeOf(shape);
  if (sizeOf(dy.shape) !== n) {
    throw new Error(`${ZS_NORMAL_LOG_PROB_GRAD}: dy has shape [${dy.shape}], expected [${shape}]`);
  }
  const gx = backend.allocF32(n);
  const gs = backend.allocF32(n);
  if (n > 0) {
    const scratch: Float32Array[] = [];
    const dv = operand(backend, dy, shape, 'dy', scratch);
    backend.addon.normalLogProbGrad(
      operand(backend, given, shape, 'given', scratch),
      operand(backend, mean, shape, 'mean', scratch),
      operand(backend, logstd, shape, 'logstd', scratch),
      dv,
      gx,
      gs,
    );
    for (const a of scratch) backend.releaseF32(a);
  }
  return [backend.makeOutputF32(shape, gx), backend.makeOutputF32(shape, gs)];
}

export const normalConfigs: KernelConfig[] = [
  nativeKernel(ZS_NORMAL_LOG_PROB, normalLogProb),
  nativeKernel(ZS_NORMAL_LOG_PROB_GRAD, normalLogProbGrad),
];
