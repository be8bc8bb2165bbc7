/**
 * tfjs' Conv2DInfo (backend_util.computeConv2DInfo / computePool2DInfo, the
 * cpu kernels' own geometry) as the Int32Arrays the addon's convolution and
 * pooling functions read.
 */
import { TensorInfo, backend_util } from '@tensorflow/tfjs-core';

type Conv2DInfo = backend_util.Conv2DInfo;

/** Attributes of tfjs' 2-D pooling kernels and their gradients. */
export interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * tfjs' geometry of a 2-D convolution of x by a filter (computeConv2DInfo,
 * as the cpu kernels call it), with the kernels' data format attribute.
 */
export function conv2DInfo(
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  dataFormat: 'NHWC' | 'NCHW',
): Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/** [batch, inH, inW, inC, outH, outW]: what both geometries start with. */
function imageSizes(info: Conv2DInfo): number[] {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  return [batchSize, inHeight, inWidth, inChannels, outHeight, outWidth];
}

/**
 * [batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padTop,
 * padLeft] of a channels-last convolution; null for channels first (the cpu
 * kernel runs those).
 */
export function convGeometry(info: Conv2DInfo): Int32Array | null {
  if (info.dataFormat !== 'channelsLast') return null;
  const { outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  return Int32Array.from([
    ...imageSizes(info),
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

/**
 * [batch, inH, inW, channels, outH, outW, fH, fW, sH, sW, padTop, padLeft]
 * of a pooling window (the effective filter: dilations are 1 in tfjs' 2-D
 * pooling kernels); null for channels first or dilated windows.
 */
export function poolGeometry(info: Conv2DInfo): Int32Array | null {
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    return null;
  }
  const { effectiveFilterHeight, effectiveFilterWidth, strideHeight, strideWidth } = info;
  return Int32Array.from([
    ...imageSizes(info),
    effectiveFilterHeight,
    effectiveFilterWidth,
    strideHeight,
    strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

/**
 * The pooling geometry of a 4-D x, computed as the cpu kernels do
 * (computePool2DInfo, dilations 1); null when the native kernels do not
 * handle it.
 */
export function poolInfo(
  x: TensorInfo,
  a: PoolAttrs,
): { info: Conv2DInfo; geom: Int32Array } | null {
  if (x.shape.length !== 4) return null;
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const geom = poolGeometry(info);
  return geom === null ? null : { info, geom };
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
