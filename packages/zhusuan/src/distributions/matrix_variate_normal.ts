/**
 * The matrix-variate Normal distribution with Cholesky-factored row and
 * column covariances (port of zhusuan/distributions/multivariate.py
 * MatrixVariateNormalCholesky).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HALF_LOG_2PI, expandTo, seededNormal } from '../kernels.js';
import {
  assertPositiveDiagonal,
  logAbsDetTriangular,
  matMulSamples,
  matrixTranspose,
  squareMatrixSize,
  trianglePart,
  triangularSolve,
} from '../linalg.js';
import { nextSeed } from '../random.js';
import { stopGradient } from '../utils.js';
import { Distribution, type Param } from './base.js';
import {
  asFloat,
  broadcastBatchShapes,
  continuousSpec,
  requireParam,
  shapeOf,
  type ReparameterizableOptions,
} from './internal.js';

const NAME = 'MatrixVariateNormalCholesky';

/** Parameters of {@link MatrixVariateNormalCholesky}. */
export interface MatrixVariateNormalCholeskyOptions extends ReparameterizableOptions {
  /** The mean, shape `[..., n, p]` (n, p ≥ 1). */
  mean: Param;
  /**
   * The lower-triangular Cholesky factor L_U of the among-row covariance
   * U = L_U·L_Uᵀ, shape `[..., n, n]`. Only the lower triangle is read.
   */
  uTril: Param;
  /**
   * The lower-triangular Cholesky factor L_V of the among-column covariance
   * V = L_V·L_Vᵀ, shape `[..., p, p]`. Only the lower triangle is read.
   */
  vTril: Param;
  /** Draw samples as mean + L_U·E·L_Vᵀ so gradients flow to the parameters. Default true. */
  isReparameterized?: boolean;
}

/**
 * The matrix-variate Normal MN(M, U, V) of n × p matrices X: vec(X), the
 * columns of X stacked, is N(vec(M), V ⊗ U), so U = L_U·L_Uᵀ is the
 * covariance among the rows and V = L_V·L_Vᵀ among the columns. `mean` has
 * shape `[..., n, p]`, `uTril` `[..., n, n]` and `vTril` `[..., p, p]`;
 * their batch shapes (all axes but the last two) broadcast (ZhuSuan
 * requires them equal). One draw has shape `[n, p]` (`valueShape`).
 *
 * `logProb(X)` = −(np/2)·log 2π − p·Σ log|(L_U)_ii| − n·Σ log|(L_V)_jj| −
 * ½‖L_U⁻¹(X − M)L_V⁻ᵀ‖²_F, by two triangular solves
 * ({@link triangularSolve}), differentiable with respect to `mean`, both
 * factors and X. Entries above the factors' diagonals are never read. A
 * negative diagonal entry is allowed (the covariance is the same, hence
 * the |·|) unless `validateArgs`, which requires positive diagonals (NaN
 * fails too), as {@link MultivariateNormalCholesky} does.
 *
 * Samples are M + L_U·E·L_Vᵀ, E an n × p matrix of standard Normals from
 * the library's random stream, reparameterised by default (gradients flow
 * to all three parameters); with `isReparameterized: false` they carry no
 * gradient.
 * @example
 * const d = new zs.MatrixVariateNormalCholesky({
 *   mean: tf.zeros([5, 3, 2]),                  // batch [5], n = 3, p = 2
 *   uTril: tf.eye(3),
 *   vTril: tf.tensor([[1, 0], [0.5, 2]]),
 * });
 * d.sample(4);                    // [4, 5, 3, 2]
 * d.logProb(tf.zeros([5, 3, 2])); // [5]
 */
export class MatrixVariateNormalCholesky extends Distribution {
  /** The mean, shape `[..., n, p]`, as given. */
  readonly mean: tf.Tensor;
  /** The factor of the among-row covariance, `[..., n, n]`, as given (its upper triangle unread). */
  readonly uTril: tf.Tensor;
  /** The factor of the among-column covariance, `[..., p, p]`, as given (its upper triangle unread). */
  readonly vTril: tf.Tensor;
  /** n, the number of rows of one draw. */
  readonly nRow: number;
  /** p, the number of columns of one draw. */
  readonly nCol: number;

  constructor(opts: MatrixVariateNormalCholeskyOptions) {
    requireParam(NAME, 'mean', opts.mean);
    requireParam(NAME, 'uTril', opts.uTril);
    requireParam(NAME, 'vTril', opts.vTril);
    // Shape checks on the parameters as given: nothing is converted before they pass.
    const ms = shapeOf(opts.mean);
    const us = shapeOf(opts.uTril);
    const vs = shapeOf(opts.vTril);
    if (ms.length < 2) {
      throw new Error(
        `${NAME}: \`mean\` must have rank at least 2 (its last two axes hold an n × p matrix), got shape [${ms}]`,
      );
    }
    const [nRow, nCol] = ms.slice(-2);
    if (nRow < 1 || nCol < 1) {
      throw new Error(`${NAME}: \`mean\` must hold matrices of n, p ≥ 1, got shape [${ms}]`);
    }
    if (squareMatrixSize(NAME, 'uTril', us, 'an n × n matrix') !== nRow) {
      throw new Error(
        `${NAME}: \`uTril\` [${us}] must be n × n with n = ${nRow}, the rows of \`mean\` [${ms}]`,
      );
    }
    if (squareMatrixSize(NAME, 'vTril', vs, 'a p × p matrix') !== nCol) {
      throw new Error(
        `${NAME}: \`vTril\` [${vs}] must be p × p with p = ${nCol}, the columns of \`mean\` [${ms}]`,
      );
    }
    const batchOf = (name: string, s: number[]): [string, number[]] => [name, s.slice(0, -2)];
    const mismatch = `the batch shapes of \`mean\` [${ms.slice(0, -2)}], \`uTril\` [${us.slice(0, -2)}] and \`vTril\` [${vs.slice(0, -2)}] (their shapes less the last two axes) do not broadcast`;
    const batchShape = broadcastBatchShapes(
      NAME,
      [
        'mean and uTril',
        broadcastBatchShapes(NAME, batchOf('mean', ms), batchOf('uTril', us), mismatch),
      ],
      batchOf('vTril', vs),
      mismatch,
    );
    super(continuousSpec(NAME, batchShape, opts, [nRow, nCol]));
    // All three have rank ≥ 2 here, so they are the caller's tensors:
    // nothing is converted, and a rejection below has nothing of ours to free.
    this.mean = opts.mean as tf.Tensor;
    this.uTril = opts.uTril as tf.Tensor;
    this.vTril = opts.vTril as tf.Tensor;
    this.nRow = nRow;
    this.nCol = nCol;
    if (this.validateArgs) {
      assertPositiveDiagonal(NAME, 'uTril', this.uTril);
      assertPositiveDiagonal(NAME, 'vTril', this.vTril);
    }
  }

  protected override checkGivenShape(given: tf.Tensor): void {
    super.checkGivenShape(given);
    const [n, p] = given.shape.slice(-2);
    if (given.rank < 2 || n !== this.nRow || p !== this.nCol) {
      throw new Error(
        `${NAME}: the last two axes of \`given\` [${given.shape}] must be n × p = ${this.nRow} × ${this.nCol}, as in \`mean\` [${this.mean.shape}]`,
      );
    }
  }

  protected _sample(n: number): tf.Tensor {
    const [r, c] = [this.nRow, this.nCol];
    const batch = this.batchShape;
    const eps = seededNormal([n, ...batch, r, c], nextSeed());
    const lu = expandTo(trianglePart(asFloat(this.uTril), true), [...batch, r, r]);
    const lv = expandTo(trianglePart(asFloat(this.vTril), true), [...batch, c, c]);
    // L_U·E, then (L_V·(L_U·E)ᵀ)ᵀ = L_U·E·L_Vᵀ.
    const ue = matMulSamples(lu, eps);
    const uev = matrixTranspose(matMulSamples(lv, matrixTranspose(ue)));
    const s = tf.add(uev, asFloat(this.mean));
    return this.isReparameterized ? s : stopGradient(s);
  }

  protected _logProb(given: tf.Tensor): tf.Tensor {
    const lu = asFloat(this.uTril);
    const lv = asFloat(this.vTril);
    const y = tf.sub(asFloat(given), asFloat(this.mean));
    // L_V⁻¹·(L_U⁻¹·Y)ᵀ = (L_U⁻¹·Y·L_V⁻ᵀ)ᵀ: the same squared norm.
    const a = triangularSolve(lu, y, { validateArgs: false });
    const b = triangularSolve(lv, matrixTranspose(a), { validateArgs: false });
    const quad = tf.sum(tf.square(b), [-2, -1]);
    const logDet = tf.add(
      tf.mul(logAbsDetTriangular(lu), this.nCol),
      tf.mul(logAbsDetTriangular(lv), this.nRow),
    );
    return tf.sub(tf.sub(tf.mul(quad, -0.5), logDet), this.nRow * this.nCol * HALF_LOG_2PI);
  }
}
