/**
 * Unary float32 kernels: one native pass each (exp/log/log1p/sigmoid/softplus
 * as vectorised polynomials, ~1 ulp). Erf, Tanh-like ops the library does not
 * use in hot paths stay on whatever the addon offers, the rest on cpu.
 */
import {
  Abs,
  Ceil,
  ClipByValue,
  Cos,
  Elu,
  Exp,
  Expm1,
  Floor,
  KernelConfig,
  LeakyRelu,
  Log,
  Log1p,
  Neg,
  Reciprocal,
  Relu,
  Relu6,
  Round,
  Rsqrt,
  Selu,
  Sigmoid,
  Sign,
  Sin,
  Softplus,
  Sqrt,
  Square,
  Step,
  Tanh,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { UnaryOp } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel } from './util.js';

/** out = f(x) elementwise; null when x is not float32. */
export function nativeUnary(
  backend: NativeBackend,
  op: UnaryOp,
  x: TensorInfo,
  alpha = 0,
  beta = 0,
): TensorInfo | null {
  const xv = f32(backend, x);
  if (xv === null) return null;
  const out = backend.allocF32(xv.length);
  backend.addon.unary(op, xv, out, alpha, beta);
  return backend.makeOutputF32(x.shape, out);
}

function unaryKernel(
  name: string,
  op: UnaryOp,
  params?: (attrs: Record<string, unknown>) => [number, number],
): KernelConfig {
  return nativeKernel(name, ({ inputs, backend, attrs }: KernelArgs) => {
    const [alpha, beta] = params ? params((attrs ?? {}) as Record<string, unknown>) : [0, 0];
    return nativeUnary(backend, op, inputs.x, alpha, beta);
  });
}

export const unaryConfigs: KernelConfig[] = [
  unaryKernel(Neg, UnaryOp.Neg),
  unaryKernel(Abs, UnaryOp.Abs),
  unaryKernel(Exp, UnaryOp.Exp),
  unaryKernel(Log, UnaryOp.Log),
  unaryKernel(Log1p, UnaryOp.Log1p),
  unaryKernel(Sqrt, UnaryOp.Sqrt),
  unaryKernel(Rsqrt, UnaryOp.Rsqrt),
  unaryKernel(Square, UnaryOp.Square),
  unaryKernel(Reciprocal, UnaryOp.Reciprocal),
  unaryKernel(Sigmoid, UnaryOp.Sigmoid),
  unaryKernel(Softplus, UnaryOp.Softplus),
  unaryKernel(Relu, UnaryOp.Relu),
  unaryKernel(Relu6, UnaryOp.Relu6),
  unaryKernel(Step, UnaryOp.Step, (a) => [Number(a.alpha ?? 0), 0]),
  unaryKernel(Sign, UnaryOp.Sign),
  unaryKernel(Tanh, UnaryOp.Tanh),
  unaryKernel(Elu, UnaryOp.Elu),
  unaryKernel(LeakyRelu, UnaryOp.LeakyRelu, (a) => [Number(a.alpha ?? 0.2), 0]),
  unaryKernel(Expm1, UnaryOp.Expm1),
  unaryKernel(Sin, UnaryOp.Sin),
  unaryKernel(Cos, UnaryOp.Cos),
  unaryKernel(Floor, UnaryOp.Floor),
  unaryKernel(Ceil, UnaryOp.Ceil),
  unaryKernel(ClipByValue, UnaryOp.Clip, (a) => [Number(a.clipValueMin), Number(a.clipValueMax)]),
  unaryKernel(Selu, UnaryOp.Selu),
  unaryKernel(Round, UnaryOp.Round),
];
