/** Importance-sampling estimate of log p(x) (port of zhusuan/evaluation.py is_loglikelihood). */
import * as tf from '@tensorflow/tfjs-core';
import type { Model, Observed } from '../framework/bn.js';
import { logMeanExp } from '../utils.js';
import { buildTerms, checkAxis, latentSource, type LatentSample } from '../variational/base.js';
import { proposalNet, type Proposal } from './proposal.js';

/** Options of {@link isLoglikelihood}: `proposal` or `latent`, and the sample axis. */
export interface IsLoglikelihoodOptions {
  /**
   * The proposal q(z): a built net whose unobserved stochastic nodes hold K
   * samples along `axis`, or a meta net / function of the observations that
   * builds one (as {@link ais} takes it).
   */
  proposal?: Proposal;
  /** Instead of `proposal`: node name → [samples, logQ] (ZhuSuan's `latent`). */
  latent?: Record<string, LatentSample>;
  /** The sample axis. */
  axis: number;
}

/**
 * log (1/K) Σ_k p(x, z_k) / q(z_k) with z_k from the proposal: a stochastic
 * lower bound of log p(x) that tightens as K grows (consistent as K → ∞).
 * @param model a meta net (with its own `logJoint` if set) or a function
 *   `(observed) => BayesianNet`.
 * @returns one estimate per data point (the sample axis reduced).
 * @example
 * const ll = zs.isLoglikelihood(model, { x }, { proposal: encoder(x, 1000), axis: 0 });
 * // or, with the proposal built from the observations:
 * zs.isLoglikelihood(model, { x }, { proposal: (obs) => encoder(obs.x, 1000), axis: 0 });
 */
export function isLoglikelihood(
  model: Model,
  observed: Observed,
  opts: IsLoglikelihoodOptions,
): tf.Tensor {
  const fn = 'isLoglikelihood';
  return tf.tidy(() => {
    const net = opts?.proposal === undefined ? undefined : proposalNet(fn, opts.proposal, observed);
    const src = latentSource(fn, observed, net, opts?.latent, 'proposal');
    if (opts.axis === undefined) throw new Error(`${fn}: \`axis\` (the sample axis) is required`);
    const { logP, logQ } = buildTerms(fn, model, observed, src, false);
    const lw = tf.sub(logP, logQ);
    return logMeanExp(lw, checkAxis(fn, opts.axis, lw.rank)!);
  });
}
