/**
 * zhusuan: ZhuSuan's Bayesian deep learning API on TensorFlow.js.
 *
 * ```ts
 * import * as zs from 'zhusuan';
 * ```
 *
 * The public API, by name. A distribution family is one file in
 * distributions/ and one line here (and one row in
 * test/distributions/families.test.ts); modules' other exports (internal.ts,
 * the family bases, ../checks.ts) are internal.
 */

// Distributions.
export {
  Distribution,
  getValidateArgs,
  setValidateArgs,
  type DistributionOptions,
  type DistributionSpec,
  type Param,
} from './distributions/base.js';
export { Normal, type NormalOptions } from './distributions/normal.js';
export { Bernoulli, type BernoulliOptions } from './distributions/bernoulli.js';
export { Uniform, type UniformOptions } from './distributions/uniform.js';
export { Laplace, type LaplaceOptions } from './distributions/laplace.js';
export { FoldNormal, type FoldNormalOptions } from './distributions/fold_normal.js';
export { Gamma, type GammaOptions } from './distributions/gamma.js';
export { Beta, type BetaOptions } from './distributions/beta.js';
export { InverseGamma, type InverseGammaOptions } from './distributions/inverse_gamma.js';
export { Dirichlet, type DirichletOptions } from './distributions/dirichlet.js';
export {
  Categorical,
  OnehotCategorical,
  type CategoricalOptions,
  type CategoricalParams,
  type OnehotCategoricalOptions,
} from './distributions/categorical.js';
export { Poisson, type PoissonOptions } from './distributions/poisson.js';
export { Binomial, type BinomialOptions } from './distributions/binomial.js';
export {
  Multinomial,
  UnnormalizedMultinomial,
  type MultinomialOptions,
  type MultinomialParams,
  type UnnormalizedMultinomialOptions,
} from './distributions/multinomial.js';
export {
  MultivariateNormalCholesky,
  type MultivariateNormalCholeskyOptions,
} from './distributions/multivariate_normal.js';
export {
  Concrete,
  ExpConcrete,
  type ConcreteOptions,
  type ExpConcreteOptions,
} from './distributions/concrete.js';
export { BinConcrete, type BinConcreteOptions } from './distributions/bin_concrete.js';
export { FlowDistribution, type FlowDistributionOptions } from './distributions/flow.js';
export { Exponential, type ExponentialOptions } from './distributions/exponential.js';
export { Logistic, type LogisticOptions } from './distributions/logistic.js';
export { StudentT, type StudentTOptions } from './distributions/student_t.js';
export {
  MatrixVariateNormalCholesky,
  type MatrixVariateNormalCholeskyOptions,
} from './distributions/matrix_variate_normal.js';

// Normalizing flows.
export { Bijector, Sequential, type ForwardResult, type InverseResult } from './flows/bijector.js';
export { Permute, Reverse } from './flows/permute.js';
export { Scaling, type ScalingOptions } from './flows/scaling.js';
export { PlanarFlow, type PlanarFlowOptions } from './flows/planar.js';
export { MADE, type MadeOptions } from './flows/made.js';
export { InverseAutoregressiveFlow, type InverseAutoregressiveFlowOptions } from './flows/iaf.js';
export {
  AdditiveCoupling,
  AffineCoupling,
  couplingMasks,
  type AffineCouplingOptions,
  type CouplingOptions,
  type CouplingSplit,
} from './flows/coupling.js';
export type { Activation } from './flows/internal.js';
export {
  invAutoregressiveFlow,
  planarNormalizingFlow,
  type FlowOutput,
} from './flows/transform.js';

// Models.
export {
  BayesianNet,
  metaBayesianNet,
  StochasticTensor,
  type BayesianNetOptions,
  type BernoulliNodeOptions,
  type LogJointFn,
  type MetaBayesianNet,
  type MetaBayesianNetOptions,
  type Model,
  type NodeOptions,
  type NormalNodeOptions,
  type Observed,
} from './framework/bn.js';

// Variational objectives.
export {
  VariationalObjective,
  type LatentOptions,
  type LatentSample,
  type LatentSource,
  type VariationalOptions,
} from './variational/base.js';
export {
  elbo,
  EvidenceLowerBound,
  MovingAverageBaseline,
  type ReinforceOptions,
} from './variational/exclusive_kl.js';
export {
  importanceWeightedObjective,
  ImportanceWeightedObjective,
  type ImportanceWeightedOptions,
} from './variational/monte_carlo.js';
export { InclusiveKLObjective, klpq, type InclusiveKLOptions } from './variational/inclusive_kl.js';

// Evaluation.
export { isLoglikelihood, type IsLoglikelihoodOptions } from './evaluation/is_loglikelihood.js';
export type { Proposal } from './evaluation/proposal.js';
export {
  ais,
  aisSchedule,
  type AisOptions,
  type AisResult,
  type AisSchedule,
} from './evaluation/ais.js';

// MCMC.
export type { McmcTarget } from './mcmc/target.js';
export {
  HamiltonianKernel,
  type HamiltonianOptions,
  type HmcInfo,
  type LatentVariables,
} from './mcmc/kernel.js';
export { HMC, type HmcOptions } from './mcmc/hmc.js';
export { NUTS, type NutsInfo, type NutsOptions } from './mcmc/nuts.js';
export { sampleChains, type ChainsResult, type SampleChainsOptions } from './mcmc/driver.js';
export {
  effectiveSampleSize,
  minEffectiveSampleSize,
  splitRHat,
  type DiagnosticsOptions,
} from './mcmc/diagnostics.js';
export {
  adaptationAction,
  adaptationSchedule,
  dualAveragingInit,
  dualAveragingUpdate,
  findReasonableStepSize,
  welfordFinalize,
  welfordInit,
  welfordUpdate,
  type AdaptationAction,
  type AdaptationScheduleOptions,
  type AdaptationWindow,
  type DualAveragingOptions,
  type DualAveragingState,
  type WelfordState,
} from './mcmc/adaptation.js';
export {
  PSGLD,
  SGHMC,
  SGLD,
  SGMCMC,
  SGNHT,
  type PSGLDOptions,
  type SGHMCOptions,
  type SGLDOptions,
  type SGNHTOptions,
  type SghmcInfo,
  type SgmcmcInfo,
  type SgnhtInfo,
} from './mcmc/sgmcmc.js';

// Linear algebra.
export {
  cholesky,
  triangularSolve,
  type CholeskyOptions,
  type TriangularSolveOptions,
} from './linalg.js';

// Gaussian processes.
export { rbfKernel } from './gp.js';

// Special functions, reductions, custom gradients, gathers, randomness, optional
// backend kernels.
export { lgamma, lbeta } from './special.js';
export { logSumExp, logMeanExp, stopGradient } from './utils.js';
export { customGradMulti, type MultiGradResult } from './custom_grad.js';
export * as random from './random.js';
export {
  OPTIONAL_KERNELS,
  backendHasKernel,
  seededNormal,
  seededUniform,
  bernoulliLogProbFromLogits,
  normalLogProbFromLogstd,
  normalSampleFromLogstd,
  countsDot,
  type CountsDotOptions,
} from './kernels.js';
export { gather } from './gather.js';
