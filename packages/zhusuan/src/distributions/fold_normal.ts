/**
 * The folded Normal distribution (port of zhusuan/distributions/univariate.py FoldNormal).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HALF_LOG_2PI, normalSampleFromLogstd, seededNormal } from '../kernels.js';
import { nextSeed } from '../random.js';
import { assertPositive } from '../checks.js';
import { stopGradient } from '../utils.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  asKind,
  broadcastParamShapes,
  continuousSpec,
  oneOf,
  toTensor,
  type Alternative,
} from './internal.js';

/**
 * Parameters of {@link FoldNormal}: the mean of the underlying Normal and
 * exactly one of `std` and `logstd`.
 */
export interface FoldNormalOptions extends DistributionOptions {
  /** Mean of the Normal that is folded (not the mean of the FoldNormal itself). */
  mean: Param;
  /** Standard deviation of the Normal that is folded. */
  std?: Param;
  /** log of `std`. */
  logstd?: Param;
  /** Draw samples as |mean + std·ε| so gradients flow to the parameters. Default true. */
  isReparameterized?: boolean;
}

/**
 * The distribution of |y| for y ~ Normal(mean, std²), elementwise over the
 * broadcast shape of its parameters. It depends on `mean` only through |mean|.
 *
 * `logProb(x)` for x ≥ 0 is log(N(x; mean, std) + N(−x; mean, std)),
 * computed as a log-sum-exp of the two terms,
 * −½((x − |mean|)/std)² − ½log 2π − log std + softplus(−2·|mean|·x/std²),
 * so it neither underflows nor cancels when the terms are far apart; it is
 * −Infinity for x < 0.
 * @example
 * const d = new zs.FoldNormal({ mean: tf.zeros([3]), std: 1 }); // half-normal
 * d.sample(5);                          // [5, 3], all ≥ 0
 * d.logProb(tf.tensor([0, 1, -1]));     // [log 2 − ½log 2π, log 2 − ½log 2π − ½, −Infinity]
 */
export class FoldNormal extends Distribution {
  /** Mean of the underlying Normal. */
  readonly mean: tf.Tensor;
  /** The parameter given (`std` or `logstd`) and its kind. */
  private readonly scale: Alternative<'std' | 'logstd'>;

  constructor(opts: FoldNormalOptions) {
    const { kind, raw } = oneOf('FoldNormal', opts, 'std', 'logstd');
    // Shapes first and tensors last, so that a constructor that throws has
    // made no tensors from plain-number parameters.
    const batchShape = broadcastParamShapes('FoldNormal', ['mean', opts.mean], [kind, raw]);
    super(continuousSpec('FoldNormal', batchShape, opts));
    if (this.validateArgs && kind === 'std') assertPositive('FoldNormal', 'std', raw);
    this.mean = toTensor(opts.mean);
    this.scale = { kind, value: toTensor(raw) };
  }

  /** Standard deviation of the underlying Normal (computed from `logstd` when that was given). */
  get std(): tf.Tensor {
    return asKind(this.scale, 'std', tf.exp);
  }

  /** log of {@link std} (computed from `std` when that was given). */
  get logstd(): tf.Tensor {
    return asKind(this.scale, 'logstd', tf.log);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const y =
      this.scale.kind === 'logstd'
        ? normalSampleFromLogstd(this.mean, this.scale.value, shape, nextSeed())
        : tf.add(tf.mul(seededNormal(shape, nextSeed()), this.scale.value), this.mean);
    const s = tf.abs(y);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    // log(N(x; m) + N(x; −m)) = max + log1p(e^(min − max)); the larger term
    // is the one centred at |m| (for x ≥ 0) and the log-ratio of the two is
    // 2|m|x/std².
    const m = tf.abs(this.mean);
    let z: tf.Tensor;
    let ratio: tf.Tensor;
    if (this.scale.kind === 'logstd') {
      const invStd = tf.exp(tf.neg(this.scale.value));
      z = tf.mul(tf.sub(given, m), invStd);
      ratio = tf.mul(tf.mul(tf.mul(m, given), 2), tf.square(invStd));
    } else {
      const std = this.scale.value;
      z = tf.div(tf.sub(given, m), std);
      ratio = tf.div(tf.mul(tf.mul(m, given), 2), tf.square(std));
    }
    const lp = tf.add(
      tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), HALF_LOG_2PI), this.logstd),
      tf.softplus(tf.neg(ratio)),
    );
    // GreaterEqual and Select (not Less) so the graph stays differentiable.
    return tf.where(tf.greaterEqual(given, 0), lp, -Infinity);
  }
}
