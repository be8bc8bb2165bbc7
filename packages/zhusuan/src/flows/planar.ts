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
    const wuHat = tf.sum(tf.mul(this.w, this.uHat));
    const wu = tf.sub(tf.softplus(wuHat), 1);
    const u = tf.add(
      this.uHat,
      tf.mul(tf.div(tf.sub(wu, wuHat), tf.sum(tf.square(this.w))), this.w),
    );
    return { wu, u };
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    const { wu, u } = this.params();
    const h = tf.tanh(tf.add(tf.sum(tf.mul(x, this.w), -1), this.b));
    return {
      y: tf.add(x, tf.mul(tf.expandDims(h, -1), u)),
      logDet: tf.log1p(tf.mul(tf.sub(1, tf.square(h)), wu)),
    };
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
