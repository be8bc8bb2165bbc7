/** The Dirichlet distribution (port of zhusuan/distributions/multivariate.py Dirichlet). */
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from '../checks.js';
import { nextSeed } from '../random.js';
import { lgamma } from '../special.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import { logStandardGammaDraws } from './gamma_sampler.js';
import {
  asFloat,
  assertOnSimplex,
  checkLastAxis,
  continuousSpec,
  FLOAT32_TINY,
  lastAxisSize,
  onSupport,
  readBroadcast,
  requireParam,
  shapeOf,
  support,
  toTensor,
  withoutGradient,
} from './internal.js';

/** Parameters of {@link Dirichlet}: the concentrations, K ≥ 2 along the last axis. */
export interface DirichletOptions extends DistributionOptions {
  /** Concentrations α > 0 of shape `[...batchShape, K]`, K ≥ 2. */
  alpha: Param;
}

/**
 * Dirichlet(α) over the probability simplex {x : x_k ≥ 0, Σ x_k = 1} in K
 * dimensions; `alpha` has shape `[...batchShape, K]`, each draw shape `[K]`
 * (`valueShape`).
 *
 * `logProb` is Σ (α_k − 1) log x_k + log Γ(Σ α_k) − Σ log Γ(α_k) over the last
 * axis (the given vector is taken to lie on the simplex; `validateArgs`
 * checks it), differentiable with respect to α and x. A vector with a
 * component ≤ 0 or +∞ gets −∞: the density is taken on the open simplex,
 * also at boundary points where its limit is finite or infinite for some α
 * (a float32 sample is never there, see below). A vector with a NaN
 * component gets NaN.
 *
 * Sampling reads α back (`dataSync`), draws Gamma(α_k, 1) per element in
 * JavaScript from the library's random stream and normalises each vector in
 * logs and float64 (so tiny α do not give 0/0). Components that would
 * underflow in float32 are returned as 2^−126, so every component is
 * positive; the sum is 1 within float32 rounding. Samples are not
 * reparameterised and carry no gradient.
 * @example
 * const d = new zs.Dirichlet({ alpha: tf.ones([4, 3]) });  // batch [4], K = 3
 * d.sample(10);                        // [10, 4, 3]
 * d.logProb(tf.fill([4, 3], 1 / 3));   // [4]: log Γ(3) = log 2 each
 */
export class Dirichlet extends Distribution {
  /** The concentrations, shape `[...batchShape, K]`. */
  readonly alpha: tf.Tensor;
  /** K, the number of categories (size of the last axis of `alpha`). */
  readonly nCategories: number;

  constructor(opts: DirichletOptions) {
    requireParam('Dirichlet', 'alpha', opts.alpha);
    const shape = shapeOf(opts.alpha);
    const k = lastAxisSize('Dirichlet', 'alpha', shape, 'the K concentrations');
    if (k < 2) {
      throw new Error(
        `Dirichlet: the last axis of \`alpha\` (the number of categories K) must have size at least 2, got shape [${shape}]`,
      );
    }
    // Sampled in JavaScript: never reparameterised.
    const spec = continuousSpec(
      'Dirichlet',
      shape.slice(0, -1),
      { ...opts, isReparameterized: false },
      [k],
    );
    super(spec);
    if (this.validateArgs) assertPositive('Dirichlet', 'alpha', opts.alpha);
    this.alpha = toTensor(opts.alpha);
    this.nCategories = k;
  }

  /**
   * How far from 1 a given vector's sum may be under `validateArgs`:
   * max(1e-5, K·2^−23), float32 rounding of a sum of K terms.
   */
  get simplexTolerance(): number {
    return Math.max(1e-5, this.nCategories * 2 ** -23);
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    super.checkGivenShape(given);
    const k = this.nCategories;
    checkLastAxis('Dirichlet', given, k, `size K = ${k}, that of \`alpha\` [${this.alpha.shape}]`);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape, this.nCategories];
    const seed = nextSeed();
    return withoutGradient([this.alpha], (alpha) => {
      const a = readBroadcast(alpha, alpha.shape);
      const k = this.nCategories;
      const logG = logStandardGammaDraws(a, n, seed);
      const out = new Float32Array(logG.length);
      for (let start = 0; start < logG.length; start += k) {
        let max = -Infinity;
        for (let i = start; i < start + k; i++) max = Math.max(max, logG[i]);
        let sum = 0;
        for (let i = start; i < start + k; i++) sum += Math.exp(logG[i] - max);
        for (let i = start; i < start + k; i++) {
          out[i] = Math.max(Math.exp(logG[i] - max) / sum, FLOAT32_TINY);
        }
      }
      return tf.tensor(out, shape);
    });
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const { inside, isNan, safe } = support(x, 0, Infinity, 1, true);
    const a = this.alpha;
    const kernel = tf.sum(tf.mul(tf.sub(a, 1), tf.log(safe)), -1);
    const normaliser = tf.sub(lgamma(tf.sum(a, -1)), tf.sum(lgamma(a), -1));
    return onSupport(inside, isNan, tf.add(kernel, normaliser));
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertOnSimplex('Dirichlet', given, this.simplexTolerance);
  }
}
