/**
 * A Bayesian neural network by mean-field variational inference on Boston
 * housing (ZhuSuan examples/bayesian_neural_nets/bnn_vi.py):
 *
 *   W_l ~ N(0, I) of shape [n_out, n_in + 1] (the bias a column, the input
 *   padded with ones), h_l = W_l [h_{l−1}; 1] / √(n_in + 1), ReLU between
 *   layers, one hidden layer of 50; y ~ N(h_L, σ_y²) with log σ_y learned.
 *
 * q is a fully factorised Normal (means 0, log-stds 0 at the start), trained
 * with the SGVB gradient of the ELBO (10 particles, Adam lr 0.01, batches of
 * 10, 500 epochs); the minibatch likelihood is scaled to the training set by
 * the model's own log joint, as ZhuSuan's `model.log_joint`. The predictions
 * are the mean over 5000 draws of q of the network's output, read from the
 * objective's model net (`lb.bn.get('y_mean')`, ZhuSuan's `lower_bound.bn`).
 * The UCI protocol: 20 random 90/10 splits, inputs and targets standardised
 * by the training split's statistics, test RMSE and test log-likelihood (in
 * the original units) as mean ± standard error over the splits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeAdam } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import {
  bnnModel,
  fillBatch,
  shuffle,
  testScores,
  uciBoston,
  weightNames,
  type SplitData,
} from './common/bnn.js';
import type { ExampleDefinition } from './common/run.js';

/** The hidden layers' widths. */
export const HIDDEN = [50];
/** Particles of the SGVB gradient. */
export const PARTICLES = 10;
/** Minibatch size. */
export const BATCH = 10;
const TEST_PARTICLES = 5000;

/**
 * The BNN of `layerSizes` and its fully factorised Normal q (means 0,
 * log-stds 0), with `step(xb, yb, m)`: one Adam (lr 0.01) step on the SGVB
 * gradient of the ELBO with {@link PARTICLES} particles on the first `m` rows
 * of the batch `xb` [≥m, d] / `yb`, the likelihood scaled to `nTrain` points.
 */
export function bnnViTrainer(layerSizes: number[], nTrain: number) {
  const d = layerSizes[0];
  const wNames = weightNames(layerSizes);
  const yLogstd = tf.tidy(() => tf.variable(tf.scalar(0)));
  const model = bnnModel(layerSizes, { wLogstd: wNames.map(() => 0), yLogstd, nTrain });
  const q = tf.tidy(() =>
    layerSizes.slice(1).map((nOut, i) => ({
      mean: tf.variable(tf.zeros([nOut, layerSizes[i] + 1])),
      logstd: tf.variable(tf.zeros([nOut, layerSizes[i] + 1])),
    })),
  );
  const variational = (nParticles: number) => {
    const bn = new zs.BayesianNet();
    q.forEach((p, i) =>
      bn.normal(wNames[i], p.mean, { logstd: p.logstd, groupNdims: 2, nSamples: nParticles }),
    );
    return bn;
  };
  const vars = [yLogstd, ...q.flatMap((p) => [p.mean, p.logstd])];
  const optimizer = makeAdam(0.01, tf.getBackend());
  const step = (xb: Float32Array, yb: Float32Array, m: number) =>
    optimizer.minimize(
      () => {
        const x = tf.tensor2d(xb.subarray(0, m * d), [m, d]);
        const y = tf.tensor1d(yb.subarray(0, m));
        const lb = zs.elbo(
          (obs) => model.observe(obs, x, PARTICLES),
          { y },
          {
            variational: variational(PARTICLES),
            axis: 0,
          },
        );
        return lb.sgvb() as tf.Scalar;
      },
      false,
      vars,
    );
  return { model, variational, vars, step, optimizer };
}

/** Fits q on one split; its test RMSE and log-likelihood. */
function fitSplit(
  { train, test, yStd, d }: SplitData,
  epochs: number,
): { rmse: number; ll: number } {
  const layerSizes = [d, ...HIDDEN, 1];
  const nTrain = train.y.length;
  const { model, variational, vars, step, optimizer } = bnnViTrainer(layerSizes, nTrain);
  const order = Uint32Array.from({ length: nTrain }, (_, i) => i);
  const words = zs.random.seedWords(zs.random.nextSeed());
  const xb = new Float32Array(BATCH * d);
  const yb = new Float32Array(BATCH);
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(order, words);
    for (let start = 0; start < nTrain; start += yb.length) {
      step(xb, yb, fillBatch(train, d, order, start, xb, yb));
    }
  }
  optimizer.dispose();
  // Test: the objective's model net under many draws of q (ZhuSuan's lower_bound.bn).
  const scores = tf.tidy(() => {
    const x = tf.tensor2d(test.x, [test.y.length, d]);
    const y = tf.tensor1d(test.y);
    const lb = zs.elbo(
      (obs) => model.observe(obs, x, TEST_PARTICLES),
      { y },
      {
        variational: variational(TEST_PARTICLES),
        axis: 0,
      },
    );
    return testScores(lb.bn, y, yStd);
  });
  tf.dispose(vars);
  return scores;
}

export const bnnVi: ExampleDefinition = {
  name: 'bnn_vi',
  model: 'BNN 13-50-1 (ReLU), Gaussian likelihood',
  inference: 'mean-field VI (SGVB, 10 particles, Adam 0.01, batch 10, 500 epochs)',
  dataset:
    "Boston housing (sklearn's copy in Debian's python3-sklearn 1.2.1), random 90/10 splits (20 unless --splits)",
  referenceSource:
    'Hernández-Lobato & Adams (2015), Table 2, VI: RMSE 4.32 ± 0.29, test LL −2.90 ± 0.07 (their PBP: 3.01, −2.57)',
  run({ quick, seed, splits, log }) {
    const epochs = quick ? 5 : 500;
    const metrics = uciBoston(splits ?? (quick ? 1 : 20), seed, (s) => fitSplit(s, epochs), log);
    return {
      metrics,
      reference: { test_rmse: 4.32, test_rmse_se: 0.29, test_ll: -2.9, test_ll_se: 0.07 },
    };
  },
};
