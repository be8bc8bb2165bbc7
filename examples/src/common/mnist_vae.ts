/**
 * The MNIST VAE examples' shared plumbing (vae_conv, vae_nf, iwae): MNIST
 * from the IDX files with a validation split carved from the training set,
 * the test set binarised once (opened only for the final evaluation), an
 * epoch loop over dynamically binarised batches, the importance-sampling
 * evaluation of `zhusuan eval` for any model with a proposal, and the PNGs
 * (prior samples, validation curves).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Rng,
  binarizeBatch,
  evaluateModel,
  evaluationImages,
  imageGrid,
  linePlot,
  loadDataset,
  makeAdam,
  prepareOptimizers,
  trainValidSplit,
  type Image,
  type IsModel,
} from '@zhusuan/cli';
import * as zs from 'zhusuan';

/** Training images (intensities in [0, 1]) and validation images (binarised once). */
export interface MnistSplits {
  train: { x: Float32Array; n: number };
  valid: { x: Float32Array; n: number };
  rows: number;
  cols: number;
  xDim: number;
}

/**
 * MNIST's training file split into `nValid` validation images (binarised
 * once, seed + 1, as `zhusuan train --validation`) and the rest for training,
 * of which the first `nTrain` are kept (all by default). Opens no test file.
 */
export function loadMnistSplits(opts: {
  nValid: number;
  nTrain?: number;
  seed: number;
}): MnistSplits {
  const data = loadDataset('mnist', { split: 'train' });
  const xDim = data.rows * data.cols;
  const s = trainValidSplit(data.images, data.n, xDim, opts.nValid, opts.seed);
  const nTrain = Math.min(opts.nTrain ?? s.train.n, s.train.n);
  return {
    train: { x: s.train.x.subarray(0, nTrain * xDim), n: nTrain },
    valid: s.valid!,
    rows: data.rows,
    cols: data.cols,
    xDim,
  };
}

/** The first `limit` test images, binarised once with the run format's seed (as `zhusuan eval`). */
export function loadMnistTest(limit?: number): { x: Float32Array; n: number } {
  const t = evaluationImages(
    { dataset: 'mnist', xDim: 784, validation: 0, seed: 0 },
    'test',
    'mnist',
    limit,
  );
  return { x: t.x, n: t.n };
}

/**
 * A VAE as the examples build it: the generative model p(x, z) as a meta net
 * of `(n, nParticles)` with nodes `z`, `x_logits` and `x`, and a proposal
 * giving samples of z with their log density (q itself, or a flow on it).
 */
export interface LatentVae {
  readonly xDim: number;
  readonly model: zs.MetaBayesianNet<[number, number]>;
  /** `k` draws of z ~ q(z | x) ([k, n, zDim]) and log q of each ([k, n]), for x [n, xDim]. */
  posterior(x: tf.Tensor2D, k: number): { z: tf.Tensor; logQ: tf.Tensor };
}

/** log p(x, z) − log q(z | x) for `k` draws of the proposal, shape [k, n]. */
function logWeights(m: LatentVae, x: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { z, logQ } = m.posterior(x, k);
    return tf.sub(m.model.observe({ x, z }, x.shape[0], k).logJoint(), logQ) as tf.Tensor2D;
  });
}

/** A {@link LatentVae} as the evaluation's {@link IsModel}. */
export function latentIsModel(m: LatentVae): IsModel {
  return {
    xDim: m.xDim,
    elbo: (x) => tf.tidy(() => tf.squeeze(logWeights(m, x, 1), [0]) as tf.Tensor1D),
    logImportanceWeights: (x, k) => logWeights(m, x, k),
  };
}

/**
 * The training objective of a {@link LatentVae} on a batch: the ELBO with
 * `k` particles or the K-sample importance-weighted bound, through the
 * library's objectives with `latent: { z: [samples, logQ] }` (ZhuSuan's
 * vae_nf.py). Returns the SGVB surrogate cost and the bound, batch means.
 */
export function latentObjective(
  m: LatentVae,
  x: tf.Tensor2D,
  kind: 'elbo' | 'iwae',
  k: number,
): { cost: tf.Scalar; bound: tf.Scalar } {
  const { z, logQ } = m.posterior(x, k);
  const model = (obs: Record<string, tf.Tensor>) => m.model.observe(obs, x.shape[0], k);
  const opts = { latent: { z: [z, logQ] as [tf.Tensor, tf.Tensor] }, axis: 0 };
  const lb =
    kind === 'elbo'
      ? zs.elbo(model, { x }, opts)
      : zs.importanceWeightedObjective(model, { x }, opts);
  return { cost: tf.mean(lb.sgvb()), bound: tf.mean(lb.tensor) };
}

/** An optimizer step: minimises `objective(batch).cost` over `vars`; returns the bound. */
export type TrainStep = (batch: tf.Tensor2D) => number;

/**
 * Adam (the native backend's fused one when that backend runs, as `zhusuan
 * train`) over `vars`, as a {@link TrainStep} of `objective`.
 */
export async function adamStep(
  lr: number,
  backend: string,
  vars: tf.Variable[],
  objective: (x: tf.Tensor2D) => { cost: tf.Scalar; bound: tf.Scalar },
): Promise<{ step: TrainStep; dispose(): void }> {
  await prepareOptimizers();
  const optimizer = makeAdam(lr, backend);
  const step: TrainStep = (batch) => {
    let bound: tf.Scalar | undefined;
    tf.tidy(() => {
      optimizer.minimize(
        () => {
          const o = objective(batch);
          bound = tf.keep(o.bound);
          return o.cost;
        },
        false,
        vars,
      );
    });
    const v = bound!.dataSync()[0];
    bound!.dispose();
    return v;
  };
  return { step, dispose: () => optimizer.dispose() };
}

/** One epoch of a training curve (epoch 0: before training). */
export interface EpochRecord {
  epoch: number;
  /** Mean training bound over the epoch's batches (NaN for epoch 0). */
  trainBound: number;
  /** Mean ELBO (1 particle) of the validation images. */
  validElbo: number;
  seconds: number;
}

/** Mean ELBO (1 particle) over binarised images, in batches of `batch`. */
export function meanElbo(m: IsModel, x: Float32Array, n: number, batch = 250): number {
  let sum = 0;
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    sum += tf.tidy(
      () =>
        tf
          .sum(m.elbo(tf.tensor2d(x.subarray(i * m.xDim, (i + b) * m.xDim), [b, m.xDim])))
          .dataSync()[0],
    );
  }
  return sum / n;
}

/**
 * Trains for `epochs` epochs of shuffled batches, each binarised afresh
 * (dynamic binarisation) from a stream of its own seeded with `seed`; the
 * validation ELBO before training and after each epoch.
 * @throws Error naming the model and epoch where the bound stops being finite.
 */
export function fitEpochs(opts: {
  label: string;
  data: MnistSplits;
  epochs: number;
  batchSize: number;
  seed: number;
  step: TrainStep;
  model: IsModel;
  log(line: string): void;
}): EpochRecord[] {
  const { data, batchSize } = opts;
  const { xDim } = data;
  const n = data.train.n;
  const rng = new Rng(opts.seed ^ 0x5eed);
  const order = new Uint32Array(n);
  const buf = new Float32Array(batchSize * xDim);
  const valid = () => meanElbo(opts.model, data.valid.x, data.valid.n);
  const curve: EpochRecord[] = [{ epoch: 0, trainBound: NaN, validElbo: valid(), seconds: 0 }];
  opts.log(`${opts.label}: untrained validation ELBO ${curve[0].validElbo.toFixed(2)}`);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) order[i] = i;
    rng.shuffle(order);
    let sum = 0;
    for (let start = 0; start < n; start += batchSize) {
      const rows = order.subarray(start, Math.min(n, start + batchSize));
      const xb = buf.subarray(0, rows.length * xDim);
      binarizeBatch(data.train.x, xDim, rows, rng, xb);
      const bound = tf.tidy(() => opts.step(tf.tensor2d(xb, [rows.length, xDim])));
      if (!Number.isFinite(bound)) {
        throw new Error(
          `${opts.label}: the training bound is ${bound} in epoch ${epoch}; try a smaller learning rate`,
        );
      }
      sum += bound * rows.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    const r = { epoch, trainBound: sum / n, validElbo: valid(), seconds };
    curve.push(r);
    opts.log(
      `${opts.label}: epoch ${epoch}/${opts.epochs} (${seconds.toFixed(1)} s): train bound ${r.trainBound.toFixed(2)}, validation ELBO ${r.validElbo.toFixed(2)}`,
    );
  }
  return curve;
}

/**
 * The validation ELBO's gain over the last tenth of the epochs (at least
 * one): how far from convergence a run stopped.
 */
export function lastTenthGain(curve: readonly EpochRecord[]): number {
  const last = curve[curve.length - 1];
  const back = Math.max(1, Math.round((curve.length - 1) / 10));
  return last.validElbo - curve[curve.length - 1 - back].validElbo;
}

/**
 * Test ELBO (1 particle) and IS log-likelihood with `particles` particles,
 * with `zhusuan eval`'s numbers and standard error.
 */
export function testScores(
  m: IsModel,
  test: { x: Float32Array; n: number },
  particles: number,
  opts: { chunkRows?: number; log?(line: string): void } = {},
): { elbo: number; ll: number; llStderr: number } {
  const r = evaluateModel(m, test.x, test.n, { particles, chunkRows: opts.chunkRows });
  opts.log?.(
    `test ELBO ${r.test_elbo.toFixed(2)}, IS log-likelihood (K = ${particles}) ${r.test_ll.toFixed(2)} ± ${r.test_ll_stderr.toFixed(3)} (${r.seconds.toFixed(0)} s)`,
  );
  return { elbo: r.test_elbo, ll: r.test_ll, llStderr: r.test_ll_stderr };
}

/** Images in a sample grid. */
export const GRID_SAMPLES = 100;

/** A grid of sigmoid(x_logits) for {@link GRID_SAMPLES} draws of z from the prior. */
export function priorSampleGrid(
  model: zs.MetaBayesianNet<[number, number]>,
  rows = 28,
  cols = 28,
): Image {
  const means = tf.tidy(
    () =>
      tf
        .sigmoid(tf.squeeze(model.observe({}, GRID_SAMPLES, 1).get('x_logits'), [0]))
        .dataSync() as Float32Array,
  );
  return imageGrid(means, GRID_SAMPLES, rows, cols);
}

/** Colours of the curves, in the order the examples list their models. */
export const CURVE_COLOURS: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [148, 103, 189],
  [255, 127, 14],
];

/** The validation ELBO per epoch of each curve, one colour each ({@link CURVE_COLOURS}). */
export function curvesPlot(curves: readonly EpochRecord[][]): Image {
  return linePlot(
    curves.map((c, i) => ({
      x: c.slice(1).map((r) => r.epoch),
      y: c.slice(1).map((r) => r.validElbo),
      rgb: CURVE_COLOURS[i % CURVE_COLOURS.length] as [number, number, number],
      dots: c.length < 4,
    })),
  );
}

/**
 * The figures every MNIST VAE example reports for its model: the test
 * scores, and its validation curve's end, start (untrained), last-tenth gain
 * and mean seconds per epoch.
 */
export function runMetrics(
  test: { elbo: number; ll: number; llStderr: number },
  curve: readonly EpochRecord[],
): Record<string, number> {
  const epochs = curve.length - 1;
  return {
    test_ll: test.ll,
    test_ll_stderr: test.llStderr,
    test_elbo: test.elbo,
    valid_elbo: curve[epochs].validElbo,
    untrained_valid_elbo: curve[0].validElbo,
    valid_elbo_last_tenth_gain: lastTenthGain(curve),
    epochs,
    seconds_per_epoch: curve.slice(1).reduce((a, r) => a + r.seconds, 0) / epochs,
  };
}
