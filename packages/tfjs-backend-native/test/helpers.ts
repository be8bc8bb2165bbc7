/**
 * Test helpers: run the same tfjs code on `cpu` and `native` and compare.
 * Suites that need the addon fail, with the loader's reason, when it is not
 * built: the documented setup (scripts/install-system-deps.sh, npm ci)
 * always builds it.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isNativeAvailable, nativeLoadError, registerNativeBackend } from '../src/index.js';
import { ensureGradients, mulberry32 } from './vae_fixture.js';

/** Registers `native`, loads gradients and makes `native` the active backend. */
export async function setupNative(): Promise<void> {
  await ensureGradients();
  if (!isNativeAvailable() || !registerNativeBackend()) {
    throw new Error(`native addon unavailable: ${nativeLoadError()}`);
  }
  await tf.setBackend('native');
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
}

/** Deterministic uniform values in [lo, hi). */
export function uniform(shape: number[], seed: number, lo = -1, hi = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = mulberry32(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * r();
  return v;
}

/** A tensor of deterministic uniform values (created on the active backend). */
export function rand(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(uniform(shape, seed, lo, hi), shape);
}

/** Runs `f` on a backend, returning shape, dtype and values (tensors disposed). */
export async function runOn(
  backend: string,
  f: () => tf.Tensor,
): Promise<{ shape: number[]; dtype: string; values: number[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const t = tf.tidy(f);
  const out = { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
  t.dispose();
  assert.equal(tf.memory().numTensors, before, `${backend}: the op leaked tensors`);
  return out;
}

/** |a-b| <= rtol*max(|a|,|b|) + atol elementwise (NaN equals NaN). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${what}[${i}]: ${a} vs ${e}`);
      continue;
    }
    if (a === e) continue;
    const tol = rtol * Math.max(Math.abs(a), Math.abs(e)) + atol;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: native ${a} vs cpu ${e} (tolerance ${tol})`);
  }
}

/**
 * Same computation on cpu and native: same shape, dtype, and values within
 * rtol (plus atol). With `scaled`, atol is rtol times the output's largest
 * magnitude: right for sums of many terms (matrix products), whose small
 * entries come from cancellation and carry the rounding of the large terms.
 */
export async function sameOnBoth(
  f: () => tf.Tensor,
  what: string,
  rtol = 1e-5,
  atol = 1e-7,
  scaled = false,
): Promise<void> {
  const cpu = await runOn('cpu', f);
  const nat = await runOn('native', f);
  assert.deepEqual(nat.shape, cpu.shape, `${what}: shape`);
  assert.equal(nat.dtype, cpu.dtype, `${what}: dtype`);
  let tolAbs = atol;
  if (scaled) {
    for (const v of cpu.values)
      if (Number.isFinite(v)) tolAbs = Math.max(tolAbs, rtol * Math.abs(v));
  }
  assertClose(nat.values, cpu.values, rtol, tolAbs, what);
}
