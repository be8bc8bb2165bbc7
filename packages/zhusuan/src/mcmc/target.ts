/**
 * What the samplers sample from (HMC, AIS and the SG-MCMC family): a model,
 * or a log-density function, evaluated at the observations merged with the
 * current latent values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BayesianNet, type MetaBayesianNet, type Observed } from '../framework/bn.js';

/**
 * What the samplers sample from: a meta net, a model function returning a
 * {@link BayesianNet} (its `logJoint()` is the target), or a function
 * returning the log density itself (per chain for HMC and AIS; the SG-MCMC
 * samplers sum it). Either function receives the observations merged with
 * the current latent values.
 *
 * The log density is differentiated with respect to the latent values, and
 * tfjs has no gradients for comparison kernels (Greater, Less, Equal, …): to
 * mask a region, use `tf.step` (e.g. `tf.where(tf.cast(tf.step(z), 'bool'), lp,
 * -Infinity)`) rather than `tf.greater(z, 0)`.
 * @example
 * // A log-density function: an isotropic Gaussian over `z` ([nChains, 2]).
 * const target = (v: Record<string, tf.Tensor>) =>
 *   tf.mul(tf.sum(tf.square(v.z), -1), -0.5);
 */
export type McmcTarget = MetaBayesianNet<[]> | ((values: Observed) => BayesianNet | tf.Tensor);

/**
 * The log density of `target` at `values` (observations and latent values
 * together). For a target that builds a {@link BayesianNet}, checks that every
 * name in `latentNames` is a stochastic node of it and, unless
 * `allowUnobserved`, that every stochastic node is given a value (an
 * unobserved node would be sampled afresh on every evaluation: fine for
 * stochastic-gradient samplers, wrong for a Metropolis test); then returns
 * `logJoint()`.
 * @param fn the caller's name, for error messages.
 */
export function targetLogDensity(
  fn: string,
  target: McmcTarget,
  values: Observed,
  latentNames: readonly string[],
  allowUnobserved = false,
): tf.Tensor {
  const out: unknown = typeof target === 'function' ? target(values) : target.observe(values);
  if (out instanceof BayesianNet) {
    const nodes = out.stochasticNames;
    for (const name of latentNames) {
      if (!nodes.includes(name)) {
        throw new Error(
          `${fn}: latent '${name}' is not a stochastic node of the model ` +
            `(stochastic nodes: ${nodes.join(', ') || 'none'})`,
        );
      }
    }
    if (!allowUnobserved) {
      for (const name of nodes) {
        if (!(name in values)) {
          throw new Error(
            `${fn}: stochastic node '${name}' of the model is neither observed nor in \`latent\`; ` +
              'give it a value in `observed` or a variable in `latent`',
          );
        }
      }
    }
    return out.logJoint();
  }
  if (out instanceof tf.Tensor) return out;
  throw new Error(
    `${fn}: the target must return a BayesianNet or a tf.Tensor (the log density), got ${typeof out}`,
  );
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The value of `logDensity(qs)` and the gradients of its sum with respect to
 * `qs` (null for a latent it does not depend on). A missing gradient becomes
 * an error naming `fn` and the way around it: when tfjs has no gradients at
 * all (a program that imports `@tensorflow/tfjs-core` and a backend but not
 * `@tensorflow/tfjs`, which registers them), that import; else the kernel
 * without one (comparisons have none) and how to avoid it.
 */
export function valueAndGrads(
  fn: string,
  logDensity: (qs: tf.Tensor[]) => tf.Tensor,
  qs: tf.Tensor[],
): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  try {
    return tf.engine().gradients(() => logDensity(qs), qs, undefined, true);
  } catch (e) {
    const kernel = /gradient function not found for (\w+)/.exec(String(e))?.[1];
    if (kernel === undefined) throw e;
    if (tf.getGradient(tf.Add) === undefined) {
      throw new Error(
        `${fn}: cannot differentiate the log density: no tfjs gradients are registered ` +
          `(none for '${kernel}', nor for Add). @tensorflow/tfjs-core registers none; ` +
          "import '@tensorflow/tfjs' once in the program (it registers them), or " +
          "'@tensorflow/tfjs-core/dist/register_all_gradients' in a bundle without it",
      );
    }
    throw new Error(
      `${fn}: cannot differentiate the log density: tfjs has no gradient for the ` +
        `'${kernel}' kernel (comparisons such as tf.greater have none); build masks on the ` +
        'latent values with tf.step, or compute them inside tf.customGrad',
    );
  }
}
