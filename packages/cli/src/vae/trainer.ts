/**
 * The training driver: epochs of shuffled, dynamically binarised minibatches,
 * one atomic checkpoint and one metrics line per epoch, exact resumption.
 * Every step runs in a tfjs scope; the driver hands back numbers only.
 *
 * An epoch is committed in this order: the weights are checked finite (and
 * their ELBO on the epoch's last batch), the checkpoint (carrying the metrics
 * history) replaces the old one, the metrics line is appended, then the
 * sample grid is written. Sample grids draw from a stream of their own,
 * seeded from (seed, epoch), so a grid never moves the training stream: a
 * run resumed from any checkpoint reproduces an uninterrupted one bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EpochMetrics, RunConfig, Vae } from '@zhusuan/vae';
import * as zs from 'zhusuan';
import { Rng } from '../rng.js';
import {
  CheckpointError,
  firstNonFinite,
  loadCheckpoint,
  maxCheckpointBytes,
  saveCheckpoint,
  type SavedTensor,
} from '../run/checkpoint.js';
import { appendMetrics, runFile } from '../run/files.js';
import { crashPoint } from '../run/io.js';
import { Interrupted, yieldToEvents, type StopSignal } from '../signals.js';
import { trainableVae } from './layers.js';
import { makeAdam, type AdamLike, type NamedTensor } from './optimizer.js';

/** Progress events, for a progress bar. */
export interface TrainHooks {
  onBatch?(info: {
    epoch: number;
    epochs: number;
    batch: number;
    batches: number;
    runningBound: number;
    epochElapsed: number;
  }): void;
  onEpoch?(m: EpochMetrics): void;
  /** Called with the decoded prior samples when a sample grid is due. */
  onSamples?(epoch: number, means: Float32Array, n: number): void;
}

/** Training data as float intensities in [0, 1], row-major [n, xDim]. */
export interface TrainData {
  x: Float32Array;
  n: number;
  xDim: number;
  /** Optional validation images, binarised once. */
  valid?: { x: Float32Array; n: number };
}

/** The learning rate in force during `epoch` (1-based). */
export function learningRateAt(cfg: RunConfig, epoch: number): number {
  const decays = cfg.lrDecayEvery > 0 ? Math.floor((epoch - 1) / cfg.lrDecayEvery) : 0;
  return cfg.lr * Math.pow(cfg.lrDecay, decays);
}

/** Fills `out` ([rows.length, xDim]) with a fresh Bernoulli draw of the selected rows. */
export function binarizeBatch(
  x: Float32Array,
  xDim: number,
  rows: ArrayLike<number>,
  rng: Rng,
  out: Float32Array,
): void {
  rng.bernoulliRows(x, xDim, rows, out);
}

/** Images in a sample grid. */
export const GRID_SAMPLES = 100;

/**
 * The seed of the stream epoch `epoch`'s sample grid draws from: a function
 * of the run's seed and the epoch only, so a grid is the same whenever (and
 * however often) it is drawn.
 */
export function gridSeed(seed: number, epoch: number): number {
  // splitmix32's finaliser over (seed, epoch), to 31 bits.
  let h = (Math.imul(seed ^ 0x67d1a5e3, 0x9e3779b1) + epoch) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 1;
}

/**
 * Runs `f` with the library's random stream seeded with `seed`, then puts the
 * stream back where it was: draws that must not move training's stream.
 */
export function withOwnStream<T>(seed: number, f: () => T): T {
  const saved = zs.random.getState();
  zs.random.setSeed(seed);
  try {
    return f();
  } finally {
    zs.random.setState(saved);
  }
}

/** Whether epoch `epoch` of a run aiming at `cfg.epochs` writes a sample grid. */
export function gridDue(cfg: Pick<RunConfig, 'sampleEvery' | 'epochs'>, epoch: number): boolean {
  return (cfg.sampleEvery > 0 && epoch % cfg.sampleEvery === 0) || epoch === cfg.epochs;
}

/** What survives a failed epoch: the checkpoint of `epoch`, or none. */
function keptCheckpoint(checkpoint: string, epoch: number): string {
  return epoch > 0 ? `${checkpoint} still holds epoch ${epoch}` : 'no checkpoint was written';
}

/** Why training stopped early: the signal, and the epochs the checkpoint holds. */
export class TrainingStopped extends Interrupted {
  override name = 'TrainingStopped';
  constructor(
    signal: StopSignal,
    readonly epoch: number,
    readonly batch: number,
    readonly safeEpoch: number,
    checkpoint: string,
  ) {
    super(
      `stopped by ${signal} in epoch ${epoch} after batch ${batch}; ` +
        (safeEpoch > 0
          ? `${checkpoint} holds epoch ${safeEpoch}, intact (continue with --resume)`
          : 'no epoch was completed, so there is no checkpoint to resume'),
      signal,
    );
  }
}

/** What a checkpoint restored besides the model and streams. */
export interface Restored {
  /** The metrics of every epoch it completed; undefined for a `ZSCK0001` checkpoint. */
  history?: EpochMetrics[];
  /** Whether its epoch's sample grid was due (undefined when not recorded). */
  gridDue?: boolean;
}

const isWord = (w: unknown) =>
  typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 0xffffffff;
const isWords = (v: unknown) => Array.isArray(v) && v.length === 4 && v.every(isWord);

/** A trainable VAE with its optimizer, RNG streams and progress counters. */
export class TrainingState {
  readonly vae: Vae<tf.Variable>;
  readonly optimizer: AdamLike;
  readonly dataRng: Rng;
  epoch = 0;
  step = 0;
  seconds = 0;
  /** Metrics of epochs 1..epoch, saved in every checkpoint. */
  history: EpochMetrics[] = [];

  constructor(
    readonly cfg: RunConfig,
    readonly backend: string,
  ) {
    zs.random.setSeed(cfg.seed);
    this.vae = trainableVae(cfg, cfg.seed);
    this.optimizer = makeAdam(cfg.lr, backend);
    this.dataRng = new Rng(cfg.seed ^ 0x5eed);
  }

  /** One optimizer step on a binarised batch; returns the batch-mean bound. */
  trainStep(batch: tf.Tensor2D): number {
    const { cfg, vae } = this;
    let bound: tf.Scalar | undefined;
    const cost = this.optimizer.minimize(
      () => {
        const o = vae.objective(batch, cfg.objective, cfg.particles);
        bound = tf.keep(o.bound);
        return o.cost;
      },
      true,
      vae.weights,
    );
    const value = bound!.dataSync()[0];
    bound!.dispose();
    cost?.dispose();
    this.step++;
    return value;
  }

  /**
   * Saves weights, optimizer slots, counters, RNG states and the metrics
   * history to `file` atomically.
   * @param opts.gridDue whether this epoch's sample grid is due (a resume redraws a lost one).
   * @param opts.beforeRename a crash-test hook (see `saveCheckpoint`).
   */
  async save(
    file: string,
    opts: { gridDue?: boolean; beforeRename?: () => void } = {},
  ): Promise<void> {
    const weights: SavedTensor[] = this.vae.weights.map((v, i) => ({
      name: this.vae.weightNames[i],
      shape: v.shape,
      data: v.dataSync() as Float32Array,
    }));
    const opt = await this.optimizer.getWeights();
    const iter = opt.find((w) => w.name === 'iter');
    const slots = opt.filter((w) => w.name !== 'iter');
    const optimizer: SavedTensor[] = slots.map((w, i) => ({
      name: `slot${i}`,
      shape: w.tensor.shape,
      data: w.tensor.dataSync() as Float32Array,
    }));
    saveCheckpoint(
      file,
      {
        epoch: this.epoch,
        step: this.step,
        weights,
        optimizer,
        history: this.history,
        state: {
          optimizerIterations: iter ? iter.tensor.dataSync()[0] : 0,
          zsRandom: zs.random.getState(),
          dataRng: this.dataRng.getState(),
          seconds: this.seconds,
          backend: this.backend,
          ...(opts.gridDue === undefined ? {} : { gridDue: opts.gridDue }),
        },
      },
      { beforeRename: opts.beforeRename },
    );
  }

  /**
   * Restores everything {@link save} wrote; checks names, shapes and the
   * saved state, naming the file. With `forTraining`, refuses a weights-only
   * checkpoint (no optimizer state to continue from); evaluation and
   * sampling accept one.
   */
  async restore(file: string, opts: { forTraining?: boolean } = {}): Promise<Restored> {
    const ck = loadCheckpoint(file, { maxBytes: maxCheckpointBytes(this.cfg) });
    if (opts.forTraining && ck.optimizer.length === 0) {
      throw new Error(
        `${file}: holds weights only, without the optimizer state training would continue from; ` +
          'it can be evaluated, sampled and viewed, not resumed (train a new run instead)',
      );
    }
    const vars = this.vae.weights;
    const names = this.vae.weightNames;
    if (ck.weights.length !== vars.length) {
      throw new Error(
        `${file}: has ${ck.weights.length} weight tensors, the model has ${vars.length}`,
      );
    }
    ck.weights.forEach((w, i) => {
      if (w.name !== names[i] || w.shape.join() !== vars[i].shape.join()) {
        throw new Error(
          `${file}: tensor ${i} is ${w.name} [${w.shape}], the model expects ${names[i]} [${vars[i].shape}]`,
        );
      }
    });
    if (ck.optimizer.length > 0 && ck.optimizer.length !== 2 * vars.length) {
      throw new CheckpointError(
        file,
        `has ${ck.optimizer.length} optimizer tensors, Adam keeps ${2 * vars.length}`,
      );
    }
    ck.optimizer.forEach((t, i) => {
      const v = vars[i % vars.length];
      if (t.shape.join() !== v.shape.join()) {
        throw new CheckpointError(
          file,
          `optimizer tensor ${t.name} is [${t.shape}], expected [${v.shape}]`,
        );
      }
    });
    const state = ck.state as {
      optimizerIterations?: unknown;
      zsRandom?: { s?: unknown };
      dataRng?: unknown;
      seconds?: unknown;
      gridDue?: unknown;
    };
    const bad = (what: string): never => {
      throw new CheckpointError(file, `corrupt state: ${what}`);
    };
    if (!isWords(state.zsRandom?.s)) bad("'zsRandom' must hold four uint32 words");
    if (!isWords(state.dataRng)) bad("'dataRng' must be four uint32 words");
    if (typeof state.seconds !== 'number' || !(state.seconds >= 0))
      bad("'seconds' must be a number ≥ 0");
    const iterations = state.optimizerIterations;
    if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 0) {
      bad("'optimizerIterations' must be an integer ≥ 0");
    }
    if (state.gridDue !== undefined && typeof state.gridDue !== 'boolean')
      bad("'gridDue' must be a boolean");

    ck.weights.forEach((w, i) => vars[i].assign(tf.tensor(w.data, w.shape)));
    if (ck.optimizer.length > 0) {
      const named: NamedTensor[] = [
        { name: 'iter', tensor: tf.scalar(iterations as number, 'int32') },
        ...ck.optimizer.map((t, i) => ({
          name: `${vars[i % vars.length].name}/${i < vars.length ? 'm' : 'v'}`,
          tensor: tf.tensor(t.data, t.shape),
        })),
      ];
      await this.optimizer.setWeights(named);
      for (const n of named) n.tensor.dispose();
    }
    zs.random.setState(state.zsRandom as ReturnType<typeof zs.random.getState>);
    this.dataRng.setState(state.dataRng as number[]);
    this.epoch = ck.epoch;
    this.step = ck.step;
    this.seconds = state.seconds as number;
    this.history = ck.history ?? [];
    return { history: ck.history, gridDue: state.gridDue as boolean | undefined };
  }

  /**
   * The sample grid of epoch `epoch`: x_mean for {@link GRID_SAMPLES} draws
   * of z from the prior, from the grid's own stream ({@link gridSeed}).
   */
  gridMeans(epoch: number): Float32Array {
    return withOwnStream(gridSeed(this.cfg.seed, epoch), () =>
      tf.tidy(() => this.vae.sample(GRID_SAMPLES).dataSync() as Float32Array),
    );
  }

  /**
   * Checks the weights after an epoch's last step: every value finite, and
   * the ELBO (1 particle, from a stream of its own) of the epoch's last
   * batch finite. Finite weights can still overflow to NaN.
   * @throws Error saying what diverged and which checkpoint stays intact.
   */
  checkHealthy(lastBatch: Float32Array, rows: number, epoch: number, checkpoint: string): void {
    const safe = `${keptCheckpoint(checkpoint, epoch - 1)}; try a smaller --lr`;
    this.vae.weights.forEach((v, i) => {
      const data = v.dataSync() as Float32Array;
      const at = firstNonFinite(data);
      if (at >= 0) {
        throw new Error(
          `training diverged in epoch ${epoch}: weight ${this.vae.weightNames[i]} is ${data[at]} after the last step; ${safe}`,
        );
      }
    });
    const elbo = withOwnStream(gridSeed(this.cfg.seed, epoch) ^ 0x3c6ef372, () =>
      tf.tidy(() => {
        const xb = tf.tensor2d(lastBatch, [rows, this.cfg.xDim]);
        return tf.mean(this.vae.elbo(xb)).dataSync()[0];
      }),
    );
    if (!Number.isFinite(elbo)) {
      throw new Error(
        `training diverged in epoch ${epoch}: the weights after its last step give an ELBO of ${elbo} on its last batch; ${safe}`,
      );
    }
  }

  /** Mean ELBO (1 particle) over binarised images, in batches. */
  meanElbo(x: Float32Array, n: number, batchSize = 500): number {
    const xDim = this.cfg.xDim;
    let sum = 0;
    for (let i = 0; i < n; i += batchSize) {
      const m = Math.min(batchSize, n - i);
      sum += tf.tidy(() => {
        const xb = tf.tensor2d(x.subarray(i * xDim, (i + m) * xDim), [m, xDim]);
        return tf.sum(this.vae.elbo(xb)).dataSync()[0];
      });
    }
    return sum / n;
  }

  /** Frees the model and optimizer. */
  dispose(): void {
    this.vae.dispose();
    this.optimizer.dispose();
  }
}

/** Options of {@link trainEpochs}. */
export interface TrainOptions {
  /** Aborted (reason: the signal's name) to stop after the current step. */
  signal?: AbortSignal;
}

/**
 * Runs epochs `state.epoch + 1 .. cfg.epochs`, committing each (checkpoint,
 * then its metrics line, then its grid when due). Returns the metrics of the
 * epochs it ran.
 * @throws TrainingStopped when `opts.signal` aborts (after the current step);
 *   Error when training diverges (nothing of that epoch is written).
 */
export async function trainEpochs(
  runDir: string,
  state: TrainingState,
  data: TrainData,
  hooks: TrainHooks = {},
  opts: TrainOptions = {},
): Promise<EpochMetrics[]> {
  const { cfg } = state;
  const { xDim, n } = data;
  const out: EpochMetrics[] = [];
  const order = new Uint32Array(n);
  const buf = new Float32Array(cfg.batchSize * xDim);
  const batches = Math.ceil(n / cfg.batchSize);
  const checkpoint = runFile(runDir, 'checkpoint');
  while (state.epoch < cfg.epochs) {
    const epoch = state.epoch + 1;
    const lr = learningRateAt(cfg, epoch);
    state.optimizer.setLearningRate(lr);
    for (let i = 0; i < n; i++) order[i] = i;
    state.dataRng.shuffle(order);
    const t0 = performance.now();
    let sum = 0;
    let lastRows = 0;
    for (let b = 0; b < batches; b++) {
      const rows = order.subarray(b * cfg.batchSize, Math.min(n, (b + 1) * cfg.batchSize));
      const xb = buf.subarray(0, rows.length * xDim);
      binarizeBatch(data.x, xDim, rows, state.dataRng, xb);
      lastRows = rows.length;
      const bound = tf.tidy(() => {
        const batch = tf.tensor2d(xb, [rows.length, xDim]);
        return state.trainStep(batch);
      });
      if (!Number.isFinite(bound)) {
        throw new Error(
          `training diverged at epoch ${epoch}, batch ${b + 1}: the bound is ${bound}; ` +
            `${keptCheckpoint(checkpoint, epoch - 1)}; try a smaller --lr`,
        );
      }
      sum += bound * rows.length;
      hooks.onBatch?.({
        epoch,
        epochs: cfg.epochs,
        batch: b + 1,
        batches,
        runningBound: sum / Math.min(n, (b + 1) * cfg.batchSize),
        epochElapsed: (performance.now() - t0) / 1000,
      });
      if (opts.signal !== undefined) {
        await yieldToEvents(); // lets a SIGINT/SIGTERM handler run
        if (opts.signal.aborted) {
          throw new TrainingStopped(
            opts.signal.reason as StopSignal,
            epoch,
            b + 1,
            state.epoch,
            checkpoint,
          );
        }
      }
    }
    crashPoint('steps-done', epoch);
    const epochSeconds = (performance.now() - t0) / 1000;
    state.checkHealthy(buf.subarray(0, lastRows * xDim), lastRows, epoch, checkpoint);
    const m: EpochMetrics = {
      epoch,
      train_elbo: sum / n,
      epoch_seconds: epochSeconds,
      seconds: state.seconds + epochSeconds,
      steps: state.step,
      lr,
      backend: state.backend,
      objective: cfg.objective,
    };
    if (data.valid) {
      m.valid_elbo = state.meanElbo(data.valid.x, data.valid.n);
    }
    // The checkpoint (with this epoch's metrics in its history) first, then
    // the metrics line: a crash between the two loses nothing, as a resume
    // restores the line from the checkpoint.
    const due = gridDue(cfg, epoch);
    state.epoch = epoch;
    state.seconds += epochSeconds;
    state.history.push(m);
    await state.save(checkpoint, {
      gridDue: due,
      beforeRename: () => crashPoint('checkpoint-written', epoch),
    });
    crashPoint('checkpoint-renamed', epoch);
    appendMetrics(runDir, m, { midway: () => crashPoint('metrics-torn', epoch) });
    crashPoint('metrics-appended', epoch);
    if (hooks.onSamples && due) hooks.onSamples(epoch, state.gridMeans(epoch), GRID_SAMPLES);
    hooks.onEpoch?.(m);
    out.push(m);
  }
  return out;
}
