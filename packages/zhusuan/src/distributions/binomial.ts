/**
 * The Binomial distribution (port of zhusuan/distributions/univariate.py
 * Binomial), with a `probs` parameterisation besides ZhuSuan's `logits` and
 * a number of trials that may vary across the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone } from '../checks.js';
import { nextSeed, seedWords, uniform53 } from '../random.js';
import { lgamma, logFactorial } from '../special.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  asFloat,
  asKind,
  assertProbability,
  assertTrials,
  broadcastParamShapes,
  checkTrials,
  countArray,
  discreteSpec,
  INT32_MAX,
  logitsFromProbs,
  oneOf,
  readBroadcast,
  sampleDtype,
  toTensor,
  withoutGradient,
  type Alternative,
} from './internal.js';

/** Parameters of {@link Binomial}: `nTrials` and exactly one of `logits` and `probs`. */
export interface BinomialOptions extends DistributionOptions {
  /** log(p / (1 − p)); the numerically preferred parameter. */
  logits?: Param;
  /** The success probability p in [0, 1]. */
  probs?: Param;
  /**
   * The number of trials n, a positive integer: a number, or a tensor
   * (int32 or float32) broadcasting against the probability parameter.
   */
  nTrials: Param;
  /**
   * dtype of samples: 'int32' (default: counts are exact up to 2³¹ − 1,
   * float32 only up to 2²⁴) or 'float32'.
   */
  dtype?: 'int32' | 'float32';
}

/**
 * One Binomial(n, p) draw for p ≤ 1/2 (q = 1 − p given separately, exactly).
 * For n·p < 10, inversion: a sequential search from 0 with the pmf
 * recurrence f(k) = f(k − 1)·(n − k + 1)/k · p/q (at most ~n·p + a few
 * steps on average). Otherwise Hörmann's transformed rejection with squeeze,
 * BTRS (Hörmann 1993, "The generation of binomial random variates"; about
 * 1.15 tries of two uniforms each, whatever n).
 */
function binomialDrawLow(n: number, p: number, q: number, s: Uint32Array): number {
  if (p === 0) return 0;
  if (n * p < 10) {
    const r = p / q;
    let f = Math.exp(n * Math.log(q));
    let u = uniform53(s);
    let k = 0;
    while (u >= f) {
      if (k === n) return n; // rounding left a sliver of mass above the last term
      u -= f;
      k++;
      f *= ((n - k + 1) / k) * r;
    }
    return k;
  }
  const spq = Math.sqrt(n * p * q);
  const b = 1.15 + 2.53 * spq;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const alpha = (2.83 + 5.1 / b) * spq;
  const vr = 0.92 - 4.2 / b;
  const logR = Math.log(p / q);
  const m = Math.floor((n + 1) * p);
  const logFm = -logFactorial(m) - logFactorial(n - m);
  for (;;) {
    const u = uniform53(s) - 0.5;
    const v = uniform53(s);
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (k < 0 || k > n) continue;
    if (us >= 0.07 && v <= vr) return k;
    // Accept when v·α/(hat at u) ≤ f(k)/f(m), f the pmf and m its mode.
    const logRatio = -logFactorial(k) - logFactorial(n - k) - logFm + (k - m) * logR;
    if (Math.log((v * alpha) / (a / (us * us) + b)) <= logRatio) return k;
  }
}

/**
 * One Binomial(n, p) draw, q = 1 − p given separately (each accurate when
 * small); by symmetry on min(p, q). Internal (the Multinomial sampler uses
 * it too): src/index.ts exports only the class and its options.
 */
export function binomialDraw(n: number, p: number, q: number, s: Uint32Array): number {
  if (q <= 0) return n;
  return p <= q ? binomialDrawLow(n, p, q, s) : n - binomialDrawLow(n, q, p, s);
}

/**
 * Binomial(n, p) over {0, …, n}, elementwise over the broadcast shape of the
 * probability parameter and `nTrials`.
 *
 * `logProb(x)` = log Γ(n + 1) − log Γ(x + 1) − log Γ(n − x + 1) + x·logits −
 * n·softplus(logits), ZhuSuan's stable form; from `probs` the last two terms
 * are x·log p + (n − x)·log(1 − p), exact at p = 0 and p = 1 (−∞ for an
 * impossible count, never NaN). Values outside {0, …, n}, non-integers
 * included, have probability 0: `logProb` gives −∞ for them, or throws with
 * `validateArgs`. In float32 the log Γ terms carry an absolute error of a few
 * units in the last place of log n! (about 1e-3 at n = 1000).
 *
 * Sampling runs per element in JavaScript (by symmetry on min(p, 1 − p):
 * inversion when n·min(p, 1 − p) < 10, Hörmann's BTRS otherwise) on a local
 * xoshiro128** state seeded from the library's stream, so `random.setSeed`
 * makes it reproducible. It reads the parameters and `nTrials` back from the
 * backend (`dataSync`) on each call and throws for an `nTrials` that is not a
 * positive integer or a probability outside [0, 1] (NaN included). Samples
 * carry no gradient.
 * @example
 * const d = new zs.Binomial({ logits: tf.tensor([-1, 0, 2]), nTrials: 20 });
 * d.sample(10);                           // int32 [10, 3], values in 0..20
 * d.logProb(tf.tensor([3, 10, 17]));      // [3]
 */
export class Binomial extends Distribution {
  private readonly param: Alternative<'logits' | 'probs'>;
  /** The number of trials, as given (a number becomes a scalar tensor). */
  readonly nTrials: tf.Tensor;

  constructor(opts: BinomialOptions) {
    const { kind, raw } = oneOf('Binomial', opts, 'logits', 'probs');
    const nTrials = checkTrials('Binomial', opts.nTrials);
    const dtype = sampleDtype('Binomial', opts.dtype, 'int32');
    const batchShape = broadcastParamShapes('Binomial', [kind, raw], ['nTrials', nTrials]);
    super(discreteSpec('Binomial', batchShape, dtype, opts));
    if (this.validateArgs) {
      assertTrials('Binomial', nTrials);
      if (kind === 'probs') assertProbability('Binomial', 'probs', raw);
    }
    this.param = { kind, value: toTensor(raw) };
    this.nTrials = toTensor(nTrials);
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
    const shape = this.batchShape;
    const v = readBroadcast(this.param.value, shape);
    const trials = readBroadcast(this.nTrials, shape);
    const size = v.length;
    const out = countArray(this.dtype, n * size);
    const s = seedWords(nextSeed());
    for (let i = 0; i < size; i++) {
      const nt = trials[i];
      if (!(Number.isInteger(nt) && nt >= 1)) {
        throw new Error(`Binomial.sample: \`nTrials\` must be a positive integer, got ${nt}`);
      }
      // p and q in float64, each accurate when small (q = sigmoid(−logits)).
      let p: number;
      let q: number;
      if (this.param.kind === 'logits') {
        p = 1 / (1 + Math.exp(-v[i]));
        q = 1 / (1 + Math.exp(v[i]));
      } else {
        p = v[i];
        q = 1 - p;
      }
      if (!(p >= 0 && p <= 1)) {
        throw new Error(`Binomial.sample: the probability must lie in [0, 1], got ${p}`);
      }
      const flip = p > 0.5;
      for (let j = 0; j < n; j++) {
        const k = flip ? nt - binomialDrawLow(nt, q, p, s) : binomialDrawLow(nt, p, q, s);
        if (this.dtype === 'int32' && k > INT32_MAX) {
          throw new Error(
            `Binomial.sample: a draw (${k}) exceeds the int32 range; use dtype 'float32'`,
          );
        }
        out[j * size + i] = k;
      }
    }
    return withoutGradient([this.param.value], () => tf.tensor(out, [n, ...shape], this.dtype));
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const x = asFloat(given);
    const n = asFloat(this.nTrials);
    const valid = inSupport(x, n);
    const xs = tf.where(valid, x, 0);
    const nmx = tf.sub(n, xs);
    const logChoose = tf.sub(
      tf.sub(lgamma(tf.add(n, 1)), lgamma(tf.add(xs, 1))),
      lgamma(tf.add(nmx, 1)),
    );
    let rest: tf.Tensor;
    if (this.param.kind === 'logits') {
      const l = asFloat(this.param.value);
      rest = tf.sub(tf.mul(xs, l), tf.mul(n, tf.softplus(l)));
    } else {
      // Zero counts contribute 0 even where log p or log(1 − p) is −∞.
      const p = asFloat(this.param.value);
      rest = tf.add(
        tf.where(tf.equal(xs, 0), 0, tf.mul(xs, tf.log(p))),
        tf.where(tf.equal(nmx, 0), 0, tf.mul(nmx, tf.log1p(tf.neg(p)))),
      );
    }
    return tf.where(valid, tf.add(logChoose, rest), -Infinity);
  }

  protected override _validateGiven(given: tf.Tensor): void {
    assertNone(
      () => tf.logicalNot(inSupport(asFloat(given), asFloat(this.nTrials))),
      'Binomial',
      'values given to logProb must be integers in [0, nTrials]',
    );
  }
}

/** x is an integer in [0, n]. */
function inSupport(x: tf.Tensor, n: tf.Tensor): tf.Tensor {
  return tf.logicalAnd(
    tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, n)),
    tf.equal(x, tf.floor(x)),
  );
}
