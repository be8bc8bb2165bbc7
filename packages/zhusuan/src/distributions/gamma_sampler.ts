/**
 * Shared machinery of the Gamma family (Gamma, Beta, InverseGamma,
 * Dirichlet; zhusuan/distributions/univariate.py and multivariate.py draw
 * all of them through `tf.random_gamma`): a per-element Gamma(α, 1) sampler
 * in JavaScript and the base class of the families with parameters `alpha`
 * and `beta`.
 *
 * tfjs' `tf.randomGamma` takes only a scalar α, so these families read their
 * shape parameters back (`dataSync`) and draw each element with Marsaglia and
 * Tsang's (2000) rejection method from a xoshiro128** state seeded by one
 * `nextSeed()` of the library's stream: one `zs.random.setSeed` makes them
 * reproducible.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from '../checks.js';
import { nextSeed, nextWord, seedWords } from '../random.js';
import { Distribution, type DistributionOptions, type Param } from './base.js';
import {
  broadcastParamShapes,
  continuousSpec,
  FLOAT32_MAX,
  FLOAT32_TINY,
  readBroadcast,
  toTensor,
  withoutGradient,
} from './internal.js';

const TWO_POW_26 = 2 ** 26;
const TWO_POW_53 = 2 ** 53;

/**
 * Gamma(α, 1) draws, in logs, from a private xoshiro128** stream.
 *
 * For α ≥ 1: Marsaglia and Tsang's method (d = α − 1/3, c = 1/√(9d);
 * accept d·v, v = (1 + c·z)³, by the squeeze u < 1 − 0.0331 z⁴ or by
 * log u < z²/2 + d(1 − v + log v)). For α < 1: a Gamma(α + 1, 1) draw times
 * U^(1/α), added in logs so that tiny α does not underflow. All arithmetic is
 * float64.
 * @example
 * const g = new GammaSampler(nextSeed());
 * Math.exp(g.logGamma(0.3)); // one Gamma(0.3, 1) draw
 */
class GammaSampler {
  private readonly state: Uint32Array;
  /** The second normal of the last Box–Muller pair, or NaN when used up. */
  private spare = Number.NaN;

  /** @param seed a seed for the private stream, e.g. `nextSeed()`. */
  constructor(seed: number) {
    this.state = seedWords(seed);
  }

  /** A uniform draw in the open interval (0, 1), with 53 random bits. */
  uniform(): number {
    const hi = nextWord(this.state) >>> 5;
    const lo = nextWord(this.state) >>> 6;
    return (hi * TWO_POW_26 + lo + 0.5) / TWO_POW_53;
  }

  /** A standard normal draw (Box–Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * log of one Gamma(`alpha`, 1) draw; NaN when `alpha` is not a positive
   * finite number (never an endless loop).
   */
  logGamma(alpha: number): number {
    if (!(alpha > 0) || alpha === Infinity) return Number.NaN;
    const a = alpha < 1 ? alpha + 1 : alpha;
    const d = a - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let z: number;
      let v: number;
      do {
        z = this.normal();
        v = 1 + c * z;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      const z2 = z * z;
      if (u < 1 - 0.0331 * z2 * z2 || Math.log(u) < 0.5 * z2 + d * (1 - v + Math.log(v))) {
        const logDraw = Math.log(d * v);
        return alpha < 1 ? logDraw + Math.log(this.uniform()) / alpha : logDraw;
      }
    }
  }
}

/**
 * log Gamma(α_j, 1) draws for `n` samples of each of the given shape
 * parameters, sample-major: element `i·α.length + j` is the i-th draw for
 * `alpha[j]`.
 * @param alpha the shape parameters, read back from a tensor.
 * @param seed a seed for the private stream, e.g. `nextSeed()`.
 */
export function logStandardGammaDraws(
  alpha: ArrayLike<number>,
  n: number,
  seed: number,
): Float64Array {
  const sampler = new GammaSampler(seed);
  const m = alpha.length;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) out[i * m + j] = sampler.logGamma(alpha[j]);
  }
  return out;
}

/**
 * Positive float32 samples kept on (0, ∞): values in [0, 2^−126) (float32
 * underflow) become 2^−126 and +∞ (overflow) becomes the largest float32.
 * Negative and NaN values (from invalid parameters) pass unchanged.
 */
function keepPositive(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const underflow = tf.logicalAnd(tf.greaterEqual(x, 0), tf.less(x, FLOAT32_TINY));
    const capped = tf.where(tf.equal(x, Infinity), tf.scalar(FLOAT32_MAX), x);
    return tf.where(underflow, tf.scalar(FLOAT32_TINY), capped);
  });
}

/** Options of {@link AlphaBetaDistribution}: the two positive parameters. */
export interface AlphaBetaOptions extends DistributionOptions {
  alpha: Param;
  beta: Param;
}

/**
 * Base of the families with two positive parameters `alpha` and `beta`
 * (Gamma, InverseGamma, Beta): float32 continuous values, samples drawn in
 * JavaScript (not reparameterised), and a batch shape that is the broadcast
 * shape of the two parameters. Both are required; a number becomes a scalar
 * tensor. Under `validateArgs` both must be positive (NaN fails).
 */
export abstract class AlphaBetaDistribution extends Distribution {
  /** The first parameter α. */
  readonly alpha: tf.Tensor;
  /** The second parameter β. */
  readonly beta: tf.Tensor;

  /** @param name the family's name, for the spec and error messages. */
  protected constructor(name: string, opts: AlphaBetaOptions) {
    const batchShape = broadcastParamShapes(name, ['alpha', opts.alpha], ['beta', opts.beta]);
    // Sampled in JavaScript: never reparameterised.
    super(continuousSpec(name, batchShape, { ...opts, isReparameterized: false }));
    if (this.validateArgs) {
      assertPositive(name, 'alpha', opts.alpha);
      assertPositive(name, 'beta', opts.beta);
    }
    this.alpha = toTensor(opts.alpha);
    this.beta = toTensor(opts.beta);
  }

  /**
   * `n` samples `f(G, β)` with G ~ Gamma(α, 1) drawn per element (in float64
   * logs, then exponentiated and rounded to float32) and α, β broadcast to
   * the batch shape: shape `[n, ...batchShape]`, kept inside (0, ∞) by
   * {@link keepPositive}, with no gradient. For the families that are a
   * transform of one Gamma draw (Gamma: G/β, InverseGamma: β/G).
   */
  protected sampleFromGamma(n: number, f: (g: tf.Tensor, beta: tf.Tensor) => tf.Tensor): tf.Tensor {
    const seed = nextSeed();
    return withoutGradient([this.alpha, this.beta], (alpha, beta) => {
      const logG = logStandardGammaDraws(readBroadcast(alpha, this.batchShape), n, seed);
      const g = tf.tensor(
        Float32Array.from(logG, (v) => Math.exp(v)),
        [n, ...this.batchShape],
      );
      return keepPositive(f(g, beta));
    });
  }
}
