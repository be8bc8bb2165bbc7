/**
 * Cholesky and MatrixTriangularSolve (TensorFlow's kernel names; tfjs has
 * neither): the kernels the zhusuan library's `cholesky` and
 * `triangularSolve` run when the active backend registers them, in place of
 * their op-by-op path (a few thousand small Slice and BatchMatMul calls for
 * n = 100). Native: OpenBLAS' strsm and ssyrk (binding/linalg.cc), batched
 * over the leading axes. No gradients are registered: the library wraps both
 * in its closed-form `tf.customGrad`, whose solves come back here.
 *
 * - `Cholesky`: input `x` `[..., n, n]` float32, only its lower triangle
 *   (diagonal included) read; output the lower factor l with l·lᵀ = x and
 *   zeros above the diagonal. A matrix that is not positive definite gives
 *   NaN from its first pivot that is not > 0 on, as the library's path
 *   leaves it (binding/linalg.cc: the entries below that pivot within its
 *   block of 32 columns are s/0 for a zero pivot, ±Inf or NaN).
 * - `MatrixTriangularSolve`: inputs `matrix` `[...Bl, n, n]` and `rhs`
 *   `[...Bb, n, k]` float32, attrs `lower` and `adjoint`; output x
 *   `[...broadcast(Bl, Bb), n, k]` with op(matrix)·x = rhs, op the transpose
 *   when `adjoint`; only the triangle `lower` names is read.
 */
import { KernelConfig, TensorInfo, broadcast_util } from '@tensorflow/tfjs-core';
import { broadcastIndex } from './BatchMatMul.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';
import type { NativeBackend } from '../backend.js';

/** The float32 values of `t`, copied when stored in another array type; throws for another dtype. */
function values(backend: NativeBackend, t: TensorInfo, kernel: string, name: string): Float32Array {
  if (t.dtype !== 'float32') {
    throw new Error(`${kernel}: \`${name}\` must be float32, got ${t.dtype}; cast it first`);
  }
  return (
    f32(backend, t) ?? Float32Array.from(backend.data.get(t.dataId).values as ArrayLike<number>)
  );
}

/** n of `[..., n, n]`; throws naming the kernel and input otherwise. */
function squareSize(kernel: string, name: string, shape: number[]): number {
  const r = shape.length;
  if (r < 2 || shape[r - 1] !== shape[r - 2]) {
    throw new Error(
      `${kernel}: \`${name}\` must hold square matrices in its last two axes, got shape [${shape}]`,
    );
  }
  return shape[r - 1];
}

function cholesky({ inputs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs;
  const n = squareSize('Cholesky', 'x', x.shape);
  const xv = values(backend, x, 'Cholesky', 'x');
  const out = backend.allocF32(xv.length);
  if (xv.length > 0) backend.addon.cholesky(xv, out, xv.length / (n * n), n);
  return backend.makeOutputF32(x.shape.slice(), out);
}

function matrixTriangularSolve({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { matrix, rhs } = inputs;
  const lower = (attrs?.lower as boolean | undefined) ?? true;
  const adjoint = (attrs?.adjoint as boolean | undefined) ?? false;
  const kernel = 'MatrixTriangularSolve';
  const n = squareSize(kernel, 'matrix', matrix.shape);
  const r = rhs.shape.length;
  if (r < 2 || rhs.shape[r - 2] !== n) {
    throw new Error(
      `${kernel}: \`rhs\` [${rhs.shape}] must be [..., n, k] with n = ${n} rows, as \`matrix\` [${matrix.shape}] is n × n`,
    );
  }
  const k = rhs.shape[r - 1];
  const ml = matrix.shape.slice(0, -2);
  const bl = rhs.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcast_util.assertAndGetBroadcastShape(ml, bl);
  } catch {
    throw new Error(
      `${kernel}: the batch shapes of \`matrix\` [${ml}] and \`rhs\` [${bl}] do not broadcast`,
    );
  }
  const mv = values(backend, matrix, kernel, 'matrix');
  const bv = values(backend, rhs, kernel, 'rhs');
  const outShape = [...batch, n, k];
  const out = backend.allocF32(sizeOf(outShape));
  if (out.length > 0) {
    backend.addon.triangularSolve(
      mv,
      bv,
      out,
      n,
      k,
      lower,
      adjoint,
      broadcastIndex(batch, ml),
      broadcastIndex(batch, bl),
    );
  }
  return backend.makeOutputF32(outShape, out);
}

/** The two kernels, for backend `native` (no cpu fallback: tfjs-cpu has neither). */
export const linalgConfigs: KernelConfig[] = [
  nativeKernel('Cholesky', cholesky),
  nativeKernel('MatrixTriangularSolve', matrixTriangularSolve),
];
