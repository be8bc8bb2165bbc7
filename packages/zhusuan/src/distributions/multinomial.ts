/**
 * The Multinomial and UnnormalizedMultinomial distributions (port of
 * zhusuan/distributions/multivariate.py Multinomial and
 * UnnormalizedMultinomial), with a `probs` parameterisation besides
 * ZhuSuan's `logits` and a number of trials that may vary across the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone } from '../checks.js';
import { countsDot } from '../kernels.js';
import { nextSeed, seedWords } from '../random.js';
import { lgamma } from '../special.js';
import type { DistributionOptions, Param } from './base.js';
import { binomialDraw } from './binomial.js';
import { CategoricalBase, logProbsOf, type CategoricalConfig } from './categorical_base.js';
import {
  asFloat,
  assertTrials,
  broadcastBatchShapes,
  checkLastAxis,
  checkTrials,
  countArray,
  INT32_MAX,
  shapeOf,
  toTensor,
  withoutGradient,
} from './internal.js';

/** The category parameters both classes take: exactly one of `logits` and `probs`. */
export interface MultinomialParams {
  /**
   * Log probabilities of the K categories, shape `[..., K]` (the last axis
   * holds the categories); unnormalised unless `normalizeLogits` is false.
   */
  logits?: Param;
  /**
   * Non-negative weights of the K categories, shape `[..., K]`, normalised
   * along the last axis (they need not sum to 1) unless `normalizeLogits`
   * is false.
   */
  probs?: Param;
  /**
   * Normalise the parameter along the last axis in `logProb` (log-softmax of
   * `logits`, `probs` over their sum). Default true; false takes it as
   * normalised already (`logits` = log p, `probs` = p) and saves that step,
   * as in ZhuSuan. Sampling always normalises.
   */
  normalizeLogits?: boolean;
}

/** Options of {@link UnnormalizedMultinomial}. */
export interface UnnormalizedMultinomialOptions extends MultinomialParams, DistributionOptions {
  /** dtype of the count vectors it describes: 'int32' (default) or 'float32'. */
  dtype?: 'int32' | 'float32';
}

/** Options of {@link Multinomial}: `nTrials` and exactly one of `logits` and `probs`. */
export interface MultinomialOptions extends MultinomialParams, DistributionOptions {
  /**
   * The number of trials n, a positive integer: a number, or a tensor (int32
   * or float32) broadcasting against the batch shape (`logits.shape[:-1]`).
   */
  nTrials: Param;
  /**
   * dtype of samples: 'int32' (default: counts are exact up to 2³¹ − 1,
   * float32 only up to 2²⁴) or 'float32'.
   */
  dtype?: 'int32' | 'float32';
}

/** x holds non-negative integers (finite) along the last axis: a bool per row. */
function countRows(x: tf.Tensor): tf.Tensor {
  return tf.all(
    tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(x, 0), tf.isFinite(x)), tf.equal(x, tf.floor(x))),
    -1,
  );
}

/**
 * Base of {@link Multinomial} and {@link UnnormalizedMultinomial}: a
 * parameter `logits` or `probs` of shape `[..., K]`, values that are count
 * vectors of shape `[K]`, not reparameterised. Under `validateArgs`,
 * `logits` must hold no NaN and no +∞, and `probs` must be finite and
 * non-negative with a positive sum along the last axis. Exported for the
 * declarations of its subclasses; not meant to be extended elsewhere.
 */
export abstract class MultinomialBase extends CategoricalBase {
  /** Whether `logProb` normalises the parameter (see {@link MultinomialParams.normalizeLogits}). */
  readonly normalizeLogits: boolean;

  /**
   * @param name the family's name, for the spec and error messages.
   * @param batchShape the batch shape from the parameter's (see
   *   {@link CategoricalConfig.batchShape}); default: the parameter's.
   */
  protected constructor(
    name: string,
    opts: MultinomialParams & DistributionOptions & { dtype?: 'int32' | 'float32' },
    batchShape?: CategoricalConfig['batchShape'],
  ) {
    super(name, opts, { defaultDtype: 'int32', vector: true, finiteLogits: true, batchShape });
    this.normalizeLogits = opts.normalizeLogits ?? true;
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    super.checkGivenShape(given);
    const { kind, value } = this.param;
    const k = this.nCategories;
    checkLastAxis(this.name, given, k, `K = ${k} entries, that of \`${kind}\` [${value.shape}]`);
  }

  /** Σ_k x_k log p_k over the last axis; a zero count contributes 0 even where log p_k = −∞. */
  protected countsDotLogProbs(x: tf.Tensor): tf.Tensor {
    const { kind, value } = this.param;
    // Normalised probabilities: their log goes into the one kernel.
    if (kind === 'probs' && !this.normalizeLogits)
      return countsDot(x, asFloat(value), { log: true });
    return countsDot(x, logProbsOf(this.param, this.normalizeLogits));
  }
}

/**
 * The probabilities of one row (`k` parameters from `v` at `start`), in
 * float64, into `p`; throws for a row that has none.
 */
function rowProbs(
  kind: 'logits' | 'probs',
  v: ArrayLike<number>,
  start: number,
  k: number,
  p: Float64Array,
): void {
  const row = (): string => `[${Array.from({ length: k }, (_, j) => v[start + j])}]`;
  let sum = 0;
  if (kind === 'logits') {
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      const l = v[start + j];
      if (Number.isNaN(l) || l === Infinity) max = NaN;
      else if (l > max) max = l;
    }
    if (!Number.isFinite(max)) {
      throw new Error(
        `Multinomial.sample: each row of \`logits\` needs a finite largest entry (no NaN, no +∞, not all −∞), got ${row()}`,
      );
    }
    for (let j = 0; j < k; j++) sum += p[j] = Math.exp(v[start + j] - max);
  } else {
    for (let j = 0; j < k; j++) {
      const w = v[start + j];
      if (!(w >= 0 && w < Infinity)) sum = NaN;
      sum += p[j] = w;
    }
    if (!(sum > 0 && sum < Infinity)) {
      throw new Error(
        `Multinomial.sample: each row of \`probs\` must be finite and non-negative with a positive sum, got ${row()}`,
      );
    }
  }
  for (let j = 0; j < k; j++) p[j] /= sum;
}

/**
 * Multinomial(n, p): vectors of counts over K categories that sum to the
 * number of trials n, with batch shape the broadcast of `logits.shape[:-1]`
 * (or `probs`) and the shape of `nTrials`, and value shape `[K]`.
 *
 * `logProb(x)` = log Γ(n + 1) − Σ_k log Γ(x_k + 1) + Σ_k x_k log p_k, log p
 * the log-softmax of `logits` (or log(probs / Σ probs)); with
 * `normalizeLogits: false` the parameter is used as normalised already. A
 * zero count contributes 0 even where p_k = 0. Vectors that are not
 * non-negative integer counts summing to n have probability 0: `logProb`
 * gives −∞ for them, or throws with `validateArgs`. The last axis of
 * `given` must have K entries. In float32 the log Γ terms carry an absolute
 * error of a few units in the last place of log n! (and counts are exact up
 * to 2²⁴).
 *
 * Sampling runs per batch member in JavaScript on a local xoshiro128**
 * state seeded from the library's random stream (so `random.setSeed` makes
 * it reproducible), by sequential conditional binomials: x_1 ~ Bin(n, p_1),
 * then x_k ~ Bin(n − Σ_{j<k} x_j, p_k / Σ_{j≥k} p_j), stopping once the
 * trials are used up, the last category taking the rest. That costs at
 * most K − 1 binomial draws (inversion, or Hörmann's BTRS from n·p ≥ 10)
 * per vector whatever n, and is exact for any n up to the int32 range; n
 * categorical draws would cost O(n) per vector. It reads the parameter and
 * `nTrials` back from the backend (`dataSync`) on each call and throws for
 * an `nTrials` that is not a positive integer or a row with no valid
 * probabilities. Samples carry no gradient.
 * @example
 * const d = new zs.Multinomial({ logits: tf.tensor([[0, 1, 2], [2, 0, -1]]), nTrials: 10 });
 * d.sample(5);                                  // int32 [5, 2, 3], rows sum to 10
 * d.logProb(tf.tensor([[1, 3, 6], [7, 2, 1]])); // [2]
 */
export class Multinomial extends MultinomialBase {
  /** The number of trials, as given (a number becomes a scalar tensor). */
  readonly nTrials: tf.Tensor;

  constructor(opts: MultinomialOptions) {
    super('Multinomial', opts, (paramBatch, kind, shape) => {
      const nShape = shapeOf(checkTrials('Multinomial', opts.nTrials));
      return broadcastBatchShapes(
        'Multinomial',
        [kind, paramBatch],
        ['nTrials', nShape],
        `the batch shape of \`${kind}\` [${paramBatch}] (shape [${shape}] less its last axis) and the shape of \`nTrials\` [${nShape}] do not broadcast`,
      );
    });
    if (this.validateArgs) assertTrials('Multinomial', opts.nTrials);
    this.nTrials = toTensor(opts.nTrials);
  }

  protected _sample(n: number): tf.Tensor {
    const k = this.nCategories;
    const batch = this.batchShape;
    const v = tf.broadcastTo(this.param.value, [...batch, k]).dataSync();
    // In its own dtype: an int32 nTrials stays exact beyond 2²⁴.
    const trials = tf.broadcastTo(this.nTrials, batch).dataSync();
    const size = trials.length;
    const out = countArray(this.dtype, n * size * k);
    const s = seedWords(nextSeed());
    const p = new Float64Array(k);
    const pCond = new Float64Array(k);
    const qCond = new Float64Array(k);
    for (let i = 0; i < size; i++) {
      const nt = trials[i];
      if (!(Number.isInteger(nt) && nt >= 1)) {
        throw new Error(`Multinomial.sample: \`nTrials\` must be a positive integer, got ${nt}`);
      }
      if (this.dtype === 'int32' && nt > INT32_MAX) {
        throw new Error(
          `Multinomial.sample: \`nTrials\` (${nt}) exceeds the int32 range; use dtype 'float32'`,
        );
      }
      rowProbs(this.param.kind, v, i * k, k, p);
      // Conditional probabilities p_j / Σ_{m≥j} p_m and their complements
      // Σ_{m>j} p_m / Σ_{m≥j} p_m, from tail sums (each accurate when small).
      let tail = 0;
      for (let j = k - 1; j >= 0; j--) {
        const rest = tail;
        tail += p[j];
        pCond[j] = tail > 0 ? p[j] / tail : 0;
        qCond[j] = tail > 0 ? rest / tail : 1;
      }
      for (let d = 0; d < n; d++) {
        const base = (d * size + i) * k;
        let left = nt;
        for (let j = 0; j < k - 1 && left > 0; j++) {
          const x = binomialDraw(left, pCond[j], qCond[j], s);
          out[base + j] = x;
          left -= x;
        }
        out[base + k - 1] = left;
      }
    }
    return withoutGradient([this.param.value], () => tf.tensor(out, [n, ...batch, k], this.dtype));
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const n = asFloat(this.nTrials);
    const valid = inSupport(x, n);
    // Counts outside the support are replaced before the log Γ terms, so
    // neither their values nor their gradients are NaN.
    const xs = tf.where(tf.expandDims(valid, -1), x, 0);
    const logCoef = tf.sub(lgamma(tf.add(n, 1)), tf.sum(lgamma(tf.add(xs, 1)), -1));
    return tf.where(valid, tf.add(logCoef, this.countsDotLogProbs(xs)), -Infinity);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => tf.logicalNot(inSupport(asFloat(given), asFloat(this.nTrials))),
      'Multinomial',
      'values given to logProb must be non-negative integer counts summing to `nTrials`',
    );
  }
}

/** x (`[..., K]`) is a vector of non-negative integer counts summing to n: a bool per vector. */
function inSupport(x: tf.Tensor, n: tf.Tensor): tf.Tensor {
  return tf.logicalAnd(countRows(x), tf.equal(tf.sum(x, -1), n));
}

/**
 * UnnormalizedMultinomial (ZhuSuan's bag-of-words likelihood, also called
 * BagofCategoricals there): the probability of one ordered sequence of
 * categorical draws with the given counts, `logProb(x)` = Σ_k x_k log p_k,
 * the {@link Multinomial} log-probability without the multinomial
 * coefficient, so the number of trials is not needed and may differ from
 * one vector to the next. Batch shape `logits.shape[:-1]` (or `probs`),
 * value shape `[K]`; the last axis of `given` must have K entries. log p is
 * normalised as in {@link Multinomial} (`normalizeLogits`). A zero count
 * contributes 0 even where p_k = 0. Any values are put through the formula
 * (fractional counts too); `validateArgs` requires non-negative integers.
 *
 * It cannot be sampled (there is no number of trials): `sample` throws.
 * Use {@link Multinomial} for that.
 * @example
 * const d = new zs.UnnormalizedMultinomial({ logits: tf.zeros([2, 4]) });
 * d.logProb(tf.tensor([[1, 0, 2, 0], [0, 0, 0, 5]])); // [3·log ¼, 5·log ¼]
 */
export class UnnormalizedMultinomial extends MultinomialBase {
  constructor(opts: UnnormalizedMultinomialOptions) {
    super('UnnormalizedMultinomial', opts);
  }

  /** Throws: an UnnormalizedMultinomial has no number of trials to sample with. */
  override sample(_nSamples?: number): tf.Tensor {
    throw new Error(
      'UnnormalizedMultinomial.sample: cannot sample without a number of trials (it scores count vectors of any total); use Multinomial with `nTrials` to sample',
    );
  }

  protected _sample(_n: number): tf.Tensor {
    return this.sample();
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    return this.countsDotLogProbs(asFloat(given));
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => tf.logicalNot(countRows(asFloat(given))),
      'UnnormalizedMultinomial',
      'values given to logProb must be non-negative integer counts',
    );
  }
}
