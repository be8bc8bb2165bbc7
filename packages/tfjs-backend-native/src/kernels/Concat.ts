/** Concat of float32 tensors along any axis as native row copies. */
import { Concat, ConcatAttrs, TensorInfo, backend_util, util } from '@tensorflow/tfjs-core';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

function concat({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const tensors = inputs as unknown as TensorInfo[];
  const { axis } = attrs as unknown as ConcatAttrs;
  if (tensors.length === 0) return null;
  const vals: Float32Array[] = [];
  for (const t of tensors) {
    const v = f32(backend, t);
    if (v === null) return null;
    vals.push(v);
  }
  const $axis = util.parseAxisParam(axis, tensors[0].shape)[0];
  const shapes = tensors.map((t) => t.shape);
  backend_util.assertParamsConsistent(shapes, $axis);
  const outShape = backend_util.computeOutShape(shapes, $axis);
  const outer = sizeOf(outShape.slice(0, $axis));
  const outInner = sizeOf(outShape.slice($axis));
  const out = backend.allocF32(outer * outInner);
  let col = 0;
  for (let i = 0; i < tensors.length; i++) {
    const inner = sizeOf(tensors[i].shape.slice($axis));
    if (inner > 0 && outer > 0) {
      backend.addon.copy2d(vals[i], 0, inner, out, col, outInner, outer, inner);
    }
    col += inner;
  }
  return backend.makeOutputF32(outShape, out);
}

export const concatConfig = nativeKernel(Concat, concat);
