/** Test helpers: float64 oracles and tolerance checks. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** Asserts |a - b| <= atol + rtol * |b| elementwise. */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  rtol = 1e-5,
  atol = 1e-5,
  what = '',
): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]);
    assert.ok(Math.abs(a[i] - e[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${e[i]} (tol ${tol})`);
  }
}

/**
 * Like {@link assertClose}, but a non-finite expected value (±Infinity, NaN)
 * must be matched exactly: |a − b| ≤ atol + rtol·|b| where b is finite, a === b
 * (NaN only by NaN) where it is not.
 */
export function assertCloseInf(
  actual: ArrayLike<number>,
  expected: number[],
  rtol: number,
  atol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isFinite(expected[i])) {
      assertClose(actual[i], expected[i], rtol, atol, `${what}[${i}]`);
    } else {
      assert.equal(actual[i], expected[i], `${what}[${i}]`);
    }
  }
}

/**
 * Reads `t` back (shape and values as a plain array) and disposes it: for
 * `noLeak('…', () => read(d.logProb(x)))`.
 */
export function read(t: tf.Tensor): { shape: number[]; data: number[] } {
  const r = { shape: t.shape, data: Array.from(t.dataSync()) };
  t.dispose();
  return r;
}

/** Runs `fn` and asserts it leaves the tensor count unchanged. */
export function noLeak<T>(what: string, fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  assert.equal(tf.memory().numTensors, before, `${what} leaked tensors`);
  return out;
}

/**
 * The gradients of `f` at `xs` (`tf.grads`), read back as plain arrays,
 * under {@link noLeak} ('grads'): computing them must leave no tensor behind.
 */
export function readGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): number[][] {
  return noLeak('grads', () => {
    const gs = tf.grads(f)(xs);
    const v = gs.map((g) => Array.from(g.dataSync()));
    tf.dispose(gs);
    return v;
  });
}

/**
 * Asserts that `f`'s value has no gradient path to any of `xs` (each on its
 * own; the others held fixed), as TensorFlow's `stop_gradient` and PyTorch's
 * `detach` leave none: `tf.grads` with respect to it throws tfjs's "Cannot
 * compute gradient of y=f(x) with respect to x", leaving no tensor behind.
 * The value gets a second, live input (a scalar added to it), so tfjs runs
 * the whole backward pass and throws for the one missing gradient: with no
 * input reaching the value, tfjs 4.22 throws before its backward pass and
 * keeps the tensors its tape saved (any function, with or without zhusuan).
 */
export function assertNoGradientPath(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  what: string,
): void {
  xs.forEach((x, i) => {
    const at = `${what}: input ${i}`;
    noLeak(at, () => {
      const live = tf.scalar(0);
      try {
        const g = (l: tf.Tensor, xi: tf.Tensor) =>
          tf.add(f(...xs.map((t, j) => (j === i ? xi : t))), l);
        assert.throws(
          () => tf.grads(g)([live, x]),
          /Cannot compute gradient of y=f\(x\) with respect to x\./,
          `${at} has a gradient path`,
        );
      } finally {
        live.dispose();
      }
    });
  });
}

/** A seeded uniform generator (mulberry32) for test parameters. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An array of `n` uniforms in [lo, hi). */
export function uniform(r: () => number, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** log N(x; m, s²) in float64. */
export function normalLogPdf(x: number, m: number, s: number): number {
  return -0.5 * Math.log(2 * Math.PI) - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
}

/** Lanczos coefficients (g = 7, 9 terms) for {@link lgamma64}. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/**
 * log |Γ(x)| in float64: Lanczos (g = 7, 9 terms; relative error ~1e-15),
 * with the reflection formula below 0.5.
 */
export function lgamma64(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma64(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log k! for k = 0, 1, …, filled in as needed. */
const LOG_FACTORIALS: number[] = [0];

/** log k! in float64 for an integer k ≥ 0, by summing logs (exact to ~1e-13 for the k the tests use). */
export function logFact64(k: number): number {
  for (let i = LOG_FACTORIALS.length; i <= k; i++) {
    LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1] + Math.log(i));
  }
  return LOG_FACTORIALS[k];
}

/** log(1 + e^x) in float64, stable. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Mean and standard deviation of an array. */
export function meanStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / (a.length - 1)) };
}

/**
 * Sets the backend the tests run on: `cpu` in Node (the native backend has its
 * own suite); in the browser suite (test/browser) the backend its page was
 * asked for, `webgl` or `cpu`, from `globalThis.ZS_TEST_BACKEND`.
 */
export async function useCpu(): Promise<void> {
  tf.env().set('PROD', true);
  const name = (globalThis as { ZS_TEST_BACKEND?: string }).ZS_TEST_BACKEND ?? 'cpu';
  assert.ok(await tf.setBackend(name), `tfjs backend ${name} failed to initialise`);
}
