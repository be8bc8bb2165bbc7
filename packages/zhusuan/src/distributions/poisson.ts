/**
 * The Poisson distribution (port of zhusuan/distributions/univariate.py
 * Poisson), with a `logRate` parameterisation besides ZhuSuan's `rate`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone, assertNonNegative } from '../checks.js';
import { nextSeed, seedWords, uniform53 } from '../random.js';
import { lgamma, logFactorial } from '../special.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  asFloat,
  asKind,
  countArray,
  discreteSpec,
  INT32_MAX,
  oneOf,
  readBroadcast,
  sampleDtype,
  shapeOf,
  toTensor,
  withoutGradient,
  type Alternative,
} from './internal.js';

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
  private readonly param: Alternative<'rate' | 'logRate'>;

  constructor(opts: PoissonOptions) {
    const { kind, raw } = oneOf('Poisson', opts, 'rate', 'logRate');
    const dtype = sampleDtype('Poisson', opts.dtype, 'int32');
    super(discreteSpec('Poisson', shapeOf(raw), dtype, opts));
    if (this.validateArgs && kind === 'rate') assertNonNegative('Poisson', 'rate', raw);
    this.param = { kind, value: toTensor(raw) };
  }

  /** The rate λ (computed from `logRate` when that was given). */
  get rate(): tf.Tensor {
    return asKind(this.param, 'rate', tf.exp);
  }

  /** log λ (computed from `rate` when that was given). */
  get logRate(): tf.Tensor {
    return asKind(this.param, 'logRate', tf.log);
  }

  protected _sample(n: number): tf.Tensor {
    const lambdas = readBroadcast(this.rate, this.batchShape);
    const size = lambdas.length;
    const out = countArray(this.dtype, n * size);
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
    return withoutGradient([this.param.value], () =>
      tf.tensor(out, [n, ...this.batchShape], this.dtype),
    );
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const valid = isCount(x);
    const xs = tf.where(valid, x, 0);
    const logRate = asFloat(this.logRate);
    const rate = asFloat(this.rate);
    // x·log λ as 0 at x = 0, also where λ = 0 (0 · (−∞) would be NaN).
    const xLogRate = tf.where(tf.equal(xs, 0), 0, tf.mul(xs, logRate));
    const lp = tf.sub(tf.sub(xLogRate, rate), lgamma(tf.add(xs, 1)));
    return tf.where(valid, lp, -Infinity);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => tf.logicalNot(isCount(asFloat(given))),
      'Poisson',
      'values given to logProb must be non-negative integers',
    );
  }
}

/** x is a non-negative integer. */
function isCount(x: tf.Tensor): tf.Tensor {
  return tf.logicalAnd(tf.greaterEqual(x, 0), tf.equal(x, tf.floor(x)));
}
