/**
 * Hamiltonian Monte Carlo (port of zhusuan/hmc.py): leapfrog trajectories
 * with a Metropolis test per chain, step-size adaptation by dual averaging
 * (Hoffman & Gelman, 2014, with their initial step-size heuristic) and
 * optional diagonal mass adaptation from an exponentially weighted moving
 * variance of the samples.
 *
 * Unlike ZhuSuan's graph-mode sampler, `step` runs one iteration eagerly and
 * assigns the new state to the latent `tf.Variable`s in place. Other
 * differences: dual averaging centres on μ = log(10·ε0) as in Hoffman &
 * Gelman (ZhuSuan uses 10·ε0), its default t0 is theirs (10; ZhuSuan 100),
 * the initial step-size search is theirs (doubling/halving around an
 * acceptance of 0.5), and the estimated variance is shrunk towards 1e-3
 * before it is inverted into a mass.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Observed } from '../framework/bn.js';
import { assertInteger, assertNonNegative, assertPositive } from '../checks.js';
import { seededNormal, seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import {
  dualAveragingInit,
  dualAveragingUpdate,
  findReasonableStepSize,
  welfordFinalize,
  welfordInit,
  welfordUpdate,
  type DualAveragingOptions,
  type DualAveragingState,
} from './adaptation.js';
import { sameShape, targetLogDensity, valueAndGrads, type McmcTarget } from './target.js';

/** Options of {@link HMC}. */
export interface HmcOptions {
  /** Initial (or, without adaptation, fixed) leapfrog step size. Default 0.1. */
  stepSize?: number;
  /** Leapfrog steps per iteration. Default 10. */
  nLeapfrogs?: number;
  /**
   * Adapt the step size by dual averaging until {@link HMC.stopAdaptation}.
   * Default false.
   */
  adaptStepSize?: boolean;
  /** The mean acceptance probability that adaptation aims at. Default 0.8. */
  targetAcceptanceRate?: number;
  /** Dual-averaging shrinkage γ. Default 0.05 (Hoffman & Gelman, 2014). */
  gamma?: number;
  /** Dual-averaging iteration offset t0. Default 10 (Hoffman & Gelman, 2014). */
  t0?: number;
  /** Dual-averaging decay exponent κ of the averaged step size. Default 0.75. */
  kappa?: number;
  /**
   * When adaptation (re)starts, search for a reasonable initial step size by
   * doubling or halving it until one leapfrog step's mean acceptance
   * probability crosses 0.5 (Hoffman & Gelman's Algorithm 4). Default true.
   */
  findInitialStepSize?: boolean;
  /**
   * Adapt a diagonal mass (the precision of the samples, estimated from their
   * exponentially weighted moving variance across iterations and chains,
   * regularised as (n/(n+5))·var + 1e-3·5/(n+5) after n updates) until
   * {@link HMC.stopAdaptation}. Requires `adaptStepSize`. Default false.
   */
  adaptMass?: boolean;
  /**
   * The adaptation iteration from which the estimated mass is used (unit
   * mass before it); the step-size adaptation restarts there. Default 10.
   */
  massCollectIters?: number;
  /** Decay of the exponentially weighted moving variance. Default 0.99. */
  massDecay?: number;
}

/** What one {@link HMC.step} reports (numbers read back from the device). */
export interface HmcInfo {
  /** Mean acceptance probability over the chains. */
  acceptanceRate: number;
  /** Per-chain acceptance probabilities min(1, e^{−ΔH}), 0 for a NaN or −∞ proposal. */
  acceptance: number[];
  /** Per-chain: whether the proposal was accepted. */
  accepted: boolean[];
  /** The step size this iteration used. */
  stepSize: number;
  /** Per-chain log density of the state after the iteration. */
  logProb: number[];
}

/** The latent values that HMC moves: node name → variable of shape `[...chains, ...event]`. */
export type LatentVariables = Record<string, tf.Variable>;

const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/** `v`, after {@link assertPositive} as an HMC hyperparameter. */
function positive(name: string, v: number): number {
  assertPositive('HMC', name, v, { finite: true });
  return v;
}

/**
 * Hamiltonian Monte Carlo over the latent variables of a model (Neal, 2011),
 * with step-size adaptation by dual averaging and diagonal mass adaptation
 * (Hoffman & Gelman, 2014).
 *
 * Chains: the target's log density has the chain shape S (`[]` for one chain,
 * `[nChains]` for several, or more axes); every latent has shape
 * `[...S, ...event]`. Each chain is accepted or rejected on its own; the
 * step size (and mass) are shared. One sampler serves one set of chains: the
 * shapes seen on the first step are required afterwards.
 *
 * Adaptation makes the chain non-Markovian: run it during warm-up only and
 * call {@link HMC.stopAdaptation} before collecting samples; the step size is
 * then fixed at its dual-averaged value and the mass at its last estimate.
 *
 * Holds small variables for the mass adaptation: call `dispose()` when done.
 * @example
 * const z = tf.variable(tf.zeros([nChains, 2]));
 * const hmc = new zs.HMC({ stepSize: 0.1, nLeapfrogs: 10, adaptStepSize: true });
 * for (let i = 0; i < 500; i++) {
 *   if (i === 200) hmc.stopAdaptation();
 *   const info = hmc.step(model, { x }, { z }); // z now holds the new samples
 * }
 * hmc.dispose();
 */
export class HMC {
  /** Leapfrog steps per iteration. */
  readonly nLeapfrogs: number;
  /** The mean acceptance probability that adaptation aims at. */
  readonly targetAcceptanceRate: number;
  private readonly daOptions: DualAveragingOptions;
  private readonly findInitial: boolean;
  private readonly massCollectIters: number;
  private readonly massDecay: number;

  private eps: number;
  private adaptingStep: boolean;
  private adaptingMass: boolean;
  private da: DualAveragingState;
  private needsInit: boolean;
  // Mass adaptation state (created on the first step when adaptMass is on):
  // per latent, the moving mean and variance of the draws, and the mass.
  private massIter = 0;
  private moments: { mean: tf.Variable; variance: tf.Variable }[] | null = null;
  private mass: tf.Variable[] | null = null;
  // Shapes fixed by the first step.
  private chainShape: number[] | null = null;
  private latentShapes: Map<string, number[]> | null = null;
  private disposed = false;

  constructor(opts: HmcOptions = {}) {
    this.eps = positive('stepSize', opts.stepSize ?? 0.1);
    const n = opts.nLeapfrogs ?? 10;
    assertInteger('HMC', 'nLeapfrogs', n, 'positive');
    this.nLeapfrogs = n;
    const delta = opts.targetAcceptanceRate ?? 0.8;
    if (!(delta > 0 && delta < 1)) {
      throw new Error(`HMC: \`targetAcceptanceRate\` must lie in (0, 1), got ${delta}`);
    }
    this.targetAcceptanceRate = delta;
    const gamma = positive('gamma', opts.gamma ?? 0.05);
    const t0 = opts.t0 ?? 10;
    assertNonNegative('HMC', 't0', t0, { finite: true });
    const kappa = opts.kappa ?? 0.75;
    if (!(kappa > 0 && kappa <= 1)) {
      throw new Error(`HMC: \`kappa\` must lie in (0, 1], got ${kappa}`);
    }
    this.daOptions = { targetAcceptanceRate: delta, gamma, t0, kappa };
    this.findInitial = opts.findInitialStepSize ?? true;
    this.adaptingStep = opts.adaptStepSize ?? false;
    this.adaptingMass = opts.adaptMass ?? false;
    if (this.adaptingMass && !this.adaptingStep) {
      throw new Error('HMC: `adaptMass` requires `adaptStepSize` (as in ZhuSuan)');
    }
    const mc = opts.massCollectIters ?? 10;
    assertInteger('HMC', 'massCollectIters', mc, 'positive');
    this.massCollectIters = mc;
    const decay = opts.massDecay ?? 0.99;
    if (!(decay > 0 && decay < 1)) {
      throw new Error(`HMC: \`massDecay\` must lie in (0, 1), got ${decay}`);
    }
    this.massDecay = decay;
    this.da = dualAveragingInit(this.eps);
    this.needsInit = this.adaptingStep;
  }

  /** The step size the next iteration will use. */
  get stepSize(): number {
    return this.eps;
  }

  /** Whether the step size is still being adapted. */
  get adaptStepSize(): boolean {
    return this.adaptingStep;
  }

  /** Whether the mass is still being adapted. */
  get adaptMass(): boolean {
    return this.adaptingMass;
  }

  /**
   * Copies of the current diagonal mass per latent (shape `[1,…,1, ...event]`),
   * or null when the mass is the identity (no mass adaptation).
   */
  getMass(): Record<string, tf.Tensor> | null {
    const mass = this.mass;
    const shapes = this.latentShapes;
    if (mass === null || shapes === null) return null;
    const out: Record<string, tf.Tensor> = {};
    [...shapes.keys()].forEach((name, i) => (out[name] = tf.clone(mass[i])));
    return out;
  }

  /**
   * Ends the warm-up: the step size is fixed at its dual-averaged value
   * ε̄ (unchanged if no adapting step has run) and the mass at its last
   * estimate.
   */
  stopAdaptation(): void {
    if (this.adaptingStep && this.da.iteration > 0) this.eps = Math.exp(this.da.logStepSizeAvg);
    this.adaptingStep = false;
    this.adaptingMass = false;
    this.needsInit = false;
  }

  /** Frees the mass-adaptation variables. The sampler cannot be used afterwards. */
  dispose(): void {
    this.mass?.forEach((v) => v.dispose());
    this.moments?.forEach((m) => tf.dispose([m.mean, m.variance]));
    this.mass = this.moments = null;
    this.disposed = true;
  }

  /**
   * Runs one HMC iteration: draws momenta p ~ N(0, M), integrates
   * `nLeapfrogs` leapfrog steps of the Hamiltonian −log p(z) + ½ pᵀM⁻¹p,
   * accepts or rejects each chain's proposal by a Metropolis test (a proposal
   * whose log density is NaN or not finite is rejected), assigns the new
   * states to the variables in `latent`, and adapts the step size and mass
   * if adaptation is on.
   * @param target the model, or a function of the values returning a net or the log density.
   * @param observed values of the observed nodes (passed to the target with the latent values).
   * @param latent the variables holding the current state, one per latent node.
   */
  step(target: McmcTarget, observed: Observed, latent: LatentVariables): HmcInfo {
    if (this.disposed) throw new Error('HMC.step: the sampler has been disposed');
    const names = this.checkLatent(observed, latent);
    const vars = names.map((n) => latent[n]);
    const logDensity = (qs: tf.Tensor[]): tf.Tensor => {
      const values: Observed = { ...observed };
      names.forEach((n, i) => (values[n] = qs[i]));
      return targetLogDensity('HMC.step', target, values, names);
    };
    let info: HmcInfo | undefined;
    tf.tidy(() => {
      const q0: tf.Tensor[] = vars;
      const start = valueAndGrad(logDensity, q0);
      const chainShape = this.checkShapes(names, vars, start.logp.shape);
      const lp0 = Array.from(start.logp.dataSync());
      lp0.forEach((v, c) => {
        if (!Number.isFinite(v)) {
          throw new Error(
            `HMC.step: the log density at the current state is ${v} for chain ${c}; ` +
              'start every chain where the density is positive and finite',
          );
        }
      });
      const eventAxes = names.map((_, i) => vars[i].rank - chainShape.length);

      if (this.adaptingMass) this.updateMass(q0, chainShape.length);
      const mass = this.mass;
      if (this.needsInit) {
        this.restartDualAveraging(logDensity, q0, start, mass, chainShape.length);
      }

      const eps = this.eps;
      const p0 = this.momentum(vars, mass);
      const k0 = kinetic(p0, mass, eventAxes);
      const end = leapfrog(logDensity, q0, p0, start.grads, eps, this.nLeapfrogs, mass);
      const k1 = kinetic(end.p, mass, eventAxes);
      const lp1 = Array.from(end.logp.dataSync());
      const acceptance = acceptProbs(lp0, Array.from(k0.dataSync()), lp1, k1.dataSync());
      const u = seededUniform(chainShape, nextSeed()).dataSync();
      const accepted = acceptance.map((a, c) => u[c] < a);

      if (accepted.some((a) => a)) {
        const mask = tf.tensor(
          accepted.map((a) => (a ? 1 : 0)),
          chainShape,
          'bool',
        );
        vars.forEach((v, i) => {
          const m = tf.reshape(mask, [...chainShape, ...new Array<number>(eventAxes[i]).fill(1)]);
          v.assign(tf.where(m, end.q[i], v));
        });
      }
      const acceptanceRate = acceptance.reduce((a, b) => a + b, 0) / acceptance.length;
      if (this.adaptingStep) {
        this.da = dualAveragingUpdate(this.da, acceptanceRate, this.daOptions);
        this.eps = Math.exp(this.da.logStepSize);
      }
      info = {
        acceptanceRate,
        acceptance,
        accepted,
        stepSize: eps,
        logProb: accepted.map((a, c) => (a ? lp1[c] : lp0[c])),
      };
    });
    return info!;
  }

  /** Validates `latent` against `observed`; returns the latent names. */
  private checkLatent(observed: Observed, latent: LatentVariables): string[] {
    if (latent === null || typeof latent !== 'object') {
      throw new Error('HMC.step: `latent` must map latent node names to tf.Variables');
    }
    // Sorted: the adaptation state is kept per latent in this order.
    const names = Object.keys(latent).sort();
    if (names.length === 0) {
      throw new Error('HMC.step: `latent` is empty; give at least one variable to sample');
    }
    for (const name of names) {
      const v = latent[name];
      if (!(v instanceof tf.Variable)) {
        throw new Error(
          `HMC.step: latent['${name}'] must be a tf.Variable (it is updated in place)`,
        );
      }
      if (v.dtype !== 'float32') {
        throw new Error(`HMC.step: latent['${name}'] must be float32, got ${v.dtype}`);
      }
      if (observed !== undefined && name in observed) {
        throw new Error(`HMC.step: '${name}' is both observed and latent`);
      }
    }
    return names;
  }

  /** Checks the chain shape against the latents and the first step's shapes. */
  private checkShapes(names: string[], vars: tf.Tensor[], logpShape: number[]): number[] {
    names.forEach((name, i) => {
      const s = vars[i].shape;
      if (s.length < logpShape.length || !sameShape(s.slice(0, logpShape.length), logpShape)) {
        throw new Error(
          `HMC.step: the log density has shape ${shapeStr(logpShape)} (the chain shape), which ` +
            `does not lead latent '${name}' of shape ${shapeStr(s)}; latents must have shape ` +
            '[...chains, ...event]',
        );
      }
    });
    if (this.chainShape === null || this.latentShapes === null) {
      this.chainShape = logpShape.slice();
      this.latentShapes = new Map(names.map((n, i) => [n, vars[i].shape.slice()]));
      return this.chainShape;
    }
    if (!sameShape(this.chainShape, logpShape)) {
      throw new Error(
        `HMC.step: the log density has shape ${shapeStr(logpShape)}, but this sampler's chains ` +
          `have shape ${shapeStr(this.chainShape)}; use one HMC per set of chains`,
      );
    }
    const known = [...this.latentShapes.keys()];
    if (known.length !== names.length || names.some((n) => !this.latentShapes!.has(n))) {
      throw new Error(
        `HMC.step: latent names [${names.join(', ')}] differ from the first step's ` +
          `[${known.join(', ')}]; use one HMC per set of chains`,
      );
    }
    names.forEach((name, i) => {
      const first = this.latentShapes!.get(name)!;
      if (!sameShape(first, vars[i].shape)) {
        throw new Error(
          `HMC.step: latent '${name}' has shape ${shapeStr(vars[i].shape)}, but ` +
            `${shapeStr(first)} on the first step; use one HMC per set of chains`,
        );
      }
    });
    return this.chainShape;
  }

  /** p ~ N(0, M): standard normals scaled by √M. */
  private momentum(vars: tf.Tensor[], mass: tf.Tensor[] | null): tf.Tensor[] {
    return vars.map((v, i) => {
      const e = seededNormal(v.shape, nextSeed());
      return mass === null ? e : tf.mul(e, tf.sqrt(mass[i]));
    });
  }

  /** Fresh start of dual averaging, from a heuristic initial step size. */
  private restartDualAveraging(
    logDensity: (qs: tf.Tensor[]) => tf.Tensor,
    q0: tf.Tensor[],
    start: { logp: tf.Tensor; grads: tf.Tensor[] },
    mass: tf.Tensor[] | null,
    nChainDims: number,
  ): void {
    this.needsInit = false;
    if (this.findInitial) {
      this.eps = tf.tidy(() => {
        const eventAxes = q0.map((q) => q.rank - nChainDims);
        const p = this.momentum(q0, mass);
        const k0 = Array.from(kinetic(p, mass, eventAxes).dataSync());
        const lp0 = Array.from(start.logp.dataSync());
        const meanAccept = (eps: number): number =>
          tf.tidy(() => {
            const end = leapfrog(logDensity, q0, p, start.grads, eps, 1, mass);
            const k1 = kinetic(end.p, mass, eventAxes).dataSync();
            const a = acceptProbs(lp0, k0, Array.from(end.logp.dataSync()), k1);
            return a.reduce((s, x) => s + x, 0) / a.length;
          });
        return findReasonableStepSize(this.eps, meanAccept);
      });
    }
    this.da = dualAveragingInit(this.eps);
  }

  /**
   * One update of the moving mean and variance with the current state
   * (Welford's update with the exponentially decayed weight of the newest
   * draw, (1 − d)/(1 − dᵗ)); from `massCollectIters` on, the mass is the
   * inverse of the (regularised) variance and the step-size adaptation
   * restarts when it is first used.
   */
  private updateMass(q: tf.Tensor[], nChainDims: number): void {
    if (this.moments === null || this.mass === null) {
      this.moments = q.map((x) => {
        const { mean, variance } = welfordInit(x.shape, nChainDims);
        return { mean: tf.variable(mean, false), variance: tf.variable(variance, false) };
      });
      this.mass = this.moments.map((m) => tf.variable(tf.onesLike(m.mean), false));
    }
    const t = ++this.massIter;
    const d = this.massDecay;
    const w = (1 - d) / (1 - Math.pow(d, t));
    const mass = this.mass;
    this.moments.forEach((m, i) => {
      const state = { mean: m.mean, variance: m.variance, count: t - 1, chainDims: nChainDims };
      const next = welfordUpdate(state, q[i], w);
      m.mean.assign(next.mean);
      m.variance.assign(next.variance);
      // Shrunk towards a small variance (as Stan does) so a variance
      // estimated from few, or identical, samples stays positive.
      if (t >= this.massCollectIters) mass[i].assign(tf.reciprocal(welfordFinalize(next)));
    });
    if (t === this.massCollectIters) this.needsInit = true;
  }
}

/** Per-chain log density and the gradients of its sum, at `qs` (zero for a latent it ignores). */
function valueAndGrad(
  logDensity: (qs: tf.Tensor[]) => tf.Tensor,
  qs: tf.Tensor[],
): { logp: tf.Tensor; grads: tf.Tensor[] } {
  const { value, grads } = valueAndGrads('HMC.step', logDensity, qs);
  return { logp: value, grads: qs.map((q, i) => grads[i] ?? tf.zerosLike(q)) };
}

/** ½ Σ_event p²/M per chain. */
function kinetic(p: tf.Tensor[], mass: tf.Tensor[] | null, eventAxes: number[]): tf.Tensor {
  return tf.tidy(() =>
    p
      .map((pi, i) => {
        const sq = mass === null ? tf.square(pi) : tf.div(tf.square(pi), mass[i]);
        const axes = Array.from({ length: eventAxes[i] }, (_, k) => pi.rank - 1 - k);
        return tf.mul(axes.length === 0 ? sq : tf.sum(sq, axes), 0.5);
      })
      .reduce((a, b) => tf.add(a, b)),
  );
}

/**
 * `nSteps` leapfrog steps from (q, p) with the gradient `g0` at q. Each step
 * is its own tidy scope; returns the end point, its momentum and log density.
 */
function leapfrog(
  logDensity: (qs: tf.Tensor[]) => tf.Tensor,
  q0: tf.Tensor[],
  p0: tf.Tensor[],
  g0: tf.Tensor[],
  eps: number,
  nSteps: number,
  mass: tf.Tensor[] | null,
): { q: tf.Tensor[]; p: tf.Tensor[]; logp: tf.Tensor } {
  let q = q0;
  let p = tf.tidy(() => p0.map((pi, i) => tf.add(pi, tf.mul(g0[i], eps / 2))));
  let logp: tf.Tensor | null = null;
  for (let s = 1; s <= nSteps; s++) {
    const [prevQ, prevP, prevLogp] = [q, p, logp];
    const out = tf.tidy(() => {
      const qn = q.map((qi, i) =>
        tf.add(qi, tf.mul(mass === null ? p[i] : tf.div(p[i], mass[i]), eps)),
      );
      const { logp: lp, grads } = valueAndGrad(logDensity, qn);
      const h = s < nSteps ? eps : eps / 2;
      const pn = p.map((pi, i) => tf.add(pi, tf.mul(grads[i], h)));
      return { qn, pn, lp };
    });
    q = out.qn;
    p = out.pn;
    logp = out.lp;
    if (prevQ !== q0) prevQ.forEach((t) => t.dispose());
    prevP.forEach((t) => t.dispose());
    prevLogp?.dispose();
  }
  return { q, p, logp: logp! };
}

/**
 * Per-chain min(1, exp(H_old − H_new)) with H = −log p + K, computed in
 * float64; 0 where the proposal's log density is not finite or ΔH is NaN.
 */
function acceptProbs(
  lp0: number[],
  k0: ArrayLike<number>,
  lp1: number[],
  k1: ArrayLike<number>,
): number[] {
  return lp0.map((l0, c) => {
    const logA = lp1[c] - k1[c] - (l0 - k0[c]);
    if (!Number.isFinite(lp1[c]) || Number.isNaN(logA)) return 0;
    return Math.exp(Math.min(0, logA));
  });
}
