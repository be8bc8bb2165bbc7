/**
 * The univariate Uniform distribution (port of zhusuan/distributions/univariate.py Uniform).
 */
import * as tf from '@tensorflow/tfjs-core';
import { expandTo, seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { assertNone } from '../checks.js';
import { stopGradient } from '../utils.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import { broadcastParamShapes, continuousSpec, toTensor } from './internal.js';

/** Parameters of {@link Uniform}: the bounds of the interval [minval, maxval). */
export interface UniformOptions extends DistributionOptions {
  /** The lower bound (inclusive). */
  minval: Param;
  /** The upper bound (exclusive); must exceed `minval` element-wise. */
  maxval: Param;
  /**
   * Draw samples as minval + (maxval − minval)·u so gradients flow to both
   * bounds. Default true.
   */
  isReparameterized?: boolean;
}

/**
 * Uniform(minval, maxval) on the half-open interval [minval, maxval),
 * elementwise over the broadcast shape of its bounds.
 *
 * `logProb` is −log(maxval − minval) inside the interval and −Infinity
 * outside it (never NaN). Samples always lie in [minval, maxval): a float32
 * draw that rounds up onto `maxval` is wrapped to `minval` (u = 1 ≡ u = 0),
 * which happens with probability of order 2^−24 per draw.
 * @example
 * const u = new zs.Uniform({ minval: tf.zeros([3]), maxval: tf.tensor([1, 2, 4]) });
 * u.sample(10);                          // [10, 3]
 * u.logProb(tf.tensor([0.5, 0.5, 5]));   // [0, −log 2, −Infinity]
 */
export class Uniform extends Distribution {
  /** The lower bound (inclusive). */
  readonly minval: tf.Tensor;
  /** The upper bound (exclusive). */
  readonly maxval: tf.Tensor;

  constructor(opts: UniformOptions) {
    // Shapes first and tensors last, so that a constructor that throws has
    // made no tensors from plain-number parameters.
    const batchShape = broadcastParamShapes(
      'Uniform',
      ['minval', opts.minval],
      ['maxval', opts.maxval],
    );
    super(continuousSpec('Uniform', batchShape, opts));
    if (this.validateArgs) {
      const { minval, maxval } = opts;
      // "not less" so that NaN bounds fail too.
      assertNone(
        () => tf.logicalNot(tf.less(minval, maxval)),
        'Uniform',
        '`minval` must be less than `maxval`',
      );
    }
    this.minval = toTensor(opts.minval);
    this.maxval = toTensor(opts.maxval);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const u = seededUniform(shape, nextSeed());
    const lo = expandTo(this.minval, shape);
    const s = tf.add(lo, tf.mul(u, tf.sub(this.maxval, this.minval)));
    // u may be 1 after rounding to float32, and lo + range·u may round up to
    // maxval: wrap such draws to minval. Only GreaterEqual and Select here,
    // which tfjs can differentiate through.
    const inside = tf.where(tf.greaterEqual(s, this.maxval), lo, s);
    return this.isReparameterized ? inside : stopGradient(inside);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const logDensity = tf.neg(tf.log(tf.sub(this.maxval, this.minval)));
    // x ≥ maxval → −∞; else x ≥ minval → density; else −∞. Nested selects
    // rather than LogicalAnd, which has no gradient in tfjs.
    const aboveMin = tf.where(tf.greaterEqual(given, this.minval), logDensity, -Infinity);
    return tf.where(tf.greaterEqual(given, this.maxval), -Infinity, aboveMin);
  }
}
