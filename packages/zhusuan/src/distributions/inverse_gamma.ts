/** The inverse-Gamma distribution (port of zhusuan/distributions/univariate.py InverseGamma). */
import * as tf from '@tensorflow/tfjs-core';
import { lgamma } from '../special.js';
import type { DistributionOptions, Param } from './base.js';
import { AlphaBetaDistribution } from './gamma_sampler.js';
import { asFloat, assertGivenIn, onSupport, support } from './internal.js';

/** Parameters of {@link InverseGamma}: shape `alpha` and scale `beta`, both positive. */
export interface InverseGammaOptions extends DistributionOptions {
  /** The shape α > 0. */
  alpha: Param;
  /** The scale β > 0: X = β / G with G ~ Gamma(α, 1). */
  beta: Param;
}

/**
 * InverseGamma(α, β) with shape α and scale β, the law of 1/G for
 * G ~ Gamma(α, rate β): density β^α x^(−α−1) e^(−β/x) / Γ(α) on x > 0,
 * elementwise over the broadcast shape of its parameters.
 *
 * `logProb` is α log β − log Γ(α) − (α + 1) log x − β/x, differentiable with
 * respect to α, β and x; −∞ for x ≤ 0 and x = +∞, NaN for a NaN x.
 *
 * Sampling reads α back (`dataSync`), draws G ~ Gamma(α, 1) per element in
 * JavaScript from the library's random stream (as {@link Gamma} does) and
 * returns β / G as a tensor op. Samples are not reparameterised and carry no
 * gradient. Draws are kept inside the support in float32: one that would be
 * +∞ (G underflowed, likely for small α) is returned as the largest float32.
 * @example
 * const ig = new zs.InverseGamma({ alpha: 3, beta: tf.tensor([1, 2]) });
 * ig.sample(10);  // [10, 2]
 */
export class InverseGamma extends AlphaBetaDistribution {
  /** The shape parameter α. */
  declare readonly alpha: tf.Tensor;
  /** The scale parameter β. */
  declare readonly beta: tf.Tensor;

  constructor(opts: InverseGammaOptions) {
    super('InverseGamma', opts);
  }

  protected _sample(n: number): tf.Tensor {
    return this.sampleFromGamma(n, (g, beta) => tf.div(beta, g));
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const { inside, isNan, safe } = support(x, 0, Infinity, 1);
    const a = this.alpha;
    const b = this.beta;
    const normaliser = tf.sub(tf.mul(a, tf.log(b)), lgamma(a));
    const kernel = tf.add(tf.mul(tf.add(a, 1), tf.log(safe)), tf.div(b, safe));
    return onSupport(inside, isNan, tf.sub(normaliser, kernel));
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertGivenIn('InverseGamma', given, 0, Infinity);
  }
}
