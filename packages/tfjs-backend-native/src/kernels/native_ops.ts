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
  /** Whether the layer has a bias (the backward then skips its column sums otherwise). */
  hasBias?: boolean;
}

function attrsOf(attrs: unknown): DenseAttrs {
  const a = attrs as DenseAttrs;
  return { act: a.act, alpha: a.alpha, hasBias: a.hasBias };
}

function need(backend: NativeBackend, t: TensorInfo | undefined, what: string): Float32Array {
  const v = f32(backend, t);
  if (v === null) throw new Error(`native dense: ${what} must be a float32 tensor`);
  return v;
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

/** Which gradient of a dense layer a kernel returns. */
type DenseGrad = 'x' | 'w' | 'b';

// The engine asks for a dense node's input gradients one after another, in
// input order (x, w, b), only for the inputs the tape needs. The first of the
// three kernels to run computes its gradient and every one after it in one
// native call (dz = dy ⊙ act'(y) once; dx and dw in parallel) and keeps the
// later ones here, as pooled arrays, until their kernels ask. A kept gradient
// nobody asks for (say dw of a layer whose weights are not differentiated)
// goes back to the pool when the next layer's backward starts.
let pending: {
  backend: NativeBackend;
  dy: DataId;
  y: DataId;
  w: Float32Array | null;
  b: Float32Array | null;
} | null = null;

function takePending(backend: NativeBackend, dy: DataId, y: DataId, g: 'w' | 'b') {
  const p = pending;
  if (p === null || p.backend !== backend || p.dy !== dy || p.y !== y) return null;
  const v = p[g];
  p[g] = null;
  return v;
}

function dropPending(): void {
  if (pending === null) return;
  if (pending.w !== null) pending.backend.releaseF32(pending.w);
  if (pending.b !== null) pending.backend.releaseF32(pending.b);
  pending = null;
}

function denseGrad(g: DenseGrad, { inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, y, x, w } = inputs;
  const { act, alpha, hasBias } = attrsOf(attrs);
  const m = rowsOf(dy);
  const [k, n] = w.shape;
  const shapeOf = { x: withLast(dy.shape, k), w: [k, n], b: [n] }[g];
  if (g !== 'x') {
    const kept = takePending(backend, dy.dataId, y.dataId, g);
    if (kept !== null) return backend.makeOutputF32(shapeOf, kept);
  }
  dropPending();
  const dx = g === 'x' ? backend.allocF32(m * k) : null;
  const dw = g !== 'b' ? backend.allocF32(k * n) : null;
  // A layer made without a bias (hasBias false) has no db to compute; kernels
  // run by hand without the attribute get it as before.
  const db = g === 'b' || hasBias !== false ? backend.allocF32(n) : null;
  const dz = act === Act.Linear ? null : backend.allocF32(m * n);
  backend.addon.denseGrad(
    need(backend, dy, 'dy'),
    dz === null ? null : need(backend, y, 'y'),
    dw === null ? null : need(backend, x, 'x'),
    dx === null ? null : need(backend, w, 'w'),
    dx,
    dw,
    db,
    dz,
    m,
    k,
    n,
    act,
    alpha,
  );
  if (dz !== null) backend.releaseF32(dz);
  const out = { x: dx, w: dw, b: db }[g] as Float32Array;
  pending = {
    backend,
    dy: dy.dataId,
    y: y.dataId,
    w: g === 'x' ? dw : null,
    b: g === 'b' ? null : db,
  };
  return backend.makeOutputF32(shapeOf, out);
}

export const nativeOnlyConfigs: KernelConfig[] = [
  nativeKernel(ZSN_DENSE, denseForward),
  nativeKernel(ZSN_DENSE_GRAD_X, (args) => denseGrad('x', args)),
  nativeKernel(ZSN_DENSE_GRAD_W, (args) => denseGrad('w', args)),
  nativeKernel(ZSN_DENSE_GRAD_B, (args) => denseGrad('b', args)),
];
