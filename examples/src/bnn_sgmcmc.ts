/**
 * The Bayesian neural network of bnn_vi, sampled by stochastic-gradient MCMC
 * (ZhuSuan examples/bayesian_neural_nets/bnn_sgmcmc.py, on Boston housing
 * instead of the protein data, which is not available offline): 20 chains
 * started uniformly on [−2, 2], minibatches of 100, 500 epochs, the output
 * noise fixed at log σ_y = −0.95 and the weights' prior log-stds re-estimated
 * after each epoch from the chains (ZhuSuan's M step,
 * log σ = ½ log mean_chains(w²)). Two samplers, ZhuSuan's settings: SGHMC
 * (η = 2e-6, friction 0.2, momentum resampled every 1000 steps, second
 * order) and SGLD (η = 4e-6). The prediction is the mean over the 20 chains
 * after the last epoch; the test log-likelihood is that of the mixture of the
 * chains' predictive Gaussians. The UCI protocol: 20 random 90/10 splits.
 */
import * as tf from '@tensorflow/tfjs-core';
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

const HIDDEN = [50];
/** Chains. */
export const CHAINS = 20;
/** The output noise's log-std, fixed. */
export const Y_LOGSTD = -0.95;
/** Minibatch size. */
export const SG_BATCH = 100;

type SamplerName = 'sghmc' | 'sgld';

/** The sampler with ZhuSuan's settings. */
export function makeSampler(name: SamplerName): zs.SGHMC | zs.SGLD {
  return name === 'sghmc'
    ? new zs.SGHMC({ learningRate: 2e-6, friction: 0.2, nIterResampleV: 1000, secondOrder: true })
    : new zs.SGLD({ learningRate: 4e-6 });
}

/**
 * The chains of the BNN of `layerSizes`: weights uniform on [−2, 2] per chain
 * (`latent`, by weight name), the prior's log-stds (0; the M step updates
 * them) and the model on `nTrain` points.
 */
export function bnnChains(layerSizes: number[], nTrain: number) {
  const names = weightNames(layerSizes);
  const latent: Record<string, tf.Variable> = {};
  const logstds = tf.tidy(() =>
    layerSizes.slice(1).map((nOut, i) => {
      latent[names[i]] = tf.variable(
        zs.seededUniform([CHAINS, nOut, layerSizes[i] + 1], zs.random.nextSeed(), -2, 2),
      );
      return tf.variable(tf.zeros([nOut, layerSizes[i] + 1]));
    }),
  );
  const model = bnnModel(layerSizes, { wLogstd: logstds, yLogstd: Y_LOGSTD, nTrain });
  return { latent, logstds, model };
}

/** One sampler step on the first `m` rows of the batch `xb` [≥m, d] / `yb`. */
export function sgmcmcStep(
  s: zs.SGHMC | zs.SGLD,
  model: zs.MetaBayesianNet<[tf.Tensor2D, number]>,
  latent: Record<string, tf.Variable>,
  xb: Float32Array,
  yb: Float32Array,
  m: number,
): void {
  const d = xb.length / yb.length;
  tf.tidy(() => {
    const x = tf.tensor2d(xb.subarray(0, m * d), [m, d]);
    const y = tf.tensor1d(yb.subarray(0, m));
    s.step((obs) => model.observe(obs, x, CHAINS), { y }, latent);
  });
}

/** Samples one split's posterior with `sampler`; the test RMSE and log-likelihood. */
function fitSplit(
  { train, test, yStd, d }: SplitData,
  sampler: SamplerName,
  epochs: number,
): { rmse: number; ll: number; untrainedRmse: number } {
  const layerSizes = [d, ...HIDDEN, 1];
  const names = weightNames(layerSizes);
  const nTrain = train.y.length;
  const { latent, logstds, model } = bnnChains(layerSizes, nTrain);
  const score = () =>
    tf.tidy(() => {
      const x = tf.tensor2d(test.x, [test.y.length, d]);
      const y = tf.tensor1d(test.y);
      return testScores(model.observe({ ...latent, y }, x, CHAINS), y, yStd);
    });
  const untrainedRmse = score().rmse;
  const s = makeSampler(sampler);
  const order = Uint32Array.from({ length: nTrain }, (_, i) => i);
  const words = zs.random.seedWords(zs.random.nextSeed());
  const xb = new Float32Array(SG_BATCH * d);
  const yb = new Float32Array(SG_BATCH);
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(order, words);
    for (let start = 0; start < nTrain; start += yb.length) {
      sgmcmcStep(s, model, latent, xb, yb, fillBatch(train, d, order, start, xb, yb));
    }
    // M step: the prior's log-stds from the chains' current weights.
    names.forEach((n, i) =>
      logstds[i].assign(tf.tidy(() => tf.mul(tf.log(tf.mean(tf.square(latent[n]), 0)), 0.5))),
    );
  }
  s.dispose();
  const scores = score();
  tf.dispose([...Object.values(latent), ...logstds]);
  return { ...scores, untrainedRmse };
}

export const bnnSgmcmc: ExampleDefinition = {
  name: 'bnn_sgmcmc',
  model: 'BNN 13-50-1 (ReLU), Gaussian likelihood, prior scales by EM',
  inference: 'SGHMC and SGLD, 20 chains, batch 100, 500 epochs',
  dataset:
    "Boston housing (sklearn's copy in Debian's python3-sklearn 1.2.1), random 90/10 splits (20 unless --splits)",
  referenceSource:
    'no SG-MCMC figure for this setup is published; the same network and protocol by VI and PBP (Hernández-Lobato & Adams 2015, Table 2): RMSE 4.32 / 3.01, test LL −2.90 / −2.57',
  run({ quick, seed, splits, log }) {
    const epochs = quick ? 5 : 500;
    const nSplits = splits ?? (quick ? 1 : 20);
    const metrics: Record<string, number> = {};
    for (const sampler of ['sghmc', 'sgld'] as const) {
      log(`${sampler}:`);
      const untrained: number[] = [];
      const m = uciBoston(
        nSplits,
        seed,
        (s) => {
          const r = fitSplit(s, sampler, epochs);
          untrained.push(r.untrainedRmse);
          return r;
        },
        log,
      );
      for (const [k, v] of Object.entries(m)) metrics[k === 'splits' ? k : `${sampler}_${k}`] = v;
      // The chains' starting point (weights uniform on [−2, 2]), for scale.
      metrics[`${sampler}_untrained_test_rmse`] =
        untrained.reduce((a, b) => a + b, 0) / untrained.length;
    }
    return {
      metrics,
      reference: {
        sghmc_test_rmse: 3.01,
        sghmc_test_ll: -2.57,
        sgld_test_rmse: 3.01,
        sgld_test_ll: -2.57,
      },
    };
  },
};
