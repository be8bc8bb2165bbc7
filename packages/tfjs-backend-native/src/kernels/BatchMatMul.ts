/**
 * BatchMatMul on OpenBLAS sgemm: every transpose case and every broadcast of
 * the batch dimensions (numpy's rules, as tf.matMul documents). tfjs-cpu's
 * kernel handles a batch of 1 on either side or equal batches; for other
 * broadcasts it pairs batch i with i mod each batch size and returns fewer
 * values than the output's shape holds (tfjs 4.22): native computes them.
 */
import { BatchMatMul, BatchMatMulAttrs, TensorInfo, broadcast_util } from '@tensorflow/tfjs-core';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

/** Shapes of a (batched) matrix product. */
export interface MatMulPlan {
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
  /**
   * For a broadcast other than equal batches or a batch of 1: the batch of
   * a and of b each product of the output's batch reads (else null).
   */
  aIndex: Int32Array | null;
  bIndex: Int32Array | null;
}

/** Works out sizes like tfjs' matMul; throws on mismatched inner dimensions. */
export function planMatMul(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulPlan {
  const ar = aShape.length;
  const br = bShape.length;
  const k = transposeA ? aShape[ar - 2] : aShape[ar - 1];
  const kb = transposeB ? bShape[br - 1] : bShape[br - 2];
  const m = transposeA ? aShape[ar - 1] : aShape[ar - 2];
  const n = transposeB ? bShape[br - 2] : bShape[br - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${aShape} and ` +
        `${bShape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const outShape = outer.concat([m, n]);
  const simple =
    (batchA === batchB || batchA === 1 || batchB === 1) &&
    sizeOf(outer) === Math.max(batchA, batchB);
  if (simple) return { batchA, batchB, m, n, k, outShape, aIndex: null, bIndex: null };
  return {
    batchA,
    batchB,
    m,
    n,
    k,
    outShape,
    aIndex: broadcastIndex(outer, outerA),
    bIndex: broadcastIndex(outer, outerB),
  };
}

/**
 * For each position of `outer` (row-major), the flat position in `shape`
 * (which broadcasts to `outer`, aligned on the right) it reads.
 */
export function broadcastIndex(outer: number[], shape: number[]): Int32Array {
  const total = sizeOf(outer);
  const index = new Int32Array(total);
  const offset = outer.length - shape.length;
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 ? 0 : stride;
    stride *= shape[d];
  }
  for (let i = 0; i < total; i++) {
    let rest = i;
    let at = 0;
    for (let d = outer.length - 1; d >= 0; d--) {
      const coord = rest % outer[d];
      rest = (rest - coord) / outer[d];
      if (d >= offset) at += coord * strides[d - offset];
    }
    index[i] = at;
  }
  return index;
}

function batchMatMul({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) return null;
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const out = backend.allocF32(sizeOf(plan.outShape));
  backend.addon.matMul(
    av,
    bv,
    out,
    plan.batchA,
    plan.batchB,
    plan.m,
    plan.n,
    plan.k,
    transposeA,
    transposeB,
    plan.aIndex,
    plan.bIndex,
  );
  return backend.makeOutputF32(plan.outShape, out);
}

export const batchMatMulConfig = nativeKernel(BatchMatMul, batchMatMul);
