/**
 * _FusedMatMul: sgemm, then bias and activation in one pass over the output
 * (a bias over the last dimension), or as native broadcast passes otherwise.
 */
import { TensorInfo, _FusedMatMul, broadcast_util } from '@tensorflow/tfjs-core';
import { Act, BinaryOp, UnaryOp } from '../addon.js';
import { planMatMul } from './BatchMatMul.js';
import { KernelArgs, f32, nativeKernel, shapeArray, sizeOf } from './util.js';

/** Activation names of tf.fused.matMul mapped to the addon's epilogue codes. */
export function activationCode(activation: string | undefined): Act | null {
  switch (activation ?? 'linear') {
    case 'linear':
      return Act.Linear;
    case 'relu':
      return Act.Relu;
    case 'relu6':
      return Act.Relu6;
    case 'elu':
      return Act.Elu;
    case 'leakyrelu':
      return Act.LeakyRelu;
    case 'sigmoid':
      return Act.Sigmoid;
    default:
      return null;
  }
}

interface FusedAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

function fusedMatMul({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as FusedAttrs;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) return null;
  const biasV = bias === undefined ? null : f32(backend, bias);
  if (bias !== undefined && biasV === null) return null;
  const preluV = preluActivationWeights === undefined ? null : f32(backend, preluActivationWeights);
  if (preluActivationWeights !== undefined && preluV === null) return null;
  const act = activation === 'prelu' ? Act.Linear : activationCode(activation);
  if (act === null) return null;
  // tf.fused.matMul hands the kernel 3-D operands: batches that differ and
  // are not 1 no longer say how they broadcast (the cpu kernel's choice).
  // Below, the plan is therefore one of equal batches or a batch of 1.
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
  const { outShape, n } = plan;
  if (bias !== undefined) broadcast_util.assertAndGetBroadcastShape(outShape, bias.shape);
  // A bias over the last dimension only (shape [..., 1, n] or [n]) rides in the epilogue.
  const rowBias =
    biasV !== null &&
    bias !== undefined &&
    biasV.length === n &&
    bias.shape.length <= outShape.length &&
    (bias.shape.length === 0 ? n === 1 : bias.shape[bias.shape.length - 1] === n);
  const out = backend.allocF32(sizeOf(outShape));
  const addon = backend.addon;
  const alpha = leakyreluAlpha ?? 0.2;
  if (biasV === null || rowBias) {
    addon.fusedMatMul(
      av,
      bv,
      out,
      plan.batchA,
      plan.batchB,
      plan.m,
      n,
      plan.k,
      transposeA,
      transposeB,
      biasV,
      act,
      alpha,
    );
  } else {
    addon.matMul(av, bv, out, plan.batchA, plan.batchB, plan.m, n, plan.k, transposeA, transposeB);
    addon.binary(
      BinaryOp.Add,
      out,
      shapeArray(outShape, 0),
      biasV,
      shapeArray(bias!.shape, 1),
      out,
    );
    if (act !== Act.Linear) addon.unary(unaryForAct(act), out, out, alpha, 0);
  }
  if (preluV !== null && preluActivationWeights !== undefined) {
    broadcast_util.assertAndGetBroadcastShape(outShape, preluActivationWeights.shape);
    addon.binary(
      BinaryOp.Prelu,
      out,
      shapeArray(outShape, 0),
      preluV,
      shapeArray(preluActivationWeights.shape, 1),
      out,
    );
  }
  return backend.makeOutputF32(outShape, out);
}

/** Unary op code applying `act` alone (used when the epilogue cannot). */
export function unaryForAct(act: Act): UnaryOp {
  switch (act) {
    case Act.Relu:
      return UnaryOp.Relu;
    case Act.Relu6:
      return UnaryOp.Relu6;
    case Act.Elu:
      return UnaryOp.Elu;
    case Act.LeakyRelu:
      return UnaryOp.LeakyRelu;
    case Act.Sigmoid:
      return UnaryOp.Sigmoid;
    default:
      return UnaryOp.Linear;
  }
}

export const fusedMatMulConfig = nativeKernel(_FusedMatMul, fusedMatMul);
