/** Concat and Pack (tf.stack) of float32 tensors along any axis as native row copies. */
import {
  Concat,
  ConcatAttrs,
  Pack,
  PackAttrs,
  TensorInfo,
  backend_util,
  util,
} from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

/** The float32 values of every tensor, or null when one is not float32. */
function allF32(backend: NativeBackend, tensors: TensorInfo[]): Float32Array[] | null {
  const vals: Float32Array[] = [];
  for (const t of tensors) {
    const v = f32(backend, t);
    if (v === null) return null;
    vals.push(v);
  }
  return vals;
}

/**
 * `outShape`, `outer` rows of which piece i fills `inners[i]` consecutive
 * columns of each, in order: a concatenation along the axis after the
 * first `outer`-sized axes.
 */
function joinColumns(
  backend: NativeBackend,
  vals: Float32Array[],
  inners: number[],
  outer: number,
  outShape: number[],
): TensorInfo {
  const outInner = inners.reduce((a, b) => a + b, 0);
  const out = backend.allocF32(outer * outInner);
  let col = 0;
  for (let i = 0; i < vals.length; i++) {
    if (inners[i] > 0 && outer > 0) {
      backend.addon.copy2d(vals[i], 0, inners[i], out, col, outInner, outer, inners[i]);
    }
    col += inners[i];
  }
  return backend.makeOutputF32(outShape, out);
}

function concat({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const tensors = inputs as unknown as TensorInfo[];
  const { axis } = attrs as unknown as ConcatAttrs;
  if (tensors.length === 0) return null;
  const vals = allF32(backend, tensors);
  if (vals === null) return null;
  const $axis = util.parseAxisParam(axis, tensors[0].shape)[0];
  const shapes = tensors.map((t) => t.shape);
  backend_util.assertParamsConsistent(shapes, $axis);
  const outShape = backend_util.computeOutShape(shapes, $axis);
  const inners = shapes.map((s) => sizeOf(s.slice($axis)));
  return joinColumns(backend, vals, inners, sizeOf(outShape.slice(0, $axis)), outShape);
}

/** tf.stack: a new axis of length n at `axis`; null (cpu's checks and errors) unless every input is float32 of one shape. */
function pack({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const tensors = inputs as unknown as TensorInfo[];
  if (tensors.length === 0) return null;
  const shape = tensors[0].shape;
  if (!tensors.every((t) => util.arraysEqual(t.shape, shape))) return null;
  const vals = allF32(backend, tensors);
  if (vals === null) return null;
  let { axis } = attrs as unknown as PackAttrs;
  if (axis < 0) axis += shape.length + 1;
  if (axis < 0 || axis > shape.length) return null;
  const outShape = [...shape.slice(0, axis), tensors.length, ...shape.slice(axis)];
  const inner = sizeOf(shape.slice(axis));
  const inners = new Array<number>(tensors.length).fill(inner);
  return joinColumns(backend, vals, inners, sizeOf(shape.slice(0, axis)), outShape);
}

export const concatConfig = nativeKernel(Concat, concat);
export const packConfig = nativeKernel(Pack, pack);
