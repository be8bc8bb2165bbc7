/**
 * The planar flow of Rezende & Mohamed (2015), as ZhuSuan's
 * `planar_normalizing_flow` (zhusuan/transform.py) builds each step:
 * f(z) = z + u·tanh(w·z + b), with u reparameterised from a free û so that
 * w·u = softplus(w·û) − 1 > −1, which keeps f invertible (their appendix A).
 *
 * f has no closed-form inverse. It has a cheap numerical one: with α = w·z,
 * w·f(z) = α + (w·u)·tanh(α + b) is increasing in α, so α is the root of a
 * scalar equation bracketed by w·y ± |w·u|, found by bisection and one
 * Newton step (which also carries the gradient, by the implicit function
 * theorem), and z = y − u·tanh(α + b). ZhuSuan has no inverse at all.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from '../distributions/internal.js';
import { fusedPlanarStep } from '../kernels.js';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { normalInit, seedStream, variable } from './internal.js';

/** Bisection steps of the inverse: the bracket shrinks to 2|w·u|·2⁻³⁰ before the Newton step. */
const BISECTIONS = 30;

/** Options of {@link PlanarFlow}. */
export interface PlanarFlowOptions {
  /** Seed of the initial values; default: one drawn from `zs.random`. */
  seed?: number;
  /**
   * Standard deviation of the Normal initial values of w and û (b starts at
   * 0). Default 0.1; ZhuSuan uses 0.005, which makes the 1/‖w‖² in u's
   * reparameterisation, and so the first gradients, very large.
   */
  initStd?: number;
}

/**
 * u made from û (scalars but u): w·û, w·u = softplus(w·û) − 1, ‖w‖²,
 * c = (w·u − w·û)/‖w‖² and u = û + c·w.
 */
function planarParams(w: tf.Tensor, uHat: tf.Tensor) {
  const wuHat = tf.sum(tf.mul(w, uHat));
  const wu = tf.sub(tf.softplus(wuHat), 1);
  const sw = tf.sum(tf.square(w));
  const c = tf.div(tf.sub(wu, wuHat), sw);
  return { wuHat, wu, sw, c, u: tf.add(uHat, tf.mul(c, w)) };
}

/** h = tanh(x·w + b) for the rows of `x2` [rows, dim]: [rows]. */
function planarH(x2: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tanh(tf.add(tf.squeeze(tf.matMul(x2, tf.reshape(w, [-1, 1])), [1]), b));
}

/**
 * One planar step as a single op of (x, w, û, b): `[..., dim + 1]` holding
 * y = x + u·h and log(1 + (1 − h²)·w·u) side by side. Its forward kernels
 * run off the tape and its gradient is written out (below), which does a
 * fraction of the work autodiff does through the composite: the flows of
 * vae_nf take twenty such steps per evaluation.
 *
 * With a = x·w + b, h = tanh a, h' = 1 − h², D = 1 + h'·(w·u), the upstream
 * gradients dy [rows, dim] and dl [rows]:
 *   dh = dy·u − 2·h·(w·u)·dl/D,   da = h'·dh,   dx = dy + da ⊗ w,
 *   du = Σ h·dy,   d(w·u) = Σ h'·dl/D,   db = Σ da,
 * and through u = û + c·w, c = (w·u − w·û)/‖w‖², w·u = softplus(w·û) − 1,
 * w·û = w·û: dc = du·w, d(w·u) += dc/‖w‖², d(w·û) = (d(w·u))·σ(w·û) −
 * dc/‖w‖², dw = Σ da·x + c·du − 2·w·c·dc/‖w‖² + d(w·û)·û, dû = du + d(w·û)·w.
 */
const planarStep = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, uHat, b] = args as tf.Tensor[];
  (args[4] as tf.GradSaveFunc)([x, w, uHat, b]);
  const dim = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, dim]);
  const { wu, u } = planarParams(w, uHat);
  const h = planarH(x2, w, b);
  const y = tf.add(x2, tf.mul(tf.expandDims(h, 1), u));
  const ld = tf.log1p(tf.mul(tf.sub(1, tf.square(h)), wu));
  const value = tf.reshape(tf.concat([y, tf.expandDims(ld, 1)], 1), [...lead, dim + 1]);
  return {
    value,
    gradFunc: (dv: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, ws, uh, bs] = saved;
      const g = tf.reshape(dv as tf.Tensor, [-1, dim + 1]);
      const [dy, dl1] = tf.split(g, [dim, 1], 1);
      const dl = tf.squeeze(dl1, [1]);
      const xr = tf.reshape(xs, [-1, dim]);
      const p = planarParams(ws, uh);
      const h = planarH(xr, ws, bs);
      const hp = tf.sub(1, tf.square(h));
      const dlD = tf.div(dl, tf.add(1, tf.mul(hp, p.wu))); // dl / D
      const dh = tf.sub(
        tf.squeeze(tf.matMul(dy, tf.reshape(p.u, [-1, 1])), [1]),
        tf.mul(tf.mul(tf.mul(h, p.wu), 2), dlD),
      );
      const da = tf.mul(hp, dh);
      const dx = tf.add(dy, tf.mul(tf.expandDims(da, 1), ws));
      const du = tf.squeeze(tf.matMul(tf.expandDims(h, 0), dy), [0]);
      const db = tf.sum(da);
      const dc = tf.sum(tf.mul(du, ws));
      const dWu = tf.add(tf.sum(tf.mul(hp, dlD)), tf.div(dc, p.sw));
      const dWuHat = tf.sub(tf.mul(dWu, tf.sigmoid(p.wuHat)), tf.div(dc, p.sw));
      const dw = tf.addN([
        tf.squeeze(tf.matMul(tf.expandDims(da, 0), xr), [0]),
        tf.mul(p.c, du),
        tf.mul(tf.mul(ws, -2), tf.div(tf.mul(p.c, dc), p.sw)),
        tf.mul(dWuHat, uh),
      ]);
      const dUHat = tf.add(du, tf.mul(dWuHat, ws));
      return [tf.reshape(dx, xs.shape), dw, dUHat, tf.reshape(db, bs.shape)];
    },
  };
});

/**
 * One planar flow step on the last axis: y = z + u·tanh(w·z + b),
 * log |det ∂y/∂z| = log(1 + (1 − tanh²(w·z + b))·w·u). Variables `w` [dim],
 * `uHat` [dim] (ZhuSuan's `aux_u`) and `b` [].
 * @example
 * const flow = new zs.Sequential(Array.from({ length: 10 }, (_, i) => new zs.PlanarFlow(40, { seed: i })));
 * const q = new zs.FlowDistribution({ base: new zs.Normal({ mean, logstd, groupNdims: 1 }), bijector: flow });
 */
export class PlanarFlow extends Bijector {
  /** w in z + u·tanh(w·z + b). */
  readonly w: tf.Variable;
  /** û, from which u is made so that w·u > −1. */
  readonly uHat: tf.Variable;
  /** The bias b. */
  readonly b: tf.Variable;

  constructor(dim: number, opts: PlanarFlowOptions = {}) {
    super('PlanarFlow', dim);
    const std = opts.initStd ?? 0.1;
    if (!(std > 0 && Number.isFinite(std))) {
      throw new Error(`PlanarFlow: \`initStd\` must be a finite positive number, got ${std}`);
    }
    const seed = seedStream('PlanarFlow', opts.seed);
    this.w = variable(normalInit([dim], std, seed));
    this.uHat = variable(normalInit([dim], std, seed));
    this.b = variable(tf.scalar(0));
  }

  get variables(): tf.Variable[] {
    return [this.w, this.uHat, this.b];
  }

  /** w·u = softplus(w·û) − 1 (a scalar), and u itself [dim]. */
  private params(): { wu: tf.Tensor; u: tf.Tensor } {
    return planarParams(this.w, this.uHat);
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    // One kernel forward and one backward where the backend has them.
    const fused = fusedPlanarStep(x, this.w, this.uHat, this.b);
    if (fused !== null) return fused;
    // Else y and the log-determinant side by side, [..., dim + 1], from one
    // op with a hand-written gradient (planarStep), then split.
    const dim = x.shape[x.rank - 1];
    const both = planarStep(x, this.w, this.uHat, this.b) as tf.Tensor;
    const [y, logDet] = tf.split(both, [dim, 1], -1);
    return { y, logDet: tf.squeeze(logDet, [-1]) };
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    const { wu, u } = this.params();
    const s = tf.sum(tf.mul(y, this.w), -1);
    // g(α) = α + (w·u)·tanh(α + b) − w·y, increasing, root in w·y ± |w·u|.
    const g = (a: tf.Tensor, wu_: tf.Tensor, b_: tf.Tensor, s_: tf.Tensor): tf.Tensor =>
      tf.sub(tf.add(a, tf.mul(wu_, tf.tanh(tf.add(a, b_)))), s_);
    const alpha0 = withoutGradient([s, wu, this.b], (s_, wu_, b_) => {
      const r = tf.abs(wu_);
      let lo = tf.sub(s_, r);
      let hi = tf.add(s_, r);
      for (let i = 0; i < BISECTIONS; i++) {
        const next = tf.tidy(() => {
          const mid = tf.mul(tf.add(lo, hi), 0.5);
          const above = tf.greater(g(mid, wu_, b_, s_), 0);
          return [tf.where(above, lo, mid), tf.where(above, mid, hi)];
        });
        tf.dispose([lo, hi]);
        [lo, hi] = next;
      }
      return tf.mul(tf.add(lo, hi), 0.5);
    });
    const t0 = tf.tanh(tf.add(alpha0, this.b));
    const slope = tf.add(1, tf.mul(wu, tf.sub(1, tf.square(t0))));
    const alpha = tf.sub(alpha0, tf.div(g(alpha0, wu, this.b, s), slope));
    const h = tf.tanh(tf.add(alpha, this.b));
    return {
      x: tf.sub(y, tf.mul(tf.expandDims(h, -1), u)),
      logDet: tf.neg(tf.log1p(tf.mul(tf.sub(1, tf.square(h)), wu))),
    };
  }

  protected _dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
