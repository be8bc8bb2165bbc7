/**
 * What the MCMC tests (and bench/mcmc-regression.mjs, through dist/test)
 * share: seeded normals, a moment check within Monte-Carlo standard errors
 * that uses the library's ESS, and a Bayesian linear regression whose
 * posterior is an exact Gaussian.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { effectiveSampleSize, splitRHat } from '../../src/mcmc/diagnostics.js';
import { metaBayesianNet, type BayesianNet, type MetaBayesianNet } from '../../src/framework/bn.js';
import { seedWords, uniform53 } from '../../src/random.js';

/** `n` standard normals (Box–Muller, float64) from a seeded stream of their own. */
export function normals(seed: number, n: number): number[] {
  const s = seedWords(seed);
  return Array.from({ length: n }, () => {
    const u = 1 - uniform53(s);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform53(s));
  });
}

/** The mean (float64) of a tensor's values. */
function meanOf(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  return m / v.length;
}

/**
 * Asserts that the mean of each dimension and each (co)variance entry of
 * draws `[n, chains, D]` match the truth within 5 Monte-Carlo standard
 * errors, SE = sd(f)/√ESS(f), f the draw or the product of two draws centred
 * at the true mean, ESS from {@link effectiveSampleSize} (chains pooled); that
 * each ESS is at least 5% of the draws (so a stuck sampler cannot pass on a
 * large SE); and that split R-hat is below 1.05.
 */
export function assertMoments(
  draws: tf.Tensor,
  mean: number[],
  cov: number[][],
  what: string,
): void {
  const D = mean.length;
  const total = draws.shape[0] * draws.shape[1]!;
  const check = (f: tf.Tensor, truth: number, label: string): void => {
    const ess = effectiveSampleSize(f, { chainAxis: 1 });
    const e = ess.dataSync()[0];
    ess.dispose();
    assert.ok(e > 0.05 * total, `${what} ${label}: ESS ${e} of ${total}`);
    const v = f.dataSync();
    const m = meanOf(v);
    let s = 0;
    for (const x of v) s += (x - m) ** 2 / (v.length - 1);
    const se = Math.sqrt(s / e);
    assert.ok(Math.abs(m - truth) < 5 * se, `${what} ${label}: ${m} vs ${truth} (SE ${se})`);
  };
  tf.tidy(() => {
    const column = (t: tf.Tensor, i: number) =>
      tf.squeeze(tf.slice(t, [0, 0, i], [-1, -1, 1]), [2]);
    const centred = tf.sub(draws, tf.tensor1d(mean));
    for (let i = 0; i < D; i++) {
      check(column(draws, i), mean[i], `mean[${i}]`);
      for (let j = i; j < D; j++) {
        check(tf.mul(column(centred, i), column(centred, j)), cov[i][j], `cov[${i}][${j}]`);
      }
    }
    const rhat = Array.from(splitRHat(draws, { chainAxis: 1 }).dataSync());
    assert.ok(Math.max(...rhat) < 1.05, `${what}: split R-hat ${rhat}`);
  });
}

/**
 * A Bayesian linear regression with an exact Gaussian posterior: weights
 * w ~ N(0, I_3), y_i ~ N(x_iᵀw, 0.5²) for N = 100 points whose first two
 * inputs have correlation 0.8 (so the posterior has a strong correlation).
 */
export interface Regression {
  /** The model over `nChains` chains (latent `w` of shape [nChains, 3], observed `y` [N]). */
  model: MetaBayesianNet<[]>;
  /** The observations `{ y }`. */
  observed: { y: tf.Tensor };
  /** The exact posterior mean and covariance (float64). */
  mean: number[];
  cov: number[][];
  /** The posterior precision I + XᵀX/σ² (float64). */
  precision: number[][];
  dispose(): void;
}

/** The inverse of a 3×3 matrix (float64). */
function inverse3(a: number[][]): number[][] {
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = a;
  const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0);
  const adj = [
    [b1 * c2 - b2 * c1, a2 * c1 - a1 * c2, a1 * b2 - a2 * b1],
    [b2 * c0 - b0 * c2, a0 * c2 - a2 * c0, a2 * b0 - a0 * b2],
    [b0 * c1 - b1 * c0, a1 * c0 - a0 * c1, a0 * b1 - a1 * b0],
  ];
  return adj.map((r) => r.map((v) => v / det));
}

/** The regression problem for `nChains` chains (data from a fixed seed). */
export function regression(nChains: number): Regression {
  const N = 100;
  const noise = 0.5;
  const wTrue = [1, -2, 0.5];
  const e = normals(2024, N * 4);
  const X = Array.from({ length: N }, (_, i) => [
    e[4 * i],
    0.8 * e[4 * i] + 0.6 * e[4 * i + 1],
    e[4 * i + 2],
  ]);
  const y = X.map((x, i) => x.reduce((s, v, j) => s + v * wTrue[j], 0) + noise * e[4 * i + 3]);
  const idx = [0, 1, 2];
  const precision = idx.map((i) =>
    idx.map((j) => (i === j ? 1 : 0) + X.reduce((s, x) => s + x[i] * x[j], 0) / noise ** 2),
  );
  const cov = inverse3(precision);
  const xty = idx.map((j) => X.reduce((s, x, i) => s + x[j] * y[i], 0) / noise ** 2);
  const Xt = tf.tensor2d(X);
  const yT = tf.tensor1d(y);
  const model = metaBayesianNet((bn: BayesianNet) => {
    const w = bn.normal('w', tf.zeros([nChains, 3]), { std: 1, groupNdims: 1 });
    bn.normal('y', tf.matMul(w, Xt, false, true), { std: noise, groupNdims: 1 });
  });
  return {
    model,
    observed: { y: yT },
    mean: cov.map((r) => r.reduce((s, v, j) => s + v * xty[j], 0)),
    cov,
    precision,
    dispose: () => tf.dispose([Xt, yT]),
  };
}

/**
 * How far draws `[n, chains, D]` are from the exact posterior: each
 * dimension's variance ratio (sampled / exact) and the one furthest from 1
 * (in log), the largest covariance error on the correlation scale,
 * max |Σ̂_ij − Σ_ij|/√(Σ_ii Σ_jj), and the largest mean error in posterior sds.
 */
export function posteriorErrors(
  draws: tf.Tensor,
  mean: number[],
  cov: number[][],
): {
  varianceRatios: number[];
  worstVarianceRatio: number;
  worstCovError: number;
  worstMeanError: number;
} {
  const D = mean.length;
  const v = draws.dataSync();
  const n = v.length / D;
  const m = mean.map((_, j) => {
    let s = 0;
    for (let t = 0; t < n; t++) s += v[t * D + j];
    return s / n;
  });
  const c = mean.map((_, i) =>
    mean.map((__, j) => {
      let s = 0;
      for (let t = 0; t < n; t++) s += (v[t * D + i] - m[i]) * (v[t * D + j] - m[j]);
      return s / (n - 1);
    }),
  );
  const varianceRatios = mean.map((_, j) => c[j][j] / cov[j][j]);
  let worstCovError = 0;
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      const err = Math.abs(c[i][j] - cov[i][j]) / Math.sqrt(cov[i][i] * cov[j][j]);
      worstCovError = Math.max(worstCovError, err);
    }
  }
  return {
    varianceRatios,
    worstVarianceRatio: varianceRatios.reduce((a, b) =>
      Math.abs(Math.log(b)) > Math.abs(Math.log(a)) ? b : a,
    ),
    worstCovError,
    worstMeanError: Math.max(...m.map((mj, j) => Math.abs(mj - mean[j]) / Math.sqrt(cov[j][j]))),
  };
}
