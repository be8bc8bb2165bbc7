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
import { NativeAddon, getAddon } from '../src/addon.js';
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

/** Shapes, dtypes and values of several tensors computed on one backend (asserts no leak). */
export async function runManyOn(
  backend: string,
  f: () => tf.Tensor[],
): Promise<Array<{ shape: number[]; dtype: string; values: number[] }>> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const ts = tf.tidy(f);
  const out = ts.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }));
  tf.dispose(ts);
  assert.equal(tf.memory().numTensors, before, `${backend}: the op leaked tensors`);
  return out;
}

/**
 * {@link sameOnBoth} for a computation with several results (a split, the
 * gradients of a function): each result within rtol (and atol); with
 * `scaled`, atol is rtol times that result's largest magnitude.
 */
export async function sameManyOnBoth(
  f: () => tf.Tensor[],
  what: string,
  rtol = 1e-5,
  atol = 1e-7,
  scaled = false,
): Promise<void> {
  const cpu = await runManyOn('cpu', f);
  const nat = await runManyOn('native', f);
  assert.equal(nat.length, cpu.length, `${what}: number of results`);
  for (let i = 0; i < cpu.length; i++) {
    assert.deepEqual(nat[i].shape, cpu[i].shape, `${what}[${i}]: shape`);
    assert.equal(nat[i].dtype, cpu[i].dtype, `${what}[${i}]: dtype`);
    let tolAbs = atol;
    if (scaled) {
      for (const v of cpu[i].values)
        if (Number.isFinite(v)) tolAbs = Math.max(tolAbs, rtol * Math.abs(v));
    }
    assertClose(nat[i].values, cpu[i].values, rtol, tolAbs, `${what}[${i}]`);
  }
}

/**
 * The gradients of `f` with respect to the tensors `inputs()` makes agree
 * on cpu and native within `rtol` (default 1e-4) relative, with a floor of
 * rtol times each gradient's largest magnitude (entries that cancel to ~0
 * carry the absolute rounding of the large terms).
 */
export async function sameGradsOnBoth(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: () => tf.Tensor[],
  what: string,
  rtol = 1e-4,
): Promise<void> {
  await sameManyOnBoth(() => tf.grads(f)(inputs()), `${what} gradients`, rtol, 0, true);
}

/**
 * How many times `f` (run on native) calls the addon function `name`: shows
 * that a kernel ran natively rather than falling back to the cpu kernel.
 */
export async function addonCalls(name: keyof NativeAddon, f: () => unknown): Promise<number> {
  await tf.setBackend('native');
  const addon = getAddon() as NativeAddon;
  const original = addon[name] as (...args: unknown[]) => unknown;
  let calls = 0;
  (addon as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    calls++;
    return original(...args);
  };
  try {
    tf.tidy(() => {
      f();
    });
  } finally {
    (addon as unknown as Record<string, unknown>)[name] = original;
  }
  return calls;
}
