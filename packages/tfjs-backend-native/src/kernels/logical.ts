/**
 * Boolean and selection kernels: Select (`tf.where`, and the gradient of
 * every `where`, `maximum`, `minimum`, ... through LogicalNot), LogicalNot,
 * LogicalAnd and LogicalOr (broadcasting), IsFinite, IsNan and IsInf. Bool
 * tensors are stored as Uint8Arrays, one byte an element, as on the cpu
 * backend; the native kernels write what the cpu kernels' JavaScript writes
 * (see binding/kernels_logical.cc), with one deliberate difference: Select
 * with a rank-1 condition over the first axis of higher-rank t and e takes
 * whole rows of t or e (tfjs' documented semantics, and webgl's and
 * TensorFlow's), where tfjs-cpu repeats the row's first value of t or e.
 * `tf.where` never reaches that case (it broadcasts the condition first).
 */
import {
  IsFinite,
  IsInf,
  IsNan,
  KernelConfig,
  LogicalAnd,
  LogicalNot,
  LogicalOr,
  Select,
  TensorInfo,
  broadcast_util,
  upcastType,
} from '@tensorflow/tfjs-core';
import { BoolOp } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, allocLike, elements, nativeKernel, shapeArray, sizeOf } from './util.js';

/** The Uint8Array behind a bool tensor, or null (another dtype or storage). */
function boolValues(backend: NativeBackend, t: TensorInfo | undefined): Uint8Array | null {
  if (t === undefined || t.dtype !== 'bool') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Uint8Array ? v : null;
}

function logicalNot({ inputs, backend }: KernelArgs): TensorInfo | null {
  const xv = boolValues(backend, inputs.x);
  if (xv === null) return null;
  const out = new Uint8Array(xv.length);
  backend.addon.predicate(BoolOp.LogicalNot, xv, out);
  return backend.makeTensorInfo(inputs.x.shape, 'bool', out);
}

function logicalBinary(op: BoolOp.LogicalAnd | BoolOp.LogicalOr) {
  return ({ inputs, backend }: KernelArgs): TensorInfo | null => {
    const { a, b } = inputs;
    const av = boolValues(backend, a);
    const bv = boolValues(backend, b);
    if (av === null || bv === null) return null;
    const outShape = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = new Uint8Array(sizeOf(outShape));
    backend.addon.logical(op, av, shapeArray(a.shape, 0), bv, shapeArray(b.shape, 1), out);
    return backend.makeTensorInfo(outShape, 'bool', out);
  };
}

/**
 * IsFinite, IsNan, IsInf: float32 values in the addon; int32 and bool values
 * (and a float32 tensor kept as a Uint8Array by a Cast from bool) are all
 * finite numbers, so the answer is a constant.
 */
function floatTest(op: BoolOp.IsFinite | BoolOp.IsNan | BoolOp.IsInf) {
  return ({ inputs, backend }: KernelArgs): TensorInfo | null => {
    const { x } = inputs;
    const v = backend.data.get(x.dataId).values;
    const n = sizeOf(x.shape);
    const out = new Uint8Array(n);
    if (v instanceof Float32Array) {
      backend.addon.predicate(op, v, out);
    } else if (v instanceof Int32Array || v instanceof Uint8Array) {
      if (op === BoolOp.IsFinite) out.fill(1);
    } else {
      return null;
    }
    return backend.makeTensorInfo(x.shape, 'bool', out);
  };
}

/**
 * Select(condition, t, e): t and e of one size; condition of that size, or
 * rank 1 over t's first axis when t has a higher rank. Anything else (a
 * scalar condition over a larger t, which tfjs-cpu leaves mostly zeros; other
 * dtypes or storage) goes to the cpu kernel.
 */
function select({ inputs, backend }: KernelArgs): TensorInfo | null {
  const { condition, t, e } = inputs;
  const cv = boolValues(backend, condition);
  const tv = elements(backend, t);
  const ev = elements(backend, e);
  if (cv === null || tv === null || ev === null) return null;
  const n = sizeOf(t.shape);
  if (ev.length !== n || tv.length !== n) return null;
  const rows = condition.shape.length === 1 && t.shape.length > 1;
  if (rows ? condition.shape[0] !== t.shape[0] : cv.length !== n) return null;
  const inner = rows ? sizeOf(t.shape.slice(1)) : 1;
  const dtype = upcastType(t.dtype, e.dtype);
  const out = allocLike(backend, dtype, n);
  // An empty t with rows of zero elements: nothing to select.
  if (n > 0) backend.addon.select(cv, tv, ev, out, inner);
  return backend.makeTensorInfo(t.shape, dtype, out);
}

/** The boolean and selection kernels added for the model zoo (issue 17). */
export const logicalConfigs: KernelConfig[] = [
  nativeKernel(Select, select),
  nativeKernel(LogicalNot, logicalNot),
  nativeKernel(LogicalAnd, logicalBinary(BoolOp.LogicalAnd)),
  nativeKernel(LogicalOr, logicalBinary(BoolOp.LogicalOr)),
  nativeKernel(IsFinite, floatTest(BoolOp.IsFinite)),
  nativeKernel(IsNan, floatTest(BoolOp.IsNan)),
  nativeKernel(IsInf, floatTest(BoolOp.IsInf)),
];
