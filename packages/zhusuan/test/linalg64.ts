/**
 * Float64 linear algebra on row-major arrays, the oracles of the linalg and
 * matrix-variate tests: Cholesky, triangular solves, products, Kronecker
 * products, and splitting a batch of matrices; and random Cholesky factors.
 */
import * as tf from '@tensorflow/tfjs';
import { gather, size, type Arr } from './distributions/oracles.js';

/** The n × n lower Cholesky factor of `a` (only its lower triangle read); NaN from a failing pivot on. */
export function chol64(a: number[], n: number): number[] {
  const l = new Array<number>(n * n).fill(0);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] ** 2;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/**
 * x with op(l)·x = b, l n × n (only its `lower` or upper triangle read,
 * op(l) = lᵀ with `adjoint`), b and x n × k.
 */
export function triSolve64(
  l: number[],
  b: number[],
  n: number,
  k: number,
  lower: boolean,
  adjoint: boolean,
): number[] {
  const inTriangle = (i: number, j: number) => (lower ? j <= i : j >= i);
  // m = op(l), read only where l's triangle is.
  const m = (i: number, j: number) =>
    adjoint ? (inTriangle(j, i) ? l[j * n + i] : 0) : inTriangle(i, j) ? l[i * n + j] : 0;
  const forward = lower !== adjoint; // op(l) lower triangular
  const x = new Array<number>(n * k).fill(0);
  for (let c = 0; c < k; c++) {
    for (let t = 0; t < n; t++) {
      const i = forward ? t : n - 1 - t;
      let s = b[i * k + c];
      for (let j = 0; j < n; j++) if (j !== i) s -= m(i, j) * x[j * k + c];
      x[i * k + c] = s / m(i, i);
    }
  }
  return x;
}

/** The r × c product of `a` (r × q) and `b` (q × c), or of `a` and bᵀ (b c × q) with `bT`. */
export function matMul64(
  a: number[],
  b: number[],
  r: number,
  q: number,
  c: number,
  bT = false,
): number[] {
  return Array.from({ length: r * c }, (_, idx) => {
    const i = Math.floor(idx / c);
    const j = idx % c;
    let s = 0;
    for (let t = 0; t < q; t++) s += a[i * q + t] * (bT ? b[j * q + t] : b[t * c + j]);
    return s;
  });
}

/** The transpose of the r × c matrix `a`. */
export function transpose64(a: number[], r: number, c: number): number[] {
  return Array.from({ length: r * c }, (_, idx) => a[(idx % r) * c + Math.floor(idx / r)]);
}

/** `a` (n × n) with the entries outside its lower triangle set to 0. */
export function lowerPart64(a: number[], n: number): number[] {
  return a.map((v, idx) => (idx % n <= Math.floor(idx / n) ? v : 0));
}

/** The Kronecker product v ⊗ u of v (p × p) and u (n × n): np × np. */
export function kron64(v: number[], p: number, u: number[], n: number): number[] {
  const d = n * p;
  return Array.from({ length: d * d }, (_, idx) => {
    const row = Math.floor(idx / d);
    const col = idx % d;
    return v[Math.floor(row / n) * p + Math.floor(col / n)] * u[(row % n) * n + (col % n)];
  });
}

/**
 * The matrices of `x` broadcast to `[...batch, r, c]`, one flat row-major
 * array per batch member in row-major batch order.
 */
export function matrices(x: Arr, batch: number[], r: number, c: number): number[][] {
  const flat = gather(x, [...batch, r, c]);
  return Array.from({ length: size(batch) }, (_, i) => flat.slice(i * r * c, (i + 1) * r * c));
}

/**
 * Random Cholesky factors of shape `[...batch, D, D]`: diagonal in ±[0.7, 1.5]
 * (negative only where `signed`), below it uniform in [−`below`, `below`]
 * (0.5 keeps the condition number below ~20 for D ≤ 6; scale it by 1/√D for
 * larger D), above it `upper` — never read.
 */
export function randomChol(
  r: () => number,
  shape: number[],
  upper: number,
  signed = false,
  below = 0.5,
): tf.Tensor {
  const d = shape[shape.length - 1];
  const v = Array.from({ length: size(shape) }, (_, idx) => {
    const i = Math.floor(idx / d) % d;
    const j = idx % d;
    if (j > i) return upper;
    if (j < i) return (r() - 0.5) * 2 * below;
    const s = signed && r() < 0.5 ? -1 : 1;
    return s * (0.7 + 0.8 * r());
  });
  return tf.tensor(v, shape);
}
