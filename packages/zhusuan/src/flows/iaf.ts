/**
 * One step of inverse autoregressive flow (Kingma et al., 2016; ZhuSuan's
 * `inv_autoregressive_flow` in zhusuan/transform.py runs n of them with a
 * reversal after each, see {@link invAutoregressiveFlow}): m, s = MADE(z),
 * then either the gated update ('gru', the paper's numerically stable form)
 *   σ = sigmoid(s), z' = σ ⊙ z + (1 − σ) ⊙ m, log |det| = Σ log σ,
 * or the affine one ('normal'), z' = exp(s) ⊙ z + m, log |det| = Σ s.
 * The Jacobian is triangular in MADE's order, hence the cheap determinant.
 *
 * The inverse is sequential over the dimensions: x_i needs m_i and s_i,
 * which depend on x before i, so `dim` passes of MADE solve one dimension
 * each, x_i = (y_i − (1 − σ_i)·m_i) / σ_i, in MADE's order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import type { Activation } from './internal.js';
import { MADE } from './made.js';

/** Options of {@link InverseAutoregressiveFlow}. */
export interface InverseAutoregressiveFlowOptions {
  /** MADE's hidden layer sizes. Default `[]`: ZhuSuan's `linear_ar`. */
  hiddenSizes?: number[];
  /**
   * ZhuSuan's names: 'gru' (default), z' = σ(s) ⊙ z + (1 − σ(s)) ⊙ m;
   * 'normal', z' = exp(s) ⊙ z + m.
   */
  update?: 'gru' | 'normal';
  /** The autoregressive order (MADE's `order`). Default 0, 1, …, dim − 1. */
  order?: number[];
  /** Activation of MADE's hidden layers. Default 'relu'. */
  activation?: Activation;
  /**
   * Initial bias of s. Default 1 with 'gru' (σ ≈ 0.73: the step starts
   * close to the identity, as Kingma et al. recommend), 0 with 'normal'.
   */
  sBias?: number;
  /** Seed of MADE's initial weights; default: one drawn from `zs.random`. */
  seed?: number;
}

/**
 * An IAF step on the last axis, with its MADE network as `made`.
 * @example
 * const iaf = new zs.Sequential([
 *   new zs.InverseAutoregressiveFlow(2, { hiddenSizes: [16], seed: 1 }),
 *   new zs.Reverse(2),
 *   new zs.InverseAutoregressiveFlow(2, { hiddenSizes: [16], seed: 2 }),
 * ]);
 */
export class InverseAutoregressiveFlow extends Bijector {
  /** The autoregressive network giving m and s. */
  readonly made: MADE;
  /** The update rule: `'gru'` σ(s)⊙z + (1−σ(s))⊙m, or `'normal'` exp(s)⊙z + m. */
  readonly update: 'gru' | 'normal';

  constructor(dim: number, opts: InverseAutoregressiveFlowOptions = {}) {
    super('InverseAutoregressiveFlow', dim);
    const update = opts.update ?? 'gru';
    if (update !== 'gru' && update !== 'normal') {
      throw new Error(
        `InverseAutoregressiveFlow: \`update\` must be 'gru' or 'normal', got '${update}'`,
      );
    }
    this.update = update;
    this.made = new MADE(dim, {
      hiddenSizes: opts.hiddenSizes,
      order: opts.order,
      activation: opts.activation,
      seed: opts.seed,
      nParams: 2,
      outputBias: [0, opts.sBias ?? (update === 'gru' ? 1 : 0)],
    });
  }

  get variables(): tf.Variable[] {
    return this.made.variables;
  }

  /** The step's scale and shift at z: z' = scale ⊙ z + shift, and log scale. */
  private affine(z: tf.Tensor): { scale: tf.Tensor; shift: tf.Tensor; logScale: tf.Tensor } {
    const [m, s] = this.made.apply(z);
    if (this.update === 'normal') return { scale: tf.exp(s), shift: m, logScale: s };
    const sigma = tf.sigmoid(s);
    // log σ = −softplus(−s), stable for large |s|.
    return {
      scale: sigma,
      shift: tf.mul(tf.sub(1, sigma), m),
      logScale: tf.neg(tf.softplus(tf.neg(s))),
    };
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    const { scale, shift, logScale } = this.affine(x);
    return { y: tf.add(tf.mul(scale, x), shift), logDet: tf.sum(logScale, -1) };
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    // Pass k solves for the k-th dimension in MADE's order, whose m and s
    // depend on the dimensions already solved only; the others stay 0 until
    // their turn (a value from a pass before theirs could overflow, and a
    // masked weight times ∞ is NaN).
    let x = tf.zerosLike(y);
    let logScale = x;
    for (const i of this.made.order) {
      const a = this.affine(x);
      const solved = tf.div(tf.sub(y, a.shift), a.scale);
      const pick = tf.tensor1d(Array.from({ length: this.dim }, (_, j) => (j === i ? 1 : 0)));
      x = tf.add(x, tf.mul(tf.sub(solved, x), pick));
      logScale = a.logScale;
    }
    // The last pass's log-scales were computed before it solved the last
    // dimension, on which none of them depends.
    return { x, logDet: tf.neg(tf.sum(logScale, -1)) };
  }

  protected _dispose(): void {
    this.made.dispose();
  }
}
