/**
 * Argument checks shared by the distributions and the MCMC samplers, each
 * with one wording: `${where}: \`${name}\` must be …`, naming the op and
 * the argument, and the bad value where it is a plain number. Internal:
 * src/index.ts does not export them.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What a sign check requires: > 0 or ≥ 0. */
export type Sign = 'positive' | 'non-negative';

/** Options of {@link assertPositive} and {@link assertNonNegative}. */
export interface SignCheckOptions {
  /**
   * `value` is a plain-number hyperparameter (an MCMC sampler's step size,
   * learning rate, friction…), which must also be finite. Default false: a
   * distribution parameter, checked as float32 elementwise, +∞ allowed.
   */
  finite?: boolean;
}

/**
 * Throws `${where}: ${message}` when `bad` (a boolean tensor) has any true
 * element. Given a function, runs it inside the check's `tf.tidy`, so the
 * comparison tensors it makes are freed too. Reads data.
 */
export function assertNone(
  bad: tf.Tensor | (() => tf.Tensor),
  where: string,
  message: string,
): void {
  const any = tf.tidy(() => tf.any(typeof bad === 'function' ? bad() : bad).dataSync()[0]);
  if (any) throw new Error(`${where}: ${message}`);
}

/**
 * The library's positivity check. A distribution parameter (a tensor, or a
 * number taken as a float32 scalar) must be > 0 in every element, NaN
 * failing, else it throws `${where}: \`${name}\` must be positive`; this
 * reads data, so the families run it under `validateArgs` only. With
 * `finite`, a plain number must be finite and > 0, else it throws
 * `${where}: \`${name}\` must be a finite positive number, got ${value}`.
 * @example assertPositive('HMC', 'stepSize', 0, { finite: true }) // throws
 */
export function assertPositive(
  where: string,
  name: string,
  value: number | tf.Tensor,
  opts: SignCheckOptions = {},
): void {
  assertSign(where, name, value, 'positive', opts.finite ?? false);
}

/**
 * As {@link assertPositive}, for ≥ 0: `must be non-negative`, or with
 * `finite` `must be a finite non-negative number, got ${value}`.
 */
export function assertNonNegative(
  where: string,
  name: string,
  value: number | tf.Tensor,
  opts: SignCheckOptions = {},
): void {
  assertSign(where, name, value, 'non-negative', opts.finite ?? false);
}

/**
 * Throws `${where}: \`${name}\` must be a ${sign} integer, got ${x}` unless
 * `x` is an integer > 0 (`positive`) or ≥ 0 (`non-negative`).
 */
export function assertInteger(where: string, name: string, x: number, sign: Sign): void {
  if (!Number.isInteger(x) || !(sign === 'positive' ? x > 0 : x >= 0)) {
    throw new Error(`${where}: \`${name}\` must be a ${sign} integer, got ${x}`);
  }
}

function assertSign(
  where: string,
  name: string,
  value: number | tf.Tensor,
  sign: Sign,
  finite: boolean,
): void {
  if (finite) {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (sign === 'positive' ? value > 0 : value >= 0);
    if (!ok) throw new Error(`${where}: \`${name}\` must be a finite ${sign} number, got ${value}`);
    return;
  }
  // "not > 0" rather than "<= 0": NaN fails too.
  assertNone(
    () => tf.logicalNot(sign === 'positive' ? tf.greater(value, 0) : tf.greaterEqual(value, 0)),
    where,
    `\`${name}\` must be ${sign}`,
  );
}
