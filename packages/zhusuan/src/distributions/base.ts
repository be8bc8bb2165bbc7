/**
 * The Distribution base class (port of zhusuan/distributions/base.py).
 * Public `sample` and `logProb` handle the sample axis and `groupNdims`;
 * subclasses implement `_sample` and `_logProb` on the batch shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';
import { sumLast } from '../utils.js';
import { broadcastShapes } from './internal.js';

let globalValidateArgs = false;

/**
 * Switches value checks (e.g. `std > 0`, Bernoulli values in {0, 1}) on or off
 * for every distribution built afterwards without an explicit `validateArgs`.
 * They are off by default because each one reads tensor data back.
 */
export function setValidateArgs(on: boolean): void {
  globalValidateArgs = on;
}

/** Whether value checks are on by default (see {@link setValidateArgs}). */
export function getValidateArgs(): boolean {
  return globalValidateArgs;
}

/** A distribution parameter: a tensor or a plain number. */
export type Param = tf.Tensor | number;

/** Options every distribution takes. */
export interface DistributionOptions {
  /**
   * How many trailing batch axes form one event: `logProb` sums over them.
   * Default 0.
   */
  groupNdims?: number;
  /** Check parameter and argument values (reads data). Default: the global switch. */
  validateArgs?: boolean;
}

/** What a subclass tells the base class about itself. */
export interface DistributionSpec extends DistributionOptions {
  /** Name used in error messages, e.g. 'Normal'. */
  name: string;
  /** The dtype of samples ('float32' for continuous families). */
  dtype: tf.DataType;
  /** Whether the values are continuous (a density) rather than discrete (a mass function). */
  isContinuous: boolean;
  /** Whether samples are differentiable functions of the parameters. */
  isReparameterized: boolean;
  /** The broadcast shape of the parameters, less their value axes. */
  batchShape: number[];
  /** Shape of one draw beyond the batch shape ([] for univariate families). */
  valueShape?: number[];
}

/**
 * Base class of distributions.
 *
 * Shapes: a distribution has a `batchShape` (independent, possibly
 * non-identical members) and a `valueShape` (one draw of one member).
 * `sample()` returns `[...batchShape, ...valueShape]`; `sample(n)` adds a
 * leading sample axis of size n. `logProb(given)` returns the log density of
 * each batch member, with the last `groupNdims` batch axes summed out.
 */
export abstract class Distribution {
  /** Name used in error messages. */
  readonly name: string;
  /** The dtype of samples: 'float32' for continuous families, 'int32' or 'float32' for discrete ones. */
  readonly dtype: tf.DataType;
  /** Whether the values are continuous (`logProb` is a log density) or discrete (a log mass). */
  readonly isContinuous: boolean;
  /**
   * Whether samples are differentiable functions of the parameters (the
   * reparameterisation trick): SGVB needs it; REINFORCE does not.
   */
  readonly isReparameterized: boolean;
  /** Shape of the independent members: the parameters' broadcast shape, less value axes. */
  readonly batchShape: number[];
  /** Shape of one draw of one member: [] for univariate families, e.g. [K] for a Dirichlet. */
  readonly valueShape: number[];
  /** How many trailing batch axes `logProb` sums over (one event). */
  readonly groupNdims: number;
  /** Whether parameter and argument values are checked (which reads data back). */
  readonly validateArgs: boolean;

  protected constructor(spec: DistributionSpec) {
    this.name = spec.name;
    this.dtype = spec.dtype;
    this.isContinuous = spec.isContinuous;
    this.isReparameterized = spec.isReparameterized;
    this.batchShape = spec.batchShape;
    this.valueShape = spec.valueShape ?? [];
    this.validateArgs = spec.validateArgs ?? globalValidateArgs;
    const g = spec.groupNdims ?? 0;
    assertInteger(this.name, 'groupNdims', g, 'non-negative');
    if (g > this.batchShape.length) {
      throw new Error(
        `${this.name}: \`groupNdims\` (${g}) exceeds the rank of the batch shape [${this.batchShape}]`,
      );
    }
    this.groupNdims = g;
  }

  /**
   * Draws samples.
   * @param nSamples if given, the number of samples along a new leading axis;
   *   if omitted, one sample with no sample axis.
   * @returns shape `[nSamples?, ...batchShape, ...valueShape]`.
   */
  sample(nSamples?: number): tf.Tensor {
    if (nSamples === undefined) {
      return tf.tidy(() => tf.squeeze(this._sample(1), [0]));
    }
    assertInteger(`${this.name}.sample`, 'nSamples', nSamples, 'positive');
    return tf.tidy(() => this._sample(nSamples));
  }

  /**
   * Log density (or mass) of `given`, with the last `groupNdims` batch axes summed.
   * `given` must broadcast against `[...batchShape, ...valueShape]`; extra leading
   * axes (e.g. a sample axis) are kept.
   */
  logProb(given: tf.Tensor): tf.Tensor {
    this.checkGivenShape(given);
    if (this.validateArgs) this._validateGiven(given);
    return tf.tidy(() => {
      if (this.groupNdims > 0) {
        const grouped = this._logProbGrouped(given, this.groupNdims);
        if (grouped !== null) return grouped;
      }
      return sumLast(this._logProb(given), this.groupNdims);
    });
  }

  /** Density (or mass) of `given`: exp of {@link logProb}. */
  prob(given: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.exp(this.logProb(given)));
  }

  /** Throws unless `given` broadcasts against `[...batchShape, ...valueShape]`. */
  protected checkGivenShape(given: tf.Tensor): void {
    const full = [...this.batchShape, ...this.valueShape];
    broadcastShapes(this.name, ['given', given.shape], ['batch and value shape', full]);
  }

  /** Value checks on `given` (behind `validateArgs`); none by default. */
  protected _validateGiven(_given: tf.Tensor): void {}

  /** `n` samples with a leading sample axis: `[n, ...batchShape, ...valueShape]`. */
  protected abstract _sample(n: number): tf.Tensor;

  /** Elementwise log density, shape `broadcast(given, batch)` minus value axes. */
  protected abstract _logProb(given: tf.Tensor): tf.Tensor;

  /**
   * The log density with its last `groupNdims` (> 0) axes already summed,
   * for a subclass that computes both in one step (a fused backend kernel);
   * null, the default, to have {@link logProb} sum {@link _logProb}'s values.
   */
  protected _logProbGrouped(_given: tf.Tensor, _groupNdims: number): tf.Tensor | null {
    return null;
  }
}
