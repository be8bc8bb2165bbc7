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
 * [batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padTop,
 * padLeft] of a channels-last convolution; null for channels first (the cpu
 * kernel runs those).
 */
export function convGeometry(info: Conv2DInfo): Int32Array | null {
  if (info.dataFormat !== 'channelsLast') return null;
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
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
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.effectiveFilterHeight,
    info.effectiveFilterWidth,
    info.strideHeight,
    info.strideWidth,
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
