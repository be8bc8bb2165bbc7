/**
 * The binary Concrete distribution (port of zhusuan/distributions/univariate.py
 * BinConcrete; Maddison et al. 2017): a continuous relaxation of the
 * Bernoulli on (0, 1), reparameterised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../utils.js';
import { assertPositive } from '../checks.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  asFloat,
  assertGivenIn,
  broadcastParamShapes,
  continuousSpec,
  FLOAT32_BELOW_ONE,
  FLOAT32_TINY,
  logisticNoise,
  onSupport,
  support,
  toTensor,
} from './internal.js';

/** Parameters of {@link BinConcrete}: the temperature and the log-odds. */
export interface BinConcreteOptions extends DistributionOptions {
  /** The temperature τ > 0; small τ gives samples near 0 or 1. */
  temperature: Param;
  /**
   * The log-odds log(p / (1 − p)) of the Bernoulli being relaxed: a sample
   * exceeds 1/2 with probability p = sigmoid(logits).
   */
  logits: Param;
  /**
   * Draw samples as a differentiable function of `logits` and `temperature`
   * and fixed logistic noise, so gradients flow to both. Default true.
   */
  isReparameterized?: boolean;
}

/**
 * BinConcrete(τ, logits), the binary Concrete (relaxed Bernoulli) on the
 * open interval (0, 1), elementwise over the broadcast shape of its
 * parameters. The event {x > 1/2} has probability sigmoid(logits); as τ → 0
 * samples approach 0 or 1. Its CDF is sigmoid(τ·logit(x) − logits).
 *
 * Samples are sigmoid((logits + L)/τ) with logistic noise L = log U −
 * log(1 − U) (U from the library's random stream, clamped to
 * [2^−24, 1 − 2^−24] so that L is finite):
 * reparameterised unless `isReparameterized` is false. They are kept inside
 * (0, 1) in float32: a draw that would round to 0 is returned as 2^−126, one
 * that would round to 1 as 1 − 2^−24.
 *
 * `logProb(x)` is log τ − log x − log(1 − x) + t − 2·softplus(t) with
 * t = τ(log x − log(1 − x)) − logits, ZhuSuan's form, equal to Maddison et
 * al.'s log τ + logits − (τ + 1) log x + (τ − 1) log(1 − x) −
 * 2·softplus(logits − τ(log x − log(1 − x))); computed as
 * −softplus(t) − softplus(−t) for the last two terms. It is −∞ outside the
 * open interval (0, 1), at its end points included, and NaN for a NaN x.
 * @example
 * const d = new zs.BinConcrete({ temperature: 0.5, logits: tf.tensor([0, 2]) });
 * d.sample(10);                         // [10, 2], values in (0, 1)
 * d.logProb(tf.tensor([0.3, 0.9]));     // [2]
 */
export class BinConcrete extends Distribution {
  /** The temperature τ. */
  readonly temperature: tf.Tensor;
  /** The log-odds. */
  readonly logits: tf.Tensor;

  constructor(opts: BinConcreteOptions) {
    // Shapes and checks first, tensors last: a rejected construction has
    // made no tensor from plain-number parameters.
    const batchShape = broadcastParamShapes(
      'BinConcrete',
      ['temperature', opts.temperature],
      ['logits', opts.logits],
    );
    super(continuousSpec('BinConcrete', batchShape, opts));
    if (this.validateArgs) assertPositive('BinConcrete', 'temperature', opts.temperature);
    this.temperature = toTensor(opts.temperature);
    this.logits = toTensor(opts.logits);
  }

  protected _sample(n: number): tf.Tensor {
    const logistic = logisticNoise([n, ...this.batchShape]);
    const z = tf.div(tf.add(asFloat(this.logits), logistic), asFloat(this.temperature));
    const s = tf.clipByValue(tf.sigmoid(z), FLOAT32_TINY, FLOAT32_BELOW_ONE);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const { inside, isNan, safe } = support(asFloat(given), 0, 1, 0.5);
    const tau = asFloat(this.temperature);
    const logX = tf.log(safe);
    const log1mX = tf.log1p(tf.neg(safe));
    const t = tf.sub(tf.mul(tau, tf.sub(logX, log1mX)), asFloat(this.logits));
    const lp = tf.sub(
      tf.sub(tf.sub(tf.log(tau), logX), log1mX),
      tf.add(tf.softplus(t), tf.softplus(tf.neg(t))),
    );
    return onSupport(inside, isNan, lp);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertGivenIn('BinConcrete', given, 0, 1);
  }
}
