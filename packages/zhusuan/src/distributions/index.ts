/** Distributions: one family per file. */
export * from './base.js';
export * from './normal.js';
export * from './bernoulli.js';
export * from './uniform.js';
export * from './laplace.js';
export * from './fold_normal.js';
export * from './gamma.js';
export * from './beta.js';
export * from './inverse_gamma.js';
export * from './dirichlet.js';
export * from './categorical.js';
export { Poisson, type PoissonOptions } from './poisson.js';
export { Binomial, type BinomialOptions } from './binomial.js';
export {
  Multinomial,
  UnnormalizedMultinomial,
  type MultinomialParams,
  type MultinomialOptions,
  type UnnormalizedMultinomialOptions,
} from './multinomial.js';
export * from './multivariate_normal.js';
export {
  Concrete,
  ExpConcrete,
  type ConcreteOptions,
  type ExpConcreteOptions,
} from './concrete.js';
export * from './bin_concrete.js';
