/**
 * Hamiltonian Monte Carlo (port of zhusuan/hmc.py): leapfrog trajectories
 * of a fixed number of steps with a Metropolis test per chain, on the shared
 * kernel ({@link HamiltonianKernel}: step-size adaptation by dual averaging,
 * Stan's windowed diagonal mass adaptation, step-size jitter, divergences).
 *
 * Unlike ZhuSuan's graph-mode sampler, `step` runs one iteration eagerly and
 * assigns the new state to the latent `tf.Variable`s in place. Other
 * differences: dual averaging centres on μ = log(10·ε0) as in Hoffman &
 * Gelman (ZhuSuan uses 10·ε0), its default t0 is theirs (10; ZhuSuan 100),
 * the initial step-size search is theirs (doubling/halving around an
 * acceptance of 0.5), and the mass is estimated in Stan's windows
 * (ZhuSuan: an exponentially weighted moving variance of every warm-up
 * draw, which the transient from the starting points biases).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';
import { seededUniform } from '../kernels.js';
import { nextSeed } from '../random.js';
import { acceptProb, energyErrors, kinetic, leapfrog } from './hamiltonian.js';
import type { LogDensityFn } from './hamiltonian.js';
import {
  HamiltonianKernel,
  type HamiltonianOptions,
  type HmcInfo,
  type StartPoint,
  type Transition,
} from './kernel.js';

export type { HmcInfo, LatentVariables } from './kernel.js';

/** Options of {@link HMC}. */
export interface HmcOptions extends HamiltonianOptions {
  /** Leapfrog steps per iteration. Default 10. */
  nLeapfrogs?: number;
}

/**
 * Hamiltonian Monte Carlo over the latent variables of a model (Neal, 2011),
 * with step-size adaptation by dual averaging (Hoffman & Gelman, 2014) and
 * diagonal mass adaptation in Stan's windows.
 *
 * Chains: the target's log density has the chain shape S (`[]` for one chain,
 * `[nChains]` for several, or more axes); every latent has shape
 * `[...S, ...event]`. Each chain is accepted or rejected on its own; the
 * step size (and mass) are shared. One sampler serves one set of chains: the
 * shapes seen on the first step are required afterwards.
 *
 * Adaptation makes the chain non-Markovian: run it during warm-up only. With
 * `nWarmup` it ends by itself after that many steps; without, call
 * {@link HMC.stopAdaptation} before collecting samples. A fixed trajectory
 * length ε·L can resonate with the target (a direction that turns a whole
 * number of periods barely moves): `stepSizeJitter` (e.g. 0.5) breaks that,
 * and {@link NUTS} chooses the length per step.
 *
 * Holds small variables for the mass adaptation: call `dispose()` when done.
 * @example
 * const z = tf.variable(tf.zeros([nChains, 2]));
 * const hmc = new zs.HMC({
 *   nLeapfrogs: 10, adaptStepSize: true, adaptMass: true, nWarmup: 500, stepSizeJitter: 0.5,
 * });
 * for (let i = 0; i < 1500; i++) {
 *   const info = hmc.step(model, { x }, { z }); // z now holds the new samples
 *   if (i >= 500) keep(z.arraySync());
 * }
 * hmc.dispose();
 */
export class HMC extends HamiltonianKernel {
  /** Leapfrog steps per iteration. */
  readonly nLeapfrogs: number;

  constructor(opts: HmcOptions = {}) {
    super('HMC', opts, false);
    const n = opts.nLeapfrogs ?? 10;
    assertInteger('HMC', 'nLeapfrogs', n, 'positive');
    this.nLeapfrogs = n;
  }

  /**
   * `nLeapfrogs` leapfrog steps from the start with fresh momenta, and a
   * Metropolis test per chain (a proposal whose log density is NaN or not
   * finite is rejected).
   */
  protected transition(
    logDensity: LogDensityFn,
    start: StartPoint,
    eps: number,
    mass: tf.Tensor[] | null,
    chainShape: number[],
  ): Transition {
    const end = leapfrog(
      'HMC.step',
      logDensity,
      start.q,
      start.p,
      start.grads,
      eps,
      this.nLeapfrogs,
      mass,
    );
    const k1 = kinetic(end.p, mass, chainShape.length).dataSync();
    const lp1 = end.logp.dataSync();
    const energyError = energyErrors(start.logp, start.kinetic, lp1, k1);
    const acceptance = energyError.map(acceptProb);
    const u = seededUniform(chainShape, nextSeed()).dataSync();
    const take = acceptance.map((a, c) => u[c] < a);
    return {
      q: end.q,
      take,
      logProb: take.map((a, c) => (a ? lp1[c] : start.logp[c])),
      acceptance,
      energyError,
      divergent: energyError.map((d) => !(d <= this.maxDeltaEnergy)),
      nLeapfrogs: acceptance.map(() => this.nLeapfrogs),
    };
  }

  protected makeInfo(base: HmcInfo): HmcInfo {
    return base;
  }
}
