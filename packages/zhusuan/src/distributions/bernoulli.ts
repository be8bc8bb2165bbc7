/** The Bernoulli distribution (port of zhusuan/distributions/univariate.py Bernoulli). */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone } from '../checks.js';
import { bernoulliLogProbFromLogits, fusedBernoulliSample, seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  asFloat,
  asKind,
  assertProbability,
  discreteSpec,
  logitsFromProbs,
  oneOf,
  sampleDtype,
  shapeOf,
  toTensor,
  withoutGradient,
  type Alternative,
} from './internal.js';

/** Parameters of {@link Bernoulli}: exactly one of `logits` and `probs`. */
export interface BernoulliOptions extends DistributionOptions {
  /** log(p / (1 − p)); the numerically preferred parameter. */
  logits?: Param;
  /** p in [0, 1]. */
  probs?: Param;
  /** dtype of samples: 'float32' (default) or 'int32'. */
  dtype?: 'float32' | 'int32';
}

/**
 * Bernoulli(p) over {0, 1}, elementwise over the parameter's shape.
 *
 * `logProb` uses the stable softplus form x·logits − softplus(logits), with no
 * clipping or epsilon. From `probs` it is x·log p + (1 − x)·log(1 − p), exact
 * at p = 0 and p = 1 (log 0 = −∞ for an impossible value, never NaN).
 * Samples carry no gradient.
 */
export class Bernoulli extends Distribution {
  private readonly param: Alternative<'logits' | 'probs'>;

  constructor(opts: BernoulliOptions) {
    const { kind, raw } = oneOf('Bernoulli', opts, 'logits', 'probs');
    const dtype = sampleDtype('Bernoulli', opts.dtype, 'float32', ['float32', 'int32']);
    super(discreteSpec('Bernoulli', shapeOf(raw), dtype, opts));
    if (this.validateArgs && kind === 'probs') assertProbability('Bernoulli', 'probs', raw);
    this.param = { kind, value: toTensor(raw) };
  }

  /** The logits (computed from `probs` when those were given). */
  get logits(): tf.Tensor {
    return asKind(this.param, 'logits', logitsFromProbs);
  }

  /** The probabilities (computed from `logits` when those were given). */
  get probs(): tf.Tensor {
    return asKind(this.param, 'probs', tf.sigmoid);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const seed = nextSeed();
    // One kernel where the backend has it, with the composite's numbers.
    const { kind, value } = this.param;
    const fused = fusedBernoulliSample(kind, value, shape, seed, this.dtype as 'float32' | 'int32');
    if (fused !== null) return fused;
    const u = seededUniform(shape, seed);
    // Off the tape: tfjs has no gradient for Less, and a sample carries none.
    return withoutGradient([this.probs], (p) => tf.cast(tf.less(u, p), this.dtype));
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    if (this.param.kind === 'logits') {
      return bernoulliLogProbFromLogits(this.param.value, x);
    }
    // Select rather than mix: 0 · log 0 would be NaN.
    const p = this.param.value;
    return tf.where(tf.greater(x, 0.5), tf.log(p), tf.log1p(tf.neg(p)));
  }

  protected override _logProbGrouped(given: tf.Tensor, groupNdims: number): tf.Tensor | null {
    if (this.param.kind !== 'logits') return null;
    const x = asFloat(given);
    return bernoulliLogProbFromLogits(this.param.value, x, groupNdims);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => tf.logicalAnd(tf.notEqual(given, 0), tf.notEqual(given, 1)),
      'Bernoulli',
      'values given to logProb must be 0 or 1',
    );
  }
}
