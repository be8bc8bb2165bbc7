/**
 * Conv2DBackpropFilter (the gradient of conv2d for its filter), channels
 * last: im2col(x)ᵀ·dy summed over blocks of output rows, a fixed share of
 * the blocks per pool thread.
 */
import { Conv2DBackpropFilter, Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2DInfo, convGeometry, sameShape } from './conv_util.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs;
  const xv = f32(backend, x);
  const dyv = f32(backend, dy);
  if (xv === null || dyv === null || x.shape.length !== 4) return null;
  const info = conv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, dataFormat);
  const geom = convGeometry(info);
  if (geom === null || !sameShape(dy.shape, info.outShape)) return null;
  const out = backend.allocF32(sizeOf(info.filterShape));
  backend.addon.conv2dBackpropFilter(xv, dyv, out, geom);
  return backend.makeOutputF32(info.filterShape, out);
}

export const conv2DBackpropFilterConfig = nativeKernel(Conv2DBackpropFilter, conv2DBackpropFilter);
