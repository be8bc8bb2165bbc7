/**
 * The importance-weighted bound (IWAE) and its estimators (port of
 * zhusuan/variational/monte_carlo.py): SGVB (the IWAE gradient) and VIMCO.
 * Unlike ZhuSuan-PyTorch, `.tensor` is the bound itself; unlike ZhuSuan,
 * VIMCO holds q's samples constant, so it is right for a reparameterised q too.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model, Observed } from '../framework/bn.js';
import { expandTo } from '../kernels.js';
import { logMeanExp, untaped } from '../utils.js';
import {
  latentSource,
  VariationalObjective,
  type LatentSource,
  type VariationalOptions,
} from './base.js';

/** Options of {@link importanceWeightedObjective}: `axis` is required. */
export interface ImportanceWeightedOptions extends VariationalOptions {
  axis: number;
}

/**
 * log (1/K) Σ_k p(x, z_k) / q(z_k), the K-sample importance-weighted bound.
 * Build with {@link importanceWeightedObjective}. Exposes the model net it
 * built (`.bn`) and q (`.variational`); holds tensors: `dispose()` when
 * done outside a scope.
 */
export class ImportanceWeightedObjective extends VariationalObjective {
  /** log p(x, z_k) − log q(z_k), the log importance weights. */
  readonly logWeights: tf.Tensor;
  /** The sample axis (size K). */
  readonly axis: number;

  /** Use {@link importanceWeightedObjective}. */
  constructor(model: Model, observed: Observed, src: LatentSource, axis: number) {
    super('importanceWeightedObjective', model, observed, src, false);
    this.logWeights = this.own(tf.sub(this.terms.logP, this.terms.logQ));
    this.axis = this.validAxis(axis, this.logWeights.rank)!;
  }

  /** The bound's value: log-mean-exp of the log weights over the sample axis. */
  get tensor(): tf.Tensor {
    return logMeanExp(this.logWeights, this.axis);
  }

  /**
   * The IWAE surrogate cost (−bound); its gradient is the IWAE (pathwise)
   * gradient.
   * @throws Error naming the latent node when a node of q is not
   * reparameterised: use {@link vimco}.
   */
  sgvb(): tf.Tensor {
    this.requireReparameterized('importanceWeightedObjective.sgvb', 'vimco()');
    return tf.tidy(() => tf.neg(logMeanExp(this.logWeights, this.axis)));
  }

  /**
   * The VIMCO surrogate cost (Mnih & Rezende, 2016), a score-function
   * estimator: each sample's learning signal is the bound minus the bound
   * with that sample's log weight replaced by the mean of the others
   * (leave-one-out control variate). q's samples are held constant, so a
   * reparameterised q gets the VIMCO gradient too (the model is built once
   * more for it; build q with `isReparameterized: false` to avoid that).
   * Needs at least 2 samples.
   */
  vimco(): tf.Tensor {
    const k = this.logWeights.shape[this.axis];
    if (k < 2) {
      throw new Error(`vimco: needs at least 2 samples along axis ${this.axis}, got ${k}`);
    }
    const terms = this.scoreTerms();
    return tf.tidy(() => {
      const logWeights = terms === this.terms ? this.logWeights : tf.sub(terms.logP, terms.logQ);
      const lw = moveAxisToFront(logWeights, this.axis); // [K, ...]
      const logQ = moveAxisToFront(expandTo(terms.logQ, logWeights.shape), this.axis);
      const bound = logMeanExp(lw, 0); // [...], carries the gradient
      const score = tf.sum(tf.mul(vimcoSignal(lw, bound, k), logQ), 0);
      return tf.neg(tf.add(score, bound));
    });
  }
}

/**
 * VIMCO's learning signals, a constant [K, ...]: `bound` minus the bound with
 * each sample's log weight in `lw` ([K, ...]) replaced by the mean of the
 * others. The values of stopGradient of the composite, computed off the tape
 * ({@link untaped}): the [K, K, ...] control variates are neither taped
 * (no copies kept for a backward pass) nor differentiated.
 */
function vimcoSignal(lw: tf.Tensor, bound: tf.Tensor, k: number): tf.Tensor {
  return untaped(() => {
    const meanOthers = tf.div(tf.sub(tf.sum(lw, 0, true), lw), k - 1); // [K, ...]
    // x[j, i] = lw[i] for i ≠ j, meanOthers[j] for i = j: shape [K(j), K(i), ...]
    // (a select, not a 0/1 product: −∞ · 0 would be NaN).
    const rest = lw.shape.slice(1);
    const eye = tf.reshape(tf.cast(tf.eye(k), 'bool'), [k, k, ...rest.map(() => 1)]);
    const tiled = tf.broadcastTo(tf.expandDims(lw, 0), [k, k, ...rest]);
    const diag = tf.broadcastTo(tf.expandDims(meanOthers, 1), [k, k, ...rest]);
    const replaced = tf.where(tf.broadcastTo(eye, [k, k, ...rest]), diag, tiled);
    const control = logMeanExp(replaced, 1); // [K, ...]
    return tf.sub(tf.expandDims(bound, 0), control);
  });
}

/** Moves `axis` of `x` to the front. */
function moveAxisToFront(x: tf.Tensor, axis: number): tf.Tensor {
  if (axis === 0) return x;
  const perm = [axis, ...Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== axis)];
  return tf.transpose(x, perm);
}

/**
 * The importance-weighted bound of `model` for `observed` with K samples from
 * `opts.variational` (or given as `opts.latent`) along `opts.axis`.
 * @example
 * const iw = zs.importanceWeightedObjective(model, { x }, { variational: q, axis: 0 });
 * tf.mean(iw.sgvb());  // IWAE cost; iw.tensor is the bound
 */
export function importanceWeightedObjective(
  model: Model,
  observed: Observed,
  opts: ImportanceWeightedOptions,
): ImportanceWeightedObjective {
  const fn = 'importanceWeightedObjective';
  const src = latentSource(fn, observed, opts?.variational, opts?.latent);
  if (opts.axis === undefined) {
    throw new Error(`${fn}: \`axis\` (the sample axis) is required`);
  }
  return new ImportanceWeightedObjective(model, observed, src, opts.axis);
}
