/**
 * Broadcasting binary kernels (Add, Sub, Multiply, RealDiv, Maximum, Minimum,
 * SquaredDifference, Pow, Prelu, Atan2, comparisons, AddN) in one native
 * pass. The addon collapses the broadcast into at most a few strided loops,
 * so [B,1]x[B,784] or [784]x[B,784] run at memory speed rather than through
 * the cpu backend's generic index arithmetic. Also the zhusuan library's
 * optional `ZsAddScaled` (inputs a, b of one shape; attribute `scale`):
 * a + b·scale in one pass instead of Multiply and Add, rounded as they round.
 */
import {
  Add,
  AddN,
  Atan2,
  Equal,
  Greater,
  GreaterEqual,
  KernelConfig,
  Less,
  LessEqual,
  Maximum,
  Minimum,
  Multiply,
  NotEqual,
  Pow,
  Prelu,
  RealDiv,
  SquaredDifference,
  Sub,
  TensorInfo,
  broadcast_util,
} from '@tensorflow/tfjs-core';
import { BinaryOp } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, shapeArray, sizeOf } from './util.js';

/** out = a (op) b with broadcasting; null when an input is not float32. */
export function nativeBinary(
  backend: NativeBackend,
  op: BinaryOp,
  a: TensorInfo,
  b: TensorInfo,
): TensorInfo | null {
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) return null;
  const outShape = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const size = sizeOf(outShape);
  if (op >= BinaryOp.Equal) {
    const out = new Uint8Array(size);
    backend.addon.binary(op, av, shapeArray(a.shape, 0), bv, shapeArray(b.shape, 1), out);
    return backend.makeTensorInfo(outShape, 'bool', out);
  }
  const out = backend.allocF32(size);
  backend.addon.binary(op, av, shapeArray(a.shape, 0), bv, shapeArray(b.shape, 1), out);
  return backend.makeOutputF32(outShape, out);
}

function binaryKernel(name: string, op: BinaryOp): KernelConfig {
  return nativeKernel(name, ({ inputs, backend }: KernelArgs) =>
    nativeBinary(backend, op, inputs.a, inputs.b),
  );
}

function addN({ inputs, backend }: KernelArgs): TensorInfo | null {
  const tensors = inputs as unknown as TensorInfo[];
  if (tensors.length === 0) return null;
  const vals: Float32Array[] = [];
  for (const t of tensors) {
    const v = f32(backend, t);
    if (v === null) return null;
    vals.push(v);
  }
  const shape = tensors[0].shape;
  const size = sizeOf(shape);
  for (const t of tensors) {
    if (sizeOf(t.shape) !== size) return null;
  }
  const out = backend.allocF32(size);
  const s = shapeArray([size], 0);
  const s1 = shapeArray([size], 1);
  if (vals.length === 1) {
    out.set(vals[0]);
  } else {
    backend.addon.binary(BinaryOp.Add, vals[0], s, vals[1], s1, out);
    for (let i = 2; i < vals.length; i++)
      backend.addon.binary(BinaryOp.Add, out, s, vals[i], s1, out);
  }
  return backend.makeOutputF32(shape, out);
}

export const ZS_ADD_SCALED = 'ZsAddScaled';

function addScaled({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { a, b } = inputs;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (av === null || bv === null) throw new Error(`${ZS_ADD_SCALED}: a and b must be float32`);
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${ZS_ADD_SCALED}: a [${a.shape}] and b [${b.shape}] must have one shape`);
  }
  const scale = attrs?.scale;
  if (typeof scale !== 'number') {
    throw new Error(`${ZS_ADD_SCALED}: the attribute scale must be a number, got ${typeof scale}`);
  }
  const out = backend.allocF32(av.length);
  backend.addon.addScaled(av, bv, out, scale);
  return backend.makeOutputF32(a.shape, out);
}

export const binaryConfigs: KernelConfig[] = [
  binaryKernel(Add, BinaryOp.Add),
  binaryKernel(Sub, BinaryOp.Sub),
  binaryKernel(Multiply, BinaryOp.Mul),
  binaryKernel(RealDiv, BinaryOp.Div),
  binaryKernel(Maximum, BinaryOp.Max),
  binaryKernel(Minimum, BinaryOp.Min),
  binaryKernel(SquaredDifference, BinaryOp.SquaredDifference),
  binaryKernel(Pow, BinaryOp.Pow),
  binaryKernel(Atan2, BinaryOp.Atan2),
  binaryKernel(Equal, BinaryOp.Equal),
  binaryKernel(NotEqual, BinaryOp.NotEqual),
  binaryKernel(Less, BinaryOp.Less),
  binaryKernel(LessEqual, BinaryOp.LessEqual),
  binaryKernel(Greater, BinaryOp.Greater),
  binaryKernel(GreaterEqual, BinaryOp.GreaterEqual),
  nativeKernel(Prelu, ({ inputs, backend }: KernelArgs) =>
    nativeBinary(backend, BinaryOp.Prelu, inputs.x, inputs.alpha),
  ),
  nativeKernel(AddN, addN),
  nativeKernel(ZS_ADD_SCALED, addScaled),
];
