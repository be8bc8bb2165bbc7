/**
 * The Multinomial and UnnormalizedMultinomial distributions (port of
 * zhusuan/distributions/multivariate.py Multinomial and
 * UnnormalizedMultinomial), with a `probs` parameterisation besides
 * ZhuSuan's `logits` and a number of trials that may vary across the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nextSeed, seedWords } from '../random.js';
import { lgamma } from '../special.js';
import { logSumExp } from '../utils.js';
import {
  assertNone,
  broadcastShapes,
  Distribution,
  toTensor,
  type DistributionOptions,
  type Param,
} from './base.js';
import {
  asFloat,
  disposeOnThrow,
  oneOf,
  requireParam,
  shapeOf,
  withZeroGradient,
} from './internal.js';
import { binomialDraw } from './binomial.js';
import { INT32_MAX } from './poisson.js';

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

/** Shape and dtype checks on the options as given (nothing converted); the parameter, K and dtype. */
function parseParams(
  name: string,
  opts: MultinomialParams & { dtype?: string },
): {
  kind: 'logits' | 'probs';
  raw: Param;
  shape: number[];
  k: number;
  dtype: 'int32' | 'float32';
} {
  const { kind, raw } = oneOf(name, opts, 'logits', 'probs');
  const dtype = opts.dtype ?? 'int32';
  if (dtype !== 'int32' && dtype !== 'float32') {
    throw new Error(`${name}: \`dtype\` must be 'int32' or 'float32', got '${dtype}'`);
  }
  const shape = shapeOf(raw);
  if (shape.length < 1) {
    throw new Error(
      `${name}: \`${kind}\` must have rank at least 1 (its last axis holds the K categories), got shape [${shape}]`,
    );
  }
  const k = shape[shape.length - 1];
  if (k < 1) {
    throw new Error(
      `${name}: \`${kind}\` must have at least one category (K ≥ 1), got shape [${shape}]`,
    );
  }
  return { kind, raw, shape, k, dtype };
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
export abstract class MultinomialBase extends Distribution {
  /** The parameter given (`logits` or `probs`). */
  protected readonly param: { kind: 'logits' | 'probs'; value: tf.Tensor };
  /** The number of categories K (the size of the parameter's last axis). */
  readonly nCategories: number;
  /** Whether `logProb` normalises the parameter (see {@link MultinomialParams.normalizeLogits}). */
  readonly normalizeLogits: boolean;

  /**
   * @param name the family's name, for the spec and error messages.
   * @param batchShape the batch shape (the subclass may broadcast more than
   *   the parameter into it).
   */
  protected constructor(
    name: string,
    opts: MultinomialParams & DistributionOptions & { dtype?: 'int32' | 'float32' },
    batchShape: number[],
  ) {
    const parsed = parseParams(name, opts);
    super({
      name,
      dtype: parsed.dtype,
      isContinuous: false,
      isReparameterized: false,
      batchShape,
      valueShape: [parsed.k],
      groupNdims: opts.groupNdims,
      validateArgs: opts.validateArgs,
    });
    // Rank ≥ 1, so the caller's tensor: nothing is converted here.
    this.param = { kind: parsed.kind, value: parsed.raw as tf.Tensor };
    this.nCategories = parsed.k;
    this.normalizeLogits = opts.normalizeLogits ?? true;
    if (this.validateArgs) {
      tf.tidy(() => {
        const v = this.param.value;
        if (this.param.kind === 'logits') {
          assertNone(
            tf.logicalOr(tf.isNaN(v), tf.equal(v, Infinity)),
            name,
            '`logits` must hold no NaN and no +∞',
          );
        } else {
          assertNone(
            tf.logicalOr(tf.less(v, 0), tf.logicalNot(tf.isFinite(v))),
            name,
            '`probs` must be finite and non-negative',
          );
          assertNone(
            tf.lessEqual(tf.sum(v, -1), 0),
            name,
            '`probs` must have a positive sum along the last axis',
          );
        }
      });
    }
  }

  /** The logits as given, or log(probs) (unnormalised) when `probs` were given. */
  get logits(): tf.Tensor {
    return this.param.kind === 'logits' ? this.param.value : tf.log(asFloat(this.param.value));
  }

  /** The probabilities, normalised along the last axis (a new tensor). */
  get probs(): tf.Tensor {
    const v = asFloat(this.param.value);
    return this.param.kind === 'probs' ? tf.div(v, tf.sum(v, -1, true)) : tf.softmax(v);
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    super.checkGivenShape(given);
    if (given.rank < 1 || given.shape[given.rank - 1] !== this.nCategories) {
      throw new Error(
        `${this.name}: the last axis of \`given\` [${given.shape}] must have K = ${this.nCategories} entries, that of \`${this.param.kind}\` [${this.param.value.shape}]`,
      );
    }
  }

  /** log p_k, `[..., K]`: normalised along the last axis unless `normalizeLogits` is false. */
  protected logProbs(): tf.Tensor {
    const v = asFloat(this.param.value);
    if (this.param.kind === 'logits') {
      return this.normalizeLogits ? tf.sub(v, logSumExp(v, -1, true)) : v;
    }
    return this.normalizeLogits ? tf.sub(tf.log(v), tf.log(tf.sum(v, -1, true))) : tf.log(v);
  }

  /** Σ_k x_k log p_k over the last axis; a zero count contributes 0 even where log p_k = −∞. */
  protected countsDotLogProbs(x: tf.Tensor): tf.Tensor {
    return tf.sum(tf.where(tf.equal(x, 0), 0, tf.mul(x, this.logProbs())), -1);
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
    const parsed = parseParams('Multinomial', opts);
    requireParam('Multinomial', 'nTrials', opts.nTrials);
    if (
      typeof opts.nTrials === 'number' &&
      !(Number.isInteger(opts.nTrials) && opts.nTrials >= 1)
    ) {
      throw new Error(`Multinomial: \`nTrials\` must be a positive integer, got ${opts.nTrials}`);
    }
    const paramBatch = parsed.shape.slice(0, -1);
    const nShape = shapeOf(opts.nTrials);
    let batchShape: number[];
    try {
      batchShape = broadcastShapes('Multinomial', [parsed.kind, paramBatch], ['nTrials', nShape]);
    } catch {
      throw new Error(
        `Multinomial: the batch shape of \`${parsed.kind}\` [${paramBatch}] (shape [${parsed.shape}] less its last axis) and the shape of \`nTrials\` [${nShape}] do not broadcast`,
      );
    }
    super('Multinomial', opts, batchShape);
    // Converted only now: a rejection above leaves nothing to free.
    const nTrials = toTensor(opts.nTrials);
    this.nTrials = nTrials;
    if (this.validateArgs) {
      disposeOnThrow([[opts.nTrials, nTrials]], () =>
        tf.tidy(() => {
          const nf = asFloat(nTrials);
          assertNone(
            tf.logicalNot(tf.logicalAnd(tf.greaterEqual(nf, 1), tf.equal(nf, tf.floor(nf)))),
            'Multinomial',
            '`nTrials` must hold positive integers',
          );
        }),
      );
    }
  }

  protected _sample(n: number): tf.Tensor {
    const k = this.nCategories;
    const batch = this.batchShape;
    const v = tf.broadcastTo(this.param.value, [...batch, k]).dataSync();
    // In its own dtype: an int32 nTrials stays exact beyond 2²⁴.
    const trials = tf.broadcastTo(this.nTrials, batch).dataSync();
    const size = trials.length;
    const out =
      this.dtype === 'int32' ? new Int32Array(n * size * k) : new Float32Array(n * size * k);
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
    return withZeroGradient([this.param.value], () => tf.tensor(out, [n, ...batch, k], this.dtype));
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
    tf.tidy(() =>
      assertNone(
        tf.logicalNot(inSupport(asFloat(given), asFloat(this.nTrials))),
        'Multinomial',
        'values given to logProb must be non-negative integer counts summing to `nTrials`',
      ),
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
    const parsed = parseParams('UnnormalizedMultinomial', opts);
    super('UnnormalizedMultinomial', opts, parsed.shape.slice(0, -1));
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
    tf.tidy(() =>
      assertNone(
        tf.logicalNot(countRows(asFloat(given))),
        'UnnormalizedMultinomial',
        'values given to logProb must be non-negative integer counts',
      ),
    );
  }
}
