/**
 * Kernels that exist only on the native backend, behind this package's
 * {@link dense} op: a dense layer y = act(x·W + b) is one kernel forward and
 * at most three backward (dx, dW, db; only those the tape needs), instead of
 * tfjs' ~15 kernel calls (MatMul, Add, Relu; Step, Cast, Multiply, Sum,
 * Reshapes, two MatMuls) at ~5-25 us of engine time each.
 */
import { DataId, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { Act } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

export const ZSN_DENSE = 'ZsnDense';
export const ZSN_DENSE_GRAD_X = 'ZsnDenseGradX';
export const ZSN_DENSE_GRAD_W = 'ZsnDenseGradW';
export const ZSN_DENSE_GRAD_B = 'ZsnDenseGradB';

/** Attributes of the dense kernels. */
export interface DenseAttrs {
  /** Act code (see addon.ts). */
  act: number;
  /** Leaky ReLU slope (> 0). */
  alpha: number;
}

function attrsOf(attrs: unknown): DenseAttrs {
  const a = attrs as DenseAttrs;
  return { act: a.act, alpha: a.alpha };
}

function need(backend: NativeBackend, t: TensorInfo | undefined, what: string): Float32Array {
  const v = f32(backend, t);
  if (v === null) throw new Error(`native dense: ${what} must be a float32 tensor`);
  return v;
}

// dz = dy * act'(y) is shared by the dx, dW and db kernels of one layer, which
// the engine runs one after another; it lives here (a pooled array, not a
// tensor) until the next layer's backward needs the slot.
let dzCache: { backend: NativeBackend; dy: DataId; y: DataId; dz: Float32Array } | null = null;

function dzFor(
  backend: NativeBackend,
  dy: TensorInfo,
  y: TensorInfo,
  attrs: DenseAttrs,
): Float32Array {
  const dyv = need(backend, dy, 'dy');
  if (attrs.act === Act.Linear) return dyv;
  const c = dzCache;
  if (c !== null && c.backend === backend && c.dy === dy.dataId && c.y === y.dataId) return c.dz;
  if (c !== null) c.backend.releaseF32(c.dz);
  const dz = backend.allocF32(dyv.length);
  backend.addon.actGrad(attrs.act, dyv, need(backend, y, 'y'), dz, attrs.alpha);
  dzCache = { backend, dy: dy.dataId, y: y.dataId, dz };
  return dz;
}

// x may have any rank >= 1: its leading dimensions are rows of one matrix
// product (x [..., in] -> y [..., out]).
function rowsOf(t: TensorInfo): number {
  const last = t.shape[t.shape.length - 1];
  return last === 0 ? 0 : sizeOf(t.shape) / last;
}
function withLast(shape: number[], d: number): number[] {
  return [...shape.slice(0, -1), d];
}

function denseForward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, w, b } = inputs;
  const { act, alpha } = attrsOf(attrs);
  const m = rowsOf(x);
  const [k, n] = w.shape;
  const out = backend.allocF32(m * n);
  const bv = b === undefined ? null : need(backend, b, 'b');
  backend.addon.fusedMatMul(
    need(backend, x, 'x'),
    need(backend, w, 'w'),
    out,
    1,
    1,
    m,
    n,
    k,
    false,
    false,
    bv,
    act,
    alpha,
  );
  return backend.makeOutputF32(withLast(x.shape, n), out);
}

function denseGradX({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, y, w } = inputs;
  const dz = dzFor(backend, dy, y, attrsOf(attrs));
  const [k, n] = w.shape;
  const m = rowsOf(dy);
  const out = backend.allocF32(m * k);
  backend.addon.matMul(dz, need(backend, w, 'w'), out, 1, 1, m, k, n, false, true);
  return backend.makeOutputF32(withLast(dy.shape, k), out);
}

function denseGradW({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, y, x } = inputs;
  const dz = dzFor(backend, dy, y, attrsOf(attrs));
  const m = rowsOf(x);
  const k = x.shape[x.shape.length - 1];
  const n = dy.shape[dy.shape.length - 1];
  const out = backend.allocF32(k * n);
  backend.addon.matMul(need(backend, x, 'x'), dz, out, 1, 1, k, n, m, true, false);
  return backend.makeOutputF32([k, n], out);
}

function denseGradB({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, y } = inputs;
  const dz = dzFor(backend, dy, y, attrsOf(attrs));
  const m = rowsOf(dy);
  const n = dy.shape[dy.shape.length - 1];
  const out = backend.allocF32(n);
  backend.addon.colSum(dz, out, m, n);
  return backend.makeOutputF32([n], out);
}

export const nativeOnlyConfigs: KernelConfig[] = [
  nativeKernel(ZSN_DENSE, denseForward),
  nativeKernel(ZSN_DENSE_GRAD_X, denseGradX),
  nativeKernel(ZSN_DENSE_GRAD_W, denseGradW),
  nativeKernel(ZSN_DENSE_GRAD_B, denseGradB),
];
