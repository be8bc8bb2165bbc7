/**
 * Probabilistic matrix factorisation sampled by HMC (ZhuSuan
 * examples/probabilistic_matrix_factorization/pmf_hmc.py), on synthetic
 * ratings with known factors (MovieLens is not available offline):
 *
 *   u_i ~ N(0, I_D), v_j ~ N(0, I_D),  r_ij ~ N(sigmoid(u_i · v_j), 0.05²)
 *
 * as ZhuSuan's model (ratings scaled to [0, 1], α_u = α_v = 1, α_pred = 0.05).
 * The truth: 200 users and 150 items with D = 5 factors drawn from the prior;
 * 15 % of the pairs observed for training, another 5 % held out. HMC on 8
 * chains samples all factors jointly (ZhuSuan alternates blocks of users and
 * items; one joint update is simpler and exact too); the prediction is the
 * posterior mean of sigmoid(u · v) over chains and kept iterations. The
 * reference is the noise floor: the RMSE of the true means, the best any
 * predictor can do on these test ratings.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';

/** The ratings' noise std (ZhuSuan's α_pred). */
export const ALPHA_PRED = 0.05;
/** The number of factors. */
export const PMF_D = 5;
const D = PMF_D;
/** HMC's leapfrog steps per iteration. */
export const PMF_LEAPFROGS = 10;
/** Parallel chains. */
export const PMF_CHAINS = 8;

/** Observed (user, item, rating) triples with the true mean ratings. */
export interface Ratings {
  users: Int32Array;
  items: Int32Array;
  mean: Float32Array;
  rating: Float32Array;
}

/** Synthetic ratings from known factors, drawn from the library's stream. */
export function synthetic(nUsers: number, nItems: number, observed: number, heldOut: number) {
  const u = tf.tidy(() => zs.seededNormal([nUsers, D], zs.random.nextSeed()).dataSync());
  const v = tf.tidy(() => zs.seededNormal([nItems, D], zs.random.nextSeed()).dataSync());
  const pairs = nUsers * nItems;
  const perm = Uint32Array.from({ length: pairs }, (_, i) => i);
  const words = zs.random.seedWords(zs.random.nextSeed());
  for (let i = pairs - 1; i > 0; i--) {
    const j = Math.floor(zs.random.uniform53(words) * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const noise = tf.tidy(() => zs.seededNormal([pairs], zs.random.nextSeed()).dataSync());
  const take = (from: number, count: number) => {
    const users = new Int32Array(count);
    const items = new Int32Array(count);
    const mean = new Float32Array(count);
    const rating = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      const p = perm[from + k];
      const i = Math.floor(p / nItems);
      const j = p % nItems;
      let dot = 0;
      for (let f = 0; f < D; f++) dot += u[i * D + f] * v[j * D + f];
      users[k] = i;
      items[k] = j;
      mean[k] = 1 / (1 + Math.exp(-dot));
      rating[k] = mean[k] + ALPHA_PRED * noise[p];
    }
    return { users, items, mean, rating } satisfies Ratings;
  };
  const nTrain = Math.round(pairs * observed);
  return {
    train: take(0, nTrain),
    test: take(nTrain, Math.round(pairs * heldOut)),
    /** The true factors, [nUsers, D] and [nItems, D] row-major. */
    truth: { u: u as Float32Array, v: v as Float32Array },
  };
}

/**
 * The PMF model over `nChains` chains: u [nChains, nUsers, D] and
 * v [nChains, nItems, D] with N(0, 1) priors, and the observed ratings `r` of
 * the (users, items) pairs given as arguments.
 */
export function pmfModel(nUsers: number, nItems: number, nChains: number) {
  return zs.metaBayesianNet((bn: zs.BayesianNet, users: tf.Tensor1D, items: tf.Tensor1D) => {
    const u = bn.normal('u', tf.zeros([nUsers, D]), { std: 1, nSamples: nChains, groupNdims: 2 });
    const v = bn.normal('v', tf.zeros([nItems, D]), { std: 1, nSamples: nChains, groupNdims: 2 });
    // zs.gather: tf.gather's values; its gradient sums into u's [chains,
    // users, D] layout in one pass (tfjs' transposes around a segment sum).
    const dot = tf.sum(tf.mul(zs.gather(u, users, 1), zs.gather(v, items, 1)), 2);
    const mean = bn.deterministic('r_mean', tf.sigmoid(dot));
    bn.normal('r', mean, { std: ALPHA_PRED, groupNdims: 1 });
  });
}

/** The chains' starting factors, N(0, 0.1²). */
export function pmfStart(nUsers: number, nItems: number, nChains: number) {
  return tf.tidy(() => ({
    u: tf.variable(tf.mul(zs.seededNormal([nChains, nUsers, D], zs.random.nextSeed()), 0.1)),
    v: tf.variable(tf.mul(zs.seededNormal([nChains, nItems, D], zs.random.nextSeed()), 0.1)),
  }));
}

/** The full size: users, items, fraction of pairs observed for training. */
export const PMF_FULL = { nUsers: 200, nItems: 150, observed: 0.15, heldOut: 0.05 };

const rmse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
};

export const pmfHmc: ExampleDefinition = {
  name: 'pmf_hmc',
  model: `PMF, D = ${D}, r ~ N(sigmoid(u·v), 0.05²)`,
  inference: 'HMC (10 leapfrogs, adapted step), 8 chains',
  dataset: 'synthetic: 200 users × 150 items, 15 % observed, 5 % held out',
  referenceSource: 'the noise floor: RMSE of the true means on the held-out ratings',
  run({ quick, log }) {
    // The quick size observes half the pairs so that its few factors are
    // identified from its few ratings (the full size: 15 %, ~22 per user).
    const { nUsers, nItems, observed, heldOut } = quick
      ? { nUsers: 60, nItems: 40, observed: 0.5, heldOut: 0.05 }
      : PMF_FULL;
    const { train, test } = synthetic(nUsers, nItems, observed, heldOut);
    const nChains = PMF_CHAINS;
    const nIters = quick ? 150 : 2000;
    const burnin = nIters / 2;
    const pmf = pmfModel(nUsers, nItems, nChains);
    const trainUsers = tf.tensor1d(train.users, 'int32');
    const trainItems = tf.tensor1d(train.items, 'int32');
    const r = tf.tensor1d(train.rating);
    const latent = pmfStart(nUsers, nItems, nChains);
    const hmc = new zs.HMC({
      stepSize: 1e-3,
      nLeapfrogs: PMF_LEAPFROGS,
      adaptStepSize: true,
      targetAcceptanceRate: 0.8,
    });
    const testUsers = tf.tensor1d(test.users, 'int32');
    const testItems = tf.tensor1d(test.items, 'int32');
    const predSum = new Float64Array(test.rating.length);
    // Draws of the first test predictions, [kept iterations, chains, TRACKED],
    // for the effective sample size and split R-hat.
    const tracked = Math.min(200, test.rating.length);
    const draws = new Float32Array((nIters - burnin) * nChains * tracked);
    let kept = 0;
    let acceptance = 0;
    const t0 = performance.now();
    for (let i = 0; i < nIters; i++) {
      if (i === burnin) hmc.stopAdaptation();
      const info = hmc.step((obs) => pmf.observe(obs, trainUsers, trainItems), { r }, latent);
      if (i >= burnin) {
        const pred = tf.tidy(() =>
          tf
            .sigmoid(
              tf.sum(
                tf.mul(tf.gather(latent.u, testUsers, 1), tf.gather(latent.v, testItems, 1)),
                2,
              ),
            )
            .dataSync(),
        );
        const row = (i - burnin) * nChains * tracked;
        for (let c = 0; c < nChains; c++) {
          for (let k = 0; k < predSum.length; k++) predSum[k] += pred[c * predSum.length + k];
          draws.set(
            pred.subarray(c * predSum.length, c * predSum.length + tracked),
            row + c * tracked,
          );
        }
        kept += nChains;
        acceptance += info.acceptanceRate / (nIters - burnin);
      }
      if ((i + 1) % 250 === 0) {
        const soFar =
          kept > 0
            ? rmse(
                predSum.map((s) => s / kept),
                test.rating,
              ).toFixed(4)
            : '–';
        log(
          `iteration ${i + 1}/${nIters}: acceptance ${info.acceptanceRate.toFixed(3)}, step ${info.stepSize.toExponential(2)}, test RMSE ${soFar}`,
        );
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    hmc.dispose();
    const drawTensor = tf.tensor3d(draws, [nIters - burnin, nChains, tracked]);
    const minEss = zs.minEffectiveSampleSize(drawTensor, { chainAxis: 1 });
    const rhat = zs.splitRHat(drawTensor, { chainAxis: 1 });
    const maxRHat = Math.max(...rhat.dataSync());
    tf.dispose([drawTensor, rhat]);
    tf.dispose([trainUsers, trainItems, r, testUsers, testItems, latent.u, latent.v]);
    const predicted = predSum.map((s) => s / kept);
    const testRmse = rmse(predicted, test.rating);
    const floor = rmse(test.mean, test.rating);
    // A predictor that knows nothing of the users: each test rating predicted by the training mean.
    const trainMean = train.rating.reduce((a, b) => a + b, 0) / train.rating.length;
    const baseline = rmse(new Float32Array(test.rating.length).fill(trainMean), test.rating);
    log(
      `test RMSE ${testRmse.toFixed(4)} (noise floor ${floor.toFixed(4)}, global mean ${baseline.toFixed(4)}); ` +
        `min ESS ${minEss.toFixed(0)} of the first ${tracked} test predictions, max split R-hat ${maxRHat.toFixed(3)}`,
    );
    return {
      metrics: {
        test_rmse: testRmse,
        test_rmse_1to5_scale: testRmse * 4,
        global_mean_rmse: baseline,
        acceptance,
        min_ess: minEss,
        ess_per_second: minEss / seconds,
        max_split_rhat: maxRHat,
        train_ratings: train.rating.length,
        test_ratings: test.rating.length,
      },
      reference: { test_rmse: floor, test_rmse_1to5_scale: floor * 4 },
    };
  },
};
