/** What every variational objective starts from: log p(x, z) and log q(z). */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel, type BayesianNet, type Model, type Observed } from '../framework/bn.js';

/** Options shared by the variational objectives. */
export interface VariationalOptions {
  /** The variational net q: its unobserved stochastic nodes supply the latent samples. */
  variational: BayesianNet;
  /** The sample axis to average over (as the nets were built with `nSamples`). */
  axis?: number;
}

/**
 * Builds the model with the observations plus q's latent samples and returns
 * log p(x, z) and log q(z), broadcast to one shape.
 */
export function logTerms(
  fn: string,
  model: Model,
  observed: Observed,
  variational: BayesianNet,
): { logP: tf.Tensor; logQ: tf.Tensor; latents: string[] } {
  if (variational === undefined) {
    throw new Error(`${fn}: the \`variational\` net is required`);
  }
  const latents = variational.stochasticNames.filter((n) => !(n in observed));
  if (latents.length === 0) {
    throw new Error(`${fn}: the variational net has no latent (unobserved) stochastic nodes`);
  }
  const full: Observed = { ...observed };
  for (const name of latents) full[name] = variational.get(name);
  // Keep only the two log densities; the model's other tensors are freed.
  const { logP, logQ } = tf.tidy(() => {
    const p = buildModel(model, full);
    for (const name of latents) {
      if (!p.stochasticNames.includes(name)) {
        throw new Error(
          `${fn}: latent '${name}' of the variational net is not a stochastic node of the model`,
        );
      }
    }
    return { logP: p.logJoint(), logQ: variational.localLogProb(latents) };
  });
  return { logP, logQ, latents };
}

/** Checks `axis` against a tensor's rank; returns it non-negative. */
export function checkAxis(fn: string, axis: number | undefined, rank: number): number | undefined {
  if (axis === undefined) return undefined;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${fn}: \`axis\` ${axis} is out of range for log-weights of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
