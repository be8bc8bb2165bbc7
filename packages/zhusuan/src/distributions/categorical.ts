/**
 * The Categorical and OnehotCategorical distributions (port of
 * zhusuan/distributions/univariate.py Categorical and
 * zhusuan/distributions/multivariate.py OnehotCategorical), with a `probs`
 * parameterisation besides ZhuSuan's `logits`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { assertNone } from '../checks.js';
import { stopGradient } from '../utils.js';
import type { DistributionOptions, Param } from './base.js';
import {
  CategoricalBase,
  logitsOf,
  logProbsOf,
  type CategoricalParam,
} from './categorical_base.js';
import { asFloat, checkLastAxis } from './internal.js';

/** Parameters shared by {@link Categorical} and {@link OnehotCategorical}. */
export interface CategoricalParams {
  /**
   * Unnormalised log probabilities, shape `[..., K]` (the last axis holds the
   * K categories); the numerically preferred parameter.
   */
  logits?: Param;
  /**
   * Non-negative weights, shape `[..., K]`, normalised along the last axis
   * (they need not sum to 1).
   */
  probs?: Param;
}

/** Options of {@link Categorical}: exactly one of `logits` and `probs`. */
export interface CategoricalOptions extends CategoricalParams, DistributionOptions {
  /** dtype of samples: 'int32' (default) or 'float32'. */
  dtype?: 'int32' | 'float32';
}

/** Options of {@link OnehotCategorical}: exactly one of `logits` and `probs`. */
export interface OnehotCategoricalOptions extends CategoricalParams, DistributionOptions {
  /** dtype of samples: 'float32' (default, ready for a matmul) or 'int32'. */
  dtype?: 'float32' | 'int32';
}

/** Smallest and largest uniforms fed to the Gumbel transform (keeps it finite). */
const U_MIN = 1e-30;
const U_MAX = 1 - 2 ** -24;

/**
 * `n` category indices per batch member (int32, `[n, ...batchShape]`) by
 * Gumbel-max: argmax_k (logits_k + G_k) with G_k = −log(−log U_k) and U_k
 * from {@link seededUniform}, clamped to [1e-30, 1 − 2⁻²⁴] so G stays in
 * about [−4.2, 16.6]. Gumbel-max needs no normalisation and draws categories
 * of small relative probability at their rate down to about e⁻²⁰ (a logit
 * more than ~20.8 below the largest is never drawn), where an inverse CDF in
 * float32 loses those below ~1e-7.
 */
function gumbelMaxIndices(
  param: CategoricalParam,
  batchShape: number[],
  n: number,
  k: number,
): tf.Tensor {
  const logits = stopGradient(asFloat(logitsOf(param)));
  const u = tf.clipByValue(seededUniform([n, ...batchShape, k], nextSeed()), U_MIN, U_MAX);
  const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
  return tf.argMax(tf.add(logits, gumbel), -1);
}

/**
 * Categorical over {0, …, K − 1}, with batch shape `logits.shape[:-1]` and
 * scalar values (category indices).
 *
 * `logProb(x)` = logits[x] − logSumExp(logits) (from `probs`: log probs[x] −
 * log Σ probs). Values outside {0, …, K − 1}, non-integers included, have
 * probability 0: `logProb` gives −∞ for them, or throws with `validateArgs`.
 * A category of probability 0 (logit −∞, or probs 0) gives −∞, never NaN.
 * Samples are drawn by Gumbel-max from the library's random stream and carry
 * no gradient.
 * @example
 * const d = new zs.Categorical({ logits: tf.tensor([[0, 1, 2], [2, 0, -1]]) });
 * d.batchShape;                       // [2]
 * d.sample(5);                        // int32 [5, 2], values in {0, 1, 2}
 * d.logProb(tf.tensor([2, 0], [2], 'int32')); // [2]
 */
export class Categorical extends CategoricalBase {
  constructor(opts: CategoricalOptions) {
    super('Categorical', opts, { defaultDtype: 'int32', vector: false });
  }

  protected _sample(n: number): tf.Tensor {
    const idx = gumbelMaxIndices(this.param, this.batchShape, n, this.nCategories);
    return this.dtype === 'int32' ? idx : tf.cast(idx, this.dtype);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const k = this.nCategories;
    const x = asFloat(given);
    const valid = inRange(x, k);
    const hit = oneHotBool(tf.cast(tf.where(valid, x, 0), 'int32'), k); // [...given.shape, K]
    // Select rather than multiply by the one-hot: 0 · (−∞) would be NaN.
    const picked = tf.sum(tf.where(hit, logProbsOf(this.param), 0), -1);
    return tf.where(valid, picked, -Infinity);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => tf.logicalNot(inRange(asFloat(given), this.nCategories)),
      'Categorical',
      `values given to logProb must be integers in [0, ${this.nCategories})`,
    );
  }
}

/** One-hot of int32 `idx` along a new last axis of size k, as bool (tf.oneHot needs k ≥ 2). */
function oneHotBool(idx: tf.Tensor, k: number): tf.Tensor {
  return tf.equal(tf.expandDims(idx, -1), tf.range(0, k, 1, 'int32'));
}

/** x is an integer in [0, k). */
function inRange(x: tf.Tensor, k: number): tf.Tensor {
  return tf.logicalAnd(
    tf.logicalAnd(tf.greaterEqual(x, 0), tf.less(x, k)),
    tf.equal(x, tf.floor(x)),
  );
}

/**
 * OnehotCategorical: the {@link Categorical} distribution with one-hot
 * values, batch shape `logits.shape[:-1]` and value shape `[K]`.
 *
 * `logProb(x)` = Σ_k x_k · log-softmax(logits)_k, the form ZhuSuan computes
 * (a softmax cross-entropy): for a value that is not one-hot (a soft label)
 * it is that weighted sum, not −∞; `validateArgs` rejects such values. A
 * zero entry contributes 0 even where log p_k = −∞. The last axis of `given`
 * must have K entries. Samples (one-hot, by Gumbel-max from the library's
 * random stream) carry no gradient.
 * @example
 * const d = new zs.OnehotCategorical({ probs: tf.tensor([0.2, 0.3, 0.5]) });
 * d.sample(4);                          // float32 [4, 3], one 1 per row
 * d.logProb(tf.tensor([0, 0, 1]));      // scalar log 0.5
 */
export class OnehotCategorical extends CategoricalBase {
  constructor(opts: OnehotCategoricalOptions) {
    super('OnehotCategorical', opts, { defaultDtype: 'float32', vector: true });
  }

  protected _sample(n: number): tf.Tensor {
    const idx = gumbelMaxIndices(this.param, this.batchShape, n, this.nCategories);
    return tf.cast(oneHotBool(idx, this.nCategories), this.dtype);
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    super.checkGivenShape(given);
    checkLastAxis('OnehotCategorical', given, this.nCategories, `K = ${this.nCategories} entries`);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    // Zero entries contribute 0 even where log p = −∞ (0 · (−∞) would be NaN).
    const logp = tf.where(tf.equal(x, 0), 0, logProbsOf(this.param));
    return tf.sum(tf.mul(x, logp), -1);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => {
        const x = asFloat(given);
        return tf.logicalOr(
          tf.any(tf.logicalAnd(tf.notEqual(x, 0), tf.notEqual(x, 1)), -1),
          tf.notEqual(tf.sum(x, -1), 1),
        );
      },
      'OnehotCategorical',
      'values given to logProb must be one-hot along the last axis (entries 0 or 1, one 1)',
    );
  }
}
