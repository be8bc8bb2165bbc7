/**
 * BatchMatMul on OpenBLAS sgemm: every transpose case, with a batch of 1 on
 * either side broadcast (what the cpu kernel supports). Other batch layouts
 * fall back to the cpu kernel.
 */
import { BatchMatMul, BatchMatMulAttrs, TensorInfo, broadcast_util } from '@tensorflow/tfjs-core';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

/** Shapes of a (batched) matrix product, or null when the batch layout is unsupported. */
export interface MatMulPlan {
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
}

/** Works out sizes like tfjs' matMul; throws on mismatched inner dimensions. */
export function planMatMul(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulPlan | null {
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
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  if (sizeOf(outer) !== Math.max(batchA, batchB)) return null;
  return { batchA, batchB, m, n, k, outShape: outer.concat([m, n]) };
}

function batchMatMul({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) return null;
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  if (plan === null) return null;
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
  );
  return backend.makeOutputF32(plan.outShape, out);
}

export const batchMatMulConfig = nativeKernel(BatchMatMul, batchMatMul);
