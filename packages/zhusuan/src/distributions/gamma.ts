/** The Gamma distribution (port of zhusuan/distributions/univariate.py Gamma). */
import * as tf from '@tensorflow/tfjs-core';
import { lgamma } from '../special.js';
import type { DistributionOptions, Param } from './base.js';
import { AlphaBetaDistribution } from './gamma_sampler.js';
import { asFloat, assertGivenIn, onSupport, support } from './internal.js';

/** Parameters of {@link Gamma}: shape `alpha` and rate `beta`, both positive. */
export interface GammaOptions extends DistributionOptions {
  /** The shape α > 0. */
  alpha: Param;
  /** The rate (inverse scale) β > 0: the mean is α/β. */
  beta: Param;
}

/**
 * Gamma(α, β) with shape α and rate β, density β^α x^(α−1) e^(−βx) / Γ(α)
 * on x > 0, elementwise over the broadcast shape of its parameters.
 *
 * `logProb` is α log β − log Γ(α) + (α − 1) log x − βx, differentiable with
 * respect to α (through {@link lgamma}), β and x; it is −∞ for x ≤ 0 and
 * x = +∞ (the support is the open half-line, also where the density has a
 * finite limit at 0, as for α = 1), NaN for a NaN x.
 *
 * Sampling reads α back (`dataSync`) and draws each element in JavaScript
 * (Marsaglia–Tsang, with the Gamma(α + 1)·U^(1/α) boost for α < 1) from the
 * library's random stream, then divides by β as a tensor op. Samples are not
 * reparameterised and carry no gradient. Draws are kept inside the support
 * in float32: one that underflows is returned as 2^−126 (likely for α below
 * ~0.05: P(X < 2^−126) ≈ 0.4 for α = 0.01), one that overflows as the largest
 * float32. The Gamma(α, 1) draw passes through float32 before the division,
 * so for such tiny α and β ≪ 1 the smallest draws keep only subnormal
 * precision.
 * @example
 * const g = new zs.Gamma({ alpha: tf.tensor([0.5, 2]), beta: 1 });
 * g.sample(100);                 // [100, 2]
 * g.logProb(tf.tensor([1, 1]));  // [2]
 */
export class Gamma extends AlphaBetaDistribution {
  /** The shape parameter α. */
  declare readonly alpha: tf.Tensor;
  /** The rate parameter β. */
  declare readonly beta: tf.Tensor;

  constructor(opts: GammaOptions) {
    super('Gamma', opts);
  }

  protected _sample(n: number): tf.Tensor {
    return this.sampleFromGamma(n, (g, beta) => tf.div(g, beta));
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const { inside, isNan, safe } = support(x, 0, Infinity, 1);
    const a = this.alpha;
    const b = this.beta;
    const normaliser = tf.sub(tf.mul(a, tf.log(b)), lgamma(a));
    const kernel = tf.sub(tf.mul(tf.sub(a, 1), tf.log(safe)), tf.mul(b, safe));
    return onSupport(inside, isNan, tf.add(normaliser, kernel));
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertGivenIn('Gamma', given, 0, Infinity);
  }
}
