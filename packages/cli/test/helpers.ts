/**
 * Shared test fixtures: tiny IDX datasets written by the tests themselves;
 * deterministic values and a switch for the native backend's optional kernels.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { EpochMetrics } from '@zhusuan/vae';
import { nativeInfo, setNativeThreads } from '@zhusuan/tfjs-backend-native';
import { loadNative, useBackend } from '../src/backend.js';
import { Rng } from '../src/rng.js';

/** Encodes an unsigned-byte IDX file. */
export function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/**
 * Writes a tiny MNIST-shaped dataset (28x28 "digits": a bright bar whose
 * position is the label) into a fresh temp directory.
 */
export function writeTinyDataset(opts: {
  train: number;
  test: number;
  withTest?: boolean;
  /** Image height and width (default 28×28). */
  size?: [number, number];
}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zs-tiny-'));
  const rng = new Rng(7);
  const [rows, cols] = opts.size ?? [28, 28];
  const pixels = rows * cols;
  const make = (n: number) => {
    const images = new Uint8Array(n * pixels);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const label = rng.int(10);
      labels[i] = label;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          // A vertical bar whose position codes the label (scaled to the width).
          const x = Math.floor((c * 28) / cols);
          const y = Math.floor((r * 28) / rows);
          const onBar = x >= 2 + 2 * label && x < 5 + 2 * label && y > 3 && y < 24;
          images[i * pixels + r * cols + c] = onBar ? 200 + rng.int(56) : rng.int(20);
        }
      }
    }
    return { images, labels };
  };
  const tr = make(opts.train);
  fs.writeFileSync(
    path.join(dir, 'train-images-idx3-ubyte'),
    idxBytes([opts.train, rows, cols], tr.images),
  );
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxBytes([opts.train], tr.labels));
  if (opts.withTest !== false) {
    const te = make(opts.test);
    fs.writeFileSync(
      path.join(dir, 't10k-images-idx3-ubyte'),
      idxBytes([opts.test, rows, cols], te.images),
    );
    fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), idxBytes([opts.test], te.labels));
  }
  return dir;
}

/** A fresh temp directory. */
export function tempDir(prefix = 'zs-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A plausible `metrics.jsonl` record for `epoch` (3 steps an epoch, one second each). */
export function metricsLine(epoch: number): EpochMetrics {
  return {
    epoch,
    train_elbo: -100 + epoch,
    epoch_seconds: 1,
    seconds: epoch,
    steps: 3 * epoch,
    lr: 0.001,
    backend: 'cpu',
    objective: 'elbo',
  };
}

/**
 * `f`'s result three ways: on native with the optional kernel `name` (or
 * several), on native without it (the library's composite), and on cpu. The backend is
 * native again afterwards.
 */
export async function fusedCompositeCpu<T>(
  name: string | string[],
  f: () => T,
): Promise<{ fused: T; composite: T; cpu: T }> {
  await useBackend('native');
  const fused = f();
  const composite = withoutKernel(name, f);
  await useBackend('cpu');
  const cpu = f();
  await useBackend('native');
  return { fused, composite, cpu };
}

/** Loads the native backend, failing the suite with the loader's reason when it cannot. */
export async function requireNative(): Promise<void> {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
}

/**
 * Runs `f` on native with the optional kernel `name` (or each of several)
 * unregistered (the library then composes it from tfjs ops), then
 * registers it again.
 */
export function withoutKernel<T>(name: string | string[], f: () => T): T {
  const configs = (Array.isArray(name) ? name : [name]).map((n) => {
    const config = tf.getKernel(n, 'native');
    assert.ok(config !== undefined, `${n} is registered on native`);
    return config;
  });
  for (const c of configs) tf.unregisterKernel(c.kernelName, 'native');
  try {
    return f();
  } finally {
    for (const c of configs) tf.registerKernel(c);
  }
}

/** Deterministic values in [lo, hi) (a linear congruential generator). */
export function lcgValues(n: number, seed: number, lo: number, hi: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return v;
}

/** Runs `f` and returns its result with the names of the kernels it ran, in order. */
export function withKernelNames<T>(f: () => T): { result: T; kernels: string[] } {
  const kernels: string[] = [];
  const eng = tf.engine();
  const run = eng.runKernel.bind(eng);
  eng.runKernel = ((name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) => {
    kernels.push(name);
    return run(name, inputs, attrs);
  }) as typeof eng.runKernel;
  try {
    return { result: f(), kernels };
  } finally {
    eng.runKernel = run;
  }
}

/**
 * For each output k, the largest |a − b| / (|b| + mean |b|) over its entries
 * (a kernel's outputs `a` against a reference's `b`; `names[k]` in the
 * messages): every entry of `a` must be finite and the lengths must agree.
 */
export function maxRelErrors(a: Float32Array[], b: Float32Array[], names: string[]): number[] {
  return a.map((ak, k) => {
    const bk = b[k];
    assert.equal(ak.length, bk.length, `${names[k]}: length`);
    const scale = bk.reduce((sum, v) => sum + Math.abs(v), 0) / Math.max(1, bk.length);
    let e = 0;
    for (let i = 0; i < bk.length; i++) {
      assert.ok(Number.isFinite(ak[i]), `${names[k]}[${i}] = ${ak[i]}`);
      e = Math.max(e, Math.abs(ak[i] - bk[i]) / (Math.abs(bk[i]) + scale));
    }
    return e;
  });
}

/** Runs `f` with the native addon's element-wise pool on one thread, then restores its count. */
export function onOneNativeThread<T>(f: () => T): T {
  const threads = nativeInfo()?.threads ?? 1;
  setNativeThreads(1);
  try {
    return f();
  } finally {
    setNativeThreads(threads);
  }
}
