/** The univariate Normal distribution (port of zhusuan/distributions/univariate.py Normal). */
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from '../checks.js';
import {
  backendHasKernel,
  HALF_LOG_2PI,
  normalLogProbFromLogstd,
  normalSampleFromLogstd,
  OPTIONAL_KERNELS,
  seededNormal,
} from '../kernels.js';
import { nextSeed } from '../random.js';
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

/** Parameters of {@link Normal}: the mean and exactly one of `std` and `logstd`. */
export interface NormalOptions extends DistributionOptions {
  /** The mean. */
  mean: Param;
  /** The standard deviation (positive). */
  std?: Param;
  /** The log of the standard deviation. */
  logstd?: Param;
  /** Draw samples as mean + std·ε so gradients flow to the parameters. Default true. */
  isReparameterized?: boolean;
}

/**
 * Normal(mean, std²), elementwise over the broadcast shape of its parameters.
 * @example
 * const q = new zs.Normal({ mean: tf.zeros([2, 3]), logstd: tf.zeros([2, 3]), groupNdims: 1 });
 * q.sample(5);            // [5, 2, 3]
 * q.logProb(x);           // [2] for x of shape [2, 3]
 */
export class Normal extends Distribution {
  /** The mean. */
  readonly mean: tf.Tensor;
  /** The parameter given (`std` or `logstd`) and its kind. */
  private readonly scale: Alternative<'std' | 'logstd'>;

  constructor(opts: NormalOptions) {
    const { kind, raw } = oneOf('Normal', opts, 'std', 'logstd');
    const batchShape = broadcastParamShapes('Normal', ['mean', opts.mean], [kind, raw]);
    super(continuousSpec('Normal', batchShape, opts));
    if (this.validateArgs && kind === 'std') assertPositive('Normal', 'std', raw);
    this.mean = toTensor(opts.mean);
    this.scale = { kind, value: toTensor(raw) };
  }

  /** The standard deviation (computed from `logstd` when that was given). */
  get std(): tf.Tensor {
    return asKind(this.scale, 'std', tf.exp);
  }

  /** log of the standard deviation (computed from `std` when that was given). */
  get logstd(): tf.Tensor {
    return asKind(this.scale, 'logstd', tf.log);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const s =
      this.scale.kind === 'logstd'
        ? normalSampleFromLogstd(this.mean, this.scale.value, shape, nextSeed())
        : tf.add(tf.mul(seededNormal(shape, nextSeed()), this.std), this.mean);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    // From logstd, or through the backend's fused kernel: the library's one
    // Normal log-density. From std otherwise: divide by std rather than
    // multiply by e^−log std.
    if (this.scale.kind === 'logstd' || backendHasKernel(OPTIONAL_KERNELS.normalLogProb)) {
      return normalLogProbFromLogstd(given, this.mean, this.logstd);
    }
    const z = tf.div(tf.sub(given, this.mean), this.scale.value);
    return tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), HALF_LOG_2PI), this.logstd);
  }

  protected override _logProbGrouped(given: tf.Tensor, groupNdims: number): tf.Tensor | null {
    // The fused kernel sums the group axes as it goes (no element-wise
    // tensor, no Sum kernel); without it only the logstd form has a
    // composite of its own.
    if (this.scale.kind === 'logstd' || backendHasKernel(OPTIONAL_KERNELS.normalLogProb)) {
      return normalLogProbFromLogstd(given, this.mean, this.logstd, groupNdims);
    }
    return null;
  }
}
