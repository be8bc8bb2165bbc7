/**
 * Softmax over the last axis in one native pass per row, in the cpu
 * kernel's steps (max, float32 difference, exp, sum in double, division);
 * exp within ~2 ulp. Its gradient is tfjs' (Multiply, Sum, Sub: all native).
 * tf.logSoftmax is composed of ops in tfjs-core (no kernel to override).
 */
import { Softmax, SoftmaxAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelArgs, f32, nativeKernel } from './util.js';

function softmax({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { logits } = inputs;
  const { dim } = attrs as unknown as SoftmaxAttrs;
  const xv = f32(backend, logits);
  const rank = logits.shape.length;
  // Another axis: the cpu kernel throws its error.
  if (xv === null || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const out = backend.allocF32(xv.length);
  const cols = logits.shape[rank - 1];
  if (xv.length > 0) backend.addon.softmax(xv, out, cols);
  return backend.makeOutputF32(logits.shape, out);
}

export const softmaxConfig = nativeKernel(Softmax, softmax);
