/**
 * The Student t distribution (port of ZhuSuan-PyTorch's
 * zhusuan/distributions/studentT.py StudentT; reparameterised in `loc` and
 * `scale` here, where the port's samples carry no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from '../checks.js';
import { seededNormal } from '../kernels.js';
import { nextSeed } from '../random.js';
import { lgammaHalfStep } from '../special.js';
import { stopGradient } from '../utils.js';
import { Distribution, type Param } from './base.js';
import { logStandardGammaDraws } from './gamma_sampler.js';
import {
  asFloat,
  broadcastShapes,
  continuousSpec,
  FLOAT32_MAX,
  readBroadcast,
  requireParam,
  shapeOf,
  toTensor,
  withoutGradient,
  type ReparameterizableOptions,
} from './internal.js';

const HALF_LOG_PI = 0.5 * Math.log(Math.PI);

/** Parameters of {@link StudentT}: degrees of freedom, location and scale. */
export interface StudentTOptions extends ReparameterizableOptions {
  /** The degrees of freedom ν > 0. */
  df: Param;
  /** The location (the median; the mean for ν > 1). Default 0. */
  loc?: Param;
  /** The scale σ > 0 (the variance is σ²·ν/(ν − 2) for ν > 2). Default 1. */
  scale?: Param;
  /**
   * Draw samples as loc + scale·T, T a standard t draw, so gradients flow to
   * `loc` and `scale` (not to `df`: see the class comment). Default true.
   */
  isReparameterized?: boolean;
}

/**
 * Student's t with ν = `df` degrees of freedom, location `loc` and scale σ,
 * density Γ((ν+1)/2) / (Γ(ν/2)·√(νπ)·σ) · (1 + z²/ν)^(−(ν+1)/2) with
 * z = (x − loc)/σ, elementwise over the broadcast shape of its parameters.
 *
 * `logProb` is log Γ((ν+1)/2) − log Γ(ν/2) − ½log(νπ) − log σ −
 * (ν+1)/2·log1p(z²/ν), the difference of log-gammas computed without
 * cancellation (so it stays accurate for large ν, where the density
 * approaches the Normal's), differentiable with respect to ν, loc, σ and x.
 *
 * Samples are loc + σ·Z·√(ν/V), Z standard normal and V ~ χ²_ν = 2·Gamma(ν/2, 1)
 * (the Gamma/Normal construction; not the inverse CDF, which needs the
 * inverse incomplete beta function). Z comes from the library's random
 * stream as a tfjs op; V is drawn per element in JavaScript (the Gamma
 * family's sampler, reading `df` back with `dataSync`) and carries no
 * gradient. Reparameterised (unless `isReparameterized` is false) in `loc`
 * and `scale` only: the gradient with respect to `df` through a sample is
 * zero, so a learned `df` in a variational family needs a score-function
 * (REINFORCE) term for it. Draws are kept finite in float32 (clipped to
 * ±3.4e38, which only ν below ~0.1 can reach).
 * @example
 * const d = new zs.StudentT({ df: tf.tensor([1, 30]), loc: 0, scale: 2 });
 * d.sample(10);                      // [10, 2]
 * d.logProb(tf.tensor([0, 0]));      // [−log 2π, ≈ −log(2√(2π))]
 */
export class StudentT extends Distribution {
  /** The degrees of freedom ν. */
  readonly df: tf.Tensor;
  /** The location. */
  readonly loc: tf.Tensor;
  /** The scale σ. */
  readonly scale: tf.Tensor;

  constructor(opts: StudentTOptions) {
    requireParam('StudentT', 'df', opts.df);
    const loc = opts.loc ?? 0;
    const scale = opts.scale ?? 1;
    const batchShape = broadcastShapes(
      'StudentT',
      ['df', shapeOf(opts.df)],
      [
        'loc and scale',
        broadcastShapes('StudentT', ['loc', shapeOf(loc)], ['scale', shapeOf(scale)]),
      ],
    );
    super(continuousSpec('StudentT', batchShape, opts));
    if (this.validateArgs) {
      assertPositive('StudentT', 'df', opts.df);
      assertPositive('StudentT', 'scale', scale);
    }
    this.df = toTensor(opts.df);
    this.loc = toTensor(loc);
    this.scale = toTensor(scale);
  }

  protected _sample(n: number): tf.Tensor {
    const shape = [n, ...this.batchShape];
    const gammaSeed = nextSeed();
    const z = seededNormal(shape, nextSeed());
    // √(ν/V) = exp(½(log(ν/2) − log G)), G ~ Gamma(ν/2, 1), in float64.
    const w = withoutGradient([this.df], (df) => {
      const halfNu = Float64Array.from(readBroadcast(df, this.batchShape), (v) => v / 2);
      const logG = logStandardGammaDraws(halfNu, n, gammaSeed);
      const m = halfNu.length;
      const out = Float32Array.from(logG, (lg, i) =>
        Math.min(FLOAT32_MAX, Math.exp(0.5 * (Math.log(halfNu[i % m]) - lg))),
      );
      return tf.tensor(out, shape);
    });
    const t = tf.add(tf.mul(tf.mul(z, w), asFloat(this.scale)), asFloat(this.loc));
    const s = tf.clipByValue(t, -FLOAT32_MAX, FLOAT32_MAX);
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const nu = asFloat(this.df);
    const scale = asFloat(this.scale);
    const z = tf.div(tf.sub(asFloat(given), asFloat(this.loc)), scale);
    const normaliser = tf.sub(
      lgammaHalfStep(tf.mul(nu, 0.5)),
      tf.add(tf.add(tf.mul(tf.log(nu), 0.5), HALF_LOG_PI), tf.log(scale)),
    );
    const kernel = tf.mul(tf.mul(tf.add(nu, 1), 0.5), tf.log1p(tf.div(tf.square(z), nu)));
    return tf.sub(normaliser, kernel);
  }
}
