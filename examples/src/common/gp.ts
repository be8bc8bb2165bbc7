/**
 * Gaussian-process pieces of ZhuSuan's examples/gaussian_process (utils.py
 * and svgp.py): the RBF kernel with one length scale per input, the
 * conditional f(x) | f(z), and the sparse variational GP's predictive
 * distribution.
 *
 *   k(x, x') = exp(−½ Σ_j (x_j − x'_j)² / s_j)
 *
 * with s_j (ZhuSuan's `k_scale`, a squared length scale) = softplus of a raw
 * parameter; the signal variance is 1 (the targets are standardised).
 *
 * Differences from ZhuSuan: K(z, z) gets a jitter (float32 Cholesky of a
 * kernel matrix whose length scales grow during training), and the
 * conditional variance is floored at {@link VARIANCE_FLOOR} (rounding can
 * make it slightly negative; ZhuSuan takes its square root as it is).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';

/** The jitter added to the diagonal of K(z, z) before its Cholesky factorisation. */
export const JITTER = 1e-4;

/** The smallest conditional variance of f(x) | f(z) (its float32 rounding can go below 0). */
export const VARIANCE_FLOOR = 1e-8;

/**
 * The RBF kernel matrix K(x, y) `[n, m]` of `x` `[n, d]` and `y` `[m, d]`
 * with squared length scales `kScale` `[d]`: exp(−½ Σ_j (x_j − y_j)² / s_j).
 */
export function rbfKernel(x: tf.Tensor2D, y: tf.Tensor2D, kScale: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const r = tf.rsqrt(kScale);
    const xs = tf.mul(x, r);
    const ys = tf.mul(y, r);
    const xx = tf.sum(tf.square(xs), 1, true);
    const yy = tf.reshape(tf.sum(tf.square(ys), 1), [1, -1]);
    // |x − y|² = |x|² + |y|² − 2 x·y, clipped at 0 against rounding.
    const sq = tf.relu(tf.sub(tf.add(xx, yy), tf.mul(tf.matMul(xs, ys, false, true), 2)));
    return tf.exp(tf.mul(sq, -0.5)) as tf.Tensor2D;
  });
}

/**
 * What the conditional and the predictive share at inducing inputs `z`
 * `[M, d]`: the Cholesky factor L of K(z, z) + jitter·I and its inverse.
 */
export interface InducingTerms {
  /** L `[M, M]`, lower triangular, L·Lᵀ = K(z, z) + jitter·I. */
  kzzChol: tf.Tensor2D;
  /** L⁻¹ `[M, M]`. */
  kzzCholInv: tf.Tensor2D;
}

/** L and L⁻¹ of K(z, z) + `jitter`·I (see {@link InducingTerms}). */
export function inducingTerms(z: tf.Tensor2D, kScale: tf.Tensor1D, jitter = JITTER): InducingTerms {
  return tf.tidy(() => {
    const m = z.shape[0];
    const eye = tf.eye(m);
    const kzzChol = zs.cholesky(
      tf.add(rbfKernel(z, z, kScale), tf.mul(eye, jitter)),
    ) as tf.Tensor2D;
    const kzzCholInv = zs.triangularSolve(kzzChol, eye) as tf.Tensor2D;
    return { kzzChol, kzzCholInv };
  });
}

/**
 * log N(x; 0, L·Lᵀ) of each row of `x` `[S, M]` from L⁻¹ `[M, M]` (lower
 * triangular, positive diagonal): −(M/2)·log 2π + Σ log diag L⁻¹ −
 * ½‖L⁻¹x‖², `[S]`. With L⁻¹ at hand this is two matrix products, where the
 * distribution's `logProb` would run a triangular solve.
 */
export function mvnLogProbCholInv(x: tf.Tensor2D, lInv: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const m = lInv.shape[0];
    const logDet = tf.sum(tf.log(tf.sum(tf.mul(lInv, tf.eye(m)), 1)));
    const white = tf.matMul(x, lInv, false, true);
    return tf.sub(
      tf.add(logDet, -0.5 * m * Math.log(2 * Math.PI)),
      tf.mul(tf.sum(tf.square(white), 1), 0.5),
    ) as tf.Tensor1D;
  });
}

/**
 * B = K(z, z)⁻¹ K(z, x) `[M, n]` and the conditional variance
 * 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) `[n]` (floored), through A = L⁻¹ K(z, x).
 */
function project(
  z: tf.Tensor2D,
  terms: InducingTerms,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
): { b: tf.Tensor2D; variance: tf.Tensor1D } {
  const a = tf.matMul(terms.kzzCholInv, rbfKernel(z, x, kScale));
  const b = tf.matMul(terms.kzzCholInv, a, true) as tf.Tensor2D;
  const variance = tf.maximum(tf.sub(1, tf.sum(tf.square(a), 0)), VARIANCE_FLOOR) as tf.Tensor1D;
  return { b, variance };
}

/**
 * The conditional f(x) | f(z) = fz of the GP (ZhuSuan's `gp_conditional`
 * with `full_cov=False`): for `fz` `[S, M]` and inputs `x` `[n, d]`, the mean
 * K(x, z) K(z, z)⁻¹ fz `[S, n]` and the standard deviation
 * √(1 − diag K(x, z) K(z, z)⁻¹ K(z, x)) `[n]` of each f(x_i).
 */
export function gpConditional(
  z: tf.Tensor2D,
  terms: InducingTerms,
  fz: tf.Tensor2D,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
): { mean: tf.Tensor2D; std: tf.Tensor1D } {
  return tf.tidy(() => {
    const { b, variance } = project(z, terms, x, kScale);
    return { mean: tf.matMul(fz, b) as tf.Tensor2D, std: tf.sqrt(variance) as tf.Tensor1D };
  });
}

/**
 * The sparse GP's predictive distribution of f(x) under q(f(z)) = N(m, S·Sᵀ):
 * the mean Bᵀm and the variance 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) +
 * diag Bᵀ S Sᵀ B `[n]`, with B = K(z, z)⁻¹ K(z, x), for inducing inputs `z`
 * `[M, d]`, `qMean` `[M]`, the lower factor `qCholTril` `[M, M]` and inputs
 * `x` `[n, d]`. Add the noise variance for the predictive of y.
 */
export function svgpPredictive(
  z: tf.Tensor2D,
  terms: InducingTerms,
  qMean: tf.Tensor1D,
  qCholTril: tf.Tensor2D,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  return tf.tidy(() => {
    const { b, variance: condVariance } = project(z, terms, x, kScale);
    const mean = tf.squeeze(tf.matMul(tf.reshape(qMean, [1, -1]), b), [0]) as tf.Tensor1D;
    const sb = tf.matMul(qCholTril, b, true); // Sᵀ B  [M, n]
    const variance = tf.add(condVariance, tf.sum(tf.square(sb), 0)) as tf.Tensor1D;
    return { mean, variance };
  });
}
