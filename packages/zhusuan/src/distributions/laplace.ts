/**
 * The univariate Laplace distribution (port of zhusuan/distributions/univariate.py Laplace).
 */
import * as tf from '@tensorflow/tfjs-core';
import { seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { assertPositive } from '../checks.js';
import { stopGradient } from '../utils.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import { broadcastParamShapes, continuousSpec, toTensor } from './internal.js';

/** The largest float32 below 1, 1 − 2^−24: the cap on |u| in the inverse CDF. */
const BELOW_ONE = 1 - 2 ** -24;

/** Parameters of {@link Laplace}: the location and the (positive) scale. */
export interface LaplaceOptions extends DistributionOptions {
  /** The location (mean and median). */
  loc: Param;
  /** The scale b > 0; the variance is 2b². */
  scale: Param;
  /** Draw samples by the inverse CDF so gradients flow to the parameters. Default true. */
  isReparameterized?: boolean;
}

/**
 * Laplace(loc, scale), density exp(−|x − loc|/scale) / (2·scale),
 * elementwise over the broadcast shape of its parameters.
 *
 * Samples are loc − scale·sign(u)·log(1 − |u|) for u uniform on (−1, 1).
 * |u| is capped at the largest float32 below 1, so no sample is ±Infinity
 * (the most extreme is loc ± 16.6·scale).
 * @example
 * const d = new zs.Laplace({ loc: tf.zeros([2]), scale: 1, groupNdims: 1 });
 * d.sample(4);                        // [4, 2]
 * d.logProb(tf.tensor([0, 1]));       // scalar: −2·log 2 − 1
 */
export class Laplace extends Distribution {
  /** The location. */
  readonly loc: tf.Tensor;
  /** The scale. */
  readonly scale: tf.Tensor;

  constructor(opts: LaplaceOptions) {
    // Shapes first and tensors last, so that a constructor that throws has
    // made no tensors from plain-number parameters.
    const batchShape = broadcastParamShapes('Laplace', ['loc', opts.loc], ['scale', opts.scale]);
    super(continuousSpec('Laplace', batchShape, opts));
    if (this.validateArgs) assertPositive('Laplace', 'scale', opts.scale);
    this.loc = toTensor(opts.loc);
    this.scale = toTensor(opts.scale);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const u = seededUniform(shape, nextSeed(), -1, 1);
    // Standard Laplace noise by the inverse CDF; the cap keeps log1p finite
    // when float32 rounding puts u on ±1.
    const a = tf.minimum(tf.abs(u), BELOW_ONE);
    const noise = tf.neg(tf.mul(tf.sign(u), tf.log1p(tf.neg(a))));
    const s = tf.add(tf.mul(noise, this.scale), this.loc);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const z = tf.div(tf.abs(tf.sub(given, this.loc)), this.scale);
    return tf.sub(tf.sub(-Math.LN2, tf.log(this.scale)), z);
  }
}
