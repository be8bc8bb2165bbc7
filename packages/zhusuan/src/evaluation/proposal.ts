/**
 * The proposal q(z) of the evaluations, taken the same way by
 * {@link isLoglikelihood} and {@link ais}: a built net, or a model to build.
 */
import { BayesianNet, buildModel, type Model, type Observed } from '../framework/bn.js';

/**
 * A proposal q(z): a built {@link BayesianNet} whose unobserved stochastic
 * nodes hold the samples, or a {@link Model} (a meta net, or a function of
 * the observations returning a net) that is built with the observations.
 */
export type Proposal = BayesianNet | Model;

/** `proposal` as a net: itself if built, else built with `observed`. */
export function proposalNet(fn: string, proposal: Proposal, observed: Observed): BayesianNet {
  if (proposal instanceof BayesianNet) return proposal;
  if (
    typeof proposal !== 'function' &&
    (proposal === null ||
      typeof proposal !== 'object' ||
      typeof (proposal as { observe?: unknown }).observe !== 'function')
  ) {
    throw new Error(
      `${fn}: \`proposal\` must be a BayesianNet, a MetaBayesianNet or a function of the ` +
        'observations returning a BayesianNet',
    );
  }
  const q: unknown = buildModel(proposal, observed);
  if (!(q instanceof BayesianNet)) {
    throw new Error(`${fn}: the \`proposal\` function must return a BayesianNet, got ${typeof q}`);
  }
  return q;
}
