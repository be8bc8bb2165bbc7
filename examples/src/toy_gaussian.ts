/**
 * HMC on a Gaussian with known moments (ZhuSuan examples/toy_examples/gaussian.py,
 * its n_x = 10 variant): x ~ N(0, diag(σ²)) with σ_i = 1/(i+1), 1000 chains,
 * the step size (target acceptance 0.9) and a diagonal mass adapted during the
 * first half of the iterations (Stan's windows), the second half kept; and the same
 * chains by NUTS (Stan's windowed warm-up, diagonal mass). Each sampler's
 * draws give the largest mean and relative standard-deviation errors and the
 * smallest effective sample size over the dimensions per second of sampling.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';
import { columnMoments, maxAbs } from './common/stats.js';

const N_X = 10;

/** The target's standard deviations, σ_i = 1/(i+1). */
export const TOY_GAUSSIAN_STDEV = Array.from({ length: N_X }, (_, i) => 1 / (i + 1));

/** Leapfrog steps per HMC iteration (ZhuSuan's). */
export const TOY_GAUSSIAN_LEAPFROGS = 5;

/**
 * The target as a meta net of `nChains` chains: x ~ N(0, diag(σ²)), the
 * latent 'x' of shape [nChains, 10], given by log σ (`logstd`, taken once
 * here rather than at every evaluation of the density, as the PyTorch peer
 * does). The caller disposes `std` and `logstd`.
 */
export function toyGaussianModel(nChains: number): {
  model: zs.MetaBayesianNet<[]>;
  std: tf.Tensor1D;
  logstd: tf.Tensor1D;
} {
  const std = tf.tensor1d(TOY_GAUSSIAN_STDEV);
  const logstd = tf.log(std) as tf.Tensor1D;
  const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
    bn.normal('x', tf.zeros([N_X]), { logstd, nSamples: nChains, groupNdims: 1 });
  });
  return { model, std, logstd };
}

/** The sampler's settings: ZhuSuan's, and a small size for the tests. */
function settings(quick: boolean) {
  return quick
    ? { nChains: 50, nIters: 60, nLeapfrogs: 5 }
    : { nChains: 1000, nIters: 200, nLeapfrogs: TOY_GAUSSIAN_LEAPFROGS };
}

export const toyGaussian: ExampleDefinition = {
  name: 'toy_gaussian',
  model: `Gaussian, ${N_X}-D, σ_i = 1/(i+1)`,
  inference: 'HMC (5 leapfrogs, adapted step and diagonal mass); NUTS',
  dataset: 'none (the target is the model)',
  referenceSource: 'exact: mean 0, σ_i = 1/(i+1)',
  run({ quick, log }) {
    const { nChains, nIters, nLeapfrogs } = settings(quick);
    const stdev = TOY_GAUSSIAN_STDEV;
    const { model, std, logstd } = toyGaussianModel(nChains);
    const x = tf.variable(tf.zeros([nChains, N_X]));
    const burnin = nIters / 2;
    // Warm-up as Stan lays it out (ZhuSuan adapted in the first quarter with
    // a moving variance; the windowed estimate replaces it, see the library).
    const hmc = new zs.HMC({
      stepSize: 1e-3,
      nLeapfrogs,
      adaptStepSize: true,
      adaptMass: true,
      nWarmup: burnin,
      targetAcceptanceRate: 0.9,
    });
    const kept: Float32Array[] = [];
    const t0 = performance.now();
    let acceptance = 0;
    for (let i = 0; i < nIters; i++) {
      const info = hmc.step(model, {}, { x });
      if (i >= burnin) {
        kept.push(x.dataSync() as Float32Array);
        acceptance += info.acceptanceRate / (nIters - burnin);
      }
      if ((i + 1) % 50 === 0) {
        log(
          `iteration ${i + 1}/${nIters}: acceptance ${info.acceptanceRate.toFixed(3)}, step ${info.stepSize.toFixed(4)}`,
        );
      }
    }
    const samplingSeconds = (performance.now() - t0) / 1000;
    hmc.dispose();
    const hmcDraws = new Float32Array(kept.length * nChains * N_X);
    kept.forEach((k, i) => hmcDraws.set(k, i * nChains * N_X));
    const h = summarise(hmcDraws, kept.length, nChains, stdev, samplingSeconds);
    log(
      `HMC: mean error ${h.meanError.toFixed(4)}, std error ${h.stdError.toFixed(4)}, min ESS ${h.minEss.toFixed(0)} (${samplingSeconds.toFixed(1)} s)`,
    );

    // NUTS on the same chains, from the origin again.
    x.assign(tf.zeros([nChains, N_X]));
    const nuts = new zs.NUTS({
      stepSize: 1e-3,
      nWarmup: burnin,
      adaptMass: true,
      targetAcceptanceRate: 0.9,
    });
    const run = zs.sampleChains(nuts, model, {}, { x }, { nSamples: nIters - burnin });
    const nutsDraws = run.samples.x.dataSync() as Float32Array;
    const leapfrogs =
      run.info.reduce(
        (a, i) => a + i.nLeapfrogs.reduce((p, q) => p + q, 0) / i.nLeapfrogs.length,
        0,
      ) / run.info.length;
    const n = summarise(nutsDraws, nIters - burnin, nChains, stdev, run.seconds);
    log(
      `NUTS: mean error ${n.meanError.toFixed(4)}, std error ${n.stdError.toFixed(4)}, min ESS ${n.minEss.toFixed(0)}, ${leapfrogs.toFixed(1)} leapfrogs a step, ${run.nDivergent} divergent (${run.seconds.toFixed(1)} s)`,
    );
    tf.dispose(Object.values(run.samples));
    nuts.dispose();
    x.dispose();
    tf.dispose([std, logstd]);
    return {
      metrics: {
        hmc_max_abs_mean_error: h.meanError,
        hmc_max_abs_relative_std_error: h.stdError,
        hmc_min_ess: h.minEss,
        hmc_ess_per_second: h.essPerSecond,
        hmc_mean_acceptance: acceptance,
        nuts_max_abs_mean_error: n.meanError,
        nuts_max_abs_relative_std_error: n.stdError,
        nuts_min_ess: n.minEss,
        nuts_ess_per_second: n.essPerSecond,
        nuts_mean_leapfrogs: leapfrogs,
        nuts_divergent: run.nDivergent,
        draws: hmcDraws.length / N_X,
      },
      reference: {
        hmc_max_abs_mean_error: 0,
        hmc_max_abs_relative_std_error: 0,
        nuts_max_abs_mean_error: 0,
        nuts_max_abs_relative_std_error: 0,
      },
    };
  },
};

/** Errors against the exact moments and the effective sample size of draws [nKept, nChains, N_X]. */
function summarise(
  draws: Float32Array,
  nKept: number,
  nChains: number,
  stdev: number[],
  seconds: number,
) {
  const { mean, std: sd } = columnMoments(draws, N_X);
  const minEss = tf.tidy(() =>
    zs.minEffectiveSampleSize(tf.tensor3d(draws, [nKept, nChains, N_X]), { chainAxis: 1 }),
  );
  return {
    meanError: maxAbs(mean),
    stdError: maxAbs(sd.map((s, i) => (s - stdev[i]) / stdev[i])),
    minEss,
    essPerSecond: minEss / seconds,
  };
}
