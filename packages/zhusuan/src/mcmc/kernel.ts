/**
 * What HMC and NUTS share (numpyro's `HMC`/`NUTS` split over `hmc_util`):
 * the options of the step size, its jitter and the warm-up adaptation, the
 * checks of the latent variables and chain shapes, the step's skeleton
 * (log density and gradient at the current state, the kernel's transition,
 * the assignment of the new state, adaptation) and the step info. A kernel
 * implements only its transition.
 *
 * Adaptation: dual averaging of the step size (Hoffman & Gelman, 2014) at
 * every warm-up step; with `nWarmup`, Stan's windowed schedule
 * ({@link adaptationSchedule}) and, with `adaptMass`, a diagonal mass
 * re-estimated from the draws of each slow window. Unlike ZhuSuan (which
 * estimates the mass from an exponentially weighted moving variance of every
 * warm-up draw), the mass never sees the transient from the starting points.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Observed } from '../framework/bn.js';
import { assertInteger, assertNonNegative, assertPositive } from '../checks.js';
import { nextSeed, seedWords, uniform53 } from '../random.js';
import {
  adaptationAction,
  adaptationSchedule,
  dualAveragingInit,
  dualAveragingUpdate,
  findReasonableStepSize,
  welfordFinalize,
  welfordInit,
  welfordUpdate,
  type AdaptationWindow,
  type DualAveragingOptions,
  type DualAveragingState,
  type WelfordState,
} from './adaptation.js';
import {
  acceptProb,
  drawMomentum,
  energyErrors,
  kinetic,
  leapfrog,
  toNumbers,
  valueAndGrad,
  type LogDensityFn,
} from './hamiltonian.js';
import { sameShape, targetLogDensity, type McmcTarget } from './target.js';

/** The options that {@link HMC} and {@link NUTS} share. */
export interface HamiltonianOptions {
  /** Initial (or, without adaptation, fixed) leapfrog step size. Default 0.1. */
  stepSize?: number;
  /**
   * Adapt the step size by dual averaging: for `nWarmup` steps when that is
   * given, otherwise until {@link HamiltonianKernel.stopAdaptation}.
   * Default false for HMC, true for NUTS.
   */
  adaptStepSize?: boolean;
  /**
   * The number of warm-up steps. Adaptation then follows Stan's windowed
   * schedule ({@link adaptationSchedule}) and ends by itself after this many
   * steps (the step size fixed at its dual-averaged value). Requires
   * `adaptStepSize`.
   */
  nWarmup?: number;
  /**
   * Adapt a diagonal mass during the slow windows of the warm-up: at each
   * slow window's end the mass becomes the inverse of the (regularised)
   * variance of that window's draws, chains pooled, and the step size is
   * searched for again. Requires `nWarmup`. Default false.
   */
  adaptMass?: boolean;
  /** The mean acceptance statistic that adaptation aims at. Default 0.8. */
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
   * Jitter of the step size: each step uses ε·(1 + j·u) with u uniform in
   * (−1, 1), which varies the trajectory length so that no fixed length
   * resonates with the target (Neal, 2011, §5.4.2.2; Stan's
   * `stepsize_jitter`). In [0, 1). Default 0.
   */
  stepSizeJitter?: number;
  /**
   * An energy error ΔH above this marks a step divergent (Stan's and
   * numpyro's 1000). Default 1000.
   */
  maxDeltaEnergy?: number;
}

/** What one step of {@link HMC} or {@link NUTS} reports (numbers read back from the device). */
export interface HmcInfo {
  /** Mean of the per-chain acceptance statistics: what the step size adapts to. */
  acceptanceRate: number;
  /**
   * Per chain: HMC's acceptance probability min(1, e^{−ΔH}) (0 for a NaN or
   * −∞ proposal); NUTS's mean of min(1, e^{−ΔH}) over the tree's points.
   */
  acceptance: number[];
  /** Per chain: whether the chain moved (HMC: the proposal was accepted). */
  accepted: boolean[];
  /** The step size this step used (after jitter). */
  stepSize: number;
  /** Per-chain log density of the state after the step. */
  logProb: number[];
  /**
   * Per chain: the energy error ΔH = H(proposal) − H(start) of the
   * Hamiltonian H = −log p + ½pᵀM⁻¹p (+∞ for a proposal whose density is not
   * finite). HMC: of its end point; NUTS: of the point it picked.
   */
  energyError: number[];
  /**
   * Per chain: whether the trajectory diverged, i.e. a point's ΔH exceeded
   * `maxDeltaEnergy` or was not finite (HMC: its end point). Divergences
   * after warm-up mean the sampler misses part of the target: reparameterise
   * or lower the step size (raise `targetAcceptanceRate`).
   */
  divergent: boolean[];
  /** Per chain: the number of leapfrog steps (gradient evaluations) of the trajectory. */
  nLeapfrogs: number[];
}

/** The latent values that HMC and NUTS move: node name → variable of shape `[...chains, ...event]`. */
export type LatentVariables = Record<string, tf.Variable>;

/** What a kernel's transition hands back to {@link HamiltonianKernel.step}. */
export interface Transition {
  /** The proposed state, one tensor per latent (each chain takes it where `take`). */
  q: tf.Tensor[];
  /** Per chain: whether the chain moves to `q`. */
  take: boolean[];
  /** Per chain: log density of the new state (of `q` where `take`, the start's elsewhere). */
  logProb: number[];
  acceptance: number[];
  energyError: number[];
  divergent: boolean[];
  nLeapfrogs: number[];
  /** Per chain: the tree depth (NUTS). */
  treeDepth?: number[];
}

/**
 * The start of a transition: the current state, its log density (read back)
 * and gradients, fresh momenta p ~ N(0, M) and their kinetic energy (read back).
 */
export interface StartPoint {
  q: tf.Tensor[];
  logp: number[];
  grads: tf.Tensor[];
  p: tf.Tensor[];
  kinetic: ArrayLike<number>;
}

const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * Base class of the Hamiltonian kernels {@link HMC} and {@link NUTS}: one
 * {@link step} moves every chain by one transition and adapts during warm-up.
 * Holds small variables for the mass adaptation: call `dispose()` when done.
 */
export abstract class HamiltonianKernel<I extends HmcInfo = HmcInfo> {
  /** The mean acceptance statistic that adaptation aims at. */
  readonly targetAcceptanceRate: number;
  /** The number of warm-up steps of the windowed schedule, or null without one. */
  readonly nWarmup: number | null;
  /** The step-size jitter j: each step uses ε·(1 + j·u), u ~ U(−1, 1). */
  readonly stepSizeJitter: number;
  /** The energy error above which a step is divergent. */
  readonly maxDeltaEnergy: number;
  /** Name used in error messages ('HMC', 'NUTS'). */
  protected readonly name: string;
  private readonly daOptions: DualAveragingOptions;
  private readonly findInitial: boolean;
  private readonly schedule: AdaptationWindow[] | null;

  private eps: number;
  private adaptingStep: boolean;
  private adaptingMass: boolean;
  private da: DualAveragingState;
  private needsInit: boolean;
  /** Warm-up steps taken under the schedule. */
  private warmupIter = 0;
  // Mass adaptation: per latent, the moments of the current slow window, and the mass.
  private moments: WelfordState[] | null = null;
  private mass: tf.Variable[] | null = null;
  // Shapes fixed by the first step.
  private chainShape: number[] | null = null;
  private latentShapes: Map<string, number[]> | null = null;
  private disposed = false;

  protected constructor(name: string, opts: HamiltonianOptions, adaptStepDefault: boolean) {
    this.name = name;
    this.eps = this.positive('stepSize', opts.stepSize ?? 0.1);
    const delta = opts.targetAcceptanceRate ?? 0.8;
    if (!(delta > 0 && delta < 1)) {
      throw new Error(`${name}: \`targetAcceptanceRate\` must lie in (0, 1), got ${delta}`);
    }
    this.targetAcceptanceRate = delta;
    const gamma = this.positive('gamma', opts.gamma ?? 0.05);
    const t0 = opts.t0 ?? 10;
    assertNonNegative(name, 't0', t0, { finite: true });
    const kappa = opts.kappa ?? 0.75;
    if (!(kappa > 0 && kappa <= 1)) {
      throw new Error(`${name}: \`kappa\` must lie in (0, 1], got ${kappa}`);
    }
    this.daOptions = { targetAcceptanceRate: delta, gamma, t0, kappa };
    this.findInitial = opts.findInitialStepSize ?? true;
    this.adaptingStep = opts.adaptStepSize ?? adaptStepDefault;
    this.adaptingMass = opts.adaptMass ?? false;
    const jitter = opts.stepSizeJitter ?? 0;
    if (!(jitter >= 0 && jitter < 1)) {
      throw new Error(`${name}: \`stepSizeJitter\` must lie in [0, 1), got ${jitter}`);
    }
    this.stepSizeJitter = jitter;
    this.maxDeltaEnergy = this.positive('maxDeltaEnergy', opts.maxDeltaEnergy ?? 1000);
    this.nWarmup = opts.nWarmup ?? null;
    if (this.nWarmup !== null) {
      assertInteger(name, 'nWarmup', this.nWarmup, 'positive');
      if (!this.adaptingStep) {
        throw new Error(
          `${name}: \`nWarmup\` sets how long adaptation runs; it requires \`adaptStepSize\``,
        );
      }
    }
    if (this.adaptingMass && !this.adaptingStep) {
      throw new Error(`${name}: \`adaptMass\` requires \`adaptStepSize\` (as in ZhuSuan)`);
    }
    if (this.adaptingMass && this.nWarmup === null) {
      throw new Error(
        `${name}: \`adaptMass\` requires \`nWarmup\` (the number of warm-up steps), from which ` +
          "Stan's adaptation windows are laid out",
      );
    }
    this.schedule = this.nWarmup === null ? null : adaptationSchedule(this.nWarmup);
    this.da = dualAveragingInit(this.eps);
    this.needsInit = this.adaptingStep;
  }

  /** `v`, after {@link assertPositive} as a hyperparameter of this kernel. */
  protected positive(name: string, v: number): number {
    assertPositive(this.name, name, v, { finite: true });
    return v;
  }

  /** The (unjittered) step size the next step will use. */
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
   * Ends the warm-up now: the step size is fixed at its dual-averaged value
   * ε̄ (unchanged if no adapting step has run) and the mass at its last
   * estimate. With `nWarmup` this happens by itself after that many steps.
   */
  stopAdaptation(): void {
    if (this.adaptingStep && this.da.iteration > 0) this.eps = Math.exp(this.da.logStepSizeAvg);
    this.adaptingStep = false;
    this.adaptingMass = false;
    this.needsInit = false;
    this.disposeMoments();
  }

  /** Frees the mass-adaptation variables. The sampler cannot be used afterwards. */
  dispose(): void {
    this.mass?.forEach((v) => v.dispose());
    this.mass = null;
    this.disposeMoments();
    this.disposed = true;
  }

  private disposeMoments(): void {
    this.moments?.forEach((m) => tf.dispose([m.mean, m.variance]));
    this.moments = null;
  }

  /**
   * The kernel's transition from `start` (with its fresh momenta) with step
   * size `eps` and the diagonal `mass` (null: identity); runs inside the
   * step's tidy scope.
   */
  protected abstract transition(
    logDensity: LogDensityFn,
    start: StartPoint,
    eps: number,
    mass: tf.Tensor[] | null,
    chainShape: number[],
  ): Transition;

  /** The info of the step from the shared fields and the transition (a kernel adds its own). */
  protected abstract makeInfo(base: HmcInfo, tr: Transition): I;

  /**
   * Runs one step: draws momenta p ~ N(0, M), runs the kernel's trajectory
   * of the Hamiltonian −log p(z) + ½pᵀM⁻¹p, moves each chain (or not) to its
   * proposal, assigns the new states to the variables in `latent`, and adapts
   * the step size and mass during warm-up. A proposal whose log density is
   * NaN or not finite is never taken.
   * @param target the model, or a function of the values returning a net or the log density.
   * @param observed values of the observed nodes (passed to the target with the latent values).
   * @param latent the variables holding the current state, one per latent node.
   */
  step(target: McmcTarget, observed: Observed, latent: LatentVariables): I {
    const fn = `${this.name}.step`;
    if (this.disposed) throw new Error(`${fn}: the sampler has been disposed`);
    const names = this.checkLatent(observed, latent);
    const vars = names.map((n) => latent[n]);
    const logDensity = (qs: tf.Tensor[]): tf.Tensor => {
      const values: Observed = { ...observed };
      names.forEach((n, i) => (values[n] = qs[i]));
      return targetLogDensity(fn, target, values, names);
    };
    let info: I | undefined;
    tf.tidy(() => {
      const q0: tf.Tensor[] = vars;
      const { logp, grads } = valueAndGrad(fn, logDensity, q0);
      const chainShape = this.checkShapes(names, vars, logp.shape);
      const lp0 = toNumbers(logp.dataSync());
      lp0.forEach((v, c) => {
        if (!Number.isFinite(v)) {
          throw new Error(
            `${fn}: the log density at the current state is ${v} for chain ${c}; ` +
              'start every chain where the density is positive and finite',
          );
        }
      });
      if (this.adaptingMass && this.mass === null) this.initMass(q0, chainShape.length);
      if (this.needsInit) {
        this.restartDualAveraging(logDensity, { q: q0, logp: lp0, grads }, chainShape.length);
      }
      const eps = this.jittered();
      const p = drawMomentum(q0, this.mass);
      const k = kinetic(p, this.mass, chainShape.length).dataSync();
      const start: StartPoint = { q: q0, logp: lp0, grads, p, kinetic: k };
      const tr = this.transition(logDensity, start, eps, this.mass, chainShape);
      if (tr.take.some((a) => a)) {
        // Each latent's mask at its own shape, made from a typed array: no
        // broadcasting Tile of a [...chains, 1,…,1] mask, no flattening of a
        // JavaScript array.
        const chains = tr.take.length;
        vars.forEach((v, i) => {
          const per = v.size / chains;
          const mask = new Uint8Array(v.size);
          tr.take.forEach((a, c) => {
            if (a) mask.fill(1, c * per, (c + 1) * per);
          });
          v.assign(tf.where(tf.tensor(mask, v.shape, 'bool'), tr.q[i], v));
        });
      }
      const acceptanceRate = tr.acceptance.reduce((a, b) => a + b, 0) / tr.acceptance.length;
      this.adapt(acceptanceRate, vars, chainShape.length);
      info = this.makeInfo(
        {
          acceptanceRate,
          acceptance: tr.acceptance,
          accepted: tr.take,
          stepSize: eps,
          logProb: tr.logProb,
          energyError: tr.energyError,
          divergent: tr.divergent,
          nLeapfrogs: tr.nLeapfrogs,
        },
        tr,
      );
    });
    return info!;
  }

  /** The step size of this step: ε, jittered when `stepSizeJitter` > 0. */
  private jittered(): number {
    if (this.stepSizeJitter === 0) return this.eps;
    const u = 2 * uniform53(seedWords(nextSeed())) - 1;
    return this.eps * (1 + this.stepSizeJitter * u);
  }

  /**
   * After a step with mean acceptance statistic `acceptance` that left the
   * chains at `q`: one dual-averaging update and, under the schedule, the
   * mass estimate's update, its use at a slow window's end, and the end of
   * the warm-up.
   */
  private adapt(acceptance: number, q: tf.Tensor[], nChainDims: number): void {
    if (!this.adaptingStep) return;
    this.da = dualAveragingUpdate(this.da, acceptance, this.daOptions);
    this.eps = Math.exp(this.da.logStepSize);
    if (this.schedule === null) return;
    const action = adaptationAction(this.schedule, this.warmupIter++);
    if (this.adaptingMass && action.collectMass) {
      const prev = this.moments ?? q.map((x) => welfordInit(x.shape, nChainDims));
      // Kept: the moments outlive the step's tidy scope.
      this.moments = prev.map((m, i) => {
        const next = welfordUpdate(m, q[i]);
        return { ...next, mean: tf.keep(next.mean), variance: tf.keep(next.variance) };
      });
      prev.forEach((m) => tf.dispose([m.mean, m.variance]));
      if (action.updateMass) {
        const mass = this.mass!;
        // welfordFinalize shrinks the variance towards 1e-3 (as Stan does),
        // so a variance from few or identical draws stays positive.
        this.moments.forEach((m, i) => mass[i].assign(tf.reciprocal(welfordFinalize(m))));
        this.disposeMoments();
        this.needsInit = true;
      }
    }
    if (action.last) this.stopAdaptation();
  }

  /** Unit mass variables of the state's event shapes (`[1,…,1, ...event]`). */
  private initMass(q: tf.Tensor[], nChainDims: number): void {
    this.mass = q.map((x) =>
      tf.variable(
        tf.ones([...new Array<number>(nChainDims).fill(1), ...x.shape.slice(nChainDims)]),
        false,
      ),
    );
  }

  /** Fresh start of dual averaging, from a heuristic initial step size. */
  private restartDualAveraging(
    logDensity: LogDensityFn,
    start: { q: tf.Tensor[]; logp: number[]; grads: tf.Tensor[] },
    nChainDims: number,
  ): void {
    this.needsInit = false;
    const mass = this.mass;
    if (this.findInitial) {
      this.eps = tf.tidy(() => {
        const p = drawMomentum(start.q, mass);
        const k0 = kinetic(p, mass, nChainDims).dataSync();
        const meanAccept = (eps: number): number =>
          tf.tidy(() => {
            const end = leapfrog(
              `${this.name}.step`,
              logDensity,
              start.q,
              p,
              start.grads,
              eps,
              1,
              mass,
            );
            const k1 = kinetic(end.p, mass, nChainDims).dataSync();
            const dh = energyErrors(start.logp, k0, end.logp.dataSync(), k1);
            return dh.reduce((s, d) => s + acceptProb(d), 0) / dh.length;
          });
        return findReasonableStepSize(this.eps, meanAccept);
      });
    }
    this.da = dualAveragingInit(this.eps);
  }

  /** Validates `latent` against `observed`; returns the latent names. */
  private checkLatent(observed: Observed, latent: LatentVariables): string[] {
    const fn = `${this.name}.step`;
    if (latent === null || typeof latent !== 'object') {
      throw new Error(`${fn}: \`latent\` must map latent node names to tf.Variables`);
    }
    // Sorted: the adaptation state is kept per latent in this order.
    const names = Object.keys(latent).sort();
    if (names.length === 0) {
      throw new Error(`${fn}: \`latent\` is empty; give at least one variable to sample`);
    }
    for (const name of names) {
      const v = latent[name];
      if (!(v instanceof tf.Variable)) {
        throw new Error(`${fn}: latent['${name}'] must be a tf.Variable (it is updated in place)`);
      }
      if (v.dtype !== 'float32') {
        throw new Error(`${fn}: latent['${name}'] must be float32, got ${v.dtype}`);
      }
      if (observed !== undefined && name in observed) {
        throw new Error(`${fn}: '${name}' is both observed and latent`);
      }
    }
    return names;
  }

  /** Checks the chain shape against the latents and the first step's shapes. */
  private checkShapes(names: string[], vars: tf.Tensor[], logpShape: number[]): number[] {
    const fn = `${this.name}.step`;
    const kernel = this.name;
    names.forEach((name, i) => {
      const s = vars[i].shape;
      if (s.length < logpShape.length || !sameShape(s.slice(0, logpShape.length), logpShape)) {
        throw new Error(
          `${fn}: the log density has shape ${shapeStr(logpShape)} (the chain shape), which ` +
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
        `${fn}: the log density has shape ${shapeStr(logpShape)}, but this sampler's chains ` +
          `have shape ${shapeStr(this.chainShape)}; use one ${kernel} per set of chains`,
      );
    }
    const known = [...this.latentShapes.keys()];
    if (known.length !== names.length || names.some((n) => !this.latentShapes!.has(n))) {
      throw new Error(
        `${fn}: latent names [${names.join(', ')}] differ from the first step's ` +
          `[${known.join(', ')}]; use one ${kernel} per set of chains`,
      );
    }
    names.forEach((name, i) => {
      const first = this.latentShapes!.get(name)!;
      if (!sameShape(first, vars[i].shape)) {
        throw new Error(
          `${fn}: latent '${name}' has shape ${shapeStr(vars[i].shape)}, but ` +
            `${shapeStr(first)} on the first step; use one ${kernel} per set of chains`,
        );
      }
    });
    return this.chainShape;
  }
}
