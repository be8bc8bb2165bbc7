/**
 * The evidence lower bound, KL(q‖p) minimisation (port of
 * zhusuan/variational/exclusive_kl.py): the bound's value and its SGVB
 * (reparameterisation) and REINFORCE (score-function) surrogate costs.
 * Unlike ZhuSuan, neither gives a silently wrong gradient: `sgvb()` refuses a
 * q whose samples are not reparameterised, and `reinforce()` holds q's
 * samples constant, so a reparameterised q gets the score-function gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model, Observed } from '../framework/bn.js';
import { stopGradient } from '../utils.js';
import {
  latentSource,
  VariationalObjective,
  type LatentSource,
  type VariationalOptions,
} from './base.js';

/**
 * An exponential moving average of the learning signal, the REINFORCE
 * baseline of ZhuSuan's `reinforce(variance_reduction=True)`. Holds one
 * variable: call `dispose()` when done.
 */
export class MovingAverageBaseline {
  private readonly value: tf.Variable;

  /** @param decay weight of the old average in each update, in [0, 1). */
  constructor(readonly decay = 0.8) {
    if (!(decay >= 0 && decay < 1)) {
      throw new Error(`MovingAverageBaseline: \`decay\` must lie in [0, 1), got ${decay}`);
    }
    // In a tidy: the initial scalar is freed, the variable (untracked) kept.
    this.value = tf.tidy(() => tf.variable(tf.scalar(0), false));
  }

  /** Current baseline value (a scalar). */
  get tensor(): tf.Scalar {
    return this.value as tf.Scalar;
  }

  /** Moves the average towards `signal`'s mean. */
  update(signal: tf.Tensor): void {
    tf.tidy(() => {
      const m = tf.mean(stopGradient(signal));
      this.value.assign(tf.add(tf.mul(this.value, this.decay), tf.mul(m, 1 - this.decay)));
    });
  }

  /** Frees the baseline's variable. */
  dispose(): void {
    this.value.dispose();
  }
}

/** Options of {@link EvidenceLowerBound.reinforce}. */
export interface ReinforceOptions {
  /** A moving-average baseline subtracted from the learning signal (updated on each call). */
  movingAverage?: MovingAverageBaseline;
  /**
   * A learned, input-dependent baseline (same shape as the signal); its own
   * squared-error cost is added to the returned cost so it trains too.
   */
  baseline?: tf.Tensor;
}

/**
 * The ELBO, E_q[log p(x, z) − log q(z)], for one batch. Build with
 * {@link elbo}. Exposes the model net it built (`.bn`) and q
 * (`.variational`); holds tensors: `dispose()` when done outside a scope.
 */
export class EvidenceLowerBound extends VariationalObjective {
  /** The sample axis averaged over, if any. */
  readonly axis: number | undefined;

  /** Use {@link elbo}. */
  constructor(model: Model, observed: Observed, src: LatentSource, axis: number | undefined) {
    super('elbo', model, observed, src, false);
    this.axis = this.validAxis(axis, Math.max(this.logJoint.rank, this.logQ.rank));
  }

  /** log p(x, z) per sample. */
  get logJoint(): tf.Tensor {
    return this.terms.logP;
  }

  /** log q(z) per sample. */
  get logQ(): tf.Tensor {
    return this.terms.logQ;
  }

  private reduce(x: tf.Tensor): tf.Tensor {
    if (this.axis === undefined) return x;
    // One sample: the mean is the value itself (a reshape, and a reshape
    // back in the gradient, instead of Mean and its broadcast division).
    if (x.shape[this.axis] === 1) return tf.squeeze(x, [this.axis]);
    return tf.mean(x, this.axis);
  }

  /** The bound's value: the mean over the sample axis of log p − log q. */
  get tensor(): tf.Tensor {
    return tf.tidy(() => this.reduce(tf.sub(this.logJoint, this.logQ)));
  }

  /**
   * The SGVB surrogate cost (−ELBO), to minimise. Its gradient is the
   * reparameterisation (pathwise) gradient.
   * @throws Error naming the latent node when a node of q is not
   * reparameterised (its samples carry no gradient): use {@link reinforce}.
   */
  sgvb(): tf.Tensor {
    this.requireReparameterized('elbo.sgvb', 'reinforce()');
    return tf.tidy(() => tf.neg(this.reduce(tf.sub(this.logJoint, this.logQ))));
  }

  /**
   * The REINFORCE (score function) surrogate cost:
   * −(stop(ℓ − b)·log q + log p) with ℓ = log p − log q, evaluated with q's
   * samples held constant, so a reparameterised q gets the score-function
   * gradient too (the model is built once more for it; build q with
   * `isReparameterized: false` to avoid that). Its value is not the bound;
   * its gradient is an unbiased estimate of −∇ELBO.
   */
  reinforce(opts: ReinforceOptions = {}): tf.Tensor {
    const { logP, logQ } = this.scoreTerms();
    return tf.tidy(() => {
      let signal = stopGradient(tf.sub(logP, logQ));
      let baselineCost: tf.Tensor | undefined;
      if (opts.baseline !== undefined) {
        baselineCost = tf.mul(tf.square(tf.sub(signal, opts.baseline)), 0.5);
        signal = tf.sub(signal, stopGradient(opts.baseline));
      }
      if (opts.movingAverage !== undefined) {
        const centred = tf.sub(signal, opts.movingAverage.tensor);
        opts.movingAverage.update(signal);
        signal = centred;
      }
      let cost = tf.neg(this.reduce(tf.add(tf.mul(stopGradient(signal), logQ), logP)));
      if (baselineCost !== undefined) cost = tf.add(cost, this.reduce(baselineCost));
      return cost;
    });
  }
}

/**
 * The evidence lower bound of `model` for `observed`, with the latent
 * samples and log q taken from `opts.variational` (or given as
 * `opts.latent`: node name → [samples, logQ]).
 * @param model a meta net (with its own `logJoint` if set) or a function
 *   `(observed) => BayesianNet`.
 * @example
 * const lb = zs.elbo((obs) => model.observe(obs, n, 1), { x }, { variational: q, axis: 0 });
 * const cost = tf.mean(lb.sgvb());   // minimise
 * const value = tf.mean(lb.tensor);  // the ELBO
 * const yMean = lb.bn.get('y_mean'); // a deterministic node of the model under q's samples
 */
export function elbo(
  model: Model,
  observed: Observed,
  opts: VariationalOptions,
): EvidenceLowerBound {
  const src = latentSource('elbo', observed, opts?.variational, opts?.latent);
  return new EvidenceLowerBound(model, observed, src, opts.axis);
}
