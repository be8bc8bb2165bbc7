/**
 * The MNIST VAE examples' models (vae_conv, vae_nf, iwae): a VAE with
 * continuous latents given as a generative meta net and a proposal of
 * samples with their log density, its training objective through the
 * library's `latent: { z: [samples, logQ] }`, its evaluation model, and the
 * epoch loop of `zhusuan train` over the plumbing of `./mnist.js`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeAdam, prepareOptimizers, type IsModel } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import {
  GRID_SAMPLES,
  Minibatches,
  lastTenthGain,
  meanOverBatches,
  minimizeStep,
  runEpoch,
  fitWithValidation,
  type FitResult,
  type MnistPart,
  type TestScores,
} from './mnist.js';

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
  const step: TrainStep = (batch) => minimizeStep(optimizer, vars, () => objective(batch));
  return { step, dispose: () => optimizer.dispose() };
}

/** Mean ELBO (1 particle) over binarised images, in batches of `batch`. */
export function meanElbo(m: IsModel, x: Float32Array, n: number, batch = 250): number {
  return meanOverBatches((xb) => m.elbo(xb), x, n, batch);
}

/**
 * Trains for `epochs` epochs of batches in `zhusuan train`'s order, each
 * binarised afresh (dynamic binarisation) from a stream of its own seeded
 * from `seed`; the validation ELBO before training and after each epoch.
 * The last epoch's weights are kept, or, given `variables`, those of the
 * epoch with the best validation ELBO.
 * @throws Error naming the model and batch where the bound stops being finite.
 */
export function fitEpochs(opts: {
  label: string;
  train: MnistPart;
  /** Validation images, binarised once. */
  valid: { x: Float32Array; n: number };
  epochs: number;
  batchSize: number;
  seed: number;
  step: TrainStep;
  model: IsModel;
  /** The weights to put back to the best epoch's values (default: keep the last epoch's). */
  variables?: tf.Variable[];
  log(line: string): void;
}): FitResult {
  const batches = new Minibatches(opts.train, opts.batchSize, opts.seed, { trainerOrder: true });
  const epoch = () =>
    runEpoch(batches, (b) => {
      const x = batches.binarized(b);
      const bound = opts.step(x);
      x.dispose();
      return bound;
    });
  return fitWithValidation({
    epochs: opts.epochs,
    variables: opts.variables,
    label: opts.label,
    log: opts.log,
    trainName: 'bound',
    validName: 'ELBO',
    validate: () => meanElbo(opts.model, opts.valid.x, opts.valid.n),
    epoch: () => {
      try {
        return epoch();
      } catch (e) {
        throw new Error(`${opts.label}: ${(e as Error).message}`);
      }
    },
  });
}

/** sigmoid(x_logits) of {@link GRID_SAMPLES} draws of z from the prior, [100, 784]. */
export function priorMeans(model: zs.MetaBayesianNet<[number, number]>): Float32Array {
  return tf.tidy(
    () =>
      tf
        .sigmoid(tf.squeeze(model.observe({}, GRID_SAMPLES, 1).get('x_logits'), [0]))
        .dataSync() as Float32Array,
  );
}

/**
 * The figures every MNIST VAE example reports for its model: the test
 * scores, and its validation curve's end, start (untrained), last-tenth gain
 * and mean seconds per epoch.
 */
export function runMetrics(test: TestScores, fit: FitResult): Record<string, number> {
  const { curve } = fit;
  const epochs = curve.length;
  return {
    test_ll: test.ll,
    test_ll_stderr: test.llStderr,
    test_elbo: test.elbo,
    valid_elbo: curve[epochs - 1].valid,
    untrained_valid_elbo: fit.untrained,
    valid_elbo_last_tenth_gain: lastTenthGain(fit),
    epochs,
    seconds_per_epoch: curve.reduce((a, r) => a + r.seconds, 0) / epochs,
  };
}
