/**
 * What every variational objective starts from: the model net built with the
 * observations and q's samples, log p(x, z) and log q(z) (ZhuSuan's
 * `VariationalObjective` base in zhusuan/variational/base.py).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BayesianNet, buildModel, type Model, type Observed } from '../framework/bn.js';
import { checkGradientsIfRecording } from '../gradients.js';
import { stopGradient } from '../utils.js';

/**
 * A latent node's samples and their log density under q, for objectives
 * given samples instead of a variational net (ZhuSuan's
 * `latent={name: (samples, log_q)}`): e.g. the output of a normalizing flow
 * and its log density. Both broadcast against the model's log joint.
 */
export type LatentSample = [samples: tf.Tensor, logQ: tf.Tensor];

/** Where an objective's latent samples come from: exactly one of the two. */
export interface LatentOptions {
  /** The variational net q: its unobserved stochastic nodes supply the latent samples. */
  variational?: BayesianNet;
  /**
   * The latent samples with their log q, node name → `[samples, logQ]`
   * (instead of `variational`). The objectives cannot see how the samples
   * were made: `sgvb()` trusts that they are reparameterised, and the
   * score-function estimators (`reinforce()`, `vimco()`, `klpq`) that each
   * log q was computed at samples that carry no gradient.
   */
  latent?: Record<string, LatentSample>;
}

/** Options shared by the variational objectives. */
export interface VariationalOptions extends LatentOptions {
  /** The sample axis to average over (as the nets were built with `nSamples`). */
  axis?: number;
}

/** The latent nodes of an objective and where their samples come from. */
export interface LatentSource {
  /** The net whose unobserved stochastic nodes supply the samples; absent with `latent`. */
  net?: BayesianNet;
  /** The given samples and log densities; absent with a net. */
  latent?: Record<string, LatentSample>;
  /** The latent node names. */
  names: string[];
  /** The option naming the net, for messages: 'variational' or 'proposal'. */
  option: string;
}

/**
 * Resolves an objective's latents from a net or from `latent`, checking that
 * exactly one is given and that a net has latent (unobserved) nodes.
 * @param option the name of the net's option, for messages.
 */
export function latentSource(
  fn: string,
  observed: Observed,
  net: BayesianNet | undefined,
  latent: Record<string, LatentSample> | undefined,
  option = 'variational',
): LatentSource {
  if (net !== undefined && latent !== undefined) {
    throw new Error(`${fn}: give either \`${option}\` or \`latent\`, not both`);
  }
  if (latent !== undefined) {
    const names = Object.keys(latent);
    if (names.length === 0) throw new Error(`${fn}: \`latent\` names no node`);
    for (const name of names) {
      const entry: unknown = latent[name];
      if (
        !Array.isArray(entry) ||
        entry.length !== 2 ||
        !(entry[0] instanceof tf.Tensor) ||
        !(entry[1] instanceof tf.Tensor)
      ) {
        throw new Error(`${fn}: \`latent\` '${name}' must be [samples, logQ], two tf.Tensors`);
      }
      if (name in observed) throw new Error(`${fn}: '${name}' is both observed and in \`latent\``);
    }
    return { latent, names, option };
  }
  if (net === undefined) {
    throw new Error(
      `${fn}: the \`${option}\` net is required (or \`latent\`: node name → [samples, logQ])`,
    );
  }
  if (!(net instanceof BayesianNet)) {
    throw new Error(`${fn}: \`${option}\` must be a BayesianNet`);
  }
  const names = net.stochasticNames.filter((n) => !(n in observed));
  if (names.length === 0) {
    throw new Error(`${fn}: the ${option} net has no latent (unobserved) stochastic nodes`);
  }
  return { net, names, option };
}

/** The model net built with the observations and the latent samples, and its log densities. */
export interface LogTerms {
  /** The model net (ZhuSuan's `objective.bn`). */
  bn: BayesianNet;
  /** log p(x, z) per sample: `bn.logJoint()`. */
  logP: tf.Tensor;
  /** log q(z) per sample, summed over the latent nodes. */
  logQ: tf.Tensor;
  /** Every tensor the net holds (node values, deterministic nodes, distribution parameters). */
  held: tf.Tensor[];
}

/**
 * Builds `model` with the observations plus the latent samples and returns
 * the net, log p(x, z) and log q(z); the build's other tensors are freed.
 * With `constantSamples` the samples are gradient-stopped and log q is
 * evaluated at them again, so gradients reach q's parameters only through
 * its density (the score-function estimators).
 */
export function buildTerms(
  fn: string,
  model: Model,
  observed: Observed,
  src: LatentSource,
  constantSamples: boolean,
): LogTerms {
  checkGradientsIfRecording(fn);
  const { names, net, latent } = src;
  let bn: BayesianNet | undefined;
  const [logP, logQ, ...held] = tf.tidy(() => {
    const full: Observed = { ...observed };
    for (const name of names) {
      const z = net !== undefined ? net.get(name) : latent![name][0];
      full[name] = constantSamples ? stopGradient(z) : z;
    }
    const p = buildModel(model, full);
    for (const name of names) {
      if (!p.stochasticNames.includes(name)) {
        const from = net !== undefined ? `of the ${src.option} net` : 'given in `latent`';
        throw new Error(`${fn}: latent '${name}' ${from} is not a stochastic node of the model`);
      }
    }
    const sum = (ts: tf.Tensor[]) => ts.reduce((a, b) => tf.add(a, b));
    let lq: tf.Tensor;
    if (net === undefined) lq = sum(names.map((n) => latent![n][1]));
    else if (constantSamples) lq = sum(names.map((n) => net.node(n).dist.logProb(full[n])));
    else lq = net.localLogProb(names);
    const lp = p.logJoint();
    bn = p;
    const contents = p.nodes.map((n) => (p.stochasticNames.includes(n) ? p.node(n) : p.get(n)));
    return [lp, lq, ...tf.tensor_util.getTensorsInContainer(contents as tf.TensorContainer)];
  });
  return { bn: bn!, logP, logQ, held };
}

/**
 * An id below every tensor made after this call (tfjs numbers tensors in
 * creation order; variables have their own count).
 */
function tensorIdMark(): number {
  const probe = tf.scalar(0);
  const id = probe.id;
  probe.dispose();
  return id;
}

/**
 * The base of the variational objectives: builds the model net once with
 * q's samples as they are (a reparameterised q's carry its gradient), and,
 * for a score-function estimator, once more with the samples held constant
 * unless they already are. Holds tensors: `dispose()` frees them (inside
 * `tf.tidy` or `optimizer.minimize` the scope frees them anyway).
 */
export abstract class VariationalObjective {
  /** The variational net q the samples came from; undefined when `latent` gave them. */
  readonly variational: BayesianNet | undefined;
  /** The latent node names. */
  readonly latentNames: readonly string[];
  /** The terms built with the samples as q made them. */
  protected readonly terms: LogTerms;
  private scoreTermsCache: LogTerms | undefined;
  private readonly owned: tf.Tensor[] = [];

  protected constructor(
    private readonly fn: string,
    private readonly model: Model,
    private readonly observed: Observed,
    private readonly src: LatentSource,
    /** Build with the samples gradient-stopped from the start (klpq). */
    private readonly constantSamples: boolean,
  ) {
    this.variational = src.net;
    this.latentNames = src.names;
    this.terms = this.build(constantSamples);
  }

  /**
   * The model net built with the observations and q's samples (ZhuSuan's
   * `objective.bn`): its deterministic nodes give predictions under q's
   * samples, e.g. `lb.bn.get('y_mean')`.
   */
  get bn(): BayesianNet {
    return this.terms.bn;
  }

  private build(constantSamples: boolean): LogTerms {
    const mark = tensorIdMark();
    const t = buildTerms(this.fn, this.model, this.observed, this.src, constantSamples);
    for (const x of [t.logP, t.logQ, ...t.held]) {
      if (x.id > mark && !(x instanceof tf.Variable)) this.owned.push(x);
    }
    return t;
  }

  /** {@link checkAxis} for this objective, freeing what it holds before a bad `axis` throws. */
  protected validAxis(axis: number | undefined, rank: number): number | undefined {
    try {
      return checkAxis(this.fn, axis, rank);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Registers a tensor the objective made, for {@link dispose}; returns it. */
  protected own<T extends tf.Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  /**
   * The terms with q's samples as constants, for score-function estimators:
   * the gradient reaches q's parameters only through log q's density, and
   * the model's only through log p at fixed samples. These are the terms
   * already built when they were built that way or when every latent node of
   * q is not reparameterised (its samples carry no gradient); otherwise the
   * model is built a second time (once per objective). A hierarchical q
   * whose latent nodes' distributions depend on other reparameterised latent
   * samples still passes gradient through them: build it with
   * `isReparameterized: false`.
   */
  protected scoreTerms(): LogTerms {
    const net = this.src.net;
    const constant =
      this.constantSamples ||
      (net !== undefined && this.src.names.every((n) => !net.node(n).dist.isReparameterized));
    if (constant) return this.terms;
    this.scoreTermsCache ??= this.build(true);
    return this.scoreTermsCache;
  }

  /**
   * Throws, naming the node, when a latent node of q is not reparameterised:
   * a pathwise (SGVB) gradient would miss how q's parameters move its
   * samples. `instead` names the score-function estimator to use.
   */
  protected requireReparameterized(estimator: string, instead: string): void {
    const net = this.src.net;
    if (net === undefined) return;
    for (const name of this.src.names) {
      const dist = net.node(name).dist;
      if (!dist.isReparameterized) {
        throw new Error(
          `${estimator}: latent '${name}' of the variational net (${dist.name}) is not ` +
            'reparameterised: its samples carry no gradient, so the pathwise (SGVB) gradient ' +
            `would miss how q's parameters move them; use ${instead} (a score-function ` +
            'estimator), or a reparameterised q',
        );
      }
    }
  }

  /**
   * Frees the tensors the objective made: the log densities and the model
   * net's node values and parameters created while building it. The
   * observations, q's tensors and variables are left alone.
   */
  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}

/** Checks `axis` against a tensor's rank; returns it non-negative. */
export function checkAxis(fn: string, axis: number | undefined, rank: number): number | undefined {
  if (axis === undefined) return undefined;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${fn}: \`axis\` ${axis} is out of range for log-weights of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
