/**
 * Stochastic-gradient MCMC (port of zhusuan/sgmcmc.py): SGLD, PSGLD, SGHMC
 * and SGNHT. The chain's state lives in `tf.Variable`s that each
 * {@link SGMCMC.step} updates in place, from the gradient of the log joint
 * density (or of a log-density function) at the current state. There is no
 * Metropolis correction: with a finite learning rate the chains sample a
 * slightly biased distribution, a bias that shrinks with the learning rate.
 *
 * Mini-batches: the samplers use whatever gradient the target gives. With a
 * mini-batch of m of N data points, scale the log-likelihood by N / m yourself
 * so that the gradient is an unbiased estimate of the full one (ZhuSuan's
 * examples do the same); see {@link McmcTarget}.
 *
 * Chains: a latent variable may carry leading chain axes (`[nChains, ...]`);
 * the samplers take the gradient of the *summed* log density, so independent
 * chains whose log densities add up run side by side in one variable.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MetaBayesianNet, Observed } from '../framework/bn.js';
import { assertInteger, assertNonNegative, assertPositive } from '../checks.js';
import { fusedSgmcmcUpdate, seededNormal } from '../kernels.js';
import { nextSeed } from '../random.js';
import { sameShape, targetLogDensity, valueAndGrads, type McmcTarget } from './target.js';

/** What every sampler's {@link SGMCMC.step} reports. */
export interface SgmcmcInfo {
  /**
   * The summed log density at the point where this step's gradient was
   * taken: the state before the step (SGLD, PSGLD, first-order SGHMC/SGNHT)
   * or the half-step position `q + v/2` (second-order SGHMC/SGNHT).
   */
  logProb: number;
}

/** What {@link SGHMC.step} reports. */
export interface SghmcInfo extends SgmcmcInfo {
  /**
   * Per latent: the mean over elements of the squared updated momentum,
   * mean(v²) (ZhuSuan's `mean_k`). At equilibrium it hovers around the
   * learning rate (v is the momentum times the step size √η).
   */
  meanK: Record<string, number>;
}

/** What {@link SGNHT.step} reports. */
export interface SgnhtInfo extends SghmcInfo {
  /** Per latent: the mean over elements of the updated friction (thermostat) α. */
  alpha: Record<string, number>;
}

/** The gradient of the summed log density at `at` (one tensor per latent, in order). */
type GradFn = (at: tf.Tensor[]) => { logProb: tf.Tensor; grads: tf.Tensor[] };

/** A sampler's per-latent state: named variables. */
type Slots = Record<string, tf.Variable>;

/** The result of one update, before anything is assigned. */
interface Proposal {
  /** The summed log density where the gradient was taken (a scalar). */
  logProb: tf.Tensor;
  /** New latent values, in latent order. */
  q: tf.Tensor[];
  /** New values of each latent's state variables (same keys as its slots). */
  slots: Record<string, tf.Tensor>[];
  /**
   * What the step reads back after the log density, latent by latent: the
   * latent's finiteness flag (1 when every element of its new value is
   * finite, else 0), then its stats for {@link SGMCMC.makeInfo}, the same
   * number for every latent; as scalars or 1-D tensors, concatenated in order.
   */
  checks: tf.Tensor[];
}

/** A latent's part of {@link Proposal.checks} composed from tfjs ops: its finiteness flag, then `stats`. */
function checksOf(q: tf.Tensor, stats: tf.Tensor[] = []): tf.Tensor[] {
  return [tf.cast(tf.all(tf.isFinite(q)), 'float32'), ...stats];
}

/**
 * Base class of the stochastic-gradient MCMC samplers (ZhuSuan's `SGMCMC`).
 * A sampler holds its hyperparameters and, per latent name, the state of its
 * dynamics (momenta, RMS averages, thermostats), created on the first step
 * that sees the name; {@link dispose} frees that state.
 *
 * Each {@link step} builds the target at the current latent values, takes the
 * gradient of its summed log density with respect to them and assigns the
 * new values to the latent variables. Reading the result back (the log
 * density, finiteness checks) is the step's one synchronisation.
 * @example
 * const z = tf.variable(tf.zeros([100, 2]));      // 100 chains of a 2-D latent
 * const sampler = new zs.SGLD({ learningRate: 0.01 });
 * for (let i = 0; i < 1000; i++) {
 *   const { logProb } = sampler.step(model, { x }, { z });
 *   if (i >= 500) keep(z.arraySync());
 * }
 * sampler.dispose();
 */
export abstract class SGMCMC<I extends SgmcmcInfo = SgmcmcInfo> {
  /** Name used in error messages, e.g. 'SGLD'. */
  readonly name: string;
  private lr: number;
  private t = 0;
  /** Per latent name: the shape its state was made for, and the state. */
  private readonly state = new Map<string, { shape: number[]; slots: Slots }>();

  protected constructor(name: string, learningRate: number) {
    this.name = name;
    assertPositive(name, 'learningRate', learningRate, { finite: true });
    this.lr = learningRate;
  }

  /**
   * The learning rate (see each sampler for its meaning). It may be changed
   * between steps, e.g. to decay it; it must stay finite and positive.
   */
  get learningRate(): number {
    return this.lr;
  }

  /** Sets the learning rate for the next steps (finite and positive). */
  set learningRate(value: number) {
    assertPositive(this.name, 'learningRate', value, { finite: true });
    this.lr = value;
  }

  /** Number of steps taken since construction or the last {@link dispose}. */
  get iteration(): number {
    return this.t;
  }

  /**
   * Runs one iteration: updates every variable in `latent` in place.
   * @param target the model or log density to sample from (see {@link McmcTarget}).
   * @param observed the observations (name → tensor); may be empty for a
   *   log-density function that needs none. Pass a new mini-batch each step
   *   for stochastic gradients.
   * @param latent the chain's state: name → float32 `tf.Variable`. For a
   *   model, each name must be a stochastic node of it.
   * @returns statistics of the step (numbers; nothing to dispose).
   */
  step(target: McmcTarget, observed: Observed, latent: Record<string, tf.Variable>): I {
    const where = `${this.name}.step`;
    if (
      typeof target !== 'function' &&
      (target === null ||
        typeof target !== 'object' ||
        typeof (target as MetaBayesianNet<[]>).observe !== 'function')
    ) {
      throw new Error(
        `${where}: \`target\` must be a MetaBayesianNet or a function of the observed values`,
      );
    }
    if (observed === null || typeof observed !== 'object') {
      throw new Error(`${where}: \`observed\` must be an object of tensors`);
    }
    for (const [name, value] of Object.entries(observed)) {
      if (!(value instanceof tf.Tensor)) {
        throw new Error(`${where}: observed '${name}' must be a tf.Tensor`);
      }
    }
    if (latent === null || typeof latent !== 'object') {
      throw new Error(`${where}: \`latent\` must be an object of tf.Variables`);
    }
    const names = Object.keys(latent);
    if (names.length === 0) {
      throw new Error(`${where}: \`latent\` is empty: give at least one variable to sample`);
    }
    for (const name of names) {
      const v = latent[name];
      if (!(v instanceof tf.Variable)) {
        throw new Error(`${where}: latent '${name}' must be a tf.Variable`);
      }
      if (v.dtype !== 'float32') {
        throw new Error(`${where}: latent '${name}' must be float32, got ${v.dtype}`);
      }
      if (name in observed) {
        throw new Error(`${where}: '${name}' is both observed and latent`);
      }
      const known = this.state.get(name);
      if (
        known !== undefined &&
        Object.keys(known.slots).length > 0 &&
        !sameShape(known.shape, v.shape)
      ) {
        throw new Error(
          `${where}: latent '${name}' has shape [${v.shape}] but the sampler's state for it ` +
            `was made for shape [${known.shape}]; call dispose() to reset the sampler`,
        );
      }
    }
    const qs = names.map((n) => latent[n]);
    const slots = names.map((n, i) => this.slotsFor(n, qs[i]));
    const grad = makeGrad(where, target, observed, names);

    const { readback, q, next } = tf.tidy(() => {
      const p = this.propose(qs, slots, grad, this.t);
      const parts = [p.logProb, ...p.checks].map((s) => (s.rank === 0 ? tf.reshape(s, [1]) : s));
      return { readback: tf.concat(parts), q: p.q, next: p.slots };
    });
    const values = readback.dataSync();
    readback.dispose();
    const discard = (): void => {
      tf.dispose(q);
      for (const s of next) tf.dispose(Object.values(s));
    };
    if (!Number.isFinite(values[0])) {
      discard();
      throw new Error(
        `${where}: the log density is not finite (${values[0]}) at the point where the ` +
          'gradient was taken; the latent variables were left unchanged',
      );
    }
    // Per latent: its finiteness flag, then its stats.
    const per = (values.length - 1) / names.length;
    for (let i = 0; i < names.length; i++) {
      if (values[1 + i * per] !== 1) {
        discard();
        throw new Error(
          `${where}: the update of latent '${names[i]}' is not finite (the gradient ` +
            `overflowed or \`learningRate\` ${this.lr} is too large); the latent variables ` +
            'were left unchanged',
        );
      }
    }
    for (let i = 0; i < names.length; i++) {
      qs[i].assign(q[i]);
      for (const [k, value] of Object.entries(next[i])) slots[i][k].assign(value);
    }
    discard();
    this.t++;
    const stats = names.map((_, i) => Array.from(values.subarray(2 + i * per, 1 + (i + 1) * per)));
    return this.makeInfo(names, values[0], stats);
  }

  /** Frees the per-latent state and resets the step count; the sampler stays usable. */
  dispose(): void {
    for (const { slots } of this.state.values()) tf.dispose(Object.values(slots));
    this.state.clear();
    this.t = 0;
  }

  /** The state variables of latent `name`, created from `q` on first use. */
  private slotsFor(name: string, q: tf.Tensor): Slots {
    const known = this.state.get(name);
    if (known !== undefined) return known.slots;
    const init = tf.tidy(() => this.createSlots(q));
    const slots: Slots = {};
    for (const [k, value] of Object.entries(init)) {
      slots[k] = tf.variable(value, false);
      value.dispose();
    }
    this.state.set(name, { shape: q.shape.slice(), slots });
    return slots;
  }

  /** Initial values of a latent's state variables (called inside a tidy). */
  protected abstract createSlots(q: tf.Tensor): Record<string, tf.Tensor>;

  /**
   * One update, computed without assigning anything (called inside a tidy).
   * @param t the number of steps taken before this one.
   */
  protected abstract propose(qs: tf.Tensor[], slots: Slots[], grad: GradFn, t: number): Proposal;

  /** The step's info from the log density and each latent's stats, read back. */
  protected abstract makeInfo(names: string[], logProb: number, stats: number[][]): I;
}

/**
 * The gradient function of `target`: builds it at the latent values `at`
 * (merged with `observed`) and differentiates its summed log density.
 */
function makeGrad(where: string, target: McmcTarget, observed: Observed, names: string[]): GradFn {
  const logDensity = (at: tf.Tensor[]): tf.Tensor => {
    const values: Observed = { ...observed };
    names.forEach((n, i) => (values[n] = at[i]));
    // Unobserved nodes other than the latents are drawn afresh each step, as in ZhuSuan.
    return targetLogDensity(where, target, values, names, true);
  };
  return (at) => {
    // The gradient of the sum is the gradient with dy = 1 everywhere: the sum
    // is taken off the tape (one kernel rather than a taped Sum, its saved
    // input and its gradient's Reshape and Multiply).
    const { value: perChain, grads } = valueAndGrads(where, logDensity, at);
    const value = tf.sum(perChain);
    const checked = grads.map((g, i) => {
      if (g == null) {
        throw new Error(
          `${where}: the log density does not depend on latent '${names[i]}' (no gradient)`,
        );
      }
      return g;
    });
    return { logProb: value, grads: checked };
  };
}

/** Options of {@link SGLD}. */
export interface SGLDOptions {
  /**
   * The step size ε of the Langevin update: the drift is ε/2 times the
   * gradient and the injected noise has variance ε. Finite and positive.
   */
  learningRate: number;
}

/**
 * Stochastic gradient Langevin dynamics (Welling & Teh, 2011, eq. 3):
 * `q ← q + ε/2 · ∇log p(q) + N(0, ε)`.
 *
 * On a Gaussian target of variance s² (exact gradients) the chain's
 * stationary variance is s² / (1 − ε/(4s²)): keep ε well below s² for the
 * smallest posterior scale.
 * @example
 * const sampler = new zs.SGLD({ learningRate: 1e-3 });
 * sampler.step(model, { x: batch }, { w });
 */
export class SGLD extends SGMCMC<SgmcmcInfo> {
  constructor(opts: SGLDOptions) {
    super('SGLD', opts?.learningRate);
  }

  protected createSlots(): Record<string, tf.Tensor> {
    return {};
  }

  protected propose(qs: tf.Tensor[], _slots: Slots[], grad: GradFn): Proposal {
    const lr = this.learningRate;
    const { logProb, grads } = grad(qs);
    const q: tf.Tensor[] = [];
    const checks: tf.Tensor[] = [];
    qs.forEach((x, i) => {
      const noise = seededNormal(x.shape, nextSeed(), 0, Math.sqrt(lr));
      const inputs = { q: x, grad: grads[i], noise };
      const fused = fusedSgmcmcUpdate('sgld', inputs, { gradScale: 0.5 * lr });
      if (fused !== null) {
        q.push(fused[0]);
        checks.push(fused[1]);
        return;
      }
      const next = tf.add(tf.add(x, tf.mul(grads[i], 0.5 * lr)), noise);
      q.push(next);
      checks.push(...checksOf(next));
    });
    return { logProb, q, slots: qs.map(() => ({})), checks };
  }

  protected makeInfo(_names: string[], logProb: number): SgmcmcInfo {
    return { logProb };
  }
}

/** Options of {@link PSGLD}. */
export interface PSGLDOptions {
  /** The step size ε, as in {@link SGLD} before preconditioning. Finite and positive. */
  learningRate: number;
  /**
   * Decay ρ of the running average of squared gradients, V ← ρV + (1−ρ)g²,
   * in [0, 1). Default 0.9.
   */
  decay?: number;
  /**
   * λ in the preconditioner G = 1 / (λ + √V), keeping it bounded where V is
   * small. Finite and positive; default 1e-5 (ZhuSuan's default is 1e-3).
   */
  epsilon?: number;
}

/**
 * Preconditioned SGLD with the RMSprop preconditioner (Li et al., 2016,
 * eqs. 4–5): per element, `V ← ρV + (1−ρ)g²`, `G = 1/(λ + √V)`,
 * `q ← q + ε/2 · G·g + N(0, εG)`. The state V starts at zero.
 *
 * Like ZhuSuan (and the paper's practical algorithm), the update omits the
 * Γ(θ) correction term of a position-dependent preconditioner. That is
 * harmless when V averages gradient noise over many steps, but with exact or
 * low-noise gradients and a short memory (ρ = 0.9 remembers ~10 steps) V
 * tracks the current position and the samples are visibly biased: on a 2-D
 * Gaussian target with exact gradients, ρ = 0.9 inflated the variance by
 * 55–85% (learning rates 0.05–0.01) in simulation. There, use ρ close to 1
 * (e.g. 0.999, with a burn-in of several 1/(1−ρ) steps) and a learning rate
 * that mixes within the memory (+3–5% variance bias in the same setting).
 * @example
 * const sampler = new zs.PSGLD({ learningRate: 1e-3, decay: 0.99 });
 */
export class PSGLD extends SGMCMC<SgmcmcInfo> {
  /** Decay ρ of the squared-gradient average. */
  readonly decay: number;
  /** λ in G = 1 / (λ + √V). */
  readonly epsilon: number;

  constructor(opts: PSGLDOptions) {
    super('PSGLD', opts?.learningRate);
    const { decay = 0.9, epsilon = 1e-5 } = opts;
    if (typeof decay !== 'number' || !(decay >= 0 && decay < 1)) {
      throw new Error(`PSGLD: \`decay\` must lie in [0, 1), got ${decay}`);
    }
    assertPositive('PSGLD', 'epsilon', epsilon, { finite: true });
    this.decay = decay;
    this.epsilon = epsilon;
  }

  protected createSlots(q: tf.Tensor): Record<string, tf.Tensor> {
    return { v: tf.zerosLike(q) };
  }

  protected propose(qs: tf.Tensor[], slots: Slots[], grad: GradFn): Proposal {
    const lr = this.learningRate;
    const { logProb, grads } = grad(qs);
    const next: Record<string, tf.Tensor>[] = [];
    const checks: tf.Tensor[] = [];
    const q = qs.map((x, i) => {
      const g = grads[i];
      const z = seededNormal(x.shape, nextSeed());
      const fused = fusedSgmcmcUpdate(
        'psgld',
        { q: x, grad: g, noise: z, v: slots[i].v },
        {
          decay: this.decay,
          oneMinusDecay: 1 - this.decay,
          epsilon: this.epsilon,
          learningRate: lr,
          gradScale: 0.5 * lr,
        },
      );
      if (fused !== null) {
        next.push({ v: fused[1] });
        checks.push(fused[2]);
        return fused[0];
      }
      const v = tf.add(tf.mul(slots[i].v, this.decay), tf.mul(tf.square(g), 1 - this.decay));
      next.push({ v });
      const precond = tf.reciprocal(tf.add(tf.sqrt(v), this.epsilon));
      const noise = tf.mul(z, tf.sqrt(tf.mul(precond, lr)));
      const qNext = tf.add(tf.add(x, tf.mul(tf.mul(precond, g), 0.5 * lr)), noise);
      checks.push(...checksOf(qNext));
      return qNext;
    });
    return { logProb, q, slots: next, checks };
  }

  protected makeInfo(_names: string[], logProb: number): SgmcmcInfo {
    return { logProb };
  }
}

/** Options of {@link SGHMC}. */
export interface SGHMCOptions {
  /**
   * η in Chen et al.'s eq. 15, the squared step size (η = O(ε²)): it scales
   * the gradient in the momentum update and the momentum's variance. It does
   * not scale like SGLD's learning rate. Finite and positive; lower it if the
   * chain diverges.
   */
  learningRate: number;
  /**
   * α in eq. 15: per step the momentum decays by the factor 1 − α (first
   * order) or e^−α (second order) and noise of variance 2(α − β)η is added.
   * Larger friction damps the effect of gradient noise but mixes more
   * slowly. Finite and positive; default 0.25.
   */
  friction?: number;
  /**
   * β in eq. 15, an estimate of the gradient noise's contribution (η/2
   * times its variance), subtracted from the injected noise. Must be ≥ 0 and
   * below `friction`; 0 (the default) when it is hard to estimate.
   */
  varianceEstimate?: number;
  /**
   * Resample the momentum from N(0, η) every this many steps; 0 never.
   * Default 20. The momentum is also drawn from N(0, η) when first created.
   */
  nIterResampleV?: number;
  /**
   * Use the second-order (symmetric splitting) integrator of Chen et al.
   * (2015) rather than the first-order one. Default true.
   */
  secondOrder?: boolean;
}

/** The momentum before this step's update: resampled from N(0, η) every n steps. */
function oldMomentum(v: tf.Tensor, t: number, every: number, lr: number): tf.Tensor {
  return every > 0 && t > 0 && t % every === 0
    ? seededNormal(v.shape, nextSeed(), 0, Math.sqrt(lr))
    : v;
}

/**
 * Stochastic gradient Hamiltonian Monte Carlo (Chen et al., 2014, eq. 15),
 * in ZhuSuan's form with v = step size × momentum:
 * first order, `v ← (1−α)v + η∇log p(q) + N(0, 2(α−β)η)`, `q ← q + v`;
 * second order (Chen et al., 2015), `q½ = q + v/2`,
 * `v ← e^−α/2 (e^−α/2 v + η∇log p(q½) + N(0, 2(α−β)η))`, `q ← q½ + v/2`.
 * The momenta are per-latent state, created from N(0, η).
 * @example
 * const sampler = new zs.SGHMC({ learningRate: 1e-4, friction: 0.2, nIterResampleV: 100 });
 * const { meanK } = sampler.step(model, { x: batch }, { w });
 */
export class SGHMC extends SGMCMC<SghmcInfo> {
  /** α, the friction. */
  readonly friction: number;
  /** β, the gradient-noise estimate. */
  readonly varianceEstimate: number;
  /** Steps between momentum resamplings (0: never). */
  readonly nIterResampleV: number;
  /** Whether the second-order integrator is used. */
  readonly secondOrder: boolean;

  constructor(opts: SGHMCOptions) {
    super('SGHMC', opts?.learningRate);
    const { friction = 0.25, varianceEstimate = 0, nIterResampleV = 20, secondOrder = true } = opts;
    assertPositive('SGHMC', 'friction', friction, { finite: true });
    assertNonNegative('SGHMC', 'varianceEstimate', varianceEstimate, { finite: true });
    if (varianceEstimate >= friction) {
      throw new Error(
        `SGHMC: \`varianceEstimate\` (${varianceEstimate}) must be smaller than ` +
          `\`friction\` (${friction})`,
      );
    }
    assertInteger('SGHMC', 'nIterResampleV', nIterResampleV, 'non-negative');
    this.friction = friction;
    this.varianceEstimate = varianceEstimate;
    this.nIterResampleV = nIterResampleV;
    this.secondOrder = secondOrder;
  }

  protected createSlots(q: tf.Tensor): Record<string, tf.Tensor> {
    return { v: seededNormal(q.shape, nextSeed(), 0, Math.sqrt(this.learningRate)) };
  }

  protected propose(qs: tf.Tensor[], slots: Slots[], grad: GradFn, t: number): Proposal {
    const lr = this.learningRate;
    const alpha = this.friction;
    const oldV = slots.map((s) => oldMomentum(s.v, t, this.nIterResampleV, lr));
    const noiseStd = Math.sqrt(2 * (alpha - this.varianceEstimate) * lr);
    const noise = qs.map((x) => seededNormal(x.shape, nextSeed(), 0, noiseStd));
    // The momentum's factor: 1 − α (first order) or e^−α/2 (second, twice).
    const m = this.secondOrder ? Math.exp(-0.5 * alpha) : 1 - alpha;
    // The gradient is taken at q (first order) or at q + v/2 (second order).
    const at = this.secondOrder ? qs.map((x, i) => tf.add(x, tf.mul(oldV[i], 0.5))) : qs;
    const { logProb, grads } = grad(at);
    const q: tf.Tensor[] = [];
    const newV: tf.Tensor[] = [];
    const checks: tf.Tensor[] = [];
    at.forEach((x, i) => {
      const fused = fusedSgmcmcUpdate(
        'sghmc',
        { q: x, grad: grads[i], noise: noise[i], v: oldV[i] },
        { secondOrder: this.secondOrder, momentumScale: m, learningRate: lr },
      );
      if (fused !== null) {
        q.push(fused[0]);
        newV.push(fused[1]);
        checks.push(fused[2]);
        return;
      }
      const v = tf.add(tf.add(tf.mul(oldV[i], m), tf.mul(grads[i], lr)), noise[i]);
      const v1 = this.secondOrder ? tf.mul(v, m) : v;
      const qNext = this.secondOrder ? tf.add(x, tf.mul(v1, 0.5)) : tf.add(x, v1);
      q.push(qNext);
      newV.push(v1);
      checks.push(...checksOf(qNext, [tf.mean(tf.square(v1))]));
    });
    return { logProb, q, slots: newV.map((v) => ({ v })), checks };
  }

  protected makeInfo(names: string[], logProb: number, stats: number[][]): SghmcInfo {
    const meanK: Record<string, number> = {};
    names.forEach((n, i) => (meanK[n] = stats[i][0]));
    return { logProb, meanK };
  }
}

/** Options of {@link SGNHT}. */
export interface SGNHTOptions {
  /**
   * η, the squared step size, as in {@link SGHMCOptions.learningRate}.
   * Finite and positive.
   */
  learningRate: number;
  /**
   * a in Ding et al.'s Algorithm 2: noise of variance 2aη is injected each
   * step, and the friction α starts at a. Finite and ≥ 0; default 0. With
   * exact (full-batch) gradients give it a positive value: with a = 0 the
   * dynamics inject no noise of their own and are deterministic.
   */
  varianceExtra?: number;
  /**
   * Multiplies the thermostat update α ← α + rate·(mean(v²) − η) (1 in the
   * paper; higher tunes the friction faster). Finite and ≥ 0; default 1.
   */
  tuneRate?: number;
  /** Resample the momentum from N(0, η) every this many steps; 0 (the default) never. */
  nIterResampleV?: number;
  /** Use the second-order integrator of Chen et al. (2015). Default true. */
  secondOrder?: boolean;
  /**
   * One friction per element of each latent (true, the default) or one per
   * latent, driven by the mean of v² over its elements.
   */
  useVectorAlpha?: boolean;
}

/**
 * Stochastic gradient Nosé–Hoover thermostat (Ding et al., 2014, Algorithm
 * 2 of the supplement): SGHMC whose friction α is itself a dynamic variable,
 * raised when the kinetic energy mean(v²) exceeds η and lowered when below,
 * so that it absorbs unknown gradient noise. First order:
 * `v ← (1−α)v + η∇log p(q) + N(0, 2aη)`, `q ← q + v`,
 * `α ← α + rate·(mean(v²) − η)`; second order (Chen et al., 2015) splits the
 * q and α updates in half-steps around the momentum update, as ZhuSuan does.
 * @example
 * const sampler = new zs.SGNHT({ learningRate: 1e-4, varianceExtra: 0.01 });
 * const { alpha } = sampler.step(model, { x: batch }, { w });
 */
export class SGNHT extends SGMCMC<SgnhtInfo> {
  /** a, the injected-noise scale and initial friction. */
  readonly varianceExtra: number;
  /** Rate of the thermostat update. */
  readonly tuneRate: number;
  /** Steps between momentum resamplings (0: never). */
  readonly nIterResampleV: number;
  /** Whether the second-order integrator is used. */
  readonly secondOrder: boolean;
  /** Whether each element has its own friction. */
  readonly useVectorAlpha: boolean;

  constructor(opts: SGNHTOptions) {
    super('SGNHT', opts?.learningRate);
    const {
      varianceExtra = 0,
      tuneRate = 1,
      nIterResampleV = 0,
      secondOrder = true,
      useVectorAlpha = true,
    } = opts;
    assertNonNegative('SGNHT', 'varianceExtra', varianceExtra, { finite: true });
    assertNonNegative('SGNHT', 'tuneRate', tuneRate, { finite: true });
    assertInteger('SGNHT', 'nIterResampleV', nIterResampleV, 'non-negative');
    this.varianceExtra = varianceExtra;
    this.tuneRate = tuneRate;
    this.nIterResampleV = nIterResampleV;
    this.secondOrder = secondOrder;
    this.useVectorAlpha = useVectorAlpha;
  }

  protected createSlots(q: tf.Tensor): Record<string, tf.Tensor> {
    const a = this.varianceExtra;
    return {
      v: seededNormal(q.shape, nextSeed(), 0, Math.sqrt(this.learningRate)),
      alpha: this.useVectorAlpha ? tf.fill(q.shape, a) : tf.scalar(a),
    };
  }

  /** mean(v²) elementwise (vector friction) or over all elements (scalar friction). */
  private kinetic(v: tf.Tensor): tf.Tensor {
    const k = tf.square(v);
    return this.useVectorAlpha ? k : tf.mean(k);
  }

  protected propose(qs: tf.Tensor[], slots: Slots[], grad: GradFn, t: number): Proposal {
    const lr = this.learningRate;
    const rate = this.tuneRate;
    const oldV = slots.map((s) => oldMomentum(s.v, t, this.nIterResampleV, lr));
    const noiseStd = Math.sqrt(2 * this.varianceExtra * lr);
    const noise = qs.map((x) => seededNormal(x.shape, nextSeed(), 0, noiseStd));
    const thermostat = (alpha: tf.Tensor, v: tf.Tensor, scale: number): tf.Tensor =>
      tf.add(alpha, tf.mul(tf.sub(this.kinetic(v), lr), scale * rate));
    // Second order: the gradient at q + v/2, with the friction half-updated
    // from the old momentum; first order: at q, with the old friction.
    const half = this.secondOrder ? 0.5 : 1;
    const at = this.secondOrder ? qs.map((x, i) => tf.add(x, tf.mul(oldV[i], 0.5))) : qs;
    const alpha0 = this.secondOrder
      ? oldV.map((v, i) => thermostat(slots[i].alpha, v, 0.5))
      : slots.map((s) => s.alpha);
    const { logProb, grads } = grad(at);
    const q: tf.Tensor[] = [];
    const next: Record<string, tf.Tensor>[] = [];
    const checks: tf.Tensor[] = [];
    at.forEach((x, i) => {
      const fused = fusedSgmcmcUpdate(
        'sgnht',
        { q: x, grad: grads[i], noise: noise[i], v: oldV[i], alpha: alpha0[i] },
        { secondOrder: this.secondOrder, learningRate: lr, tuneScale: half * rate },
      );
      if (fused !== null) {
        q.push(fused[0]);
        next.push({ v: fused[1], alpha: fused[2] });
        checks.push(fused[3]);
        return;
      }
      // The momentum's factor: 1 − α, or e^(−α/2) on both sides of the kick.
      const m = this.secondOrder ? tf.exp(tf.mul(alpha0[i], -0.5)) : tf.sub(1, alpha0[i]);
      const v = tf.add(tf.add(tf.mul(oldV[i], m), tf.mul(grads[i], lr)), noise[i]);
      const v1 = this.secondOrder ? tf.mul(v, m) : v;
      const qNext = this.secondOrder ? tf.add(x, tf.mul(v1, 0.5)) : tf.add(x, v1);
      const a1 = thermostat(alpha0[i], v1, half);
      q.push(qNext);
      next.push({ v: v1, alpha: a1 });
      checks.push(...checksOf(qNext, [tf.mean(tf.square(v1)), tf.mean(a1)]));
    });
    return { logProb, q, slots: next, checks };
  }

  protected makeInfo(names: string[], logProb: number, stats: number[][]): SgnhtInfo {
    const meanK: Record<string, number> = {};
    const alpha: Record<string, number> = {};
    names.forEach((n, i) => {
      [meanK[n], alpha[n]] = stats[i];
    });
    return { logProb, meanK, alpha };
  }
}
