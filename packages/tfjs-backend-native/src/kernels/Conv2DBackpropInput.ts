/**
 * Conv2DBackpropInput (the gradient of conv2d for its input, and the forward
 * of conv2dTranspose), channels last: dy·filterᵀ in blocks, scattered back
 * onto the input's pixels (col2im), one image per pool task.
 */
import { Conv2DBackpropInput, Conv2DBackpropInputAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2DInfo, convGeometry, sameShape } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { dy, filter } = inputs;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } =
    attrs as unknown as Conv2DBackpropInputAttrs;
  const dyv = f32(backend, dy);
  const wv = f32(backend, filter);
  if (dyv === null || wv === null || filter.shape.length !== 4) return null;
  const info = conv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, dataFormat);
  const geom = convGeometry(info);
  if (geom === null || !sameShape(dy.shape, info.outShape)) return null;
  const out = backend.allocF32(sizeOf(info.inShape));
  backend.addon.conv2dBackpropInput(dyv, wv, out, geom);
  return backend.makeOutputF32(info.inShape, out);
}

export const conv2DBackpropInputConfig = nativeKernel(Conv2DBackpropInput, conv2DBackpropInput);
