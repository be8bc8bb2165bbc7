/**
 * Annealed importance sampling estimates of log p(x) (Neal, 2001); port of
 * zhusuan/evaluation.py AIS, with HMC ({@link HMC}) as the transition at
 * each temperature.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BayesianNet, type Observed } from '../framework/bn.js';
import { HMC, type LatentVariables } from '../mcmc/hmc.js';
import { targetLogDensity, type McmcTarget } from '../mcmc/target.js';
import { proposalNet, type Proposal } from './proposal.js';

/** A schedule of inverse temperatures β: a named kind, or the values β_0 = 0 < … < β_T = 1. */
export type AisSchedule = 'sigmoid' | 'linear' | number[];

/**
 * The inverse temperatures β_0 = 0, β_1, …, β_T = 1 of an annealing schedule.
 *
 * 'sigmoid' (ZhuSuan's and Wu et al. 2017's schedule) spaces the β by a
 * logistic curve, β_t ∝ σ(4(2t/T − 1)) rescaled to run from 0 to 1, so the
 * temperatures are denser at both ends; 'linear' is β_t = t/T.
 * @example
 * zs.aisSchedule(4, 'linear'); // [0, 0.25, 0.5, 0.75, 1]
 */
export function aisSchedule(
  nTemperatures: number,
  kind: 'sigmoid' | 'linear' = 'sigmoid',
): number[] {
  if (!Number.isInteger(nTemperatures) || nTemperatures < 1) {
    throw new Error(
      `aisSchedule: \`nTemperatures\` must be a positive integer, got ${nTemperatures}`,
    );
  }
  const T = nTemperatures;
  if (kind === 'linear') return Array.from({ length: T + 1 }, (_, t) => t / T);
  if (kind !== 'sigmoid') {
    throw new Error(`aisSchedule: \`kind\` must be 'sigmoid' or 'linear', got '${String(kind)}'`);
  }
  const s = (t: number): number => 1 / (1 + Math.exp(-4 * ((2 * t) / T - 1)));
  const lo = s(0);
  const hi = s(T);
  return Array.from({ length: T + 1 }, (_, t) => (t === T ? 1 : (s(t) - lo) / (hi - lo)));
}

/** Options of {@link ais}. */
export interface AisOptions {
  /**
   * The proposal q(z) (e.g. the prior, or a variational net), taken as
   * {@link isLoglikelihood} takes it. A meta net or a function of the
   * observations is built with the observations to draw the chains' starting
   * points, and with the latent values added to score them (`localLogProb`
   * of the latent nodes: other nodes it may have are not part of q(z)). A
   * built net's samples start the chains and each latent node's own
   * distribution scores them and draws afresh, so its latent nodes must not
   * depend on one another (for a hierarchical q pass a meta net or function).
   */
  proposal: Proposal;
  /**
   * The target model p(x, z), in the one-object form `ais({ model, proposal,
   * observed, hmc })` only (the positional form takes it first): a meta net,
   * a function of the values returning a net, or a function returning the
   * per-chain log joint density.
   */
  model?: McmcTarget;
  /** Values of the observed nodes of the model, in the one-object form only. */
  observed?: Observed;
  /** Names of the latent nodes. Default: the proposal's unobserved stochastic nodes. */
  latent?: string[];
  /**
   * The transition at each temperature. If it adapts its step size, it keeps
   * adapting through the annealing, as in ZhuSuan (each transition then
   * depends on the chains' past, a small departure from exact AIS; pass an
   * HMC with a fixed step size for the exact algorithm). Use a fresh HMC per
   * run: it keeps the chain shape of its first step and its adaptation state.
   */
  hmc: HMC;
  /** Number of annealing steps T (ignored when `schedule` is an array). Default 100. */
  nTemperatures?: number;
  /** The schedule of β. Default 'sigmoid'. */
  schedule?: AisSchedule;
  /**
   * HMC iterations at β_1 before annealing, to adapt the step size; the
   * chains then restart from fresh proposal draws. Default 30 when the HMC
   * adapts its step size (ZhuSuan's default), else 0.
   */
  nAdapt?: number;
}

/** What {@link ais} returns. The tensors are the caller's to dispose. */
export interface AisResult {
  /**
   * The log importance weights, one per chain: the chain shape S, whose
   * first axis indexes the importance samples (further axes, e.g. data
   * points, are kept).
   */
  logWeights: tf.Tensor;
  /**
   * The estimate of log p(x): log-mean-exp of the weights over the first
   * chain axis, shape S without it (a scalar for S = [K]). A stochastic lower
   * bound in expectation (Jensen), consistent as the chains grow.
   */
  logLikelihood: tf.Tensor;
  /** The chains' final states: weighted samples from the posterior. */
  samples: Record<string, tf.Tensor>;
  /** Mean HMC acceptance rate over the annealing transitions (NaN when T = 1: none). */
  acceptanceRate: number;
}

function checkSchedule(beta: number[]): number[] {
  const ok =
    beta.length >= 2 &&
    beta[0] === 0 &&
    beta[beta.length - 1] === 1 &&
    beta.every((b, i) => Number.isFinite(b) && (i === 0 || b >= beta[i - 1]));
  if (!ok) {
    throw new Error(
      'ais: a `schedule` array must be non-decreasing from 0 to 1 with at least two values, ' +
        `got [${beta.slice(0, 6).join(', ')}${beta.length > 6 ? ', …' : ''}]`,
    );
  }
  return beta.slice();
}

/**
 * Annealed importance sampling (Neal, 2001): starting from K draws of the
 * proposal q(z), moves every chain through the intermediate densities
 * f_t(z) = (1 − β_t) log q(z) + β_t log p(x, z) with one HMC transition at
 * each β_t, accumulating the log weight Σ_t (β_t − β_{t−1})·(log p(x, z_{t−1})
 * − log q(z_{t−1})). Then (1/K) Σ_k exp(log w_k) is an unbiased estimate of
 * p(x), and its log an estimate of log p(x) that is low only by Jensen's gap.
 * The weights are accumulated in float64. The model's own log joint (a meta
 * net's `logJoint`) is the target where one is set.
 *
 * Chains: the proposal's draws have shape `[K, ...]`; the log densities have
 * the chain shape S (e.g. `[K]`, or `[K, nData]` for one estimate per data
 * point), the first axis indexing the importance samples.
 * @example
 * // z ~ N(0, 1), x_i | z ~ N(z, 1); K = 100 chains of one scalar z each.
 * const prior = zs.metaBayesianNet((bn) => bn.normal('z', tf.zeros([100]), { std: 1 }));
 * const model = zs.metaBayesianNet((bn) => {
 *   const z = bn.normal('z', tf.zeros([100]), { std: 1 });
 *   bn.normal('x', tf.tile(tf.expandDims(z, 1), [1, 3]), { std: 1, groupNdims: 1 });
 * });
 * const hmc = new zs.HMC({ stepSize: 0.2, nLeapfrogs: 5, adaptStepSize: true });
 * const res = zs.ais(model, { x }, { proposal: prior, hmc, nTemperatures: 200 });
 * res.logLikelihood.print(); // ≈ log p(x)
 * hmc.dispose();
 */
export function ais(model: McmcTarget, observed: Observed, opts: AisOptions): AisResult;
/** The one-object form: `ais({ model, proposal, observed, hmc, ... })`. */
export function ais(opts: AisOptions & { model: McmcTarget; observed: Observed }): AisResult;
export function ais(
  ...args: [McmcTarget, Observed, AisOptions] | [AisOptions & { model: McmcTarget }]
): AisResult {
  let maybeModel: McmcTarget | undefined;
  let observed: Observed;
  let opts: AisOptions;
  if (args.length === 1) {
    opts = args[0] ?? ({} as AisOptions);
    maybeModel = opts.model;
    observed = opts.observed ?? {};
  } else {
    [maybeModel, observed, opts] = args;
    observed ??= {};
    opts ??= {} as AisOptions;
    if (opts.model !== undefined || opts.observed !== undefined) {
      throw new Error(
        'ais: give `model` and `observed` either as the first two arguments or in the options, not both',
      );
    }
  }
  const { proposal, hmc } = opts;
  if (maybeModel === undefined) throw new Error('ais: `model` is required');
  const model = maybeModel;
  if (proposal === undefined) throw new Error('ais: `proposal` is required');
  if (!(hmc instanceof HMC)) throw new Error('ais: `hmc` must be an HMC instance');
  const beta =
    opts.schedule !== undefined && Array.isArray(opts.schedule)
      ? checkSchedule(opts.schedule)
      : aisSchedule(opts.nTemperatures ?? 100, opts.schedule ?? 'sigmoid');
  const T = beta.length - 1;
  const nAdapt = opts.nAdapt ?? (hmc.adaptStepSize ? 30 : 0);
  if (!Number.isInteger(nAdapt) || nAdapt < 0) {
    throw new Error(`ais: \`nAdapt\` must be a non-negative integer, got ${nAdapt}`);
  }
  const built = proposal instanceof BayesianNet ? proposal : undefined;

  // Draw the chains' starting points (a built proposal's own samples first,
  // fresh draws of its nodes after that) and name the latents.
  let fromBuilt = built !== undefined;
  const draw = (names: string[] | undefined): { names: string[]; values: tf.Tensor[] } =>
    tf.tidy(() => {
      const q = built ?? proposalNet('ais', proposal, observed);
      const ns = names ?? q.stochasticNames.filter((n) => !(n in observed));
      if (ns.length === 0) {
        throw new Error('ais: the proposal has no latent (unobserved) stochastic nodes');
      }
      for (const n of ns) {
        if (!q.stochasticNames.includes(n)) {
          throw new Error(`ais: latent '${n}' is not a stochastic node of the proposal`);
        }
        if (n in observed) throw new Error(`ais: '${n}' is both observed and latent`);
      }
      const value = (n: string): tf.Tensor => {
        if (built === undefined || fromBuilt) return q.get(n);
        const node = built.node(n);
        return node.dist.sample(node.nSamples);
      };
      const values = ns.map((n) => tf.cast(value(n), 'float32'));
      fromBuilt = false;
      return { names: ns, values };
    });
  const first = draw(opts.latent);
  const names = first.names;
  const latent: LatentVariables = {};
  names.forEach((n, i) => (latent[n] = tf.variable(first.values[i], false)));
  first.values.forEach((t) => t.dispose());

  // log q(z) at `values`: the proposal rebuilt there, or a built one's node densities.
  const proposalLogProb = (values: Observed): tf.Tensor =>
    built === undefined
      ? proposalNet('ais', proposal, values).localLogProb(names)
      : names.map((n) => built.node(n).dist.logProb(values[n])).reduce((a, c) => tf.add(a, c));
  // log p(x, z) and log q(z) at `values`, checked to share one shape.
  const logTerms = (values: Observed): { logP: tf.Tensor; logQ: tf.Tensor } => {
    const logP = targetLogDensity('ais', model, values, names);
    const logQ = proposalLogProb(values);
    if (logP.shape.length !== logQ.shape.length || logP.shape.some((d, i) => d !== logQ.shape[i])) {
      throw new Error(
        `ais: log p(x, z) has shape [${logP.shape}] but log q(z) has shape [${logQ.shape}]; ` +
          'both must have the chain shape',
      );
    }
    if (logP.rank === 0) {
      throw new Error(
        'ais: the log densities are scalars; the chains need a leading importance-sample axis',
      );
    }
    return { logP, logQ };
  };
  let b = beta[1];
  const tempered = (values: Observed): tf.Tensor => {
    const { logP, logQ } = logTerms(values);
    return tf.add(tf.mul(logQ, 1 - b), tf.mul(logP, b));
  };

  try {
    if (nAdapt > 0) {
      for (let i = 0; i < nAdapt; i++) hmc.step(tempered, observed, latent);
      const fresh = draw(names);
      names.forEach((n, i) => latent[n].assign(fresh.values[i]));
      fresh.values.forEach((t) => t.dispose());
    }
    let logW: Float64Array | null = null;
    let shape: number[] = [];
    let accSum = 0;
    for (let t = 1; t <= T; t++) {
      const diff = tf.tidy(() => {
        const { logP, logQ } = logTerms({ ...observed, ...latent });
        return { d: tf.sub(logP, logQ).dataSync(), shape: logP.shape };
      });
      if (logW === null) {
        logW = new Float64Array(diff.d.length);
        shape = diff.shape;
      }
      const db = beta[t] - beta[t - 1];
      for (let c = 0; c < logW.length; c++) logW[c] += db * diff.d[c];
      if (t < T) {
        b = beta[t];
        accSum += hmc.step(tempered, observed, latent).acceptanceRate;
      }
    }
    const w = logW!;
    // log-mean-exp over the first axis, in float64.
    const k = shape[0];
    const inner = w.length / k;
    const est = new Float64Array(inner);
    for (let j = 0; j < inner; j++) {
      let m = -Infinity;
      for (let i = 0; i < k; i++) m = Math.max(m, w[i * inner + j]);
      let s = 0;
      if (Number.isFinite(m)) for (let i = 0; i < k; i++) s += Math.exp(w[i * inner + j] - m);
      est[j] = Number.isFinite(m) ? m + Math.log(s / k) : m;
    }
    const samples: Record<string, tf.Tensor> = {};
    for (const n of names) samples[n] = tf.clone(latent[n]);
    return {
      logWeights: tf.tensor(Float32Array.from(w), shape),
      logLikelihood: tf.tensor(Float32Array.from(est), shape.slice(1)),
      samples,
      acceptanceRate: T > 1 ? accSum / (T - 1) : NaN,
    };
  } finally {
    for (const n of names) latent[n].dispose();
  }
}
