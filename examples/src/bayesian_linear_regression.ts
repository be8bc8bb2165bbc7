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
 * HMC: 10 chains, 300 warm-up iterations and 1000 kept, 10 leapfrogs: as the
 * issue ran it (step size by dual averaging, unit mass), and with Stan's
 * windowed warm-up (diagonal mass) and a step size jittered by ±50 %. NUTS
 * with the same warm-up. SGLD on minibatches of 20 (η = 2e-4, 20,000 steps
 * kept, every 10th). Samplers also report their smallest effective sample
 * size over the dimensions per second.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeAdam } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';
import { covariance, inverseSpd, matVec } from './common/linalg.js';

const D = 3;
const N = 100;
/** The observation noise's standard deviation. */
export const BLR_NOISE = 0.5;
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
    y[n] = TRUE_W.reduce((s, w, j) => s + w * x[n * D + j], 0) + BLR_NOISE * e[n];
  }
  const precision = new Float64Array(D * D);
  const xty = new Float64Array(D);
  for (let a = 0; a < D; a++) {
    precision[a * D + a] += 1;
    for (let n = 0; n < N; n++) {
      xty[a] += (x[n * D + a] * y[n]) / BLR_NOISE ** 2;
      for (let b = 0; b < D; b++)
        precision[a * D + b] += (x[n * D + a] * x[n * D + b]) / BLR_NOISE ** 2;
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

/** The model as a meta net of `(x [N, 3], nChains)`: latent 'w' [nChains, 3], observed 'y' [nChains, N]. */
export const blr = zs.metaBayesianNet((bn: zs.BayesianNet, x: tf.Tensor2D, nChains: number) => {
  const w = bn.normal('w', tf.zeros([D]), { std: 1, nSamples: nChains, groupNdims: 1 });
  bn.normal('y', tf.matMul(w as tf.Tensor2D, x, false, true), { std: BLR_NOISE, groupNdims: 1 });
});

export const bayesianLinearRegression: ExampleDefinition = {
  name: 'bayesian_linear_regression',
  model: 'w ~ N(0, I₃), y ~ N(w·x, 0.5²), 100 points',
  inference:
    'HMC (10 chains, 300 warm-up + 1000, 10 leapfrogs; plain, and windowed mass with jitter); NUTS; mean-field VI; SGLD',
  dataset: 'synthetic, inputs with correlation 0.6',
  referenceSource: 'exact: the Gaussian posterior, and the mean-field optimum',
  run({ quick, log }) {
    const p = blrProblem();
    const x = tf.tensor2d(Float32Array.from(p.x), [N, D]);
    const y = tf.tensor1d(Float32Array.from(p.y));

    const nChains = 10;
    const [warmup, keep] = quick ? [100, 200] : [300, 1000];
    const w = tf.variable(tf.zeros([nChains, D]));
    const target = (obs: zs.Observed) => blr.observe(obs, x, nChains);
    const results: Record<
      string,
      ReturnType<typeof compareToPosterior> & { essPerSecond: number }
    > = {};
    const record = (name: string, draws: Float32Array, nDraws: number, seconds: number) => {
      const minEss = tf.tidy(() =>
        zs.minEffectiveSampleSize(tf.tensor3d(draws, [nDraws, nChains, D]), { chainAxis: 1 }),
      );
      results[name] = {
        ...compareToPosterior(draws, p.mean, p.cov),
        essPerSecond: minEss / seconds,
      };
      const r = results[name];
      log(
        `${name}: mean error ${r.meanErrorSd.toFixed(3)} sd, variance ratio ${r.varianceRatio.toFixed(3)}, ` +
          `covariance error ${r.covarianceError.toFixed(3)}, ESS/s ${r.essPerSecond.toFixed(0)} (${seconds.toFixed(1)} s)`,
      );
    };

    // HMC with the settings: the step size adapted by dual averaging, unit mass.
    const hmc = new zs.HMC({ stepSize: 0.01, nLeapfrogs: 10, adaptStepSize: true });
    const draws = new Float32Array(keep * nChains * D);
    const t0 = performance.now();
    for (let i = 0; i < warmup + keep; i++) {
      if (i === warmup) hmc.stopAdaptation();
      hmc.step(target, { y }, { w });
      if (i >= warmup) draws.set(w.dataSync(), (i - warmup) * nChains * D);
    }
    record('hmc', draws, keep, (performance.now() - t0) / 1000);
    hmc.dispose();

    // HMC with Stan's windowed warm-up (diagonal mass) and a jittered step
    // size; then NUTS with the same warm-up.
    for (const [name, kernel] of [
      [
        'hmc_windowed',
        new zs.HMC({
          stepSize: 0.01,
          nLeapfrogs: 10,
          adaptStepSize: true,
          adaptMass: true,
          nWarmup: warmup,
          stepSizeJitter: 0.5,
        }),
      ],
      ['nuts', new zs.NUTS({ stepSize: 0.01, adaptMass: true, nWarmup: warmup })],
    ] as const) {
      w.assign(tf.zeros([nChains, D]));
      const run = zs.sampleChains(kernel, target, { y }, { w }, { nSamples: keep });
      record(name, run.samples.w.dataSync() as Float32Array, keep, run.seconds);
      tf.dispose(Object.values(run.samples));
      kernel.dispose();
    }

    // SGLD on minibatches of 20, the likelihood scaled by N/m through the
    // model's own log joint; the step small enough for its bias (O(η)) to
    // stay under the Monte-Carlo error.
    const batch = 20;
    const sgldModel = zs.metaBayesianNet((bn: zs.BayesianNet, xb: tf.Tensor2D) => {
      const wb = bn.normal('w', tf.zeros([D]), { std: 1, nSamples: nChains, groupNdims: 1 });
      bn.normal('y', tf.matMul(wb as tf.Tensor2D, xb, false, true), { std: BLR_NOISE });
    });
    sgldModel.logJoint = (bn) =>
      tf.add(bn.localLogProb(['w']), tf.mul(tf.sum(bn.localLogProb(['y']), 1), N / batch));
    w.assign(tf.zeros([nChains, D]));
    const sgld = new zs.SGLD({ learningRate: 2e-4 });
    const [sgBurn, sgKeep, thin] = quick ? [1000, 2000, 10] : [3000, 20000, 10];
    const sgDraws = new Float32Array((sgKeep / thin) * nChains * D);
    const words = zs.random.seedWords(zs.random.nextSeed());
    const t1 = performance.now();
    for (let i = 0; i < sgBurn + sgKeep; i++) {
      const rows = Int32Array.from({ length: batch }, () =>
        Math.floor(zs.random.uniform53(words) * N),
      );
      tf.tidy(() => {
        const xb = tf.gather(x, rows);
        const yb = tf.gather(y, rows);
        sgld.step((obs) => sgldModel.observe(obs, xb as tf.Tensor2D), { y: yb }, { w });
      });
      const k = i - sgBurn;
      if (k >= 0 && k % thin === 0) sgDraws.set(w.dataSync(), (k / thin) * nChains * D);
    }
    record('sgld', sgDraws, sgKeep / thin, (performance.now() - t1) / 1000);
    sgld.dispose();
    w.dispose();

    // Mean-field VI.
    const qMean = tf.variable(tf.zeros([D]));
    const qLogstd = tf.variable(tf.fill([D], -1));
    const particles = 32;
    const iters = quick ? 600 : 3000;
    const optimizer = makeAdam(0.02, tf.getBackend());
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
    const metrics: Record<string, number> = {};
    const reference: Record<string, number> = {};
    for (const [name, r] of Object.entries(results)) {
      metrics[`${name}_mean_error_sd`] = r.meanErrorSd;
      metrics[`${name}_variance_ratio`] = r.varianceRatio;
      metrics[`${name}_covariance_error`] = r.covarianceError;
      metrics[`${name}_ess_per_second`] = r.essPerSecond;
      Object.assign(reference, {
        [`${name}_mean_error_sd`]: 0,
        [`${name}_variance_ratio`]: 1,
        [`${name}_covariance_error`]: 0,
      });
    }
    metrics.vi_mean_error_sd = viMeanError;
    metrics.vi_variance_ratio = viVarianceRatio;
    Object.assign(reference, { vi_mean_error_sd: 0, vi_variance_ratio: 1 });
    return { metrics, reference };
  },
};
