/** Importance-sampling estimate of log p(x) (port of zhusuan/evaluation.py is_loglikelihood). */
import * as tf from '@tensorflow/tfjs-core';
import type { BayesianNet, Model, Observed } from '../framework/bn.js';
import { logMeanExp } from '../utils.js';
import { checkAxis, logTerms } from '../variational/base.js';

/** Options of {@link isLoglikelihood}. */
export interface IsLoglikelihoodOptions {
  /** The proposal net: its unobserved stochastic nodes supply samples along `axis`. */
  proposal: BayesianNet;
  /** The sample axis. */
  axis: number;
}

/**
 * log (1/K) Σ_k p(x, z_k) / q(z_k) with z_k from the proposal: a stochastic
 * lower bound of log p(x) that tightens as K grows (consistent as K → ∞).
 * @returns one estimate per data point (the sample axis reduced).
 */
export function isLoglikelihood(
  model: Model,
  observed: Observed,
  opts: IsLoglikelihoodOptions,
): tf.Tensor {
  return tf.tidy(() => {
    const { logP, logQ } = logTerms('isLoglikelihood', model, observed, opts.proposal);
    const lw = tf.sub(logP, logQ);
    if (opts.axis === undefined) {
      throw new Error('isLoglikelihood: `axis` (the sample axis) is required');
    }
    return logMeanExp(lw, checkAxis('isLoglikelihood', opts.axis, lw.rank)!);
  });
}
