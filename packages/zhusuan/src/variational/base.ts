/** What every variational objective starts from: log p(x, z) and log q(z). */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel, type BayesianNet, type Model, type Observed } from '../framework/bn.js';
import { stopGradient } from '../utils.js';

/** Options shared by the variational objectives. */
export interface VariationalOptions {
  /** The variational net q: its unobserved stochastic nodes supply the latent samples. */
  variational: BayesianNet;
  /** The sample axis to average over (as the nets were built with `nSamples`). */
  axis?: number;
}

/**
 * Builds the model with the observations plus q's latent samples and returns
 * log p(x, z) and log q(z), broadcast to one shape. With `constantSamples`
 * the samples are gradient-stopped and log q is evaluated at them again, so
 * gradients reach q's parameters only through its density (score-function
 * estimators such as klpq).
 */
export function logTerms(
  fn: string,
  model: Model,
  observed: Observed,
  variational: BayesianNet,
  constantSamples = false,
): { logP: tf.Tensor; logQ: tf.Tensor; latents: string[] } {
  if (variational === undefined) {
    throw new Error(`${fn}: the \`variational\` net is required`);
  }
  const latents = variational.stochasticNames.filter((n) => !(n in observed));
  if (latents.length === 0) {
    throw new Error(`${fn}: the variational net has no latent (unobserved) stochastic nodes`);
  }
  // Keep only the two log densities; the model's other tensors are freed.
  const { logP, logQ } = tf.tidy(() => {
    const full: Observed = { ...observed };
    for (const name of latents) {
      const z = variational.get(name);
      full[name] = constantSamples ? stopGradient(z) : z;
    }
    const p = buildModel(model, full);
    for (const name of latents) {
      if (!p.stochasticNames.includes(name)) {
        throw new Error(
          `${fn}: latent '${name}' of the variational net is not a stochastic node of the model`,
        );
      }
    }
    const lq = constantSamples
      ? latents
          .map((name) => variational.node(name).dist.logProb(full[name]))
          .reduce((a, b) => tf.add(a, b))
      : variational.localLogProb(latents);
    return { logP: p.logJoint(), logQ: lq };
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
