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
    const stirling = tf.add(
      tf.sub(tf.mul(tf.sub(y, 0.5), tf.log(y)), y),
      tf.add(stirlingSeries(y), HALF_LOG_2PI),
    );
    return tf.sub(stirling, logProduct);
  });
}

/** 1/(12y) − 1/(360y³) + 1/(1260y⁵), Horner in 1/y²: the tail of Stirling's series for log Γ(y). */
function stirlingSeries(y: tf.Tensor): tf.Tensor {
  const inv = tf.reciprocal(y);
  const inv2 = tf.square(inv);
  return tf.mul(inv, tf.add(1 / 12, tf.mul(inv2, tf.add(-1 / 360, tf.mul(inv2, 1 / 1260)))));
}

/**
 * log Γ(a + ½) − log Γ(a) for a > 0, elementwise, without the cancellation
 * of {@link lgamma}(a + ½) − lgamma(a): both grow like a·log a, so their
 * float32 difference loses ~a·log a·2^−24 (0.4 at a = 5e5), while this is
 * accurate to ~1e-6 absolute for every a. The normaliser of the Student t
 * (a = ν/2). Internal (src/index.ts does not export it).
 *
 * The same shift as lgamma, log Γ(a + ½) − log Γ(a) = D(a + 8) −
 * Σ_{k<8} log1p(1/(2(a + k))), and for y ≥ 8 Stirling's series in a form
 * whose large terms cancel exactly: D(y) = y·log1p(1/(2y)) − ½ + ½·log y +
 * S(y + ½) − S(y), S the series' tail ({@link stirlingSeries}).
 * Differentiable through autodiff.
 */
export function lgammaHalfStep(a: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const af = a.dtype === 'float32' ? a : tf.cast(a, 'float32');
    let shifts = tf.log1p(tf.div(0.5, af));
    for (let k = 1; k < SHIFT; k++) shifts = tf.add(shifts, tf.log1p(tf.div(0.5, tf.add(af, k))));
    const y = tf.add(af, SHIFT);
    const main = tf.add(tf.sub(tf.mul(y, tf.log1p(tf.div(0.5, y))), 0.5), tf.mul(tf.log(y), 0.5));
    const series = tf.sub(stirlingSeries(tf.add(y, 0.5)), stirlingSeries(y));
    return tf.sub(tf.add(main, series), shifts);
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
