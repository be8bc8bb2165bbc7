/**
 * Special functions as compositions of tfjs ops (tfjs 4.22 has no lgamma),
 * so they run on every backend and autodiff gives their derivatives.
 */
import * as tf from '@tensorflow/tfjs-core';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** The recurrence shift: Stirling's series is used at x + SHIFT ≥ 8. */
const SHIFT = 8;

/**
 * log Γ(x) for x > 0, elementwise (+∞ at x = 0, NaN below).
 *
 * Γ(x) = Γ(x + 8) / (x (x + 1) ⋯ (x + 7)), and log Γ(y) for y ≥ 8 from
 * Stirling's series to the y⁻⁵ term (truncation error below 1e-10 there). In
 * float32 the result is within a few units in the last place of its
 * magnitude (absolute error ~2e-6 near the zeros at x = 1 and 2). Its gradient,
 * through autodiff, is the digamma function to the same accuracy.
 * @example
 * zs.lgamma(tf.tensor([0.5, 1, 10])) // [log √π, 0, log 362880]
 */
export function lgamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    // Σ log(x + k), k < SHIFT: log x alone (NaN below 0, −∞ at the pole at 0,
    // so Γ's log is NaN or +∞ there), then pairs (x + k)(x + k + 1) for
    // k = 1, 3, 5, then log(x + 7): five logs, no overflow in float32 for x
    // up to ~1e19.
    let logProduct = tf.add(tf.log(xf), tf.log(tf.add(xf, SHIFT - 1)));
    for (let k = 1; k < SHIFT - 1; k += 2) {
      logProduct = tf.add(logProduct, tf.log(tf.mul(tf.add(xf, k), tf.add(xf, k + 1))));
    }
    const y = tf.add(xf, SHIFT);
    const inv = tf.reciprocal(y);
    const inv2 = tf.square(inv);
    // 1/(12y) − 1/(360y³) + 1/(1260y⁵), Horner in 1/y².
    const series = tf.mul(
      inv,
      tf.add(1 / 12, tf.mul(inv2, tf.add(-1 / 360, tf.mul(inv2, 1 / 1260)))),
    );
    const stirling = tf.add(
      tf.sub(tf.mul(tf.sub(y, 0.5), tf.log(y)), y),
      tf.add(series, HALF_LOG_2PI),
    );
    return tf.sub(stirling, logProduct);
  });
}

/**
 * log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b), elementwise with
 * broadcasting; the normaliser of the Beta distribution.
 */
export function lbeta(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.add(lgamma(a), lgamma(b)), lgamma(tf.add(a, b))));
}

const LOG_FACTORIAL_TABLE_SIZE = 256;
const LOG_FACTORIAL_TABLE = (() => {
  const t = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
  for (let i = 2; i < LOG_FACTORIAL_TABLE_SIZE; i++) t[i] = t[i - 1] + Math.log(i);
  return t;
})();

/**
 * log k! in float64 for an integer k ≥ 0 (a plain number, not a tensor): a
 * table below 256, above it Stirling's series to the k⁻⁵ term (truncation
 * error below 1e-19). The acceptance tests of the Poisson and Binomial
 * samplers use it; internal (src/index.ts does not export it).
 * @example logFactorial(10) // log 3628800
 */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE_SIZE) return LOG_FACTORIAL_TABLE[k];
  const inv = 1 / k;
  const inv2 = inv * inv;
  return (
    (k + 0.5) * Math.log(k) - k + HALF_LOG_2PI + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))
  );
}
