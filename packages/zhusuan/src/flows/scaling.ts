/**
 * A learned diagonal scaling, NICE's last layer (Dinh et al., 2015; port of
 * ZhuSuan-PyTorch's `invertible/scaling.py`, whose inverse returns the
 * forward log-determinant: here it is the negative, as it must be).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { variable } from './internal.js';
import { expandTo } from '../kernels.js';

/** Options of {@link Scaling}. */
export interface ScalingOptions {
  /** Initial log-scales, `dim` numbers. Default zeros (the identity). */
  logScale?: number[];
}

/**
 * y = x ⊙ exp(logScale), log |det| = Σ logScale; one variable `logScale` [dim].
 * @example new zs.Scaling(784) // NICE's final layer
 */
export class Scaling extends Bijector {
  /** log of the per-dimension scale. */
  readonly logScale: tf.Variable;

  constructor(dim: number, opts: ScalingOptions = {}) {
    super('Scaling', dim);
    const init = opts.logScale;
    if (init !== undefined && (!Array.isArray(init) || init.length !== dim)) {
      throw new Error(`Scaling: \`logScale\` must be an array of ${dim} numbers (dim)`);
    }
    this.logScale = variable(init === undefined ? tf.zeros([dim]) : tf.tensor1d(init));
  }

  get variables(): tf.Variable[] {
    return [this.logScale];
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    return {
      y: tf.mul(x, tf.exp(this.logScale)),
      logDet: expandTo(tf.sum(this.logScale), x.shape.slice(0, -1)),
    };
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    return {
      x: tf.mul(y, tf.exp(tf.neg(this.logScale))),
      logDet: expandTo(tf.neg(tf.sum(this.logScale)), y.shape.slice(0, -1)),
    };
  }

  protected _dispose(): void {
    this.logScale.dispose();
  }
}
