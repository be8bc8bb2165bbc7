/**
 * The Bayesian neural network of ZhuSuan's examples/bayesian_neural_nets,
 * and the UCI regression protocol its examples are scored by.
 *
 *   W_l ~ N(0, σ_l²) of shape [n_out, n_in + 1] (the bias a column, the input
 *   padded with ones), h_l = W_l [h_{l−1}; 1] / √(n_in + 1), ReLU between
 *   layers; y ~ N(h_L, exp(yLogstd)²).
 *
 * The minibatch's likelihood stands for the training set: the model's own log
 * joint is Σ_l log p(W_l) + N · mean_n log p(y_n | x_n, W) (ZhuSuan's
 * `model.log_joint`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadBoston, randomSplits, standardised, type Regression } from './data.js';

/** Names of the weight nodes, `w0`, `w1`, …. */
export function weightNames(layerSizes: readonly number[]): string[] {
  return layerSizes.slice(1).map((_, i) => `w${i}`);
}

/**
 * The BNN as a meta net of `(x [n, d], nParticles)`, with weight prior log-stds
 * `wLogstd[l]` (a number or a tensor of the weight's shape) and output
 * log-std `yLogstd`; its log joint scales the likelihood to `nTrain` points.
 */
export function bnnModel(
  layerSizes: readonly number[],
  opts: { wLogstd: (number | tf.Tensor)[]; yLogstd: number | tf.Tensor; nTrain: number },
): zs.MetaBayesianNet<[tf.Tensor2D, number]> {
  const names = weightNames(layerSizes);
  const model = zs.metaBayesianNet((bn: zs.BayesianNet, x: tf.Tensor2D, nParticles: number) => {
    // [1, n, d]: the first product broadcasts it against the particles'
    // weights [nParticles, ...] (as PyTorch's peer expands it), no copies.
    let h: tf.Tensor = tf.expandDims(x, 0);
    layerSizes.slice(1).forEach((nOut, i) => {
      const nIn = layerSizes[i];
      const w = bn.normal(names[i], tf.zeros([nOut, nIn + 1]), {
        logstd: opts.wLogstd[i],
        groupNdims: 2,
        nSamples: nParticles,
      });
      h = tf.concat([h, tf.ones([...h.shape.slice(0, -1), 1])], -1);
      h = tf.div(tf.matMul(h as tf.Tensor3D, w as tf.Tensor3D, false, true), Math.sqrt(nIn + 1));
      if (i < layerSizes.length - 2) h = tf.relu(h);
    });
    const yMean = bn.deterministic('y_mean', tf.squeeze(h, [2]));
    bn.normal('y', yMean, { logstd: opts.yLogstd });
  });
  model.logJoint = (bn) =>
    tf.add(
      tf.addN(names.map((n) => bn.localLogProb([n]))),
      tf.mul(tf.mean(bn.localLogProb(['y']), 1), opts.nTrain),
    );
  return model;
}

/**
 * Test RMSE and log-likelihood, in the targets' original units, of a model
 * net built on the test inputs with many draws of the weights: the RMSE of
 * the mean prediction over draws, and the mean over points of the log of the
 * mean likelihood over draws.
 */
export function testScores(
  bn: zs.BayesianNet,
  y: tf.Tensor1D,
  yStd: number,
): { rmse: number; ll: number } {
  return tf.tidy(() => {
    const pred = tf.mean(bn.get('y_mean'), 0);
    const sq = tf.mean(tf.square(tf.sub(pred, y))).dataSync()[0];
    const ll = tf.mean(zs.logMeanExp(bn.localLogProb(['y']), 0)).dataSync()[0];
    return { rmse: Math.sqrt(sq) * yStd, ll: ll - Math.log(yStd) };
  });
}

/** One split's standardised data. */
export interface SplitData {
  train: { x: Float32Array; y: Float32Array };
  test: { x: Float32Array; y: Float32Array };
  /** The training targets' standard deviation (the original units' scale). */
  yStd: number;
  d: number;
}

/** Mean, sample standard deviation (n − 1) and standard error (sd/√n). */
export function meanSe(v: readonly number[]): { mean: number; se: number; sd: number } {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean: m, se: sd / Math.sqrt(v.length), sd };
}

/**
 * The UCI protocol on Boston housing: `nSplits` random 90/10 splits (from
 * `seed`), each standardised by its training part and scored by `fit`;
 * returns the metrics as mean ± standard error over the splits.
 */
export function uciBoston(
  nSplits: number,
  seed: number,
  fit: (s: SplitData) => { rmse: number; ll: number },
  log: (line: string) => void,
): Record<string, number> {
  const data: Regression = loadBoston();
  const splits = randomSplits(data.n, nSplits, 0.1, seed);
  zs.random.setSeed(seed);
  const rmses: number[] = [];
  const lls: number[] = [];
  splits.forEach((split, s) => {
    const tr = standardised(data, split.train, split.train);
    const te = standardised(data, split.test, split.train);
    const r = fit({ train: tr, test: te, yStd: tr.yStd, d: data.d });
    rmses.push(r.rmse);
    lls.push(r.ll);
    log(`split ${s + 1}/${nSplits}: test RMSE ${r.rmse.toFixed(3)}, test LL ${r.ll.toFixed(3)}`);
  });
  const rm = meanSe(rmses);
  const l = meanSe(lls);
  return {
    test_rmse: rm.mean,
    test_rmse_se: rm.se,
    test_ll: l.mean,
    test_ll_se: l.se,
    splits: nSplits,
  };
}

/** Fills `xb`/`yb` with rows `order[start..start+m)` of a split's training part; returns m. */
export function fillBatch(
  train: { x: Float32Array; y: Float32Array },
  d: number,
  order: Uint32Array,
  start: number,
  xb: Float32Array,
  yb: Float32Array,
): number {
  const m = Math.min(yb.length, order.length - start);
  for (let k = 0; k < m; k++) {
    const r = order[start + k];
    xb.set(train.x.subarray(r * d, (r + 1) * d), k * d);
    yb[k] = train.y[r];
  }
  return m;
}

/** Shuffles `order` in place from the xoshiro state `words`. */
export function shuffle(order: Uint32Array, words: Uint32Array): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(zs.random.uniform53(words) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
}
