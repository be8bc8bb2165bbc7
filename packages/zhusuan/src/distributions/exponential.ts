/**
 * The Exponential distribution (port of ZhuSuan-PyTorch's
 * zhusuan/distributions/exponential.py Exponential; reparameterised here,
 * where the port's samples carry no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from '../checks.js';
import { seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { stopGradient } from '../utils.js';
import { Distribution, type Param } from './base.js';
import {
  asFloat,
  assertGivenIn,
  continuousSpec,
  FLOAT32_BELOW_ONE,
  onSupport,
  requireParam,
  shapeOf,
  support,
  toTensor,
  type ReparameterizableOptions,
} from './internal.js';

/** Parameters of {@link Exponential}: the (positive) rate. */
export interface ExponentialOptions extends ReparameterizableOptions {
  /** The rate λ > 0: the mean is 1/λ. */
  rate: Param;
  /** Draw samples as E/λ (E standard exponential) so gradients flow to `rate`. Default true. */
  isReparameterized?: boolean;
}

/**
 * Exponential(λ) with rate λ, density λ·e^(−λx) on x ≥ 0, elementwise over
 * the shape of `rate`.
 *
 * `logProb(x)` is log λ − λx for x ≥ 0 (x = 0 included, as in PyTorch and
 * scipy: the density there is λ), −∞ for x < 0 and x = +∞, NaN for a NaN x;
 * differentiable with respect to λ and x.
 *
 * Samples are −log(1 − U)/λ by the inverse CDF, U uniform from the
 * library's random stream, reparameterised unless `isReparameterized` is
 * false. U is capped at the largest float32 below 1, so no sample is +∞ (the
 * largest is 16.6/λ: the tail beyond it, of probability 6e−8, is cut).
 * @example
 * const d = new zs.Exponential({ rate: tf.tensor([1, 4]) });
 * d.sample(10);                      // [10, 2], all ≥ 0
 * d.logProb(tf.tensor([0.5, 0.5]));  // [−0.5, log 4 − 2]
 */
export class Exponential extends Distribution {
  /** The rate λ. */
  readonly rate: tf.Tensor;

  constructor(opts: ExponentialOptions) {
    requireParam('Exponential', 'rate', opts.rate);
    super(continuousSpec('Exponential', shapeOf(opts.rate), opts));
    if (this.validateArgs) assertPositive('Exponential', 'rate', opts.rate);
    this.rate = toTensor(opts.rate);
  }

  protected _sample(n: number): tf.Tensor {
    const u = tf.minimum(seededUniform([n, ...this.batchShape], nextSeed()), FLOAT32_BELOW_ONE);
    const s = tf.div(tf.neg(tf.log1p(tf.neg(u))), asFloat(this.rate));
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const { inside, isNan, safe } = support(asFloat(given), 0, Infinity, 1, false, true);
    const rate = asFloat(this.rate);
    return onSupport(inside, isNan, tf.sub(tf.log(rate), tf.mul(rate, safe)));
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertGivenIn('Exponential', given, 0, Infinity, true);
  }
}
