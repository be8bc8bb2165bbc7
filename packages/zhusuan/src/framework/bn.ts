/**
 * Bayesian networks with named stochastic nodes (port of
 * zhusuan/framework/bn.py): build a model by declaring nodes; observed nodes
 * take their given value, unobserved ones sample once and keep that sample;
 * `logJoint()` sums every node's log density, or is the model's own log
 * joint where one is set (ZhuSuan's `meta_bn.log_joint = fn`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Bernoulli } from '../distributions/bernoulli.js';
import { Distribution, type Param } from '../distributions/base.js';
import { Beta, type BetaOptions } from '../distributions/beta.js';
import { BinConcrete, type BinConcreteOptions } from '../distributions/bin_concrete.js';
import { Binomial, type BinomialOptions } from '../distributions/binomial.js';
import {
  Categorical,
  OnehotCategorical,
  type CategoricalOptions,
  type OnehotCategoricalOptions,
} from '../distributions/categorical.js';
import {
  Concrete,
  ExpConcrete,
  type ConcreteOptions,
  type ExpConcreteOptions,
} from '../distributions/concrete.js';
import { Dirichlet, type DirichletOptions } from '../distributions/dirichlet.js';
import { FlowDistribution, type FlowDistributionOptions } from '../distributions/flow.js';
import { Exponential, type ExponentialOptions } from '../distributions/exponential.js';
import { FoldNormal, type FoldNormalOptions } from '../distributions/fold_normal.js';
import { Gamma, type GammaOptions } from '../distributions/gamma.js';
import { broadcastShapes } from '../distributions/internal.js';
import { InverseGamma, type InverseGammaOptions } from '../distributions/inverse_gamma.js';
import { Laplace, type LaplaceOptions } from '../distributions/laplace.js';
import { Logistic, type LogisticOptions } from '../distributions/logistic.js';
import {
  MatrixVariateNormalCholesky,
  type MatrixVariateNormalCholeskyOptions,
} from '../distributions/matrix_variate_normal.js';
import {
  Multinomial,
  UnnormalizedMultinomial,
  type MultinomialOptions,
  type UnnormalizedMultinomialOptions,
} from '../distributions/multinomial.js';
import {
  MultivariateNormalCholesky,
  type MultivariateNormalCholeskyOptions,
} from '../distributions/multivariate_normal.js';
import { Normal } from '../distributions/normal.js';
import { Poisson, type PoissonOptions } from '../distributions/poisson.js';
import { StudentT, type StudentTOptions } from '../distributions/student_t.js';
import { Uniform, type UniformOptions } from '../distributions/uniform.js';
import type { Bijector } from '../flows/bijector.js';

/** Observations: node name → value. */
export type Observed = Record<string, tf.Tensor>;

/**
 * A model's own log joint density, computed from a built net: e.g. a
 * minibatch likelihood scaled to the full data set,
 * `(bn) => tf.add(bn.localLogProb(['w']), tf.mul(bn.localLogProb(['y']), N / m))`.
 * It must not call `bn.logJoint()` (that is what it replaces).
 */
export type LogJointFn = (bn: BayesianNet) => tf.Tensor;

/** Options of {@link BayesianNet}'s constructor. */
export interface BayesianNetOptions {
  /**
   * Replaces the sum of the nodes' log densities as {@link BayesianNet.logJoint},
   * which every objective, evaluation and sampler calls.
   */
  logJoint?: LogJointFn;
}

/** Options of a stochastic node. */
export interface NodeOptions {
  /** Draw this many samples along a new leading axis (see `Distribution.sample`). */
  nSamples?: number;
}

/** Options of {@link BayesianNet.normal}. */
export interface NormalNodeOptions extends NodeOptions {
  /** The standard deviation; give exactly one of `std` and `logstd`. */
  std?: Param;
  /** The log of the standard deviation. */
  logstd?: Param;
  /** Trailing batch axes summed into one event by `logProb`. Default 0. */
  groupNdims?: number;
  /** Draw samples as mean + std·ε so gradients reach the parameters. Default true. */
  isReparameterized?: boolean;
  /** Check parameter and value ranges (reads data). Default: the global switch. */
  validateArgs?: boolean;
}

/** Options of {@link BayesianNet.bernoulli}. */
export interface BernoulliNodeOptions extends NodeOptions {
  /** Trailing batch axes summed into one event by `logProb`. Default 0. */
  groupNdims?: number;
  /** The dtype of samples: 'float32' (default) or 'int32'. */
  dtype?: 'float32' | 'int32';
  /** Check parameter and value ranges (reads data). Default: the global switch. */
  validateArgs?: boolean;
}

/**
 * A named stochastic node: its distribution and its value (observed, or
 * sampled once when the node was created).
 */
export class StochasticTensor {
  constructor(
    /** The node's name in its net. */
    readonly name: string,
    /** Its distribution. */
    readonly dist: Distribution,
    /** Its value: the observation, or the draw made when the node was declared. */
    readonly tensor: tf.Tensor,
    /** Whether the value was observed rather than drawn. */
    readonly isObserved: boolean,
    /** The `nSamples` it was declared with (undefined: no sample axis). */
    readonly nSamples: number | undefined,
  ) {}

  /** log p(value) under the node's distribution, `groupNdims` axes summed. */
  logProb(): tf.Tensor {
    return this.dist.logProb(this.tensor);
  }
}

/**
 * A Bayesian network under construction or built.
 * @example
 * const bn = new zs.BayesianNet({ x });
 * const z = bn.normal('z', tf.zeros([n, 40]), { std: 1, groupNdims: 1 });
 * bn.bernoulli('x', decoder(z), { groupNdims: 1 });
 * const logp = bn.logJoint(); // [n]
 */
export class BayesianNet {
  private readonly stochasticNodes = new Map<string, StochasticTensor>();
  private readonly deterministicNodes = new Map<string, tf.Tensor>();
  private readonly order: string[] = [];
  /** The observations this net was built with. */
  readonly observed: Readonly<Observed>;
  private readonly customLogJoint: LogJointFn | undefined;
  private inCustomLogJoint = false;

  /**
   * @param observed node name → observed value.
   * @param opts `logJoint`: the model's own log joint (see {@link LogJointFn}).
   */
  constructor(observed: Observed = {}, opts: BayesianNetOptions = {}) {
    for (const [name, value] of Object.entries(observed)) {
      if (!(value instanceof tf.Tensor)) {
        throw new Error(`BayesianNet: observation '${name}' must be a tf.Tensor`);
      }
    }
    if (opts.logJoint !== undefined && typeof opts.logJoint !== 'function') {
      throw new Error('BayesianNet: `logJoint` must be a function of the net');
    }
    this.observed = { ...observed };
    this.customLogJoint = opts.logJoint;
  }

  /** Names of all nodes, in the order they were declared. */
  get nodes(): readonly string[] {
    return this.order;
  }

  /** Names of the stochastic nodes, in declaration order. */
  get stochasticNames(): string[] {
    return this.order.filter((n) => this.stochasticNodes.has(n));
  }

  private claim(name: string): void {
    if (typeof name !== 'string' || name === '') {
      throw new Error('BayesianNet: node names must be non-empty strings');
    }
    if (this.stochasticNodes.has(name) || this.deterministicNodes.has(name)) {
      throw new Error(`BayesianNet: node '${name}' is already defined`);
    }
    this.order.push(name);
  }

  /**
   * Adds a stochastic node with any distribution and returns its value: the
   * observation if `name` is observed, else `dist.sample(nSamples)`.
   */
  stochastic(name: string, dist: Distribution, opts: NodeOptions = {}): tf.Tensor {
    this.claim(name);
    const obs = this.observed[name];
    let value: tf.Tensor;
    if (obs !== undefined) {
      const expected = [
        ...(opts.nSamples === undefined ? [] : [opts.nSamples]),
        ...dist.batchShape,
        ...dist.valueShape,
      ];
      try {
        broadcastShapes(dist.name, ['observed', obs.shape], ['expected', expected]);
      } catch {
        throw new Error(
          `BayesianNet: observed value of node '${name}' has shape [${obs.shape}], ` +
            `which does not broadcast against the node's shape [${expected}]`,
        );
      }
      value = obs;
    } else {
      value = dist.sample(opts.nSamples);
    }
    const node = new StochasticTensor(name, dist, value, obs !== undefined, opts.nSamples);
    this.stochasticNodes.set(name, node);
    return value;
  }

  /**
   * Adds a Normal node. `mean` and exactly one of `opts.std` / `opts.logstd`.
   * @returns the node's value: `[nSamples?, ...broadcast(mean, std)]`.
   */
  normal(name: string, mean: Param, opts: NormalNodeOptions): tf.Tensor {
    const { nSamples, ...params } = opts;
    return this.stochastic(name, new Normal({ mean, ...params }), { nSamples });
  }

  /**
   * Adds a Bernoulli node from logits, or from probabilities with
   * `bn.bernoulli(name, { probs })`.
   * @returns the node's value: `[nSamples?, ...logits.shape]`.
   */
  bernoulli(
    name: string,
    logits: Param | { probs: Param },
    opts: BernoulliNodeOptions = {},
  ): tf.Tensor {
    const { nSamples, ...rest } = opts;
    const params =
      typeof logits === 'object' && !(logits instanceof tf.Tensor)
        ? { probs: logits.probs }
        : { logits };
    return this.stochastic(name, new Bernoulli({ ...params, ...rest }), { nSamples });
  }

  /** Adds a node of distribution `make(options)`, `nSamples` taken out of the options. */
  private add<O extends object>(
    name: string,
    make: (o: O) => Distribution,
    opts: O & NodeOptions,
  ): tf.Tensor {
    const { nSamples, ...rest } = opts;
    return this.stochastic(name, make(rest as unknown as O), { nSamples });
  }

  /**
   * Adds a {@link Uniform} node on [minval, maxval).
   * @example bn.uniform('u', { minval: 0, maxval: tf.ones([3]) })
   */
  uniform(name: string, opts: UniformOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Uniform(o), opts);
  }

  /** Adds a {@link Laplace} node. @example bn.laplace('w', { loc: 0, scale: 1 }) */
  laplace(name: string, opts: LaplaceOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Laplace(o), opts);
  }

  /** Adds a {@link FoldNormal} node. @example bn.foldNormal('s', { mean: 0, std: 1 }) */
  foldNormal(name: string, opts: FoldNormalOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new FoldNormal(o), opts);
  }

  /** Adds a {@link Gamma} node (shape `alpha`, rate `beta`). @example bn.gamma('tau', { alpha: 1, beta: 1 }) */
  gamma(name: string, opts: GammaOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Gamma(o), opts);
  }

  /** Adds a {@link Beta} node. @example bn.beta('p', { alpha: 2, beta: 2 }) */
  beta(name: string, opts: BetaOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Beta(o), opts);
  }

  /** Adds an {@link InverseGamma} node (shape `alpha`, scale `beta`). */
  inverseGamma(name: string, opts: InverseGammaOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new InverseGamma(o), opts);
  }

  /** Adds a {@link Dirichlet} node; `alpha` is [..., K]. @example bn.dirichlet('theta', { alpha: tf.ones([5]) }) */
  dirichlet(name: string, opts: DirichletOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Dirichlet(o), opts);
  }

  /** Adds a {@link Categorical} node (integer values). @example bn.categorical('y', { logits }) */
  categorical(name: string, opts: CategoricalOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Categorical(o), opts);
  }

  /** Adds a {@link OnehotCategorical} node (one-hot values along a last axis of size K). */
  onehotCategorical(name: string, opts: OnehotCategoricalOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new OnehotCategorical(o), opts);
  }

  /** Adds a {@link Poisson} node. @example bn.poisson('k', { rate: 3 }) */
  poisson(name: string, opts: PoissonOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Poisson(o), opts);
  }

  /** Adds a {@link Binomial} node. @example bn.binomial('k', { probs: 0.3, nTrials: 10 }) */
  binomial(name: string, opts: BinomialOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Binomial(o), opts);
  }

  /** Adds a {@link Multinomial} node (counts over the last axis, summing to `nTrials`). */
  multinomial(name: string, opts: MultinomialOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Multinomial(o), opts);
  }

  /**
   * Adds an {@link UnnormalizedMultinomial} node (a bag-of-words likelihood;
   * it cannot be sampled, so the node must be observed).
   */
  unnormalizedMultinomial(
    name: string,
    opts: UnnormalizedMultinomialOptions & NodeOptions,
  ): tf.Tensor {
    return this.add(name, (o) => new UnnormalizedMultinomial(o), opts);
  }

  /**
   * Adds a {@link MultivariateNormalCholesky} node: `mean` [..., D], `cholTril` [..., D, D].
   * @example bn.multivariateNormalCholesky('z', { mean: tf.zeros([2]), cholTril: tf.eye(2) })
   */
  multivariateNormalCholesky(
    name: string,
    opts: MultivariateNormalCholeskyOptions & NodeOptions,
  ): tf.Tensor {
    return this.add(name, (o) => new MultivariateNormalCholesky(o), opts);
  }

  /** Adds a {@link Concrete} (relaxed one-hot) node. @example bn.concrete('c', { temperature: 0.5, logits }) */
  concrete(name: string, opts: ConcreteOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Concrete(o), opts);
  }

  /** Adds an {@link ExpConcrete} node (the relaxed one-hot in log space). */
  expConcrete(name: string, opts: ExpConcreteOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new ExpConcrete(o), opts);
  }

  /** Adds a {@link BinConcrete} (relaxed Bernoulli) node. @example bn.binConcrete('b', { temperature: 0.5, logits: 0 }) */
  binConcrete(name: string, opts: BinConcreteOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new BinConcrete(o), opts);
  }

  /**
   * Adds a normalizing-flow node: `base` pushed through `bijector` (a
   * {@link FlowDistribution}). Its log density at its own sample comes from
   * the forward pass (`cacheLogProb` defaults to true here), so any bijector
   * serves as q in the objectives; an observed value goes through the inverse.
   * @example bn.flow('z', new zs.Normal({ mean, logstd, groupNdims: 1 }), flow, { nSamples: 10 })
   */
  flow(
    name: string,
    base: Distribution,
    bijector: Bijector,
    opts: Omit<FlowDistributionOptions, 'base' | 'bijector'> & NodeOptions = {},
  ): tf.Tensor {
    return this.add(
      name,
      (o) => new FlowDistribution({ cacheLogProb: true, ...o, base, bijector }),
      opts,
    );
  }

  /** Adds an {@link Exponential} node. @example bn.exponential('t', { rate: 2 }) */
  exponential(name: string, opts: ExponentialOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Exponential(o), opts);
  }

  /** Adds a {@link Logistic} node. @example bn.logistic('u', { loc: 0, scale: 1 }) */
  logistic(name: string, opts: LogisticOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new Logistic(o), opts);
  }

  /** Adds a {@link StudentT} node. @example bn.studentT('w', { df: 3, loc: 0, scale: 1 }) */
  studentT(name: string, opts: StudentTOptions & NodeOptions): tf.Tensor {
    return this.add(name, (o) => new StudentT(o), opts);
  }

  /**
   * Adds a {@link MatrixVariateNormalCholesky} node: `mean` [..., n, p], `uTril` [..., n, n],
   * `vTril` [..., p, p].
   * @example bn.matrixVariateNormalCholesky('W', { mean: tf.zeros([3, 2]), uTril: tf.eye(3), vTril: tf.eye(2) })
   */
  matrixVariateNormalCholesky(
    name: string,
    opts: MatrixVariateNormalCholeskyOptions & NodeOptions,
  ): tf.Tensor {
    return this.add(name, (o) => new MatrixVariateNormalCholesky(o), opts);
  }

  /** Adds a named deterministic node and returns `value`. */
  deterministic<T extends tf.Tensor>(name: string, value: T): T {
    this.claim(name);
    this.deterministicNodes.set(name, value);
    return value;
  }

  /** The stochastic node `name`. */
  node(name: string): StochasticTensor {
    const node = this.stochasticNodes.get(name);
    if (node === undefined) {
      const kind = this.deterministicNodes.has(name) ? ' (it is deterministic)' : '';
      throw new Error(`BayesianNet: no stochastic node '${name}'${kind}`);
    }
    return node;
  }

  /** The value of node `name` (stochastic or deterministic). */
  get(name: string): tf.Tensor {
    const s = this.stochasticNodes.get(name);
    if (s !== undefined) return s.tensor;
    const d = this.deterministicNodes.get(name);
    if (d !== undefined) return d;
    throw new Error(`BayesianNet: no node '${name}' (nodes: ${this.order.join(', ') || 'none'})`);
  }

  /** The values of several nodes. */
  getMany(names: string[]): tf.Tensor[] {
    return names.map((n) => this.get(n));
  }

  /**
   * Sum of the log densities of the named stochastic nodes (broadcast
   * together), e.g. `localLogProb(['z'])` = log p(z).
   */
  localLogProb(names: string[]): tf.Tensor {
    if (names.length === 0) {
      throw new Error('BayesianNet.localLogProb: no nodes named');
    }
    return tf.tidy(() => names.map((n) => this.node(n).logProb()).reduce((a, b) => tf.add(a, b)));
  }

  /**
   * log p of all stochastic nodes: the sum of their log densities, or the
   * model's own log joint where one was given ({@link LogJointFn}).
   */
  logJoint(): tf.Tensor {
    if (this.customLogJoint !== undefined) return this.callCustomLogJoint(this.customLogJoint);
    const names = this.stochasticNames;
    if (names.length === 0) {
      throw new Error('BayesianNet.logJoint: the net has no stochastic nodes');
    }
    return this.localLogProb(names);
  }

  private callCustomLogJoint(fn: LogJointFn): tf.Tensor {
    if (this.inCustomLogJoint) {
      throw new Error(
        'BayesianNet.logJoint: the custom `logJoint` called bn.logJoint(), which is itself; ' +
          "sum the nodes' log densities with bn.localLogProb(names) instead",
      );
    }
    this.inCustomLogJoint = true;
    let out: unknown;
    try {
      out = fn(this);
    } finally {
      this.inCustomLogJoint = false;
    }
    if (!(out instanceof tf.Tensor)) {
      throw new Error(
        `BayesianNet.logJoint: the custom \`logJoint\` must return a tf.Tensor, got ${typeof out}`,
      );
    }
    return out;
  }
}

/**
 * A model function that can be re-run with other observations (ZhuSuan's
 * `meta_bayesian_net`).
 */
export interface MetaBayesianNet<A extends unknown[] = []> {
  /** Builds the net afresh with `observed`, passing `args` to the model function. */
  observe(observed: Observed, ...args: A): BayesianNet;
  /**
   * The model's own log joint (ZhuSuan's `meta_bn.log_joint = fn`): when
   * set, every net that {@link observe} builds afterwards returns
   * `logJoint(bn)` from `bn.logJoint()`, and so every objective
   * (`elbo`, `importanceWeightedObjective`, `klpq`), evaluation
   * (`isLoglikelihood`, `ais`) and sampler (HMC, SG-MCMC) given this model
   * uses it. Unset: the sum of the nodes' log densities.
   */
  logJoint?: LogJointFn;
}

/** Options of {@link metaBayesianNet}. */
export interface MetaBayesianNetOptions {
  /** The model's own log joint (see {@link MetaBayesianNet.logJoint}); can also be set later. */
  logJoint?: LogJointFn;
}

/**
 * Wraps a model function into a {@link MetaBayesianNet}.
 * @example
 * const model = zs.metaBayesianNet((bn, n: number) => {
 *   const z = bn.normal('z', tf.zeros([n, 2]), { std: 1, groupNdims: 1 });
 *   bn.normal('x', z, { std: 0.1, groupNdims: 1 });
 * });
 * model.observe({ x }, 10).logJoint();
 * @example
 * // Bayesian linear regression on a minibatch of m of N points: the
 * // likelihood scaled by N/m (ZhuSuan's `model.log_joint = log_joint`).
 * const model = zs.metaBayesianNet((bn, xb: tf.Tensor) => {
 *   const w = bn.normal('w', tf.zeros([d]), { std: 1, groupNdims: 1 });
 *   bn.normal('y', tf.squeeze(tf.matMul(xb, tf.expandDims(w, 1)), [1]), { std: 0.1, groupNdims: 1 });
 * });
 * model.logJoint = (bn) =>
 *   tf.add(bn.localLogProb(['w']), tf.mul(bn.localLogProb(['y']), N / m));
 */
export function metaBayesianNet<A extends unknown[] = []>(
  fn: (bn: BayesianNet, ...args: A) => unknown,
  opts: MetaBayesianNetOptions = {},
): MetaBayesianNet<A> {
  const meta: MetaBayesianNet<A> = {
    observe(observed: Observed, ...args: A): BayesianNet {
      const bn = new BayesianNet(observed, { logJoint: meta.logJoint });
      fn(bn, ...args);
      return bn;
    },
    logJoint: opts.logJoint,
  };
  return meta;
}

/** What objectives accept as a model: a meta net or a function of the observations. */
export type Model = MetaBayesianNet<[]> | ((observed: Observed) => BayesianNet);

/** Builds `model` with `observed`. */
export function buildModel(model: Model, observed: Observed): BayesianNet {
  return typeof model === 'function' ? model(observed) : model.observe(observed);
}
