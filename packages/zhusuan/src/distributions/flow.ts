/**
 * A normalizing flow as a distribution (port of ZhuSuan-PyTorch's
 * `distributions/flow_distribution.py`, in distrax's `Transformed` design):
 * a base distribution pushed through a {@link Bijector}, y = f(x), with
 * log q(y) = log p(x) − log |det ∂f/∂x| (change of variables).
 *
 * `logProb(y)` inverts f (`bijector.inverse`). The log density of the
 * distribution's own draws can also come from the forward pass, with no
 * inverse: `sampleAndLogProb` returns both, and with `cacheLogProb` every
 * `sample()` keeps its draw's log density, which `logProb` of that very
 * tensor returns. That is how ZhuSuan's flows give log q of their samples,
 * and how a flow node of a variational net (`bn.flow`) feeds the objectives.
 * Unlike the PyTorch port, samples are reparameterised when the base's are,
 * and `sample(1)` has its sample axis.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';
import { Bijector } from '../flows/bijector.js';
import { stopGradient, sumLast } from '../utils.js';
import { Distribution, type DistributionOptions } from './base.js';

/** Parameters of {@link FlowDistribution}. */
export interface FlowDistributionOptions extends DistributionOptions {
  /**
   * The base distribution, continuous, giving one log density per vector
   * along its last axis: value shape [D] (e.g. MultivariateNormalCholesky),
   * or a univariate family with `groupNdims: 1` (e.g. Normal).
   */
  base: Distribution;
  /** The invertible transformation, acting on that last axis (its `dim` is D). */
  bijector: Bijector;
  /**
   * Keep the log density of every draw of `sample()`, for `logProb` of that
   * tensor (exact, and with no inverse pass). The kept tensors are freed
   * with the `tf.tidy` scope the draw was made in, or by `dispose()`.
   * Default: false, unless the bijector has no inverse (then it is the only
   * way to a log density). `bn.flow` nodes default to true. Ignored when the
   * base is not reparameterised: then the samples carry no gradient, and
   * log q must be differentiated at fixed samples, through the inverse.
   */
  cacheLogProb?: boolean;
}

/**
 * The distribution of y = f(x), x ~ base, for a bijector f on the base's last
 * axis: batch shape the base's full shape less that axis, value shape [D].
 * Reparameterised when the base is.
 * @example
 * const flow = new zs.Sequential([new zs.AffineCoupling(2, { seed: 1 }), new zs.Reverse(2)]);
 * const q = new zs.FlowDistribution({
 *   base: new zs.Normal({ mean: tf.zeros([2]), std: 1, groupNdims: 1 }),
 *   bijector: flow,
 * });
 * const y = q.sample(100);   // [100, 2]
 * q.logProb(y);              // [100], through flow.inverse
 */
export class FlowDistribution extends Distribution {
  /** The base distribution, pushed through {@link bijector}. */
  readonly base: Distribution;
  /** The invertible map applied to the base samples. */
  readonly bijector: Bijector;
  /** Whether each `sample()` keeps its draw's log density for `logProb` of that tensor. */
  readonly cacheLogProb: boolean;
  /** Draw → its log density (ungrouped), for `cacheLogProb`. */
  private readonly kept = new Map<tf.Tensor, tf.Tensor>();

  constructor(opts: FlowDistributionOptions) {
    const name = 'FlowDistribution';
    const { base, bijector } = opts ?? {};
    if (!(base instanceof Distribution)) {
      throw new Error(`${name}: \`base\` must be a zs.Distribution (e.g. a zs.Normal)`);
    }
    if (!(bijector instanceof Bijector)) {
      throw new Error(
        `${name}: \`bijector\` must be a zs.Bijector (e.g. a zs.Sequential of flows)`,
      );
    }
    if (!base.isContinuous || base.dtype !== 'float32') {
      throw new Error(
        `${name}: the base distribution must be continuous (float32), got ${base.name}`,
      );
    }
    if (base.valueShape.length + base.groupNdims !== 1) {
      throw new Error(
        `${name}: the base distribution must give one log density per vector along its last ` +
          `axis, but ${base.name} has value shape [${base.valueShape}] and groupNdims ` +
          `${base.groupNdims}: build a univariate base with groupNdims: 1`,
      );
    }
    const full = [...base.batchShape, ...base.valueShape];
    const dim = full[full.length - 1];
    if (dim !== bijector.dim) {
      throw new Error(
        `${name}: the base's last axis has size ${dim} (shape [${full}]) but the bijector ` +
          `(${bijector.name}) has dim ${bijector.dim}`,
      );
    }
    if (!bijector.hasInverse && !base.isReparameterized) {
      throw new Error(
        `${name}: a base that is not reparameterised (${base.name}) needs a bijector with an ` +
          `inverse (score-function gradients take log q at fixed samples); ${bijector.name} has none`,
      );
    }
    const cache = base.isReparameterized && (opts.cacheLogProb ?? !bijector.hasInverse);
    if (!cache && !bijector.hasInverse) {
      throw new Error(
        `${name}: \`cacheLogProb\` false needs a bijector with an inverse; ${bijector.name} has none`,
      );
    }
    super({
      name,
      dtype: 'float32',
      isContinuous: true,
      isReparameterized: base.isReparameterized,
      batchShape: full.slice(0, -1),
      valueShape: [dim],
      groupNdims: opts.groupNdims,
      validateArgs: opts.validateArgs,
    });
    this.base = base;
    this.bijector = bijector;
    this.cacheLogProb = cache;
  }

  /**
   * Draws samples (see `Distribution.sample`); with `cacheLogProb`, keeps
   * their log density for {@link logProb}.
   */
  override sample(nSamples?: number): tf.Tensor {
    if (!this.cacheLogProb) return super.sample(nSamples);
    const { sample, logProb } = this.draw(nSamples);
    this.keep(sample, logProb);
    return sample;
  }

  /**
   * Samples and their log densities from one forward pass (no inverse):
   * distrax's `sample_and_log_prob`. (With a base that is not
   * reparameterised, the log densities go through the inverse.)
   * @returns `sample` `[nSamples?, ...batchShape, D]` and `logProb`
   *   `[nSamples?, ...batchShape]` less the last `groupNdims` batch axes.
   */
  sampleAndLogProb(nSamples?: number): {
    /** The draws. */
    sample: tf.Tensor;
    /** Their log densities. */
    logProb: tf.Tensor;
  } {
    if (!this.isReparameterized) {
      // Through the inverse: its gradient is the score at the fixed sample.
      const sample = this.sample(nSamples);
      return { sample, logProb: this.logProb(sample) };
    }
    const { sample, logProb } = this.draw(nSamples);
    const grouped = tf.tidy(() => sumLast(logProb, this.groupNdims));
    if (grouped !== logProb) logProb.dispose();
    return { sample, logProb: grouped };
  }

  /** Frees the log densities kept by `sample()` (not the base, nor the bijector). */
  dispose(): void {
    tf.dispose([...this.kept.values()]);
    this.kept.clear();
  }

  private draw(nSamples?: number): { sample: tf.Tensor; logProb: tf.Tensor } {
    if (nSamples !== undefined) {
      assertInteger(`${this.name}.sample`, 'nSamples', nSamples, 'positive');
    }
    return tf.tidy(() => {
      const x = this.base.sample(nSamples);
      const { y, logDet } = this.bijector.forward(x);
      return { sample: this.detach(y), logProb: tf.sub(this.base.logProb(x), logDet) };
    });
  }

  /** Keeps `logProb` for `sample`, forgetting draws disposed since. */
  private keep(sample: tf.Tensor, logProb: tf.Tensor): void {
    for (const [s, lp] of this.kept) {
      if (s.isDisposed || lp.isDisposed) {
        lp.dispose();
        this.kept.delete(s);
      }
    }
    this.kept.set(sample, logProb);
  }

  protected _sample(n: number): tf.Tensor {
    return this.detach(this.bijector.forward(this.base.sample(n)).y);
  }

  /** `y` without a gradient unless the distribution is reparameterised (the flow's parameters would give it one). */
  private detach(y: tf.Tensor): tf.Tensor {
    return this.isReparameterized ? y : stopGradient(y);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const kept = this.kept.get(given);
    if (kept !== undefined && !kept.isDisposed) return tf.clone(kept);
    if (!this.bijector.hasInverse) {
      throw new Error(
        `${this.name}: the bijector (${this.bijector.name}) has no inverse, so logProb is ` +
          'available only for draws of this distribution made inside the current tf.tidy ' +
          'scope (sample() with cacheLogProb, or sampleAndLogProb)',
      );
    }
    const { x, logDet } = this.bijector.inverse(given);
    return tf.add(this.base.logProb(x), logDet);
  }
}
