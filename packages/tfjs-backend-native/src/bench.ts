/**
 * Benchmarks: the sgemm rate through the addon, and the VAE training step
 * (ms/step, and a per-kernel profile from tf.profile). Used by docs/benchmarks.md
 * and by `zhusuan bench`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getAddon, nativeLoadError } from './addon.js';
import { adam as nativeAdam } from './optimizer.js';
import {
  VaeConfig,
  VaeModel,
  ensureGradients,
  normalNoise,
  syntheticBatch,
  trainStep,
} from './vae.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Measured sgemm rate (GFLOP/s, median of `repeats`) of C = A·B through the
 * addon, for an [m,k]x[k,n] product. Throws when the addon is not loaded.
 */
export function gemmGflops(m = 1024, n = 1024, k = 1024, repeats = 15): number {
  const addon = getAddon();
  if (addon === null) throw new Error(`gemmGflops: ${nativeLoadError()}`);
  const a = new Float32Array(m * k).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = new Float32Array(k * n).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const c = new Float32Array(m * n);
  const flop = 2 * m * n * k;
  // Enough products per sample for ~20 ms.
  addon.matMul(a, b, c, 1, 1, m, n, k, false, false);
  let t0 = performance.now();
  addon.matMul(a, b, c, 1, 1, m, n, k, false, false);
  const once = Math.max(performance.now() - t0, 1e-3);
  const inner = Math.max(1, Math.round(20 / once));
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    t0 = performance.now();
    for (let i = 0; i < inner; i++) addon.matMul(a, b, c, 1, 1, m, n, k, false, false);
    const ms = (performance.now() - t0) / inner;
    rates.push(flop / (ms * 1e6));
  }
  return median(rates);
}

/** FLOPs of the matrix products of one VAE step (forward and backward). */
export function vaeStepMatmulFlops(
  cfg: Pick<VaeConfig, 'xDim' | 'hidden' | 'zDim' | 'batch'>,
): number {
  const { xDim, hidden, zDim, batch } = cfg;
  const layers: Array<[number, number]> = [
    [xDim, hidden],
    [hidden, hidden],
    [hidden, zDim],
    [hidden, zDim],
    [zDim, hidden],
    [hidden, hidden],
    [hidden, xDim],
  ];
  let f = 0;
  for (const [i, o] of layers) f += 3 * 2 * batch * i * o; // forward, dW, dx
  // The first layer needs no dx.
  return f - 2 * batch * xDim * hidden;
}

export interface VaeBenchOptions {
  /** tfjs backend to run on (must be registered); default: the active one. */
  backend?: string;
  /** Timed steps (default 30) after `warmup` (default 5). */
  steps?: number;
  warmup?: number;
  /** 'auto': this package's adam() (fused on native); 'tfjs': tf.train.adam. */
  optimizer?: 'auto' | 'tfjs';
  model?: Partial<VaeConfig>;
  /** Distinct batches cycled through (default 4), as training sees changing data. */
  batches?: number;
}

export interface VaeBenchResult {
  backend: string;
  /** Median ms per step. */
  msPerStep: number;
  /** Mean ms per step (what an epoch takes, outliers included). */
  msPerStepMean: number;
  msPerStepMin: number;
  steps: number;
  /** Matrix-product GFLOP per step. */
  gflopPerStep: number;
  /** tf.memory().numTensors growth over the timed steps (0 = no leak). */
  leakedTensors: number;
}

async function withBackend<T>(name: string | undefined, f: () => Promise<T> | T): Promise<T> {
  const prev = tf.getBackend();
  if (name !== undefined && name !== prev) {
    if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  }
  try {
    return await f();
  } finally {
    if (name !== undefined && name !== prev && prev) await tf.setBackend(prev);
  }
}

/** Median ms per VAE training step (batch 128, 784-500-500-40, Adam) on a backend. */
export async function benchVaeStep(opts: VaeBenchOptions = {}): Promise<VaeBenchResult> {
  const steps = opts.steps ?? 30;
  const warmup = opts.warmup ?? 5;
  await ensureGradients();
  return withBackend(opts.backend, () => {
    const model = new VaeModel(opts.model, 1, `bench${Date.now() % 1e6}`);
    const cfg = model.config;
    const nb = opts.batches ?? 4;
    const xs = Array.from({ length: nb }, (_, i) => syntheticBatch(cfg.batch, cfg.xDim, 100 + i));
    const es = Array.from({ length: nb }, (_, i) => normalNoise(cfg.batch, cfg.zDim, 200 + i));
    const opt = opts.optimizer === 'tfjs' ? tf.train.adam(1e-3) : nativeAdam(1e-3);
    try {
      for (let i = 0; i < warmup; i++) trainStep(model, opt, xs[i % nb], es[i % nb]);
      const before = tf.memory().numTensors;
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        trainStep(model, opt, xs[i % nb], es[i % nb]);
        times.push(performance.now() - t0);
      }
      return {
        backend: tf.getBackend(),
        msPerStep: median(times),
        msPerStepMean: times.reduce((a, b) => a + b, 0) / times.length,
        msPerStepMin: Math.min(...times),
        steps,
        gflopPerStep: vaeStepMatmulFlops(cfg) / 1e9,
        leakedTensors: tf.memory().numTensors - before,
      };
    } finally {
      opt.dispose();
      model.dispose();
      tf.dispose([...xs, ...es]);
    }
  });
}

/** One row of a step profile: a kernel's calls and time per step. */
export interface KernelProfileRow {
  kernel: string;
  calls: number;
  ms: number;
}

/**
 * Per-kernel time of one VAE training step (tf.profile), averaged over
 * `steps`, sorted by time; `outsideMs` is step time not spent inside kernels
 * (engine bookkeeping, the optimizer's own work, GC).
 */
export async function profileVaeStep(opts: VaeBenchOptions = {}): Promise<{
  backend: string;
  stepMs: number;
  kernelMs: number;
  outsideMs: number;
  kernelCalls: number;
  rows: KernelProfileRow[];
}> {
  const steps = opts.steps ?? 10;
  const warmup = opts.warmup ?? 3;
  await ensureGradients();
  return withBackend(opts.backend, async () => {
    const model = new VaeModel(opts.model, 1, `prof${Date.now() % 1e6}`);
    const cfg = model.config;
    const x = syntheticBatch(cfg.batch, cfg.xDim, 100);
    const eps = normalNoise(cfg.batch, cfg.zDim, 200);
    const opt = opts.optimizer === 'tfjs' ? tf.train.adam(1e-3) : nativeAdam(1e-3);
    try {
      for (let i = 0; i < warmup; i++) trainStep(model, opt, x, eps);
      const agg = new Map<string, KernelProfileRow>();
      let stepMs = 0;
      let kernelMs = 0;
      let calls = 0;
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        const info = await tf.profile(() => {
          trainStep(model, opt, x, eps);
        });
        stepMs += performance.now() - t0;
        for (const k of info.kernels) {
          const ms = (await k.kernelTimeMs) as number;
          const row = agg.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
          row.calls++;
          row.ms += ms;
          agg.set(k.name, row);
          kernelMs += ms;
          calls++;
        }
      }
      const rows = [...agg.values()]
        .map((r) => ({ kernel: r.kernel, calls: r.calls / steps, ms: r.ms / steps }))
        .sort((a, b) => b.ms - a.ms);
      return {
        backend: tf.getBackend(),
        stepMs: stepMs / steps,
        kernelMs: kernelMs / steps,
        outsideMs: (stepMs - kernelMs) / steps,
        kernelCalls: calls / steps,
        rows,
      };
    } finally {
      opt.dispose();
      model.dispose();
      tf.dispose([x, eps]);
    }
  });
}
