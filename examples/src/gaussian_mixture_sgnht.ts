/**
 * SGNHT on a two-component Gaussian mixture (ZhuSuan
 * examples/toy_examples/mixture_sgnht.py): p(x) = ½N(−1, 0.5²) + ½N(3, 0.5²),
 * a log density given as a function (the two components' Normal log
 * densities in one op, then their log-sum-exp), 1000 chains started uniformly on
 * [−5, 5], ZhuSuan's sampler settings (η = 0.2, a = 0.1, tune rate 0.01,
 * first order, one friction per latent), the last third of 30,000
 * iterations kept every 100th. The samples are compared with the mixture
 * (mean, standard deviation, mass per mode, Kolmogorov-Smirnov distance), and
 * a PNG shows their histogram over the true density. The chains seldom cross
 * between the modes, so each mode's mass is set mostly by where the chains
 * started; the KS distance includes that imbalance, and the effective
 * sample size over the chains together (with split R-hat) measures it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { linePlot } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';
import { columnMoments, ksStatistic, normalCdf } from './common/stats.js';

const STD = 0.5;
const MU = [-1, 3];

/** The mixture's log density as an MCMC target, holding its constant tensors. */
export interface MixtureTarget {
  /**
   * log p(x) + log 2 per chain: the log-sum-exp over the two components of
   * their Normal log densities, both components in one op (the [2, 1] means
   * broadcast against the chains).
   */
  logDensity(values: Record<string, tf.Tensor>): tf.Tensor;
  /** Frees the components' means and log σ. */
  dispose(): void;
}

/** The mixture as a target: its components' means ([2, 1]) and log σ made once. */
export function mixtureTarget(): MixtureTarget {
  const means = tf.tensor2d(MU, [MU.length, 1]);
  const logstd = tf.scalar(Math.log(STD));
  return {
    logDensity: (values) => zs.logSumExp(zs.normalLogProbFromLogstd(values.x, means, logstd), 0),
    dispose: () => tf.dispose([means, logstd]),
  };
}

const mixtureCdf = (x: number) =>
  0.5 * normalCdf((x - MU[0]) / STD) + 0.5 * normalCdf((x - MU[1]) / STD);
const mixtureDensity = (x: number) =>
  MU.reduce(
    (s, m) => s + (0.5 * Math.exp(-0.5 * ((x - m) / STD) ** 2)) / (STD * Math.sqrt(2 * Math.PI)),
    0,
  );

/** SGNHT with ZhuSuan's settings for the mixture (η 0.2, a 0.1, tune rate 0.01, first order, scalar friction). */
export function mixtureSampler(): zs.SGNHT {
  return new zs.SGNHT({
    learningRate: 0.2,
    varianceExtra: 0.1,
    tuneRate: 0.01,
    secondOrder: false,
    useVectorAlpha: false,
  });
}

/** The chains' start: uniform on [−5, 5] from the library's random stream. */
export function mixtureStart(nChains: number): tf.Variable {
  return tf.tidy(() => tf.variable(zs.seededUniform([nChains], zs.random.nextSeed(), -5, 5)));
}

export const gaussianMixtureSgnht: ExampleDefinition = {
  name: 'gaussian_mixture_sgnht',
  model: '½N(−1, 0.5²) + ½N(3, 0.5²)',
  inference: 'SGNHT (η 0.2, a 0.1, first order), 1000 chains',
  dataset: 'none (the target is the density)',
  referenceSource: 'exact moments of the mixture; mass ½ per mode',
  run({ quick, log, writeImage }) {
    const nChains = quick ? 100 : 1000;
    const nIters = quick ? 1500 : 30000;
    const burnin = Math.floor((nIters * 2) / 3);
    const x = mixtureStart(nChains);
    const sampler = mixtureSampler();
    const target = mixtureTarget();
    const kept: Float32Array[] = [];
    const t0 = performance.now();
    for (let t = 0; t < nIters; t++) {
      sampler.step(target.logDensity, {}, { x });
      if (t >= burnin && t % 100 === 0) kept.push(x.dataSync() as Float32Array);
      if ((t + 1) % 5000 === 0) log(`iteration ${t + 1}/${nIters}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    sampler.dispose();
    target.dispose();
    x.dispose();
    const samples = new Float32Array(kept.length * nChains);
    kept.forEach((k, i) => samples.set(k, i * nChains));
    // Over the chains together: chains that stay in their starting mode make
    // the between-chain variance large, so the ESS is small and R-hat above 1.
    const draws = tf.tensor2d(samples, [kept.length, nChains]);
    const ess = zs.minEffectiveSampleSize(draws, { chainAxis: 1 });
    const rhat = tf.tidy(() => zs.splitRHat(draws, { chainAxis: 1 }).dataSync()[0]);
    draws.dispose();
    const { mean, std } = columnMoments(samples, 1);
    const wantMean = 0.5 * (MU[0] + MU[1]);
    const wantStd = Math.sqrt(STD ** 2 + 0.5 * (MU[0] ** 2 + MU[1] ** 2) - wantMean ** 2);
    const upper = samples.filter((v) => v > wantMean).length / samples.length;
    const ks = ksStatistic(samples, mixtureCdf);
    log(
      `mean ${mean[0].toFixed(3)} (exact ${wantMean}), std ${std[0].toFixed(3)} (exact ${wantStd.toFixed(3)}), KS ${ks.toFixed(4)}`,
    );

    // Histogram of the samples (density scale) over the true density.
    const lo = -4;
    const hi = 6;
    const bins = 100;
    const width = (hi - lo) / bins;
    const counts = new Array<number>(bins).fill(0);
    for (const v of samples) {
      const b = Math.floor((v - lo) / width);
      if (b >= 0 && b < bins) counts[b]++;
    }
    const centres = counts.map((_, b) => lo + (b + 0.5) * width);
    const grid = Array.from({ length: 401 }, (_, i) => lo + (i * (hi - lo)) / 400);
    writeImage(
      'density',
      linePlot([
        { x: grid, y: grid.map(mixtureDensity), rgb: [30, 30, 30] },
        {
          x: centres,
          y: counts.map((c) => c / (samples.length * width)),
          rgb: [200, 30, 30],
          dots: true,
        },
      ]),
    );
    return {
      metrics: {
        mean: mean[0],
        std: std[0],
        upper_mode_mass: upper,
        ks_statistic: ks,
        samples: samples.length,
        min_ess: ess,
        ess_per_second: ess / seconds,
        split_rhat: rhat,
      },
      reference: { mean: wantMean, std: wantStd, upper_mode_mass: 0.5 },
    };
  },
};
