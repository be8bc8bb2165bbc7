/**
 * Helpers the distribution families share: reading and checking
 * parameters, and ops with a zero gradient. Internal:
 * src/distributions/index.ts does not re-export this module, so nothing
 * here is part of the public API.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertNone,
  broadcastShapes,
  type DistributionOptions,
  type DistributionSpec,
  type Param,
} from './base.js';

/** Shape of a parameter without converting it (a plain number is a scalar). */
export function shapeOf(p: Param): number[] {
  return typeof p === 'number' ? [] : p.shape;
}

/** Throws `${dist}: \`${name}\` is required` when `value` is undefined. */
export function requireParam(dist: string, name: string, value: unknown): void {
  if (value === undefined) throw new Error(`${dist}: \`${name}\` is required`);
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

/** Options of a continuous family that can draw reparameterised samples. */
export interface ReparameterizableOptions extends DistributionOptions {
  isReparameterized?: boolean;
}

/**
 * The spec of a float32 continuous family with batch shape `batchShape`,
 * reparameterised unless `opts.isReparameterized` is false.
 */
export function continuousSpec(
  name: string,
  batchShape: number[],
  opts: ReparameterizableOptions,
): DistributionSpec {
  return {
    name,
    dtype: 'float32',
    isContinuous: true,
    isReparameterized: opts.isReparameterized ?? true,
    batchShape,
    groupNdims: opts.groupNdims,
    validateArgs: opts.validateArgs,
  };
}

/**
 * Throws `${dist}: \`${name}\` must be positive` unless every element of
 * `param` is > 0 (NaN fails too); for `validateArgs`.
 */
export function assertPositive(dist: string, name: string, param: Param): void {
  tf.tidy(() => {
    assertNone(tf.logicalNot(tf.greater(param, 0)), dist, `\`${name}\` must be positive`);
  });
}

/**
 * Runs `body` (a constructor's checks); if it throws, disposes the tensors
 * the constructor made from plain numbers — each pair is the parameter as
 * given and its tensor, and tensors the caller passed in are left alone —
 * then rethrows. So a rejected construction leaks nothing.
 */
export function disposeOnThrow<T>(made: Array<[Param | undefined, tf.Tensor]>, body: () => T): T {
  try {
    return body();
  } catch (err) {
    for (const [raw, t] of made) if (typeof raw === 'number') t.dispose();
    throw err;
  }
}

/** `x` as float32 (log densities take int32 values too). */
export function asFloat(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

/**
 * `compute(...params)` as an op of `params` whose gradient is zero: for a
 * sample built from numbers read back, or a mask from comparisons (tfjs has
 * no gradient for them). The result is connected to every parameter, so
 * `tf.grads` with respect to one returns zeros rather than failing, as
 * `stopGradient` would give.
 */
export function withZeroGradient(
  params: tf.Tensor[],
  compute: (...params: tf.Tensor[]) => tf.Tensor,
): tf.Tensor {
  const f = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const ts = inputs.slice(0, params.length) as tf.Tensor[];
    return { value: compute(...ts), gradFunc: () => ts.map((t) => tf.zerosLike(t)) };
  });
  return f(...params);
}
