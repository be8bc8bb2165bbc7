/**
 * How `zhusuan bench` times and profiles a step: median of blocks, the native
 * addon's GEMM clock, per-kernel profiles, and where PyTorch is found.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { blockPlan } from './zoo.js';

/** A step to time: `step()` runs one, `dispose()` frees its state. */
export interface Stepper {
  step(): void;
  dispose(): void;
}

/** Median of an array of numbers. */
export function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Cumulative seconds in matrix products, from the native addon; null elsewhere. */
export type GemmClock = () => number | null;

/**
 * Times `stepper` on the active backend by {@link blockPlan}: ms per step (the
 * median of 5 blocks after the warm-up) and, where `gemmClock` reads one, the
 * ms per step spent in matrix products in the same block. The warm-up runs
 * the plan's steps and, after them, more until `warmupSeconds` have passed
 * in all (V8 compiles the engine's code over the first hundreds of a small
 * model's steps); with `minBlockSeconds`, each block runs at least the
 * steps that last that long at the warm-up's pace ({@link blockSteps}).
 * Disposes `stepper`.
 */
export function timeSteps(
  stepper: Stepper,
  steps: number,
  gemmClock: GemmClock = () => null,
  warmupSeconds = 0,
  minBlockSeconds = 0,
): { ms: number; gemmMs: number | null } {
  const timer = new BlockTimer(stepper, steps, gemmClock, warmupSeconds, minBlockSeconds);
  try {
    for (let b = 0; b < timer.blocks; b++) timer.block();
    return timer.result();
  } finally {
    timer.dispose();
  }
}

/**
 * {@link timeSteps} a block at a time: the constructor warms `stepper` up
 * (disposing it if that throws), {@link block} runs one timed block,
 * {@link result} is the median block. The zoo bench alternates a model's
 * blocks with its PyTorch peer's.
 */
export class BlockTimer {
  /** Blocks the plan times. */
  readonly blocks: number;
  private readonly per: number;
  private readonly times: Array<{ ms: number; gemmMs: number | null }> = [];

  constructor(
    private readonly stepper: Stepper,
    steps: number,
    private readonly gemmClock: GemmClock = () => null,
    warmupSeconds = 0,
    minBlockSeconds = 0,
  ) {
    const { step } = stepper;
    const { warmup, blocks, per } = blockPlan(steps);
    this.blocks = blocks;
    try {
      const t0 = performance.now();
      const warmEnd = t0 + warmupSeconds * 1000;
      for (let i = 0; i < warmup; i++) step();
      // The warm-up's pace after its first steps sizes the blocks.
      let tail = 0;
      const tailStart = performance.now();
      while (performance.now() < warmEnd) {
        step();
        tail++;
      }
      const msEstimate =
        tail > 0 ? (performance.now() - tailStart) / tail : (tailStart - t0) / Math.max(1, warmup);
      this.per = blockSteps(per, minBlockSeconds, msEstimate);
    } catch (err) {
      stepper.dispose();
      throw err;
    }
  }

  /** Runs one timed block; its ms per step (and in products, where the clock reads). */
  block(): { ms: number; gemmMs: number | null } {
    const g0 = this.gemmClock();
    const b0 = performance.now();
    for (let i = 0; i < this.per; i++) this.stepper.step();
    const ms = (performance.now() - b0) / this.per;
    const g1 = this.gemmClock();
    const t = { ms, gemmMs: g0 === null || g1 === null ? null : ((g1 - g0) * 1000) / this.per };
    this.times.push(t);
    return t;
  }

  /** The median of the blocks run so far. */
  result(): { ms: number; gemmMs: number | null } {
    const sorted = [...this.times].sort((p, q) => p.ms - q.ms);
    return sorted[sorted.length >> 1];
  }

  /** Disposes the stepper. */
  dispose(): void {
    this.stepper.dispose();
  }
}

/**
 * Steps a timed block runs: the plan's `per`, or more so that a block lasts
 * about `minBlockSeconds` at `msPerStep` (a fast model's blocks of a few
 * milliseconds would each be at the mercy of one scheduler hiccup). The
 * PyTorch peers size theirs by the same rule (torch_zoo_bench.py).
 */
export function blockSteps(per: number, minBlockSeconds: number, msPerStep: number): number {
  if (!(minBlockSeconds > 0) || !(msPerStep > 0)) return per;
  return Math.max(per, Math.ceil((minBlockSeconds * 1000) / msPerStep));
}

/** The native addon's GEMM clock when the active backend is native. */
export async function nativeGemmClock(backend: string): Promise<GemmClock> {
  if (backend !== 'native') return () => null;
  const { nativeInfo } = await import('@zhusuan/tfjs-backend-native');
  return () => nativeInfo()?.gemmSeconds ?? null;
}

/** One row of a step profile: a kernel's calls and milliseconds per step. */
export interface KernelProfileRow {
  kernel: string;
  calls: number;
  ms: number;
}

/**
 * One row of a step's matrix products by shape (native only): the products
 * as the addon names them (see `GemmShapeRecord`), per step.
 */
export interface ProductProfileRow {
  products: string;
  calls: number;
  /** Wall ms per step in these products. */
  ms: number;
  /** Their rate in place, GFLOP/s (against `gemm_gflops` for one 1024³ product). */
  gflops: number;
}

/** Per-kernel time of a training step (`tf.profile`), averaged over steps. */
export interface StepProfile {
  /** Wall time of a profiled step (profiling itself adds some). */
  step_ms: number;
  /** Time inside kernels. */
  kernel_ms: number;
  /** Step time outside kernels: engine bookkeeping, gradient tape, optimizer glue, GC. */
  outside_ms: number;
  kernel_calls: number;
  /** Kernels by time, most expensive first. */
  kernels: KernelProfileRow[];
  /**
   * Native only: the step's matrix products by shape, timed in place by the
   * addon over as many more steps, without `tf.profile`; most expensive first.
   */
  products?: ProductProfileRow[];
}

/** The matrix products of `steps` calls of `step`, by shape, from the native addon's trace. */
async function productsByShape(step: () => void, steps: number): Promise<ProductProfileRow[]> {
  const { traceNativeGemms, nativeGemmShapes } = await import('@zhusuan/tfjs-backend-native');
  traceNativeGemms(true);
  try {
    for (let s = 0; s < steps; s++) step();
    return nativeGemmShapes()
      .map((r) => ({
        products: r.products,
        calls: r.calls / steps,
        ms: (r.seconds * 1000) / steps,
        gflops: r.flops / r.seconds / 1e9,
      }))
      .sort((a, b) => b.ms - a.ms);
  } finally {
    traceNativeGemms(false);
  }
}

/**
 * Profiles `steps` steps of `stepper` (after 5 unprofiled ones) on the active
 * backend with `tf.profile`; on native, as many more with the addon's trace
 * of matrix products by shape. Disposes `stepper`.
 */
export async function profileSteps(
  backend: string,
  stepper: Stepper,
  steps: number,
): Promise<StepProfile> {
  const { step, dispose } = stepper;
  try {
    for (let i = 0; i < 5; i++) step();
    const agg = new Map<string, KernelProfileRow>();
    let stepMs = 0;
    let kernelMs = 0;
    let calls = 0;
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const info = await tf.profile(step);
      stepMs += performance.now() - t0;
      for (const k of info.kernels) {
        const ms = await k.kernelTimeMs;
        const t = typeof ms === 'number' ? ms : 0;
        const row = agg.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
        row.calls++;
        row.ms += t;
        agg.set(k.name, row);
        kernelMs += t;
        calls++;
      }
    }
    const kernels = [...agg.values()]
      .map((r) => ({ kernel: r.kernel, calls: r.calls / steps, ms: r.ms / steps }))
      .sort((a, b) => b.ms - a.ms);
    const products = backend === 'native' ? await productsByShape(step, steps) : undefined;
    return {
      step_ms: stepMs / steps,
      kernel_ms: kernelMs / steps,
      outside_ms: (stepMs - kernelMs) / steps,
      kernel_calls: calls / steps,
      kernels,
      ...(products === undefined ? {} : { products }),
    };
  } finally {
    dispose();
  }
}

/** Locates a Python with torch; returns its path or null. */
export function findTorchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

/** The environment PyTorch runs in: glibc kept from handing out a fresh mmap per large allocation (as DESIGN.md measured). */
export function torchEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: String(1 << 30),
    MALLOC_TRIM_THRESHOLD_: String(1 << 30),
  };
}

/** Prints a profile's top kernels and (native) its products by shape. */
export function logProfile(profile: StepProfile, log: (line: string) => void, top = 15): void {
  log(
    `bench: profile ${profile.step_ms.toFixed(2)} ms/step = ${profile.kernel_ms.toFixed(2)} ms in ` +
      `${profile.kernel_calls.toFixed(0)} kernels + ${profile.outside_ms.toFixed(2)} ms outside them`,
  );
  for (const r of profile.kernels.slice(0, top)) {
    log(
      `  ${r.kernel.padEnd(24)} ${r.calls.toFixed(0).padStart(4)} calls ${r.ms.toFixed(3).padStart(8)} ms`,
    );
  }
  if (profile.products) {
    const total = profile.products.reduce((t, r) => t + r.ms, 0);
    log(`bench: matrix products in place, ${total.toFixed(2)} ms/step (no tf.profile):`);
    for (const r of profile.products) {
      log(
        `  ${r.products.padEnd(44)} ${r.calls.toFixed(0).padStart(3)}x ${r.ms.toFixed(3).padStart(7)} ms ` +
          `${r.gflops.toFixed(0).padStart(5)} GFLOP/s`,
      );
    }
  }
}
