/**
 * The inclusive KL divergence KL(p‖q), minimised over q (port of
 * zhusuan/variational/inclusive_kl.py): the self-normalised importance
 * sampling gradient of Reweighted Wake-Sleep (Bornschein & Bengio, 2015),
 * the "wake-phase" update of the proposal q.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model, Observed } from '../framework/bn.js';
import { expandTo } from '../kernels.js';
import { stopGradient } from '../utils.js';
import {
  latentSource,
  VariationalObjective,
  type LatentOptions,
  type LatentSource,
} from './base.js';

/**
 * Options of {@link klpq}: the variational net q, whose unobserved
 * stochastic nodes supply the samples z_k (or `latent`), and the sample axis.
 */
export interface InclusiveKLOptions extends LatentOptions {
  /** The sample axis (size K): the self-normalised weights are taken along it. */
  axis: number;
}

/**
 * KL(p(z|x) ‖ q(z)) for one batch, as a surrogate cost to minimise over q's
 * parameters. It has no value to evaluate (ZhuSuan raises on `.tensor`; here
 * there is no such property): only its gradient is meaningful. Build with
 * {@link klpq}. Exposes the model net it built (`.bn`, with q's samples held
 * constant) and q (`.variational`); holds tensors: `dispose()` when done
 * outside a scope.
 */
export class InclusiveKLObjective extends VariationalObjective {
  /** log p(x, z_k) − log q(z_k), gradient stopped: the log importance weights. */
  readonly logWeights: tf.Tensor;
  /** log q(z_k), differentiable in q's parameters only (the samples are constants). */
  readonly logQ: tf.Tensor;
  /** The sample axis. */
  readonly axis: number;

  /** Use {@link klpq}. */
  constructor(model: Model, observed: Observed, src: LatentSource, axis: number) {
    // The samples are constants: the gradient reaches q's parameters only.
    super('klpq', model, observed, src, true);
    const { logP, logQ } = this.terms;
    this.logWeights = this.own(tf.tidy(() => stopGradient(tf.sub(logP, logQ))));
    this.logQ = this.own(expandTo(logQ, this.logWeights.shape));
    this.axis = this.validAxis(axis, this.logWeights.rank)!;
  }

  /**
   * The self-normalised importance sampling surrogate −Σ_k w̃_k log q(z_k),
   * w̃ = softmax of the log weights along the sample axis (gradient
   * stopped). Its gradient with respect to q's parameters estimates
   * −E_p(z|x)[∇ log q(z)] = ∇ KL(p‖q): biased for finite K, consistent as
   * K → ∞. The model gets no gradient from it (train the model with
   * {@link importanceWeightedObjective}, as RWS does).
   * @returns one cost per data point (the sample axis reduced).
   */
  importance(): tf.Tensor {
    return tf.tidy(() => {
      const w = tf.softmax(moveAxisLast(this.logWeights, this.axis));
      return tf.neg(tf.sum(tf.mul(w, moveAxisLast(this.logQ, this.axis)), -1));
    });
  }

  /** Reweighted Wake-Sleep's wake-phase q update: the same as {@link importance}. */
  rws(): tf.Tensor {
    return this.importance();
  }
}

/** Moves `axis` of `x` to the end (tf.softmax works on the last axis). */
function moveAxisLast(x: tf.Tensor, axis: number): tf.Tensor {
  if (axis === x.rank - 1) return x;
  const perm = [...Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== axis), axis];
  return tf.transpose(x, perm);
}

/**
 * The inclusive KL objective KL(p(z|x) ‖ q(z)) of `model` for `observed`,
 * with K samples of q along `opts.axis` (ZhuSuan's `klpq`). q's samples are
 * treated as constants (the estimator is a score-function one): q need not be
 * reparameterised, and a reparameterised q's samples get no gradient here.
 * @param model a meta net or a function `(observed) => BayesianNet`.
 * @example
 * const q = encoder({ x }, 10);  // 10 samples of z per image along axis 0
 * const kl = zs.klpq(model, { x }, { variational: q, axis: 0 });
 * const qCost = tf.mean(kl.importance());  // minimise over q's parameters
 */
export function klpq(
  model: Model,
  observed: Observed,
  opts: InclusiveKLOptions,
): InclusiveKLObjective {
  const src = latentSource('klpq', observed, opts?.variational, opts?.latent);
  if (opts.axis === undefined) throw new Error('klpq: `axis` (the sample axis) is required');
  return new InclusiveKLObjective(model, observed, src, opts.axis);
}
