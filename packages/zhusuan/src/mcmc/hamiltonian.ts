/**
 * The Hamiltonian dynamics that HMC and NUTS share (numpyro's
 * `velocity_verlet` and `euclidean_kinetic_energy`): the log density and its
 * gradient, the kinetic energy of a diagonal mass, momentum draws and the
 * leapfrog integrator. Internal to the library.
 *
 * Conventions: a state is a list of tensors, one per latent, each of shape
 * `[...chains, ...event]`; the log density has the chain shape; the mass M
 * is diagonal, one tensor per latent of shape `[1,…,1, ...event]` (null for
 * the identity); momenta are p ~ N(0, M) and the kinetic energy ½ pᵀM⁻¹p.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addScaled, seededNormal } from '../kernels.js';
import { nextSeed } from '../random.js';
import { valueAndGrads } from './target.js';

/** The log density per chain of the latent values (in the kernel's latent order). */
export type LogDensityFn = (qs: tf.Tensor[]) => tf.Tensor;

/**
 * A leapfrog step size: one number for every chain, or one tensor per latent
 * holding a step per chain, shaped to broadcast against that latent
 * (`[...chains, 1,…,1]`; negative to integrate backwards in time).
 */
export type StepSize = number | tf.Tensor[];

/**
 * Per-chain log density and the gradients of its sum at `qs` (zeros for a
 * latent it ignores).
 * @param fn the caller's name, for error messages.
 */
export function valueAndGrad(
  fn: string,
  logDensity: LogDensityFn,
  qs: tf.Tensor[],
): { logp: tf.Tensor; grads: tf.Tensor[] } {
  const { value, grads } = valueAndGrads(fn, logDensity, qs);
  return { logp: value, grads: qs.map((q, i) => grads[i] ?? tf.zerosLike(q)) };
}

/** The axes of `t` after its `nChainDims` leading chain axes. */
function eventAxes(t: tf.Tensor, nChainDims: number): number[] {
  return Array.from({ length: t.rank - nChainDims }, (_, k) => nChainDims + k);
}

/**
 * Σ over latents and event axes of `a·b/M` per chain (shape `[...chains]`):
 * M⁻¹-weighted inner products of momenta.
 */
export function massDot(
  a: tf.Tensor[],
  b: tf.Tensor[],
  mass: tf.Tensor[] | null,
  nChainDims: number,
): tf.Tensor {
  return tf.tidy(() =>
    a
      .map((ai, i) => {
        const prod = tf.mul(mass === null ? ai : tf.div(ai, mass[i]), b[i]);
        const axes = eventAxes(ai, nChainDims);
        return axes.length === 0 ? prod : tf.sum(prod, axes);
      })
      .reduce((x, y) => tf.add(x, y)),
  );
}

/** The kinetic energy ½ Σ_event p²/M per chain (shape `[...chains]`). */
export function kinetic(p: tf.Tensor[], mass: tf.Tensor[] | null, nChainDims: number): tf.Tensor {
  return tf.tidy(() =>
    p
      .map((pi, i) => {
        const sq = mass === null ? tf.square(pi) : tf.div(tf.square(pi), mass[i]);
        const axes = eventAxes(pi, nChainDims);
        return tf.mul(axes.length === 0 ? sq : tf.sum(sq, axes), 0.5);
      })
      .reduce((a, b) => tf.add(a, b)),
  );
}

/** Momenta p ~ N(0, M), one tensor per latent: standard normals scaled by √M. */
export function drawMomentum(vars: tf.Tensor[], mass: tf.Tensor[] | null): tf.Tensor[] {
  return vars.map((v, i) => {
    const e = seededNormal(v.shape, nextSeed());
    return mass === null ? e : tf.mul(e, tf.sqrt(mass[i]));
  });
}

/**
 * x + t·ε·f, ε a number or per-latent tensors (latent `i`'s): one fused
 * kernel for a number where the backend has it (see `addScaled`), the same
 * numbers as the Multiply and Add it replaces.
 */
function stepBy(x: tf.Tensor, t: tf.Tensor, eps: StepSize, f: number, i: number): tf.Tensor {
  if (typeof eps === 'number') return addScaled(x, t, eps * f);
  return tf.add(x, tf.mul(t, f === 1 ? eps[i] : tf.mul(eps[i], f)));
}

/**
 * `nSteps` leapfrog steps from (q, p) with the gradient `g0` at q: a half
 * step of the momentum, alternating full steps of position and momentum,
 * and a closing half step (one step is velocity Verlet). Each step is its
 * own tidy scope; returns the end point, its momentum, log density and
 * gradient.
 */
export function leapfrog(
  fn: string,
  logDensity: LogDensityFn,
  q0: tf.Tensor[],
  p0: tf.Tensor[],
  g0: tf.Tensor[],
  eps: StepSize,
  nSteps: number,
  mass: tf.Tensor[] | null,
): { q: tf.Tensor[]; p: tf.Tensor[]; logp: tf.Tensor; grads: tf.Tensor[] } {
  let q = q0;
  let p = tf.tidy(() => p0.map((pi, i) => stepBy(pi, g0[i], eps, 0.5, i)));
  let logp: tf.Tensor | null = null;
  let grads: tf.Tensor[] = [];
  for (let s = 1; s <= nSteps; s++) {
    const [prevQ, prevP, prevLogp, prevGrads] = [q, p, logp, grads];
    const out = tf.tidy(() => {
      const qn = q.map((qi, i) =>
        stepBy(qi, mass === null ? p[i] : tf.div(p[i], mass[i]), eps, 1, i),
      );
      const { logp: lp, grads: gs } = valueAndGrad(fn, logDensity, qn);
      const h = s < nSteps ? 1 : 0.5;
      const pn = p.map((pi, i) => stepBy(pi, gs[i], eps, h, i));
      return { qn, pn, lp, gs };
    });
    q = out.qn;
    p = out.pn;
    logp = out.lp;
    grads = out.gs;
    if (prevQ !== q0) prevQ.forEach((t) => t.dispose());
    prevP.forEach((t) => t.dispose());
    prevLogp?.dispose();
    prevGrads.forEach((t) => t.dispose());
  }
  return { q, p, logp: logp!, grads };
}

/**
 * A plain array of `values` (a tensor's `dataSync()`), copied by a loop:
 * `Array.from` walks a typed array through its iterator, ~25 us for the
 * log densities of 1000 chains against ~1 us.
 */
export function toNumbers(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/**
 * The energy error ΔH = H(end) − H(start) per chain, H = −log p + K,
 * in float64; +∞ where the end point's log density is not finite or ΔH is
 * NaN (numpyro's convention: such a point is rejected and divergent).
 */
export function energyErrors(
  lp0: ArrayLike<number>,
  k0: ArrayLike<number>,
  lp1: ArrayLike<number>,
  k1: ArrayLike<number>,
): number[] {
  // A loop rather than Array.from with a map function (~35 us for 1000
  // chains, against a few).
  const out = new Array<number>(lp0.length);
  for (let c = 0; c < lp0.length; c++) {
    const d = -lp1[c] + k1[c] - (-lp0[c] + k0[c]);
    out[c] = Number.isFinite(lp1[c]) && !Number.isNaN(d) ? d : Infinity;
  }
  return out;
}

/** min(1, e^{−ΔH}): the Metropolis acceptance probability of an energy error. */
export function acceptProb(energyError: number): number {
  // e^0 = 1 without the exponential where ΔH ≤ 0 (about half the proposals).
  return energyError <= 0 ? 1 : Math.exp(-energyError);
}
