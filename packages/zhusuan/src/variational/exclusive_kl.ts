/**
 * The evidence lower bound, KL(q‖p) minimisation (port of
 * zhusuan/variational/exclusive_kl.py): the bound's value and its SGVB
 * (reparameterisation) and REINFORCE (score-function) surrogate costs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model, Observed } from '../framework/bn.js';
import { stopGradient } from '../utils.js';
import { checkAxis, logTerms, type VariationalOptions } from './base.js';

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
    this.value = tf.variable(tf.scalar(0), false);
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
 * The ELBO, E_q[log p(x, z) − log q(z)], for one batch.
 * Build with {@link elbo}.
 */
export class EvidenceLowerBound {
  constructor(
    /** log p(x, z) per sample. */
    readonly logJoint: tf.Tensor,
    /** log q(z) per sample. */
    readonly logQ: tf.Tensor,
    /** The sample axis averaged over, if any. */
    readonly axis: number | undefined,
  ) {}

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
   * reparameterisation gradient: q's samples must be reparameterised.
   */
  sgvb(): tf.Tensor {
    return tf.tidy(() => tf.neg(this.reduce(tf.sub(this.logJoint, this.logQ))));
  }

  /**
   * The REINFORCE (score function) surrogate cost, for q whose samples are not
   * reparameterised: −(stop(ℓ − b)·log q + log p) with ℓ = log p − log q.
   * Its value is not the bound; its gradient is an unbiased estimate of −∇ELBO.
   */
  reinforce(opts: ReinforceOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      let signal = stopGradient(tf.sub(this.logJoint, this.logQ));
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
      let cost = tf.neg(
        this.reduce(tf.add(tf.mul(stopGradient(signal), this.logQ), this.logJoint)),
      );
      if (baselineCost !== undefined) cost = tf.add(cost, this.reduce(baselineCost));
      return cost;
    });
  }
}

/**
 * The evidence lower bound of `model` for `observed`, with the latent
 * samples and log q taken from `opts.variational`.
 * @param model a meta net or a function `(observed) => BayesianNet`.
 * @example
 * const lb = zs.elbo((obs) => model.observe(obs, n, 1), { x }, { variational: q, axis: 0 });
 * const cost = tf.mean(lb.sgvb());   // minimise
 * const value = tf.mean(lb.tensor);  // the ELBO
 */
export function elbo(
  model: Model,
  observed: Observed,
  opts: VariationalOptions,
): EvidenceLowerBound {
  const { logP, logQ } = logTerms('elbo', model, observed, opts.variational);
  const axis = checkAxis('elbo', opts.axis, Math.max(logP.rank, logQ.rank));
  return new EvidenceLowerBound(logP, logQ, axis);
}
