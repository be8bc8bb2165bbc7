/**
 * The logistic distribution (port of ZhuSuan-PyTorch's
 * zhusuan/distributions/logistic.py Logistic).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from '../checks.js';
import { stopGradient } from '../utils.js';
import { Distribution, type Param } from './base.js';
import {
  asFloat,
  broadcastParamShapes,
  continuousSpec,
  logisticNoise,
  toTensor,
  type ReparameterizableOptions,
} from './internal.js';

/** Parameters of {@link Logistic}: the location and the (positive) scale. */
export interface LogisticOptions extends ReparameterizableOptions {
  /** The location (mean, median and mode). */
  loc: Param;
  /** The scale s > 0; the variance is π²s²/3. */
  scale: Param;
  /** Draw samples as loc + scale·L (L standard logistic) so gradients flow to both. Default true. */
  isReparameterized?: boolean;
}

/**
 * Logistic(loc, scale), density e^(−z) / (s·(1 + e^(−z))²) with
 * z = (x − loc)/s, elementwise over the broadcast shape of its parameters;
 * its CDF is sigmoid(z).
 *
 * `logProb(x)` is −|z| − 2·softplus(−|z|) − log s, the port's
 * −z − 2·softplus(−z) − log s written in |z| (the density is even in z) so
 * that neither term grows with |z| and cancels: accurate in the far tails
 * of either side.
 *
 * Samples are loc + scale·(log U − log(1 − U)), U uniform from the
 * library's random stream clamped to [2^−24, 1 − 2^−24] (so within
 * loc ± 16.6·scale: the tails beyond, of probability 6e−8 each, are cut),
 * reparameterised unless `isReparameterized` is false.
 * @example
 * const d = new zs.Logistic({ loc: tf.zeros([2]), scale: tf.tensor([1, 2]) });
 * d.sample(5);                       // [5, 2]
 * d.logProb(tf.tensor([0, 0]));      // [−log 4, −log 8]
 */
export class Logistic extends Distribution {
  /** The location. */
  readonly loc: tf.Tensor;
  /** The scale. */
  readonly scale: tf.Tensor;

  constructor(opts: LogisticOptions) {
    const batchShape = broadcastParamShapes('Logistic', ['loc', opts.loc], ['scale', opts.scale]);
    super(continuousSpec('Logistic', batchShape, opts));
    if (this.validateArgs) assertPositive('Logistic', 'scale', opts.scale);
    this.loc = toTensor(opts.loc);
    this.scale = toTensor(opts.scale);
  }

  protected _sample(n: number): tf.Tensor {
    const noise = logisticNoise([n, ...this.batchShape]);
    const s = tf.add(tf.mul(noise, asFloat(this.scale)), asFloat(this.loc));
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const scale = asFloat(this.scale);
    const a = tf.abs(tf.div(tf.sub(asFloat(given), asFloat(this.loc)), scale));
    return tf.sub(tf.neg(tf.add(a, tf.mul(tf.softplus(tf.neg(a)), 2))), tf.log(scale));
  }
}
