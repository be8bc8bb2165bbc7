/**
 * The Poisson distribution (port of zhusuan/distributions/univariate.py
 * Poisson), with a `logRate` parameterisation besides ZhuSuan's `rate`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nextSeed, nextWord, seedWords } from '../random.js';
import { lgamma } from '../special.js';
import {
  assertNone,
  Distribution,
  toTensor,
  type DistributionOptions,
  type Param,
} from './base.js';
import { asFloat, disposeOnThrow, oneOf, withZeroGradient } from './internal.js';

/** Parameters of {@link Poisson}: exactly one of `rate` and `logRate`. */
export interface PoissonOptions extends DistributionOptions {
  /** The rate λ ≥ 0 (the mean). */
  rate?: Param;
  /** log λ; the numerically preferred parameter. */
  logRate?: Param;
  /**
   * dtype of samples: 'int32' (default: counts are exact up to 2³¹ − 1,
   * float32 only up to 2²⁴) or 'float32'.
   */
  dtype?: 'int32' | 'float32';
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_FACTORIAL_TABLE_SIZE = 256;
const LOG_FACTORIAL_TABLE = (() => {
  const t = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
  for (let i = 2; i < LOG_FACTORIAL_TABLE_SIZE; i++) t[i] = t[i - 1] + Math.log(i);
  return t;
})();

/**
 * log k! in float64 for an integer k ≥ 0: a table below 256, above it
 * Stirling's series to the k⁻⁵ term (truncation error below 1e-19). Used by
 * the Poisson and Binomial samplers' acceptance tests.
 * @example logFactorial(10) // log 3628800 (internal: used by the Poisson and Binomial samplers)
 */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE_SIZE) return LOG_FACTORIAL_TABLE[k];
  const inv = 1 / k;
  const inv2 = inv * inv;
  return (
    (k + 0.5) * Math.log(k) - k + HALF_LOG_2PI + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))
  );
}

/**
 * A uniform double in [0, 1) with 53 random bits, from two words of `s`.
 * Used by the Poisson and Binomial samplers.
 */
export function uniform53(s: Uint32Array): number {
  return ((nextWord(s) >>> 5) * 67108864 + (nextWord(s) >>> 6)) / 9007199254740992;
}

/** The largest int32, 2³¹ − 1: the largest count an int32 sample holds. */
export const INT32_MAX = 2147483647;

/**
 * One Poisson(λ) draw, λ finite and ≥ 0. Below λ = 10, Knuth's product
 * method (multiply uniforms until the product falls to e^−λ; about λ + 1
 * uniforms). From λ = 10, Hörmann's transformed rejection with squeeze,
 * PTRS (Hörmann 1993, "The transformed rejection method for generating
 * Poisson random variables"; about 1.1 tries of two uniforms each).
 */
function poissonDraw(lambda: number, s: Uint32Array): number {
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let prod = 1 - uniform53(s); // (0, 1]
    while (prod > limit) {
      k++;
      prod *= 1 - uniform53(s);
    }
    return k;
  }
  const sqrtLam = Math.sqrt(lambda);
  const logLam = Math.log(lambda);
  const b = 0.931 + 2.53 * sqrtLam;
  const a = -0.059 + 0.02483 * b;
  const logInvAlpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = uniform53(s) - 0.5;
    const v = uniform53(s);
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    // Accept when v · (hat at u)⁻¹ · α⁻¹ ≤ p(k) (unnormalised by e^0).
    if (
      Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <=
      -lambda + k * logLam - logFactorial(k)
    ) {
      return k;
    }
  }
}

/**
 * Poisson(λ) over {0, 1, 2, …}, elementwise over the parameter's shape.
 *
 * `logProb(x)` = x·log λ − λ − log Γ(x + 1), computed from `logRate` as
 * x·logRate − exp(logRate) − log Γ(x + 1) with no log of λ (stable for any
 * logRate). Negative and non-integer values have probability 0: `logProb`
 * gives −∞ for them, or throws with `validateArgs`. λ = 0 is the point mass at
 * 0 (log-probability 0 at x = 0, not NaN), though its gradient there is not
 * defined.
 *
 * Sampling runs per element in JavaScript (Knuth's product method below
 * λ = 10, Hörmann's PTRS from λ = 10) on a local xoshiro128** state seeded
 * from the library's stream, so `random.setSeed` makes it reproducible. It
 * reads the rate back from the backend (`dataSync`) on each call and throws
 * for a rate that is negative, NaN or infinite, or (with dtype 'int32') a draw
 * above 2³¹ − 1. Samples carry no gradient.
 * @example
 * const d = new zs.Poisson({ logRate: tf.tensor([0, 1, 3]) });
 * d.sample(10);                              // int32 [10, 3]
 * d.logProb(tf.tensor([1, 2, 20]));          // [3]
 */
export class Poisson extends Distribution {
  private readonly param: { kind: 'rate' | 'logRate'; value: tf.Tensor };

  constructor(opts: PoissonOptions) {
    const { kind, raw } = oneOf('Poisson', opts, 'rate', 'logRate');
    const dtype = opts.dtype ?? 'int32';
    if (dtype !== 'int32' && dtype !== 'float32') {
      throw new Error(`Poisson: \`dtype\` must be 'int32' or 'float32', got '${dtype}'`);
    }
    const param = { kind, value: toTensor(raw) };
    super({
      name: 'Poisson',
      dtype,
      isContinuous: false,
      isReparameterized: false,
      batchShape: param.value.shape,
      groupNdims: opts.groupNdims,
      validateArgs: opts.validateArgs,
    });
    this.param = param;
    if (this.validateArgs && param.kind === 'rate') {
      disposeOnThrow([[raw, param.value]], () =>
        assertNone(
          () => tf.logicalNot(tf.greaterEqual(param.value, 0)), // NaN too
          'Poisson',
          '`rate` must be non-negative',
        ),
      );
    }
  }

  /** The rate λ (computed from `logRate` when that was given). */
  get rate(): tf.Tensor {
    return this.param.kind === 'rate' ? this.param.value : tf.exp(this.param.value);
  }

  /** log λ (computed from `rate` when that was given). */
  get logRate(): tf.Tensor {
    return this.param.kind === 'logRate' ? this.param.value : tf.log(this.param.value);
  }

  protected _sample(n: number): tf.Tensor {
    const lambdas = tf.broadcastTo(asFloat(this.rate), this.batchShape).dataSync();
    const size = lambdas.length;
    const out = this.dtype === 'int32' ? new Int32Array(n * size) : new Float32Array(n * size);
    const s = seedWords(nextSeed());
    for (let i = 0; i < size; i++) {
      const lambda = lambdas[i];
      if (!(lambda >= 0 && lambda < Infinity)) {
        throw new Error(`Poisson.sample: the rate must be finite and non-negative, got ${lambda}`);
      }
      for (let j = 0; j < n; j++) {
        const k = poissonDraw(lambda, s);
        if (this.dtype === 'int32' && k > INT32_MAX) {
          throw new Error(
            `Poisson.sample: a draw (${k}) at rate ${lambda} exceeds the int32 range; use dtype 'float32'`,
          );
        }
        out[j * size + i] = k;
      }
    }
    return withZeroGradient([this.param.value], () =>
      tf.tensor(out, [n, ...this.batchShape], this.dtype),
    );
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const valid = tf.logicalAnd(tf.greaterEqual(x, 0), tf.equal(x, tf.floor(x)));
    const xs = tf.where(valid, x, 0);
    const logRate = asFloat(this.logRate);
    const rate = asFloat(this.rate);
    // x·log λ as 0 at x = 0, also where λ = 0 (0 · (−∞) would be NaN).
    const xLogRate = tf.where(tf.equal(xs, 0), 0, tf.mul(xs, logRate));
    const lp = tf.sub(tf.sub(xLogRate, rate), lgamma(tf.add(xs, 1)));
    return tf.where(valid, lp, -Infinity);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    tf.tidy(() => {
      const x = asFloat(given);
      assertNone(
        tf.logicalNot(tf.logicalAnd(tf.greaterEqual(x, 0), tf.equal(x, tf.floor(x)))),
        'Poisson',
        'values given to logProb must be non-negative integers',
      );
    });
  }
}
