/**
 * zhusuan: ZhuSuan's Bayesian deep learning API on TensorFlow.js.
 *
 * ```ts
 * import * as zs from 'zhusuan';
 * ```
 */
export * from './distributions/index.js';
export * from './framework/bn.js';
export * from './variational/base.js';
export * from './variational/exclusive_kl.js';
export * from './variational/monte_carlo.js';
export * from './variational/inclusive_kl.js';
export * from './evaluation/is_loglikelihood.js';
export * from './evaluation/ais.js';
export * from './mcmc/target.js';
export * from './mcmc/hmc.js';
export * from './mcmc/adaptation.js';
export * from './mcmc/sgmcmc.js';
export { lgamma, lbeta } from './special.js';
export { logSumExp, logMeanExp, stopGradient } from './utils.js';
export * as random from './random.js';
export {
  OPTIONAL_KERNELS,
  backendHasKernel,
  seededNormal,
  seededUniform,
  bernoulliLogProbFromLogits,
  normalLogProbFromLogstd,
  normalSampleFromLogstd,
} from './kernels.js';
