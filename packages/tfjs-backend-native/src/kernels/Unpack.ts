/** Unpack (tf.unstack) as native row copies; float32 and int32. */
import { TensorInfo, Unpack, UnpackAttrs } from '@tensorflow/tfjs-core';
import { splitAlong } from './SplitV.js';
import { KernelArgs, nativeKernel } from './util.js';

function unpack({ inputs, backend, attrs }: KernelArgs): TensorInfo[] | null {
  const { value } = inputs;
  let { axis } = attrs as unknown as UnpackAttrs;
  if (axis < 0) axis += value.shape.length;
  if (axis < 0 || axis >= value.shape.length) return null;
  return splitAlong(backend, value, axis, new Array<number>(value.shape[axis]).fill(1), true);
}

export const unpackConfig = nativeKernel(Unpack, unpack);
