/**
 * Volume-preserving reorderings of the last axis, put between autoregressive
 * or coupling layers so that every dimension gets transformed: `Permute` and
 * `Reverse` (ZhuSuan's `inv_autoregressive_flow` reverses after each step).
 * Their log-determinant is zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gather } from '../gather.js';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { checkDim, checkPermutation, zeroLogDet } from './internal.js';

/**
 * y[..., i] = x[..., perm[i]].
 * @example new zs.Permute([2, 0, 1]).forward(tf.tensor([10, 20, 30])).y // [30, 10, 20]
 */
export class Permute extends Bijector {
  /** The permutation of the last axis: output i is input `perm[i]`. */
  readonly perm: readonly number[];
  private readonly inversePerm: number[];

  constructor(perm: number[], name = 'Permute') {
    if (!Array.isArray(perm) || perm.length === 0) {
      throw new Error(`${name}: \`perm\` must be a non-empty array of indices`);
    }
    checkPermutation(name, 'perm', perm);
    super(name, perm.length);
    this.perm = [...perm];
    this.inversePerm = new Array<number>(perm.length);
    perm.forEach((p, i) => (this.inversePerm[p] = i));
  }

  get variables(): tf.Variable[] {
    return [];
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    return { y: this.reorder(x, this.perm), logDet: zeroLogDet(x) };
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    return { x: this.reorder(y, this.inversePerm), logDet: zeroLogDet(y) };
  }

  /** `x` with its last axis reordered by `order`. */
  protected reorder(x: tf.Tensor, order: readonly number[]): tf.Tensor {
    return gather(x, order as number[], x.rank - 1);
  }

  protected _dispose(): void {}
}

/** Reverses the last axis (ZhuSuan's `tf.reverse(z, [-1])` between IAF steps). */
export class Reverse extends Permute {
  constructor(dim: number) {
    checkDim('Reverse', dim);
    super(
      Array.from({ length: dim }, (_, i) => dim - 1 - i),
      'Reverse',
    );
  }

  protected override reorder(x: tf.Tensor): tf.Tensor {
    return tf.reverse(x, -1);
  }
}
