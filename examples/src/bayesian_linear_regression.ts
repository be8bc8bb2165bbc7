/**
 * Bayesian linear regression, the model of ZhuSuan's concepts tutorial, whose
 * posterior is Gaussian and known exactly:
 *
 *   w ~ N(0, I_3),  y_n ~ N(w · x_n, 0.5²),  n = 1..100
 *
 * with correlated inputs (unit variances, correlation 0.6), so the posterior
 * is correlated too. Each method's draws (or q) are compared with the exact
 * posterior N(μ, Σ), Σ = (I + XᵀX/σ²)⁻¹, μ = Σ Xᵀy/σ²: the largest mean error
 * in posterior standard deviations, the worst variance ratio (max over
 * dimensions of max(v̂/v, v/v̂)), and the largest covariance error on the
 * correlation scale, max |Ĉ_ij − Σ_ij| / √(Σ_ii Σ_jj). Mean-field VI is
 * compared with its own exact optimum (mean μ, variances 1/Λ_ii, Λ = Σ⁻¹).
 *
 * HMC: 10 chains, 300 warm-up iterations (step size by dual averaging) and
 * 1000 kept, 10 leapfrogs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';
import { covariance, inverseSpd, matVec } from './common/linalg.js';

const D = 3;
const N = 100;
const NOISE = 0.5;
const TRUE_W = [1, -1, 0.5];
const INPUT_CORRELATION = 0.6;

/** The data and its exact posterior. */
export function blrProblem() {
  // Inputs with unit variances and pairwise correlation ρ: x = √(1−ρ) z + √ρ c.
  const z = tf.tidy(() => zs.seededNormal([N, D], zs.random.nextSeed()).dataSync());
  const c = tf.tidy(() => zs.seededNormal([N], zs.random.nextSeed()).dataSync());
  const e = tf.tidy(() => zs.seededNormal([N], zs.random.nextSeed()).dataSync());
  const x = new Float64Array(N * D);
  const y = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < D; j++) {
      x[n * D + j] =
        Math.sqrt(1 - INPUT_CORRELATION) * z[n * D + j] + Math.sqrt(INPUT_CORRELATION) * c[n];
    }
    y[n] = TRUE_W.reduce((s, w, j) => s + w * x[n * D + j], 0) + NOISE * e[n];
  }
  const precision = new Float64Array(D * D);
  const xty = new Float64Array(D);
  for (let a = 0; a < D; a++) {
    precision[a * D + a] += 1;
    for (let n = 0; n < N; n++) {
      xty[a] += (x[n * D + a] * y[n]) / NOISE ** 2;
      for (let b = 0; b < D; b++)
        precision[a * D + b] += (x[n * D + a] * x[n * D + b]) / NOISE ** 2;
    }
  }
  const cov = inverseSpd(precision, D);
  return { x, y, precision, cov, mean: matVec(cov, xty, D) };
}

/** How far draws (rows of `samples`, [m, D]) are from N(mean, cov). */
export function compareToPosterior(
  samples: ArrayLike<number>,
  mean: ArrayLike<number>,
  cov: ArrayLike<number>,
): { meanErrorSd: number; varianceRatio: number; covarianceError: number } {
  const est = covariance(samples, D);
  let meanErrorSd = 0;
  let varianceRatio = 1;
  let covarianceError = 0;
  for (let a = 0; a < D; a++) {
    const sd = Math.sqrt(cov[a * D + a]);
    meanErrorSd = Math.max(meanErrorSd, Math.abs(est.mean[a] - mean[a]) / sd);
    const r = est.cov[a * D + a] / cov[a * D + a];
    varianceRatio = Math.max(varianceRatio, r, 1 / r);
    for (let b = 0; b < D; b++) {
      const scale = Math.sqrt(cov[a * D + a] * cov[b * D + b]);
      covarianceError = Math.max(
        covarianceError,
        Math.abs(est.cov[a * D + b] - cov[a * D + b]) / scale,
      );
    }
  }
  return { meanErrorSd, varianceRatio, covarianceError };
}

const blr = zs.metaBayesianNet((bn: zs.BayesianNet, x: tf.Tensor2D, nChains: number) => {
  const w = bn.normal('w', tf.zeros([D]), { std: 1, nSamples: nChains, groupNdims: 1 });
  bn.normal('y', tf.matMul(w as tf.Tensor2D, x, false, true), { std: NOISE, groupNdims: 1 });
});

export const bayesianLinearRegression: ExampleDefinition = {
  name: 'bayesian_linear_regression',
  model: 'w ~ N(0, I₃), y ~ N(w·x, 0.5²), 100 points',
  inference: 'HMC (10 chains, 300 warm-up + 1000, 10 leapfrogs); mean-field VI (SGVB, Adam)',
  dataset: 'synthetic, inputs with correlation 0.6',
  referenceSource: 'exact: the Gaussian posterior, and the mean-field optimum',
  run({ quick, log }) {
    const p = blrProblem();
    const x = tf.tensor2d(Float32Array.from(p.x), [N, D]);
    const y = tf.tensor1d(Float32Array.from(p.y));

    // HMC.
    const nChains = 10;
    const [warmup, keep] = quick ? [100, 200] : [300, 1000];
    const w = tf.variable(tf.zeros([nChains, D]));
    const hmc = new zs.HMC({ stepSize: 0.01, nLeapfrogs: 10, adaptStepSize: true });
    const draws = new Float32Array(keep * nChains * D);
    const t0 = performance.now();
    for (let i = 0; i < warmup + keep; i++) {
      if (i === warmup) hmc.stopAdaptation();
      hmc.step((obs) => blr.observe(obs, x, nChains), { y }, { w });
      if (i >= warmup) draws.set(w.dataSync(), (i - warmup) * nChains * D);
    }
    const hmcSeconds = (performance.now() - t0) / 1000;
    hmc.dispose();
    w.dispose();
    const h = compareToPosterior(draws, p.mean, p.cov);
    log(
      `HMC: mean error ${h.meanErrorSd.toFixed(3)} sd, variance ratio ${h.varianceRatio.toFixed(3)}, covariance error ${h.covarianceError.toFixed(3)} (${hmcSeconds.toFixed(1)} s)`,
    );

    // Mean-field VI.
    const qMean = tf.variable(tf.zeros([D]));
    const qLogstd = tf.variable(tf.fill([D], -1));
    const particles = 32;
    const iters = quick ? 600 : 3000;
    const optimizer = tf.train.adam(0.02);
    for (let t = 0; t < iters; t++) {
      optimizer.minimize(
        () => {
          const q = new zs.BayesianNet();
          q.normal('w', qMean, { logstd: qLogstd, nSamples: particles, groupNdims: 1 });
          const lb = zs.elbo(
            (obs) => blr.observe(obs, x, particles),
            { y },
            { variational: q, axis: 0 },
          );
          return tf.mean(lb.sgvb()) as tf.Scalar;
        },
        false,
        [qMean, qLogstd],
      );
    }
    optimizer.dispose();
    const m = qMean.dataSync();
    const s = Array.from(qLogstd.dataSync(), (v) => Math.exp(v));
    tf.dispose([qMean, qLogstd, x, y]);
    let viMeanError = 0;
    let viVarianceRatio = 1;
    for (let a = 0; a < D; a++) {
      viMeanError = Math.max(viMeanError, Math.abs(m[a] - p.mean[a]) / Math.sqrt(p.cov[a * D + a]));
      const r = s[a] ** 2 * p.precision[a * D + a];
      viVarianceRatio = Math.max(viVarianceRatio, r, 1 / r);
    }
    log(
      `VI: mean error ${viMeanError.toFixed(3)} sd, variance ratio to the mean-field optimum ${viVarianceRatio.toFixed(3)}`,
    );
    return {
      metrics: {
        hmc_mean_error_sd: h.meanErrorSd,
        hmc_variance_ratio: h.varianceRatio,
        hmc_covariance_error: h.covarianceError,
        hmc_seconds: hmcSeconds,
        vi_mean_error_sd: viMeanError,
        vi_variance_ratio: viVarianceRatio,
      },
      reference: {
        hmc_mean_error_sd: 0,
        hmc_variance_ratio: 1,
        hmc_covariance_error: 0,
        vi_mean_error_sd: 0,
        vi_variance_ratio: 1,
      },
    };
  },
};
