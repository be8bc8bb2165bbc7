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

/** Runs `fn` and asserts it leaves the tensor count unchanged. */
export function noLeak<T>(what: string, fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  assert.equal(tf.memory().numTensors, before, `${what} leaked tensors`);
  return out;
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

/** Sets the cpu backend (tests run on it; the native backend has its own suite). */
export async function useCpu(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}
