/** The Beta distribution (port of zhusuan/distributions/univariate.py Beta). */
import * as tf from '@tensorflow/tfjs-core';
import { nextSeed } from '../random.js';
import { lbeta } from '../special.js';
import type { DistributionOptions, Param } from './base.js';
import { AlphaBetaDistribution, logStandardGammaDraws } from './gamma_sampler.js';
import {
  asFloat,
  assertGivenIn,
  FLOAT32_BELOW_ONE,
  FLOAT32_TINY,
  onSupport,
  readBroadcast,
  support,
  withoutGradient,
} from './internal.js';

/** Parameters of {@link Beta}: the two positive shape parameters. */
export interface BetaOptions extends DistributionOptions {
  /** The first shape α > 0 (the mean is α/(α + β)). */
  alpha: Param;
  /** The second shape β > 0. */
  beta: Param;
}

/**
 * Beta(α, β), density x^(α−1) (1 − x)^(β−1) / B(α, β) on 0 < x < 1,
 * elementwise over the broadcast shape of its parameters.
 *
 * `logProb` is (α − 1) log x + (β − 1) log(1 − x) − log B(α, β) (with
 * {@link lbeta}; log1p for the second log), differentiable with respect to α,
 * β and x; −∞ outside the open interval (0, 1), at its end points included,
 * NaN for a NaN x.
 *
 * Sampling reads α and β back (`dataSync`) and computes X/(X + Y) with
 * X ~ Gamma(α, 1), Y ~ Gamma(β, 1) drawn per element in JavaScript from the
 * library's random stream, in logs and float64 (1/(1 + e^(log Y − log X)),
 * so tiny α and β do not give 0/0). Samples are not reparameterised and carry
 * no gradient. They are kept inside (0, 1) in float32: a draw that would round
 * to 0 is returned as 2^−126, one that would round to 1 as 1 − 2^−24.
 * @example
 * const b = new zs.Beta({ alpha: 2, beta: tf.tensor([1, 5]) });
 * b.sample(10);                       // [10, 2]
 * b.logProb(tf.tensor([0.5, 0.1]));   // [2]
 */
export class Beta extends AlphaBetaDistribution {
  /** The first shape parameter α. */
  declare readonly alpha: tf.Tensor;
  /** The second shape parameter β. */
  declare readonly beta: tf.Tensor;

  constructor(opts: BetaOptions) {
    super('Beta', opts);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const seed = nextSeed();
    return withoutGradient([this.alpha, this.beta], (alpha, beta) => {
      const a = readBroadcast(alpha, this.batchShape);
      const b = readBroadcast(beta, this.batchShape);
      const m = a.length;
      // One stream: per sample, the m draws of X, then the m draws of Y.
      const both = new Float64Array(2 * m);
      both.set(a);
      both.set(b, m);
      const logG = logStandardGammaDraws(both, n, seed);
      const out = new Float32Array(n * m);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          const logX = logG[2 * m * i + j];
          const logY = logG[2 * m * i + m + j];
          const x = 1 / (1 + Math.exp(logY - logX));
          out[i * m + j] = Math.min(Math.max(x, FLOAT32_TINY), FLOAT32_BELOW_ONE);
        }
      }
      return tf.tensor(out, shape);
    });
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const { inside, isNan, safe } = support(x, 0, 1, 0.5);
    const a = this.alpha;
    const b = this.beta;
    const kernel = tf.add(
      tf.mul(tf.sub(a, 1), tf.log(safe)),
      tf.mul(tf.sub(b, 1), tf.log1p(tf.neg(safe))),
    );
    return onSupport(inside, isNan, tf.sub(kernel, lbeta(a, b)));
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertGivenIn('Beta', given, 0, 1);
  }
}
