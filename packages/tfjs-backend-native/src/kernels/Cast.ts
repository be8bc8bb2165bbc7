/**
 * Cast to float32 from bool/int32 into a real Float32Array (the cpu kernel
 * keeps the bool's Uint8Array behind a float32 tensor, which every float
 * kernel would then have to special-case). Other casts stay on cpu.
 */
import { Cast, CastAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelArgs, nativeKernel } from './util.js';

function cast({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs;
  const { dtype } = attrs as unknown as CastAttrs;
  if (dtype !== 'float32' || (x.dtype !== 'bool' && x.dtype !== 'int32')) return null;
  const xv = backend.data.get(x.dataId).values;
  if (!(xv instanceof Uint8Array) && !(xv instanceof Int32Array)) return null;
  const out = backend.allocF32(xv.length);
  out.set(xv);
  return backend.makeOutputF32(x.shape, out);
}

export const castConfig = nativeKernel(Cast, cast);
