/**
 * What the distribution families are built from. A constructor reads its
 * parameters and checks their shapes before it converts anything, so a
 * rejected construction makes no tensor (see fold_normal.ts):
 *
 *   oneOf / requireParam → broadcastParamShapes / categoryCount (shapes only)
 *   → super(continuousSpec(…) | discreteSpec(…)) → value checks under
 *   `validateArgs` (../checks.ts, assertProbability, assertTrials) → toTensor.
 *
 * Also here: keeping log densities on the support (support, onSupport,
 * assertGivenIn), ops without a gradient path, reading parameters back for
 * samplers written in JavaScript, and float limits. Internal:
 * src/index.ts does not re-export this module, so nothing here
 * is part of the public API.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger, assertNone } from '../checks.js';
import { seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { untaped } from '../utils.js';
import type { DistributionOptions, DistributionSpec, Param } from './base.js';

/** The smallest normal float32, 2^−126: draws that would underflow below it are raised to it. */
export const FLOAT32_TINY = 2 ** -126;
/** The largest finite float32: draws that would overflow are lowered to it. */
export const FLOAT32_MAX = (2 - 2 ** -23) * 2 ** 127;
/** The largest float32 below 1, 1 − 2^−24. */
export const FLOAT32_BELOW_ONE = 1 - 2 ** -24;
/** The largest int32, 2³¹ − 1: the largest count an int32 sample holds. */
export const INT32_MAX = 2147483647;

// ---- parameters and shapes ----------------------------------------------------

/** A parameter as a tensor: a plain number becomes a float32 scalar, a tensor is returned as is. */
export function toTensor(p: Param): tf.Tensor {
  return typeof p === 'number' ? tf.scalar(p) : p;
}

/** Shape of a parameter without converting it (a plain number is a scalar). */
export function shapeOf(p: Param): number[] {
  return typeof p === 'number' ? [] : p.shape;
}

/** Throws `${dist}: \`${name}\` is required` when `value` is undefined. */
export function requireParam(dist: string, name: string, value: unknown): void {
  if (value === undefined) throw new Error(`${dist}: \`${name}\` is required`);
}

/**
 * Broadcast shape of two parameter shapes, or an error naming the
 * distribution and both parameters.
 */
export function broadcastShapes(
  dist: string,
  a: [string, number[]],
  b: [string, number[]],
): number[] {
  const [na, sa] = a;
  const [nb, sb] = b;
  const rank = Math.max(sa.length, sb.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = sa[sa.length - rank + i] ?? 1;
    const db = sb[sb.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${dist}: shapes of \`${na}\` [${sa}] and \`${nb}\` [${sb}] do not broadcast`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * {@link broadcastShapes} of two batch shapes, throwing `${dist}: ${message}`
 * instead of its error: for parameters whose batch shape is their shape less
 * some trailing axes, where the message should say so.
 */
export function broadcastBatchShapes(
  dist: string,
  a: [string, number[]],
  b: [string, number[]],
  message: string,
): number[] {
  try {
    return broadcastShapes(dist, a, b);
  } catch {
    throw new Error(`${dist}: ${message}`);
  }
}

/**
 * The batch shape of two required parameters, from their shapes alone: a
 * family that converts its parameters to tensors only afterwards makes no
 * tensors from plain numbers when the constructor throws. Throws as
 * {@link requireParam} for a missing parameter (`a` first), else as
 * {@link broadcastShapes}.
 */
export function broadcastParamShapes(
  dist: string,
  a: [string, Param | undefined],
  b: [string, Param | undefined],
): number[] {
  requireParam(dist, a[0], a[1]);
  requireParam(dist, b[0], b[1]);
  return broadcastShapes(dist, [a[0], shapeOf(a[1]!)], [b[0], shapeOf(b[1]!)]);
}

/** One of two alternative parameters (`std` or `logstd`, `logits` or `probs`) as a tensor. */
export interface Alternative<K extends string> {
  /** Which parameter was given. */
  kind: K;
  /** Its value. */
  value: tf.Tensor;
}

/**
 * Which of two alternative parameters (e.g. `std` and `logstd`) was given,
 * and its value, not yet converted. Throws `${dist}: exactly one of \`${a}\`
 * and \`${b}\` must be given` unless exactly one of `opts[a]` and `opts[b]`
 * is defined.
 */
export function oneOf<K extends string>(
  dist: string,
  opts: Partial<Record<K, Param>>,
  a: K,
  b: K,
): { kind: K; raw: Param } {
  const hasA = opts[a] !== undefined;
  if (hasA === (opts[b] !== undefined)) {
    throw new Error(`${dist}: exactly one of \`${a}\` and \`${b}\` must be given`);
  }
  return hasA ? { kind: a, raw: opts[a]! } : { kind: b, raw: opts[b]! };
}

/**
 * The parameter `kind` of `p`: its value when that was given, else
 * `fromOther` of the other one (e.g. `tf.exp` for `std` from `logstd`).
 */
export function asKind<K extends string>(
  p: Alternative<K>,
  kind: K,
  fromOther: (other: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  return p.kind === kind ? p.value : fromOther(p.value);
}

/**
 * The size of the last axis of a parameter of shape `shape`, which holds
 * `holds` (e.g. 'the D dimensions'). Throws `${dist}: \`${name}\` must have
 * rank at least 1 (its last axis holds ${holds}), got shape [${shape}]`
 * when it has none.
 */
export function lastAxisSize(dist: string, name: string, shape: number[], holds: string): number {
  if (shape.length < 1) {
    throw new Error(
      `${dist}: \`${name}\` must have rank at least 1 (its last axis holds ${holds}), got shape [${shape}]`,
    );
  }
  return shape[shape.length - 1];
}

/**
 * K, the number of categories held by the last axis of a parameter of shape
 * `shape` (`logits` or `probs`); throws as {@link lastAxisSize}, or for
 * K = 0 `${dist}: \`${name}\` must have at least one category (K ≥ 1)`.
 */
export function categoryCount(dist: string, name: string, shape: number[]): number {
  const k = lastAxisSize(dist, name, shape, 'the K categories');
  if (k < 1) {
    throw new Error(
      `${dist}: \`${name}\` must have at least one category (K ≥ 1), got shape [${shape}]`,
    );
  }
  return k;
}

/**
 * Throws `${dist}: the last axis of \`given\` [${shape}] must have ${what}`
 * unless `given` has rank ≥ 1 and a last axis of size `size`: for families
 * whose values are vectors (`what` e.g. 'size K = 3, that of `alpha` [2,3]').
 */
export function checkLastAxis(dist: string, given: tf.Tensor, size: number, what: string): void {
  if (given.rank < 1 || given.shape[given.rank - 1] !== size) {
    throw new Error(`${dist}: the last axis of \`given\` [${given.shape}] must have ${what}`);
  }
}

// ---- the spec -------------------------------------------------------------------

/** Options of a continuous family that can draw reparameterised samples. */
export interface ReparameterizableOptions extends DistributionOptions {
  isReparameterized?: boolean;
}

/**
 * The spec of a float32 continuous family with batch shape `batchShape` and
 * value shape `valueShape` (default `[]`), reparameterised unless
 * `opts.isReparameterized` is false (a family sampled in JavaScript passes
 * false).
 */
export function continuousSpec(
  name: string,
  batchShape: number[],
  opts: ReparameterizableOptions,
  valueShape?: number[],
): DistributionSpec {
  return {
    name,
    dtype: 'float32',
    isContinuous: true,
    isReparameterized: opts.isReparameterized ?? true,
    batchShape,
    valueShape,
    groupNdims: opts.groupNdims,
    validateArgs: opts.validateArgs,
  };
}

/**
 * The spec of a discrete family (samples of `dtype`, not reparameterised)
 * with batch shape `batchShape` and value shape `valueShape` (default `[]`).
 */
export function discreteSpec(
  name: string,
  batchShape: number[],
  dtype: 'int32' | 'float32',
  opts: DistributionOptions,
  valueShape?: number[],
): DistributionSpec {
  return {
    name,
    dtype,
    isContinuous: false,
    isReparameterized: false,
    batchShape,
    valueShape,
    groupNdims: opts.groupNdims,
    validateArgs: opts.validateArgs,
  };
}

/**
 * The dtype of a discrete family's samples: `given`, or `dflt` when it is
 * undefined. Throws `${dist}: \`dtype\` must be '${a}' or '${b}', got
 * '${given}'` for anything but the two, named in the order `names` gives.
 */
export function sampleDtype(
  dist: string,
  given: string | undefined,
  dflt: 'int32' | 'float32',
  names: readonly ['int32', 'float32'] | readonly ['float32', 'int32'] = ['int32', 'float32'],
): 'int32' | 'float32' {
  const dtype = given ?? dflt;
  if (dtype !== 'int32' && dtype !== 'float32') {
    throw new Error(`${dist}: \`dtype\` must be '${names[0]}' or '${names[1]}', got '${dtype}'`);
  }
  return dtype;
}

// ---- value checks (validateArgs) ------------------------------------------------

/** Throws `${dist}: \`${name}\` must lie in [0, 1]` unless every element does (NaN fails). */
export function assertProbability(dist: string, name: string, p: Param): void {
  assertNone(
    () => tf.logicalNot(tf.logicalAnd(tf.greaterEqual(p, 0), tf.lessEqual(p, 1))),
    dist,
    `\`${name}\` must lie in [0, 1]`,
  );
}

/**
 * The number of trials `nTrials`, required; a plain number must be a
 * positive integer (`${dist}: \`nTrials\` must be a positive integer, got
 * ${n}` otherwise). Shapes and numbers only: nothing is converted.
 */
export function checkTrials(dist: string, nTrials: Param | undefined): Param {
  requireParam(dist, 'nTrials', nTrials);
  if (typeof nTrials === 'number') assertInteger(dist, 'nTrials', nTrials, 'positive');
  return nTrials!;
}

/**
 * Throws `${dist}: \`nTrials\` must hold positive integers` unless every
 * element of `nTrials` is one; for `validateArgs`.
 */
export function assertTrials(dist: string, nTrials: Param): void {
  assertNone(
    () => {
      const nf = asFloat(toTensor(nTrials));
      return tf.logicalNot(tf.logicalAnd(tf.greaterEqual(nf, 1), tf.equal(nf, tf.floor(nf))));
    },
    dist,
    '`nTrials` must hold positive integers',
  );
}

// ---- the support ------------------------------------------------------------------

/**
 * `f(x)` (a mask) computed off the gradient tape: tfjs has no gradients for
 * comparisons, logical ops or their reductions, and a mask needs none, but
 * a log density must stay differentiable with respect to its value.
 */
function maskOf(x: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  return withoutGradient([x], f);
}

/** What {@link support} returns. */
export interface Support {
  /** Whether the value lies in the support (reduced over the last axis with `vector`). */
  inside: tf.Tensor;
  /** Whether the value is NaN (likewise reduced). */
  isNan: tf.Tensor;
  /** The value with its elements outside (`lo`, `hi`) replaced by `fill`. */
  safe: tf.Tensor;
}

/** Whether the elements of `t` lie in (`lo`, `hi`), or in [`lo`, `hi`) with `closedLo`. */
function inInterval(t: tf.Tensor, lo: number, hi: number, closedLo: boolean): tf.Tensor {
  return tf.logicalAnd(closedLo ? tf.greaterEqual(t, lo) : tf.greater(t, lo), tf.less(t, hi));
}

/**
 * Where the elements of `x` lie in the open interval (`lo`, `hi`) (or in
 * [`lo`, `hi`) with `closedLo`), and `x` with the others replaced by `fill`
 * (a point inside), for {@link onSupport}. With `vector`, a value is the
 * last axis: inside when all its elements are, NaN when any is.
 * Differentiable with respect to `x` through `safe`.
 */
export function support(
  x: tf.Tensor,
  lo: number,
  hi: number,
  fill: number,
  vector = false,
  closedLo = false,
): Support {
  const elementwise = (t: tf.Tensor): tf.Tensor => inInterval(t, lo, hi, closedLo);
  const inside = maskOf(x, (t) => (vector ? tf.all(elementwise(t), -1) : elementwise(t)));
  const isNan = maskOf(x, (t) => (vector ? tf.any(tf.isNaN(t), -1) : tf.isNaN(t)));
  const safe = tf.where(maskOf(x, elementwise), x, tf.scalar(fill));
  return { inside, isNan, safe };
}

/**
 * The log density `logDensity` where `inSupport` holds, NaN where `isNan`
 * holds (a NaN value given), −∞ elsewhere (the three broadcast).
 * `logDensity` must have been computed with the out-of-support values
 * replaced by a harmless one, so that neither it nor its gradient holds a
 * NaN there: `tf.where` passes a zero gradient to the branch it does not
 * take, and 0 · NaN would still be NaN.
 */
export function onSupport(
  inSupport: tf.Tensor,
  isNan: tf.Tensor,
  logDensity: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const outside = tf.where(isNan, tf.scalar(Number.NaN), tf.scalar(-Infinity));
    return tf.where(inSupport, logDensity, outside);
  });
}

/**
 * Throws unless every element of `given` lies in the open interval
 * (`lo`, `hi`) (or in [`lo`, `hi`) with `closedLo`), with a message naming
 * the distribution and the interval; for `validateArgs`.
 */
export function assertGivenIn(
  dist: string,
  given: tf.Tensor,
  lo: number,
  hi: number,
  closedLo = false,
): void {
  const hiText = hi === Infinity ? '∞' : String(hi);
  assertNone(
    () => tf.logicalNot(inInterval(given, lo, hi, closedLo)),
    dist,
    `values given to logProb must lie in ${closedLo ? '[' : '('}${lo}, ${hiText})`,
  );
}

/**
 * Throws unless every vector along the last axis of `given` lies in the
 * probability simplex: components ≥ 0 (NaN fails) summing to 1 within `tol`;
 * for `validateArgs` (Dirichlet, Concrete).
 */
export function assertOnSimplex(dist: string, given: tf.Tensor, tol: number): void {
  tf.tidy(() => {
    const x = asFloat(given);
    assertNone(
      tf.logicalNot(tf.greaterEqual(x, 0)),
      dist,
      'values given to logProb must lie in the simplex: a component is negative or NaN',
    );
    assertNone(
      tf.greater(tf.abs(tf.sub(tf.sum(x, -1), 1)), tol),
      dist,
      `values given to logProb must lie in the simplex: components must sum to 1 (within ${tol})`,
    );
  });
}

// ---- ops ----------------------------------------------------------------------------

/** `x` as float32 (log densities take int32 values too). */
export function asFloat(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

/** log(p / (1 − p)): the logits of success probabilities `p` (Bernoulli, Binomial). */
export function logitsFromProbs(p: tf.Tensor): tf.Tensor {
  return tf.sub(tf.log(p), tf.log1p(tf.neg(p)));
}

/**
 * `compute(...params)` with no gradient path to `params` (see
 * {@link untaped}): for a sample built from numbers read back, or a mask
 * from comparisons (tfjs has no gradient for them). A gradient computation
 * does no work through the result, and a parameter reached only through it
 * gets no gradient, as in TensorFlow and PyTorch.
 */
export function withoutGradient(
  params: tf.Tensor[],
  compute: (...params: tf.Tensor[]) => tf.Tensor,
): tf.Tensor {
  return untaped(() => compute(...params));
}

/**
 * `x` read back as float32 values, broadcast to `shape` first: what a
 * sampler written in JavaScript draws from. The array may be the backend's
 * own storage of `x`: read it, never write it.
 */
export function readBroadcast(x: tf.Tensor, shape: number[]): Float32Array {
  return tf.tidy(() => tf.broadcastTo(asFloat(x), shape).dataSync() as Float32Array);
}

/**
 * Standard logistic noise log U − log(1 − U) of shape `shape`, U uniform
 * from the library's random stream (one `nextSeed()`) clamped to
 * [2^−24, 1 − 2^−24], so the noise is finite and symmetric, in
 * [−16.6, 16.6] (float32 cannot hold a U closer to 1 anyway): for
 * BinConcrete and Logistic.
 */
export function logisticNoise(shape: number[]): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.clipByValue(seededUniform(shape, nextSeed()), 2 ** -24, FLOAT32_BELOW_ONE);
    return tf.sub(tf.log(u), tf.log1p(tf.neg(u)));
  });
}

/** A zeroed array for `size` counts drawn in JavaScript, of the sample dtype. */
export function countArray(dtype: tf.DataType, size: number): Int32Array | Float32Array {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}
