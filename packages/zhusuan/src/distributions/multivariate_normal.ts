/**
 * The multivariate Normal distribution with a Cholesky-factored covariance
 * (port of zhusuan/distributions/multivariate.py MultivariateNormalCholesky).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HALF_LOG_2PI, seededNormal } from '../kernels.js';
import { nextSeed } from '../random.js';
import { assertNone } from '../checks.js';
import { stopGradient } from '../utils.js';
import { Distribution, type Param } from './base.js';
import {
  asFloat,
  broadcastBatchShapes,
  checkLastAxis,
  continuousSpec,
  lastAxisSize,
  requireParam,
  shapeOf,
  type ReparameterizableOptions,
} from './internal.js';

const NAME = 'MultivariateNormalCholesky';

/** Parameters of {@link MultivariateNormalCholesky}. */
export interface MultivariateNormalCholeskyOptions extends ReparameterizableOptions {
  /** The mean, shape `[..., D]` (D ≥ 1). */
  mean: Param;
  /**
   * The lower-triangular Cholesky factor L of the covariance Σ = L·Lᵀ, shape
   * `[..., D, D]`. Only the lower triangle (diagonal included) is read; the
   * entries above the diagonal are ignored, whatever they hold.
   */
  cholTril: Param;
  /** Draw samples as mean + L·ε so gradients flow to the parameters. Default true. */
  isReparameterized?: boolean;
}

/** `x[..., begin:begin + size]` (size −1: to the end) along the last axis. */
function sliceLast(x: tf.Tensor, begin: number, size: number): tf.Tensor {
  const lead = x.rank - 1;
  return tf.slice(
    x,
    [...new Array<number>(lead).fill(0), begin],
    [...new Array<number>(lead).fill(-1), size],
  );
}

/** The diagonal `[..., D]` of `l` `[..., D, D]` (a gather of the flattened matrices). */
function diagPart(l: tf.Tensor): tf.Tensor {
  const d = l.shape[l.rank - 1];
  const flat = tf.reshape(l, [...l.shape.slice(0, -2), d * d]);
  return tf.gather(flat, tf.range(0, d * d, d + 1, 'int32'), flat.rank - 1);
}

/**
 * ‖L⁻¹ y‖² over the last axis, by forward substitution written as tfjs ops
 * (tfjs 4.22 has no triangular solve), so autodiff gives its gradients with
 * respect to L and y. Column-oriented: z_i = r_i / L_ii, then the residual
 * of the rows below i loses z_i·L[i+1:, i]; only the lower triangle of L is
 * read, and the squares of the z_i are summed as they come (z itself is
 * never assembled). About 12 small ops per dimension, so meant for modest
 * D (up to ~100; see the class comment), not for thousands.
 * @param l `[...BL, D, D]`.
 * @param y `[...By, D]`; the result has the broadcast of BL and By.
 */
function lowerSolveSquaredNorm(l: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const d = l.shape[l.rank - 1];
  const cols = tf.unstack(l, l.rank - 1); // cols[j][..., i] = L[..., i, j]
  let r = y;
  let quad: tf.Tensor | null = null;
  for (let i = 0; i < d; i++) {
    const col = cols[i];
    const lii = tf.squeeze(sliceLast(col, i, 1), [col.rank - 1]);
    const ri = tf.squeeze(sliceLast(r, 0, 1), [r.rank - 1]);
    const zi = tf.div(ri, lii);
    const zi2 = tf.square(zi);
    quad = quad === null ? zi2 : tf.add(quad, zi2);
    if (i < d - 1) {
      const below = sliceLast(col, i + 1, d - i - 1);
      r = tf.sub(sliceLast(r, 1, -1), tf.mul(tf.expandDims(zi, -1), below));
    }
  }
  return quad!;
}

/**
 * The multivariate Normal N(mean, L·Lᵀ), parameterised by the mean and the
 * lower-triangular Cholesky factor L of the covariance. `mean` has shape
 * `[..., D]` and `cholTril` `[..., D, D]`; their batch shapes (all axes but
 * the last one, resp. two) broadcast. One draw has shape `[D]` (`valueShape`).
 *
 * `logProb(x)` = −(D/2)·log 2π − Σ_i log|L_ii| − ½‖L⁻¹(x − mean)‖², with the
 * triangular solve done by forward substitution in tfjs ops, differentiable
 * with respect to `mean`, `cholTril` and x. It costs about 12 small ops per
 * dimension (O(D) ops, O(D²) work per vector), which suits modest D: on the
 * cpu backend, D = 100 takes ~0.2 s for 50 vectors and ~0.6 s with
 * gradients; D in the low hundreds works but slowly. Entries above L's
 * diagonal are never read. A negative diagonal entry is allowed (L·Lᵀ is
 * the same covariance, hence the |·|) unless `validateArgs`, which requires
 * a positive diagonal (NaN fails too); a zero there (a singular covariance)
 * gives non-finite values.
 *
 * Samples are mean + L·ε, ε standard Normal from the library's random
 * stream ({@link seededNormal}), reparameterised by default (gradients flow
 * to `mean` and `cholTril`); with `isReparameterized: false` they carry no
 * gradient.
 * @example
 * const d = new zs.MultivariateNormalCholesky({
 *   mean: tf.zeros([4, 2]),                       // batch [4], D = 2
 *   cholTril: tf.tensor([[1, 0], [0.5, 2]]),      // shared by the batch
 * });
 * d.sample(10);                 // [10, 4, 2]
 * d.logProb(tf.zeros([4, 2]));  // [4]
 */
export class MultivariateNormalCholesky extends Distribution {
  /** The mean, shape `[..., D]`, as given. */
  readonly mean: tf.Tensor;
  /** The Cholesky factor, shape `[..., D, D]`, as given (its upper triangle unread). */
  readonly cholTril: tf.Tensor;
  /** D, the dimension of one draw. */
  readonly dim: number;

  constructor(opts: MultivariateNormalCholeskyOptions) {
    requireParam(NAME, 'mean', opts.mean);
    requireParam(NAME, 'cholTril', opts.cholTril);
    // Shape checks on the parameters as given: nothing is converted before they pass.
    const ms = shapeOf(opts.mean);
    const ls = shapeOf(opts.cholTril);
    const d = lastAxisSize(NAME, 'mean', ms, 'the D dimensions');
    if (d < 1) throw new Error(`${NAME}: \`mean\` must have D ≥ 1 dimensions, got shape [${ms}]`);
    if (ls.length < 2) {
      throw new Error(
        `${NAME}: \`cholTril\` must have rank at least 2 (its last two axes hold a D × D matrix), got shape [${ls}]`,
      );
    }
    if (ls[ls.length - 1] !== ls[ls.length - 2]) {
      throw new Error(
        `${NAME}: the last two axes of \`cholTril\` must form a square matrix, got shape [${ls}]`,
      );
    }
    if (ls[ls.length - 1] !== d) {
      throw new Error(
        `${NAME}: \`cholTril\` [${ls}] must be D × D with D = ${d}, the last axis of \`mean\` [${ms}]`,
      );
    }
    const batchShape = broadcastBatchShapes(
      NAME,
      ['mean', ms.slice(0, -1)],
      ['cholTril', ls.slice(0, -2)],
      `the batch shapes of \`mean\` [${ms.slice(0, -1)}] (shape [${ms}] less its last axis) and \`cholTril\` [${ls.slice(0, -2)}] (shape [${ls}] less its last two) do not broadcast`,
    );
    super(continuousSpec(NAME, batchShape, opts, [d]));
    // Both parameters have rank ≥ 1 here, so they are the caller's tensors:
    // nothing is converted, and a rejection below has nothing of ours to free.
    this.mean = opts.mean as tf.Tensor;
    this.cholTril = opts.cholTril as tf.Tensor;
    this.dim = d;
    if (this.validateArgs) {
      assertNone(
        () => tf.logicalNot(tf.greater(diagPart(this.cholTril), 0)),
        NAME,
        'the diagonal of `cholTril` must be positive',
      );
    }
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    super.checkGivenShape(given);
    const d = this.dim;
    checkLastAxis(NAME, given, d, `size D = ${d}, that of \`mean\` [${this.mean.shape}]`);
  }

  protected _sample(n: number): tf.Tensor {
    const d = this.dim;
    const b = this.batchShape.length;
    const eps = seededNormal([n, ...this.batchShape, d], nextSeed());
    // L·ε as one batched matmul over the batch axes (no broadcasting inside
    // the matmul, whose gradient would not reduce it): the draws go to the
    // last axis, [...batch, D, n].
    const lower = tf.greaterEqual(
      tf.reshape(tf.range(0, d, 1, 'int32'), [d, 1]),
      tf.range(0, d, 1, 'int32'),
    );
    const l = tf.broadcastTo(tf.where(lower, asFloat(this.cholTril), 0), [
      ...this.batchShape,
      d,
      d,
    ]);
    const epsT = tf.transpose(eps, [...Array.from({ length: b }, (_, i) => i + 1), b + 1, 0]);
    const le = tf.transpose(tf.matMul(l, epsT), [
      b + 1,
      ...Array.from({ length: b }, (_, i) => i),
      b,
    ]);
    const s = tf.add(le, asFloat(this.mean));
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const l = asFloat(this.cholTril);
    const y = tf.sub(asFloat(given), asFloat(this.mean));
    const quad = lowerSolveSquaredNorm(l, y);
    const logDet = tf.sum(tf.log(tf.abs(diagPart(l))), -1);
    return tf.sub(tf.sub(tf.mul(quad, -0.5), logDet), this.dim * HALF_LOG_2PI);
  }
}
