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
import * as zs from 'zhusuan';
import { loadBoston, randomSplits, standardised } from './common/data.js';
import type { ExampleDefinition } from './common/run.js';

const HIDDEN = [50];

/** One split's test RMSE and log-likelihood, in the targets' original units. */
function fitSplit(
  train: { x: Float32Array; y: Float32Array },
  test: { x: Float32Array; y: Float32Array; yStd: number },
  d: number,
  epochs: number,
): { rmse: number; ll: number } {
  const layerSizes = [d, ...HIDDEN, 1];
  const wNames = layerSizes.slice(1).map((_, i) => `w${i}`);
  const nTrain = train.y.length;
  const yLogstd = tf.variable(tf.scalar(0));
  const model = zs.metaBayesianNet((bn: zs.BayesianNet, x: tf.Tensor2D, nParticles: number) => {
    let h: tf.Tensor = tf.tile(tf.expandDims(x, 0), [nParticles, 1, 1]);
    layerSizes.slice(1).forEach((nOut, i) => {
      const nIn = layerSizes[i];
      const w = bn.normal(wNames[i], tf.zeros([nOut, nIn + 1]), {
        std: 1,
        groupNdims: 2,
        nSamples: nParticles,
      });
      h = tf.concat([h, tf.ones([...h.shape.slice(0, -1), 1])], -1);
      h = tf.div(tf.matMul(h as tf.Tensor3D, w as tf.Tensor3D, false, true), Math.sqrt(nIn + 1));
      if (i < layerSizes.length - 2) h = tf.relu(h);
    });
    const yMean = bn.deterministic('y_mean', tf.squeeze(h, [2]));
    bn.normal('y', yMean, { logstd: yLogstd });
  });
  // The minibatch's likelihood stands for the whole training set.
  model.logJoint = (bn) =>
    tf.add(
      tf.addN(wNames.map((n) => bn.localLogProb([n]))),
      tf.mul(tf.mean(bn.localLogProb(['y']), 1), nTrain),
    );

  const q = layerSizes.slice(1).map((nOut, i) => ({
    mean: tf.variable(tf.zeros([nOut, layerSizes[i] + 1])),
    logstd: tf.variable(tf.zeros([nOut, layerSizes[i] + 1])),
  }));
  const variational = (nParticles: number) => {
    const bn = new zs.BayesianNet();
    q.forEach((p, i) =>
      bn.normal(wNames[i], p.mean, { logstd: p.logstd, groupNdims: 2, nSamples: nParticles }),
    );
    return bn;
  };
  const vars = [yLogstd, ...q.flatMap((p) => [p.mean, p.logstd])];
  const optimizer = tf.train.adam(0.01);
  const batchSize = 10;
  const order = Uint32Array.from({ length: nTrain }, (_, i) => i);
  const words = zs.random.seedWords(zs.random.nextSeed());
  const xb = new Float32Array(batchSize * d);
  const yb = new Float32Array(batchSize);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = nTrain - 1; i > 0; i--) {
      const j = Math.floor(zs.random.uniform53(words) * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < nTrain; start += batchSize) {
      const m = Math.min(batchSize, nTrain - start);
      for (let k = 0; k < m; k++) {
        const r = order[start + k];
        xb.set(train.x.subarray(r * d, (r + 1) * d), k * d);
        yb[k] = train.y[r];
      }
      optimizer.minimize(
        () => {
          const x = tf.tensor2d(xb.subarray(0, m * d), [m, d]);
          const y = tf.tensor1d(yb.subarray(0, m));
          const lb = zs.elbo(
            (obs) => model.observe(obs, x, 10),
            { y },
            {
              variational: variational(10),
              axis: 0,
            },
          );
          return lb.sgvb() as tf.Scalar;
        },
        false,
        vars,
      );
    }
  }
  optimizer.dispose();

  // Test: 5000 draws of q; RMSE of the predictive mean, log-mean-exp of the likelihoods.
  const nTest = test.y.length;
  const { sqErr, ll } = tf.tidy(() => {
    const x = tf.tensor2d(test.x, [nTest, d]);
    const y = tf.tensor1d(test.y);
    const lb = zs.elbo(
      (obs) => model.observe(obs, x, 5000),
      { y },
      {
        variational: variational(5000),
        axis: 0,
      },
    );
    const pred = tf.mean(lb.bn.get('y_mean'), 0);
    const logPy = lb.bn.localLogProb(['y']); // [5000, nTest]
    return {
      sqErr: tf.mean(tf.square(tf.sub(pred, y))).dataSync()[0],
      ll: tf.mean(zs.logMeanExp(logPy, 0)).dataSync()[0],
    };
  });
  tf.dispose(vars);
  return { rmse: Math.sqrt(sqErr) * test.yStd, ll: ll - Math.log(test.yStd) };
}

const meanSe = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean: m, se: sd / Math.sqrt(v.length) };
};

export const bnnVi: ExampleDefinition = {
  name: 'bnn_vi',
  model: 'BNN 13-50-1 (ReLU), Gaussian likelihood',
  inference: 'mean-field VI (SGVB, 10 particles, Adam 0.01, batch 10, 500 epochs)',
  dataset: "Boston housing (sklearn's copy in Debian's python3-sklearn 1.2.1), 20 splits 90/10",
  referenceSource:
    'Hernández-Lobato & Adams (2015), Table 2, VI: RMSE 4.32 ± 0.29, test LL −2.90 ± 0.07 (their PBP: 3.01, −2.57)',
  run({ quick, seed, log }) {
    const data = loadBoston();
    const nSplits = quick ? 1 : 20;
    const epochs = quick ? 5 : 500;
    const splits = randomSplits(data.n, nSplits, 0.1, seed);
    zs.random.setSeed(seed);
    const rmses: number[] = [];
    const lls: number[] = [];
    splits.forEach((split, s) => {
      const tr = standardised(data, split.train, split.train);
      const te = standardised(data, split.test, split.train);
      const r = fitSplit(tr, { ...te, yStd: tr.yStd }, data.d, epochs);
      rmses.push(r.rmse);
      lls.push(r.ll);
      log(`split ${s + 1}/${nSplits}: test RMSE ${r.rmse.toFixed(3)}, test LL ${r.ll.toFixed(3)}`);
    });
    const rm = meanSe(rmses);
    const l = meanSe(lls);
    return {
      metrics: {
        test_rmse: rm.mean,
        test_rmse_se: rm.se,
        test_ll: l.mean,
        test_ll_se: l.se,
        splits: nSplits,
      },
      reference: { test_rmse: 4.32, test_rmse_se: 0.29, test_ll: -2.9, test_ll_se: 0.07 },
    };
  },
};
