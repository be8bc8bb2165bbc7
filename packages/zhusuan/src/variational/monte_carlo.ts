/**
 * The importance-weighted bound (IWAE) and its estimators (port of
 * zhusuan/variational/monte_carlo.py): SGVB (the IWAE gradient) and VIMCO.
 * Unlike ZhuSuan-PyTorch, `.tensor` is the bound itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model, Observed } from '../framework/bn.js';
import { logMeanExp, stopGradient } from '../utils.js';
import { checkAxis, logTerms } from './base.js';
import type { VariationalOptions } from './base.js';

/** Options of {@link importanceWeightedObjective}: `axis` is required. */
export interface ImportanceWeightedOptions extends VariationalOptions {
  axis: number;
}

/**
 * log (1/K) Σ_k p(x, z_k) / q(z_k), the K-sample importance-weighted bound.
 * Build with {@link importanceWeightedObjective}.
 */
export class ImportanceWeightedObjective {
  /** log p(x, z_k) − log q(z_k), the log importance weights. */
  readonly logWeights: tf.Tensor;

  constructor(
    logJoint: tf.Tensor,
    logQ: tf.Tensor,
    /** The sample axis (size K). */
    readonly axis: number,
  ) {
    this.logWeights = tf.sub(logJoint, logQ);
    this.logQ = logQ;
  }

  private readonly logQ: tf.Tensor;

  /** The bound's value: log-mean-exp of the log weights over the sample axis. */
  get tensor(): tf.Tensor {
    return logMeanExp(this.logWeights, this.axis);
  }

  /** The IWAE surrogate cost (−bound); its gradient is the IWAE gradient (reparameterised q). */
  sgvb(): tf.Tensor {
    return tf.tidy(() => tf.neg(logMeanExp(this.logWeights, this.axis)));
  }

  /**
   * The VIMCO surrogate cost (Mnih & Rezende, 2016) for q whose samples are
   * not reparameterised. Each sample's learning signal is the bound minus the
   * bound with that sample's log weight replaced by the mean of the others
   * (leave-one-out control variate). Needs at least 2 samples.
   */
  vimco(): tf.Tensor {
    const k = this.logWeights.shape[this.axis];
    if (k < 2) {
      throw new Error(`vimco: needs at least 2 samples along axis ${this.axis}, got ${k}`);
    }
    return tf.tidy(() => {
      const lw = moveAxisToFront(this.logWeights, this.axis); // [K, ...]
      const logQ = moveAxisToFront(tf.broadcastTo(this.logQ, this.logWeights.shape), this.axis);
      const lwStop = stopGradient(lw);
      const meanOthers = tf.div(tf.sub(tf.sum(lwStop, 0, true), lwStop), k - 1); // [K, ...]
      // x[j, i] = lw[i] for i ≠ j, meanOthers[j] for i = j: shape [K(j), K(i), ...].
      const rest = lw.shape.slice(1);
      const eye = tf.reshape(tf.eye(k), [k, k, ...rest.map(() => 1)]);
      const tiled = tf.broadcastTo(tf.expandDims(lwStop, 0), [k, k, ...rest]);
      const diag = tf.broadcastTo(tf.expandDims(meanOthers, 1), [k, k, ...rest]);
      const replaced = tf.add(tf.mul(tiled, tf.sub(1, eye)), tf.mul(diag, eye));
      const control = logMeanExp(replaced, 1); // [K, ...]
      const bound = logMeanExp(lw, 0); // [...], carries the gradient
      const signal = tf.sub(tf.expandDims(stopGradient(bound), 0), control);
      const score = tf.sum(tf.mul(stopGradient(signal), logQ), 0);
      return tf.neg(tf.add(score, bound));
    });
  }
}

/** Moves `axis` of `x` to the front. */
function moveAxisToFront(x: tf.Tensor, axis: number): tf.Tensor {
  if (axis === 0) return x;
  const perm = [axis, ...Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== axis)];
  return tf.transpose(x, perm);
}

/**
 * The importance-weighted bound of `model` for `observed` with K samples from
 * `opts.variational` along `opts.axis`.
 * @example
 * const iw = zs.importanceWeightedObjective(model, { x }, { variational: q, axis: 0 });
 * tf.mean(iw.sgvb());  // IWAE cost; iw.tensor is the bound
 */
export function importanceWeightedObjective(
  model: Model,
  observed: Observed,
  opts: ImportanceWeightedOptions,
): ImportanceWeightedObjective {
  const { logP, logQ } = logTerms('importanceWeightedObjective', model, observed, opts.variational);
  const rank = Math.max(logP.rank, logQ.rank);
  if (opts.axis === undefined) {
    throw new Error('importanceWeightedObjective: `axis` (the sample axis) is required');
  }
  const axis = checkAxis('importanceWeightedObjective', opts.axis, rank)!;
  return new ImportanceWeightedObjective(logP, logQ, axis);
}
