/**
 * Conv2D, channels last, as im2col + sgemm in blocks of output rows over the
 * pool (binding/conv.cc); any stride, padding and dilation. Channels first
 * runs the cpu kernel.
 */
import { Conv2D, Conv2DAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2DInfo, convGeometry } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

function conv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, filter } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
  const xv = f32(backend, x);
  const wv = f32(backend, filter);
  if (xv === null || wv === null || x.shape.length !== 4 || filter.shape.length !== 4) return null;
  const info = conv2DInfo(
    x.shape,
    filter.shape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    dataFormat,
  );
  const geom = convGeometry(info);
  if (geom === null) return null;
  const out = backend.allocF32(sizeOf(info.outShape));
  backend.addon.conv2d(xv, wv, out, geom);
  return backend.makeOutputF32(info.outShape, out);
}

export const conv2DConfig = nativeKernel(Conv2D, conv2D);
