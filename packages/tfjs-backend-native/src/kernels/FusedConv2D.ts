/**
 * FusedConv2D (tf.fused.conv2d, tfjs-layers' convolutions), channels last:
 * the native Conv2D, then the bias and the activation as native broadcast
 * passes over the output (the cpu kernel's steps: Add, then the
 * activation's kernel). Channels first runs the cpu kernel.
 */
import { FusedConv2D, FusedConv2DAttrs, TensorInfo, broadcast_util } from '@tensorflow/tfjs-core';
import { Act, BinaryOp } from '../addon.js';
import { activationCode, unaryForAct } from './_FusedMatMul.js';
import { conv2DInfo, convGeometry } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, shapeArray, sizeOf } from './util.js';

function fusedConv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, filter, bias, preluActivationWeights: prelu } = inputs;
  const a = attrs as unknown as FusedConv2DAttrs;
  const xv = f32(backend, x);
  const wv = f32(backend, filter);
  const biasV = bias === undefined ? null : f32(backend, bias);
  const preluV = prelu === undefined ? null : f32(backend, prelu);
  const activation = a.activation ?? 'linear';
  const act = activation === 'prelu' ? Act.Linear : activationCode(activation);
  if (
    xv === null ||
    wv === null ||
    (bias !== undefined && biasV === null) ||
    (activation === 'prelu' && preluV === null) ||
    act === null ||
    x.shape.length !== 4 ||
    filter.shape.length !== 4
  ) {
    return null;
  }
  const info = conv2DInfo(
    x.shape,
    filter.shape,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    a.dataFormat,
  );
  const geom = convGeometry(info);
  if (geom === null) return null;
  const outShape = info.outShape;
  if (bias !== undefined) broadcast_util.assertAndGetBroadcastShape(outShape, bias.shape);
  if (prelu !== undefined && activation === 'prelu') {
    broadcast_util.assertAndGetBroadcastShape(outShape, prelu.shape);
  }
  const out = backend.allocF32(sizeOf(outShape));
  const addon = backend.addon;
  addon.conv2d(xv, wv, out, geom);
  if (biasV !== null && bias !== undefined) {
    addon.binary(BinaryOp.Add, out, shapeArray(outShape, 0), biasV, shapeArray(bias.shape, 1), out);
  }
  if (activation === 'prelu' && preluV !== null && prelu !== undefined) {
    addon.binary(
      BinaryOp.Prelu,
      out,
      shapeArray(outShape, 0),
      preluV,
      shapeArray(prelu.shape, 1),
      out,
    );
  } else if (act !== Act.Linear) {
    addon.unary(unaryForAct(act), out, out, a.leakyreluAlpha ?? 0.2, 0);
  }
  return backend.makeOutputF32(outShape, out);
}

export const fusedConv2DConfig = nativeKernel(FusedConv2D, fusedConv2D);
