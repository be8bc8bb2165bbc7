/**
 * The training driver: epochs of shuffled, dynamically binarised minibatches,
 * one metrics line and one atomic checkpoint per epoch, exact resumption.
 * Every step runs in a tfjs scope; the driver hands back numbers only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EpochMetrics, RunConfig, Vae } from '@zhusuan/vae';
import * as zs from 'zhusuan';
import { Rng } from '../rng.js';
import { loadCheckpoint, saveCheckpoint, type SavedTensor } from '../run/checkpoint.js';
import { appendMetrics, runFile } from '../run/files.js';
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
  for (let r = 0; r < rows.length; r++) rng.bernoulli(x, rows[r] * xDim, xDim, out, r * xDim);
}

/** A trainable VAE with its optimizer, RNG streams and progress counters. */
export class TrainingState {
  readonly vae: Vae<tf.Variable>;
  readonly optimizer: AdamLike;
  readonly dataRng: Rng;
  epoch = 0;
  step = 0;
  seconds = 0;

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

  /** Saves weights, optimizer slots, counters and RNG states to `file` atomically. */
  async save(file: string): Promise<void> {
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
    saveCheckpoint(file, {
      epoch: this.epoch,
      step: this.step,
      weights,
      optimizer,
      state: {
        optimizerIterations: iter ? iter.tensor.dataSync()[0] : 0,
        zsRandom: zs.random.getState(),
        dataRng: this.dataRng.getState(),
        seconds: this.seconds,
        backend: this.backend,
      },
    });
  }

  /**
   * Restores everything {@link save} wrote; checks names and shapes. With
   * `forTraining`, refuses a weights-only checkpoint (no optimizer state to
   * continue from); evaluation and sampling accept one.
   */
  async restore(file: string, opts: { forTraining?: boolean } = {}): Promise<void> {
    const ck = loadCheckpoint(file);
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
      vars[i].assign(tf.tensor(w.data, w.shape));
    });
    const state = ck.state as {
      optimizerIterations: number;
      zsRandom: unknown;
      dataRng: number[];
      seconds: number;
    };
    if (ck.optimizer.length > 0) {
      const named: NamedTensor[] = [
        { name: 'iter', tensor: tf.scalar(state.optimizerIterations, 'int32') },
        ...ck.optimizer.map((t, i) => ({
          name: `${vars[i % vars.length].name}/${i < vars.length ? 'm' : 'v'}`,
          tensor: tf.tensor(t.data, t.shape),
        })),
      ];
      await this.optimizer.setWeights(named);
      for (const n of named) n.tensor.dispose();
    }
    zs.random.setState(state.zsRandom as ReturnType<typeof zs.random.getState>);
    this.dataRng.setState(state.dataRng);
    this.epoch = ck.epoch;
    this.step = ck.step;
    this.seconds = state.seconds;
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

/**
 * Runs epochs `state.epoch + 1 .. cfg.epochs`, appending to `metrics.jsonl` and
 * checkpointing after each epoch. Returns the metrics of the epochs it ran.
 */
export async function trainEpochs(
  runDir: string,
  state: TrainingState,
  data: TrainData,
  hooks: TrainHooks = {},
): Promise<EpochMetrics[]> {
  const { cfg } = state;
  const { xDim, n } = data;
  const out: EpochMetrics[] = [];
  const order = new Uint32Array(n);
  const buf = new Float32Array(cfg.batchSize * xDim);
  const batches = Math.ceil(n / cfg.batchSize);
  while (state.epoch < cfg.epochs) {
    const epoch = state.epoch + 1;
    const lr = learningRateAt(cfg, epoch);
    state.optimizer.setLearningRate(lr);
    for (let i = 0; i < n; i++) order[i] = i;
    state.dataRng.shuffle(order);
    const t0 = performance.now();
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      const rows = order.subarray(b * cfg.batchSize, Math.min(n, (b + 1) * cfg.batchSize));
      const xb = buf.subarray(0, rows.length * xDim);
      binarizeBatch(data.x, xDim, rows, state.dataRng, xb);
      const bound = tf.tidy(() => {
        const batch = tf.tensor2d(xb, [rows.length, xDim]);
        return state.trainStep(batch);
      });
      if (!Number.isFinite(bound)) {
        throw new Error(
          `training diverged at epoch ${epoch}, batch ${b + 1}: the bound is ${bound}`,
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
    }
    const epochSeconds = (performance.now() - t0) / 1000;
    state.epoch = epoch;
    state.seconds += epochSeconds;
    const m: EpochMetrics = {
      epoch,
      train_elbo: sum / n,
      epoch_seconds: epochSeconds,
      seconds: state.seconds,
      steps: state.step,
      lr,
      backend: state.backend,
      objective: cfg.objective,
    };
    if (data.valid) {
      m.valid_elbo = state.meanElbo(data.valid.x, data.valid.n);
    }
    // Checkpoint first, then the metrics line: on resume, lines past the
    // checkpoint's epoch are dropped, so the two never disagree.
    await state.save(runFile(runDir, 'checkpoint'));
    appendMetrics(runDir, m);
    const due = (cfg.sampleEvery > 0 && epoch % cfg.sampleEvery === 0) || epoch === cfg.epochs;
    if (hooks.onSamples && due) {
      const s = state.vae.sample(100);
      hooks.onSamples(epoch, s.dataSync() as Float32Array, 100);
      s.dispose();
    }
    hooks.onEpoch?.(m);
    out.push(m);
  }
  return out;
}
