/**
 * The Concrete (Gumbel-softmax) distribution and its log-space form
 * ExpConcrete (port of zhusuan/distributions/multivariate.py Concrete and
 * ExpConcrete; Maddison et al. 2017, Jang et al. 2017): continuous
 * relaxations of the one-hot categorical, reparameterised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { assertNone, assertPositive } from '../checks.js';
import { logSumExp, stopGradient } from '../utils.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  asFloat,
  assertOnSimplex,
  broadcastBatchShapes,
  categoryCount,
  checkLastAxis,
  continuousSpec,
  FLOAT32_BELOW_ONE,
  FLOAT32_TINY,
  onSupport,
  requireParam,
  shapeOf,
  support,
  toTensor,
} from './internal.js';

/** Parameters of {@link Concrete} and {@link ExpConcrete}. */
export interface ConcreteOptions extends DistributionOptions {
  /**
   * The temperature τ > 0: a number, or a tensor that broadcasts against
   * the batch shape `logits.shape[:-1]` (it may extend it). Small τ gives
   * nearly one-hot samples, large τ nearly uniform ones.
   */
  temperature: Param;
  /**
   * Unnormalised log probabilities of the K categories, shape
   * `[..., K]` (K ≥ 1): the relaxed category is argmax-distributed as
   * Categorical(softmax(logits)).
   */
  logits: Param;
  /**
   * Draw samples as a differentiable function of `logits` and `temperature`
   * and fixed Gumbel noise, so gradients flow to both. Default true.
   */
  isReparameterized?: boolean;
}

/** Parameters of {@link ExpConcrete}: those of {@link Concrete}. */
export type ExpConcreteOptions = ConcreteOptions;

/**
 * Smallest and largest uniforms fed to the Gumbel transform −log(−log U):
 * the noise stays finite, in about [−4.2, 16.6] (as in Categorical's
 * Gumbel-max).
 */
const U_MIN = 1e-30;
const U_MAX = FLOAT32_BELOW_ONE;

/** log (k − 1)! = log Γ(k) for an integer k ≥ 1, in float64. */
function logGammaOfInteger(k: number): number {
  let s = 0;
  for (let i = 2; i < k; i++) s += Math.log(i);
  return s;
}

/**
 * Checks the options (shapes only: nothing is converted to a tensor, so a
 * constructor that throws has made none) and returns the batch shape and K.
 */
function parseShapes(name: string, opts: ConcreteOptions): { batchShape: number[]; k: number } {
  requireParam(name, 'temperature', opts.temperature);
  requireParam(name, 'logits', opts.logits);
  const ls = shapeOf(opts.logits);
  const k = categoryCount(name, 'logits', ls);
  const ts = shapeOf(opts.temperature);
  const lb = ls.slice(0, -1);
  const batchShape = broadcastBatchShapes(
    name,
    ['temperature', ts],
    ['logits', lb],
    `the shape of \`temperature\` [${ts}] does not broadcast against the batch shape [${lb}] of \`logits\` [${ls}]`,
  );
  return { batchShape, k };
}

/** τ as float32 with a trailing axis of size 1, to broadcast against `[..., K]`. */
function withCategoryAxis(temperature: tf.Tensor): tf.Tensor {
  const t = asFloat(temperature);
  return t.rank === 0 ? t : tf.expandDims(t, -1);
}

/**
 * (logits + G)/τ of shape `[n, ...batchShape, K]`, G = −log(−log U) Gumbel
 * noise from {@link seededUniform} with U clamped to [1e-30, 1 − 2^−24].
 */
function perturbedLogits(
  logits: tf.Tensor,
  temperature: tf.Tensor,
  batchShape: number[],
  n: number,
  k: number,
): tf.Tensor {
  const u = tf.clipByValue(seededUniform([n, ...batchShape, k], nextSeed()), U_MIN, U_MAX);
  const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
  return tf.div(tf.add(asFloat(logits), gumbel), withCategoryAxis(temperature));
}

/**
 * The ExpConcrete log density at `y` (`[..., K]`, finite): log Γ(K) +
 * (K − 1) log τ + Σ_k (logits_k − τ y_k) − K·logSumExp_k(logits_k − τ y_k),
 * of shape `broadcast(y[:-1], batchShape)`.
 */
function expConcreteLogDensity(
  logits: tf.Tensor,
  temperature: tf.Tensor,
  y: tf.Tensor,
  k: number,
  logGammaK: number,
): tf.Tensor {
  const temp = tf.sub(asFloat(logits), tf.mul(withCategoryAxis(temperature), y));
  const normaliser = tf.add(tf.mul(tf.log(asFloat(temperature)), k - 1), logGammaK);
  return tf.add(normaliser, tf.sub(tf.sum(temp, -1), tf.mul(logSumExp(temp, -1), k)));
}

/**
 * What {@link ExpConcrete} and {@link Concrete} share: the parameters, K, and
 * the shape checks of values. Internal: src/index.ts exports the
 * two classes and their options only.
 */
export abstract class ConcreteBase extends Distribution {
  /** The temperature τ. */
  readonly temperature: tf.Tensor;
  /** The logits, shape `[..., K]`. */
  readonly logits: tf.Tensor;
  /** K, the number of categories (size of the last axis of `logits`). */
  readonly nCategories: number;
  /** log Γ(K) = log (K − 1)!, exactly. */
  protected readonly logGammaK: number;

  protected constructor(name: 'ExpConcrete' | 'Concrete', opts: ConcreteOptions) {
    const { batchShape, k } = parseShapes(name, opts);
    super(continuousSpec(name, batchShape, opts, [k]));
    // Checks before conversion: a rejected construction has made no tensor.
    if (this.validateArgs) assertPositive(name, 'temperature', opts.temperature);
    this.temperature = toTensor(opts.temperature);
    this.logits = toTensor(opts.logits);
    this.nCategories = k;
    this.logGammaK = logGammaOfInteger(k);
  }

  /**
   * How far a given value may be off the simplex under `validateArgs` (the
   * sum from 1 for Concrete, the logSumExp from 0 for ExpConcrete):
   * max(1e-5, K·2^−23), float32 rounding of a sum of K terms.
   */
  get simplexTolerance(): number {
    return Math.max(1e-5, this.nCategories * 2 ** -23);
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    const k = this.nCategories;
    checkLastAxis(this.name, given, k, `size K = ${k}, that of \`logits\` [${this.logits.shape}]`);
    super.checkGivenShape(given);
  }
}

/**
 * ExpConcrete(τ, logits): the log of a {@link Concrete} variable, values
 * y in R^K with logSumExp(y) = 0 (value shape `[K]`, batch shape
 * `logits.shape[:-1]` broadcast with the shape of `temperature`).
 *
 * Samples are log-softmax((logits + G)/τ) with Gumbel noise G = −log(−log U)
 * (U from the library's random stream, clamped to [1e-30, 1 − 2^−24] so G is
 * finite): reparameterised, so gradients flow to `logits` and `temperature`
 * unless `isReparameterized` is false. Working in logs keeps small
 * probabilities representable at small τ, where {@link Concrete} samples
 * underflow.
 *
 * `logProb(y)` is ZhuSuan's (and Maddison et al.'s, Appendix C) log Γ(K) +
 * (K − 1) log τ + Σ_k (logits_k − τ y_k) − K·logSumExp_k(logits_k − τ y_k),
 * which equals `Concrete.logProb(exp y) + Σ_k y_k`. It is the density of the
 * log-ratios (y_1 − y_K, …, y_{K−1} − y_K) with respect to Lebesgue measure
 * — against dy_1⋯dy_{K−1} it is off by the factor e^{y_K}, which cancels in a
 * ratio of two ExpConcrete densities (a KL term). The given vector is taken to
 * lie in the log-simplex (`validateArgs` checks it); one with a component
 * ±∞ gets −∞, one with a NaN component NaN.
 * @example
 * const q = new zs.ExpConcrete({ temperature: 0.5, logits: tf.zeros([2, 3]) });
 * q.sample(4);                 // [4, 2, 3], each row's logSumExp is 0
 * q.logProb(q.sample());       // [2]
 */
export class ExpConcrete extends ConcreteBase {
  constructor(opts: ExpConcreteOptions) {
    super('ExpConcrete', opts);
  }

  protected _sample(n: number): tf.Tensor {
    const z = perturbedLogits(this.logits, this.temperature, this.batchShape, n, this.nCategories);
    const s = tf.logSoftmax(z);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const { inside, isNan, safe } = support(asFloat(given), -Infinity, Infinity, 0, true);
    const lp = expConcreteLogDensity(
      this.logits,
      this.temperature,
      safe,
      this.nCategories,
      this.logGammaK,
    );
    return onSupport(inside, isNan, lp);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    const tol = this.simplexTolerance;
    tf.tidy(() =>
      assertNone(
        tf.logicalNot(tf.lessEqual(tf.abs(logSumExp(asFloat(given), -1)), tol)),
        'ExpConcrete',
        `values given to logProb must lie in the log-simplex: logSumExp over the last axis must be 0 (within ${tol})`,
      ),
    );
  }
}

/**
 * Concrete(τ, logits), also called Gumbel-softmax: a continuous relaxation
 * of the one-hot categorical on the probability simplex {x : x_k > 0,
 * Σ x_k = 1}, value shape `[K]`, batch shape `logits.shape[:-1]` broadcast
 * with the shape of `temperature`. The argmax of a sample is distributed as
 * Categorical(softmax(logits)); as τ → 0 samples approach one-hot vectors.
 *
 * Samples are softmax((logits + G)/τ), computed as the exp of the
 * {@link ExpConcrete} sample with the same noise: reparameterised unless
 * `isReparameterized` is false. A component that would underflow in float32
 * (small τ) is returned as 2^−126, so every component is positive; the sum is
 * 1 within float32 rounding.
 *
 * `logProb(x)` is ZhuSuan's (Maddison et al.'s) log Γ(K) + (K − 1) log τ +
 * Σ_k (logits_k − (τ + 1) log x_k) − K·logSumExp_k(logits_k − τ log x_k),
 * the density with respect to Lebesgue measure on x_1, …, x_{K−1}. The given
 * vector is taken to lie on the simplex (`validateArgs` checks it); one with
 * a component ≤ 0 or +∞ gets −∞ (the density is taken on the open simplex),
 * one with a NaN component NaN.
 * @example
 * const d = new zs.Concrete({ temperature: 0.5, logits: tf.tensor([1, 0, -1]) });
 * d.sample(4);                           // [4, 3], rows on the simplex
 * d.logProb(tf.tensor([0.7, 0.2, 0.1])); // scalar
 */
export class Concrete extends ConcreteBase {
  constructor(opts: ConcreteOptions) {
    super('Concrete', opts);
  }

  protected _sample(n: number): tf.Tensor {
    const z = perturbedLogits(this.logits, this.temperature, this.batchShape, n, this.nCategories);
    const s = tf.maximum(tf.exp(tf.logSoftmax(z)), FLOAT32_TINY);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const { inside, isNan, safe } = support(asFloat(given), 0, Infinity, 1, true);
    const logX = tf.log(safe);
    const lp = tf.sub(
      expConcreteLogDensity(this.logits, this.temperature, logX, this.nCategories, this.logGammaK),
      tf.sum(logX, -1),
    );
    return onSupport(inside, isNan, lp);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertOnSimplex('Concrete', given, this.simplexTolerance);
  }
}
