/**
 * Linear algebra that tfjs 4.22 lacks: the Cholesky factorisation and the
 * triangular solve, batched over leading axes and differentiable (TF's
 * `tf.linalg.cholesky` and `tf.linalg.triangular_solve`, which ZhuSuan's
 * MatrixVariateNormalCholesky, MultivariateNormalCholesky and Gaussian-process
 * models are built on).
 *
 * Both are blocked algorithms composed of tfjs ops (a diagonal block of 32
 * columns at a time by a loop of ~10 small ops per column, the rest of the
 * matrix by one matMul per block), wrapped in `tf.customGrad` with the
 * closed-form reverse-mode gradient. Trade-off: a kernel written in
 * JavaScript over `dataSync()` values would run one op instead of ~10 per
 * column, in float64, but it would stall a GPU backend on every call (and
 * WebGPU cannot read synchronously at all); tfjs ops keep the data on the
 * backend and run wherever tfjs runs. The cost is O(n) small ops and O(n³)
 * work per call: on the cpu backend, `cholesky` takes ~30 ms of CPU time at
 * n = 100 and ~130 ms at n = 300 (~55 ms and ~370 ms with its gradient).
 * Meant for the sizes of Gaussian processes and matrix-variate models (n up
 * to a few hundred), not for thousands.
 *
 * A backend may do better: when the active backend registers a kernel under
 * TensorFlow's name `Cholesky` (input `x` `[..., n, n]` float32; output the
 * lower factor, zeros above the diagonal, only the lower triangle of `x`
 * read; a matrix that is not positive definite gives NaN from its first
 * pivot that is not > 0 on, as the path here does) or `MatrixTriangularSolve`
 * (inputs `matrix` `[...Bl, n, n]` and `rhs` `[...Bb, n, k]` float32, attrs
 * `lower` and `adjoint`; output `[...broadcast, n, k]` solving
 * op(matrix)·x = rhs, only the named triangle read), the factorisation and
 * every solve, the gradients' included, run that one kernel instead
 * (`@zhusuan/tfjs-backend-native` registers both on OpenBLAS). The library
 * only asks tfjs' kernel registry by name (`tf.getKernel`); it imports no
 * backend. The gradients stay the closed forms below either way.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone } from './checks.js';
import { getValidateArgs } from './distributions/base.js';
import { asFloat } from './distributions/internal.js';
import { backendHasKernel, expandTo, reduceToShape } from './kernels.js';

/** Options of {@link cholesky}. */
export interface CholeskyOptions {
  /**
   * Read the result back and throw unless every matrix was positive definite
   * (every pivot positive and finite). Default: the global switch
   * (`zs.setValidateArgs`). Off, a matrix that is not gives NaN from its
   * first failing pivot on.
   */
  validateArgs?: boolean;
}

/** Options of {@link triangularSolve}. */
export interface TriangularSolveOptions {
  /** `l` is lower triangular (default true) or upper triangular (false). */
  lower?: boolean;
  /** Solve with the transpose of `l` (lᵀ·x = b). Default false. */
  adjoint?: boolean;
  /**
   * Throw unless the diagonal of `l` is free of zeros and NaN (reads data).
   * Default: the global switch (`zs.setValidateArgs`).
   */
  validateArgs?: boolean;
}

// ---- shapes and small helpers (internal: src/index.ts exports only the ops) ----

/**
 * n, the size of the square matrices held by the last two axes of a
 * parameter of shape `shape`. Throws `${where}: \`${name}\` must have rank
 * at least 2 (its last two axes hold ${holds}), got shape [${shape}]`, or
 * `${where}: the last two axes of \`${name}\` must form a square matrix, got
 * shape [${shape}]`.
 */
export function squareMatrixSize(
  where: string,
  name: string,
  shape: number[],
  holds: string,
): number {
  if (shape.length < 2) {
    throw new Error(
      `${where}: \`${name}\` must have rank at least 2 (its last two axes hold ${holds}), got shape [${shape}]`,
    );
  }
  const n = shape[shape.length - 1];
  if (shape[shape.length - 2] !== n) {
    throw new Error(
      `${where}: the last two axes of \`${name}\` must form a square matrix, got shape [${shape}]`,
    );
  }
  return n;
}

/** `x` with its last two axes swapped. */
export function matrixTranspose(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  return tf.transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

/**
 * The diagonals `[..., n]` of the matrices `[..., n, n]`: a select of the
 * diagonal and a sum over rows, exact, NaN-free off the diagonal, and with a
 * gradient of O(n²) work (the gradient of a gather of the flattened
 * matrices, an UnsortedSegmentSum over n² segments, took ~1 s for n = 100
 * on the cpu backend).
 */
export function diagPart(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[x.rank - 1];
    return tf.sum(tf.where(tf.cast(tf.eye(n), 'bool'), x, 0), -1);
  });
}

/**
 * The n × n boolean mask of the lower (i ≥ j) or upper (i ≤ j) triangle,
 * diagonal included. The indices are float32 (exact below 2^24): backends
 * compare float32 faster than int32 under broadcasting.
 */
export function triangleMask(n: number, lower: boolean): tf.Tensor {
  return tf.tidy(() => {
    const i = tf.reshape(tf.range(0, n), [n, 1]);
    const j = tf.range(0, n);
    return lower ? tf.greaterEqual(i, j) : tf.lessEqual(i, j);
  });
}

/** `x` with the entries outside its lower (or upper) triangle set to 0, NaN there included. */
export function trianglePart(x: tf.Tensor, lower: boolean): tf.Tensor {
  return tf.tidy(() => tf.where(triangleMask(x.shape[x.rank - 1], lower), x, 0));
}

/**
 * Σ_i log|x_ii| over the diagonal of each triangular matrix `[..., n, n]`:
 * the log-determinant of a triangular matrix (half that of l·lᵀ), `[...]`.
 */
export function logAbsDetTriangular(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.log(tf.abs(diagPart(x))), -1));
}

/**
 * Throws `${where}: the diagonal of \`${name}\` must be positive` unless
 * every diagonal entry of the matrices `x` `[..., n, n]` is > 0 (NaN
 * fails); reads data, for `validateArgs` of a Cholesky-factor parameter.
 */
export function assertPositiveDiagonal(where: string, name: string, x: tf.Tensor): void {
  assertNone(
    () => tf.logicalNot(tf.greater(diagPart(x), 0)),
    where,
    `the diagonal of \`${name}\` must be positive`,
  );
}

/**
 * l·x for each of the n leading samples of x `[n, ...B, r, c]`, with l
 * `[...B, q, r]` (B exactly x's batch shape: broadcast l to it first):
 * `[n, ...B, q, c]`, as one matMul over the batch axes with the samples
 * folded into the columns, so that no matMul broadcasts (tfjs' BatchMatMul
 * gradient does not reduce a broadcast operand). For reparameterised
 * samples L·ε.
 */
export function matMulSamples(l: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const b = x.rank - 3;
    const [n] = x.shape;
    const [r, c] = x.shape.slice(-2);
    const batch = x.shape.slice(1, -2);
    const axes = Array.from({ length: b }, (_, i) => i);
    // [n, ...B, r, c] → [...B, r, n, c] → [...B, r, n·c]
    const folded = tf.reshape(tf.transpose(x, [...axes.map((i) => i + 1), b + 1, 0, b + 2]), [
      ...batch,
      r,
      n * c,
    ]);
    const q = l.shape[l.rank - 2];
    const y = tf.reshape(tf.matMul(l, folded), [...batch, q, n, c]);
    return tf.transpose(y, [b + 1, ...axes, b, b + 2]);
  });
}

/** `x[..., r0:r0 + nr, c0:c0 + nc]`. */
function block(x: tf.Tensor, r0: number, nr: number, c0: number, nc: number): tf.Tensor {
  const lead = new Array<number>(x.rank - 2);
  return tf.slice(x, [...lead.fill(0), r0, c0], [...lead.fill(-1), nr, nc]);
}

/** `x[..., r0:r0 + nr, :]`. */
function rows(x: tf.Tensor, r0: number, nr: number): tf.Tensor {
  return block(x, r0, nr, 0, x.shape[x.rank - 1]);
}

/** The broadcast shape of two batch shapes, or null when they do not broadcast. */
function broadcastBatch(a: number[], b: number[]): number[] | null {
  try {
    return tf.broadcast_util.assertAndGetBroadcastShape(a, b);
  } catch {
    return null;
  }
}

// ---- the kernels: a backend's, or plain tfjs ops; no checks, no gradient ----------

/**
 * TensorFlow's names of the two kernels a backend may register to replace
 * the op-by-op paths below (the semantics they must have: the module
 * comment).
 */
const CHOLESKY_KERNEL = 'Cholesky';
const SOLVE_KERNEL = 'MatrixTriangularSolve';

/**
 * The block size of the blocked algorithms: a diagonal block is solved or
 * factored column by column (ops on at most BLOCK rows), and one matMul
 * carries its result to the rest of the matrix. On the cpu backend 16 and
 * 64 were no faster for n = 100 and 300.
 */
const BLOCK = 32;

/**
 * x with m·x = b for a small m `[...Bm, n, n]` (only its `lower` or upper
 * triangle read), b `[...Bb, n, k]`, x `[...broadcast, n, k]`, by
 * column-oriented substitution: x_i = r_i / m_ii, then the unsolved rows of
 * the residual r lose m[·, i]·x_i. Seven ops per row, each step's
 * temporaries freed as it goes.
 */
function substituteColumns(m: tf.Tensor, b: tf.Tensor, lower: boolean): tf.Tensor {
  const n = m.shape[m.rank - 1];
  const xs = new Array<tf.Tensor>(n);
  let r = b; // the rows not yet solved: i..n−1 (lower) or 0..i (upper)
  for (let t = 0; t < n; t++) {
    const i = lower ? t : n - 1 - t;
    const left = n - t;
    const [xi, next] = tf.tidy((): tf.Tensor[] => {
      const x = tf.div(rows(r, lower ? 0 : left - 1, 1), block(m, i, 1, i, 1));
      if (left === 1) return [x];
      const col = lower ? block(m, i + 1, left - 1, i, 1) : block(m, 0, i, i, 1);
      return [x, tf.sub(rows(r, lower ? 1 : 0, left - 1), tf.matMul(col, x))];
    });
    xs[i] = xi;
    if (r !== b) r.dispose();
    r = next;
  }
  return concatFree(xs, -2);
}

/** `tf.concat(parts, axis)`, disposing the parts. */
function concatFree(parts: tf.Tensor[], axis: number): tf.Tensor {
  const out = parts.length === 1 ? parts[0] : tf.concat(parts, axis);
  if (parts.length > 1) tf.dispose(parts);
  return out;
}

/**
 * As {@link substituteColumns}, for any n: blocked substitution, a diagonal
 * block of BLOCK rows at a time (forward for `lower`, backward otherwise),
 * its rows' contribution taken out of the rest of the residual by one
 * matMul.
 */
function substitute(m: tf.Tensor, b: tf.Tensor, lower: boolean): tf.Tensor {
  const n = m.shape[m.rank - 1];
  if (n <= BLOCK) return substituteColumns(m, b, lower);
  const xs: tf.Tensor[] = [];
  let r = b; // the rows not yet solved
  for (let done = 0; done < n; done += BLOCK) {
    const size = Math.min(BLOCK, n - done);
    const left = n - done - size; // rows after this block
    // The block's first row: from the top (lower) or the bottom (upper).
    const i0 = lower ? done : left;
    const [xi, next] = tf.tidy((): tf.Tensor[] => {
      const x = substituteColumns(
        block(m, i0, size, i0, size),
        rows(r, lower ? 0 : left, size),
        lower,
      );
      if (left === 0) return [x];
      const coupling = lower ? block(m, i0 + size, left, i0, size) : block(m, 0, left, i0, size);
      return [x, tf.sub(rows(r, lower ? size : 0, left), tf.matMul(coupling, x))];
    });
    xs.push(xi);
    if (r !== b) r.dispose();
    r = next;
  }
  return concatFree(lower ? xs : xs.reverse(), -2);
}

/**
 * How a matrix operand of batch shape `mine` meets operands of the
 * broadcast batch shape `batch` (rank r): the axes along which it is
 * broadcast (`fold`: size 1 in `mine`, not in `batch`) and the others
 * (`keep`). Folding the former into the columns of the other operands turns
 * a broadcast batch of matrix problems into one problem with more columns.
 */
interface FoldPlan {
  batch: number[];
  /** `mine` with leading 1s to rank r. */
  mine: number[];
  keep: number[];
  fold: number[];
}

function foldPlan(batch: number[], mine: number[]): FoldPlan {
  const padded = [...new Array<number>(batch.length - mine.length).fill(1), ...mine];
  const keep: number[] = [];
  const fold: number[] = [];
  batch.forEach((d, i) => (padded[i] === 1 && d !== 1 ? fold : keep).push(i));
  return { batch, mine: padded, keep, fold };
}

/**
 * `t` `[...B, n, k]` (B broadcasting to `plan.batch`) as `[...kept batch,
 * n, F·k]`, the folded axes (of total size F) moved next to k.
 */
function foldColumns(t: tf.Tensor, plan: FoldPlan): tf.Tensor {
  const { batch, keep, fold } = plan;
  const r = batch.length;
  const [n, k] = t.shape.slice(-2);
  const full = expandTo(t, [...batch, n, k]);
  if (fold.length === 0) return full;
  const inner = fold.reduce((s, i) => s * batch[i], k);
  return tf.reshape(tf.transpose(full, [...keep, r, ...fold, r + 1]), [
    ...keep.map((i) => batch[i]),
    n,
    inner,
  ]);
}

/** The inverse of {@link foldColumns}: `[...kept batch, n, F·k]` back to `[...batch, n, k]`. */
function unfoldColumns(x: tf.Tensor, plan: FoldPlan, k: number): tf.Tensor {
  const { batch, keep, fold } = plan;
  if (fold.length === 0) return x;
  const r = batch.length;
  const n = x.shape[x.rank - 2];
  const perm = [...keep, r, ...fold, r + 1];
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const unfolded = tf.reshape(x, [
    ...keep.map((i) => batch[i]),
    n,
    ...fold.map((i) => batch[i]),
    k,
  ]);
  return tf.transpose(unfolded, inverse);
}

/**
 * op(l)⁻¹·b with op(l) = lᵀ when `adjoint` (an upper solve for a lower l,
 * and vice versa): `[...broadcast, n, k]`. The batch axes along which l is
 * broadcast are folded into the columns of b, so that samples of a
 * parameter shared by the batch make one wide solve, not many narrow ones.
 */
function solve(l: tf.Tensor, b: tf.Tensor, lower: boolean, adjoint: boolean): tf.Tensor {
  if (backendHasKernel(SOLVE_KERNEL)) {
    const attrs = { lower, adjoint } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel(SOLVE_KERNEL, { matrix: l, rhs: b }, attrs) as tf.Tensor;
  }
  const batch = broadcastBatch(l.shape.slice(0, -2), b.shape.slice(0, -2))!;
  const [n, k] = b.shape.slice(-2);
  if (n === 0) return tf.zeros([...batch, 0, k]);
  return tf.tidy(() => {
    const plan = foldPlan(batch, l.shape.slice(0, -2));
    // l without its folded axes (all of size 1).
    const m = tf.reshape(adjoint ? matrixTranspose(l) : l, [
      ...plan.keep.map((i) => plan.mine[i]),
      n,
      n,
    ]);
    return unfoldColumns(substitute(m, foldColumns(b, plan), adjoint ? !lower : lower), plan, k);
  });
}

/** `x` with `count` rows of zeros above it (on its second-last axis). */
function padAbove(x: tf.Tensor, count: number): tf.Tensor {
  if (count === 0) return x;
  return tf.pad(x, [...new Array<[number, number]>(x.rank - 2).fill([0, 0]), [count, 0], [0, 0]]);
}

/**
 * The lower Cholesky factor of a small `a` `[..., n, n]` (only its lower
 * triangle read), right-looking: column j is the trailing matrix's first
 * column over the square root of its pivot, and the trailing matrix loses
 * that column's outer product. Ten ops per column.
 */
function factorColumns(a: tf.Tensor): tf.Tensor {
  const n = a.shape[a.rank - 1];
  const cols: tf.Tensor[] = [];
  let s = a; // the trailing (n − j) × (n − j) matrix
  for (let j = 0; j < n; j++) {
    const m = n - j;
    const [col, next] = tf.tidy((): tf.Tensor[] => {
      const c = tf.div(block(s, 0, m, 0, 1), tf.sqrt(block(s, 0, 1, 0, 1)));
      if (m === 1) return [padAbove(c, j)];
      const below = rows(c, 1, m - 1);
      const rest = tf.sub(block(s, 1, m - 1, 1, m - 1), tf.matMul(below, below, false, true));
      return [padAbove(c, j), rest];
    });
    cols.push(col);
    if (s !== a) s.dispose();
    s = next;
  }
  return concatFree(cols, -1);
}

/**
 * As {@link factorColumns}, for any n: right-looking blocked Cholesky. The
 * trailing rows t = a[j:, :] are kept whole (all n columns, so that every
 * large slice takes whole rows: tfjs' cpu Slice copies a block of a matrix
 * element by element, ~1 µs each, but whole rows as one view). Per block of
 * BLOCK columns: its diagonal block is factored by columns (l11), the panel
 * below it solved against it (l21 = s21·l11⁻ᵀ), and the rows below lose
 * l21 times the block's column of l (one matMul; the columns left of the
 * block, no longer read, get zeros subtracted).
 */
function factor(a: tf.Tensor): tf.Tensor {
  if (backendHasKernel(CHOLESKY_KERNEL)) {
    return tf.engine().runKernel(CHOLESKY_KERNEL, { x: a }) as tf.Tensor;
  }
  const n = a.shape[a.rank - 1];
  if (n === 0) return tf.clone(a);
  if (n <= BLOCK) return factorColumns(a);
  const cols: tf.Tensor[] = [];
  let t = a; // rows j.. of the trailing matrix, all n columns
  for (let j = 0; j < n; j += BLOCK) {
    const m = n - j;
    const size = Math.min(BLOCK, m);
    const [col, next] = tf.tidy((): tf.Tensor[] => {
      const l11 = factorColumns(block(t, 0, size, j, size));
      if (m === size) return [padAbove(l11, j)];
      const s21 = block(t, size, m - size, j, size);
      const l21 = matrixTranspose(substituteColumns(l11, matrixTranspose(s21), true));
      const column = padAbove(tf.concat([l11, l21], -2), j); // l[:, j:j + size]
      return [column, tf.sub(rows(t, size, m - size), tf.matMul(l21, column, false, true))];
    });
    cols.push(col);
    if (t !== a) t.dispose();
    t = next;
  }
  return concatFree(cols, -1);
}

/**
 * Σ p·qᵀ over the batch axes along which `shape` `[...Bl, n, n]` was
 * broadcast, for p, q `[...B, n, k]`: the gradient of a broadcast matrix
 * operand, as one matMul whose inner axis holds those batch axes and k
 * (tfjs' own BatchMatMul gradient does not reduce a broadcast batch).
 */
function sumOuter(p: tf.Tensor, q: tf.Tensor, shape: number[]): tf.Tensor {
  return tf.tidy(() => {
    const plan = foldPlan(p.shape.slice(0, -2), shape.slice(0, -2));
    return tf.reshape(tf.matMul(foldColumns(p, plan), foldColumns(q, plan), false, true), shape);
  });
}

/** The n × n factors 1 off the diagonal and ½ on it: Φ of Murray's formula. */
function halfDiagonal(n: number): tf.Tensor {
  return tf.tidy(() => tf.sub(1, tf.mul(tf.eye(n), 0.5)));
}

/**
 * The gradient of a with respect to the Cholesky factor l, given dl:
 * Ā = ½(S + Sᵀ), S = l⁻ᵀ·Φ(lᵀ·dl)·l⁻¹, Φ keeping the lower triangle with its
 * diagonal halved (Murray 2016, eq. 10; TF's and JAX's rule), by two
 * triangular solves (no inverse formed).
 */
function factorGrad(l: tf.Tensor, dl: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = l.shape[l.rank - 1];
    const p = tf.matMul(l, dl, true, false);
    const phi = tf.where(triangleMask(n, true), tf.mul(p, halfDiagonal(n)), 0);
    const y = solve(l, phi, true, true); // l⁻ᵀ·Φ
    const s = matrixTranspose(solve(l, matrixTranspose(y), true, true)); // y·l⁻¹
    return tf.mul(tf.add(s, matrixTranspose(s)), 0.5);
  });
}

// ---- the ops ------------------------------------------------------------------------

/**
 * The Cholesky factorisation of symmetric positive-definite matrices: the
 * lower-triangular l `[..., n, n]` with positive diagonal and l·lᵀ = a, for
 * each matrix of `a` `[..., n, n]` (float32). Only the lower triangle of `a`
 * (diagonal included) is read, as by LAPACK and `tf.linalg.cholesky`; the
 * upper one is taken to mirror it.
 *
 * Differentiable: the gradient with respect to `a` is Murray's (2016)
 * closed form by two triangular solves, symmetrised (½(Ā + Āᵀ)), as in TF
 * and JAX: it is the gradient of a function of a symmetric matrix, whose
 * i ≠ j entries move together; for a function of the lower triangle alone
 * (the upper ignored), the gradient of an entry below the diagonal is twice
 * the value given here.
 *
 * Cost: ~10 tfjs ops per column (blocked right-looking elimination), O(n³)
 * work, no data read unless `validateArgs`; float32 rounding grows with the
 * condition number of `a` (add a small multiple of the identity, "jitter",
 * to a kernel matrix). See the module comment for the trade-off against a
 * JavaScript kernel. A backend that registers the kernel `Cholesky` (the
 * native one does; semantics in the module comment) runs the factorisation
 * as that one kernel instead, with the same gradient.
 * @example
 * const a = tf.tensor2d([[4, 2], [2, 3]]);
 * zs.cholesky(a); // [[2, 0], [1, √2]]
 * @throws naming `cholesky` and `a`: rank below 2 or non-square matrices;
 *   with `validateArgs`, a matrix that is not positive definite (or holds
 *   NaN), with its batch index and the order of its failing leading minor.
 */
export function cholesky(a: tf.Tensor, opts: CholeskyOptions = {}): tf.Tensor {
  const n = squareMatrixSize(
    'cholesky',
    'a',
    a.shape,
    'n × n symmetric positive-definite matrices',
  );
  const f = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = inputs[1] as tf.GradSaveFunc;
    const l = factor(inputs[0] as tf.Tensor);
    save([l]);
    return {
      value: l,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        factorGrad(saved[0], dy as tf.Tensor),
    };
  });
  const l = tf.tidy(() => f(asFloat(a)));
  if (opts.validateArgs ?? getValidateArgs()) {
    const pivots = tf.tidy(() => diagPart(l).dataSync());
    const bad = pivots.findIndex((v) => !(v > 0 && v < Infinity));
    if (bad >= 0) {
      l.dispose();
      const member =
        a.rank > 2 ? ` (batch member ${unravel(Math.floor(bad / n), a.shape.slice(0, -2))})` : '';
      throw new Error(
        `cholesky: \`a\` must be symmetric positive definite: its leading ${(bad % n) + 1} × ${(bad % n) + 1} block${member} is not (a pivot is ≤ 0 or NaN); add a small multiple of the identity or check how it was built`,
      );
    }
  }
  return l;
}

/** The multi-index `[i, j, …]` of flat index `flat` in shape `shape`, as text. */
function unravel(flat: number, shape: number[]): string {
  const idx: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    idx.unshift(flat % shape[i]);
    flat = Math.floor(flat / shape[i]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Solves l·x = b (or lᵀ·x = b with `adjoint`) for x, with `l` `[...Bl, n, n]`
 * lower triangular (or upper with `lower: false`) and `b` `[...Bb, n, k]`;
 * the batch shapes broadcast and x has shape `[...broadcast, n, k]` (float32).
 * Only the triangle of `l` named by `lower` is read, the diagonal included:
 * the other may hold anything, NaN included. For a vector right-hand side
 * `[..., n]`, expand it to `[..., n, 1]`.
 *
 * Differentiable with respect to both: b̄ = op(l)⁻ᵀ·x̄ and l̄ = −b̄·xᵀ
 * (transposed with `adjoint`), restricted to the triangle read (the other
 * gets exactly 0) and summed over broadcast batch axes (TF's rule).
 *
 * Cost: ~7 tfjs ops per row (blocked substitution), O(n²k) work, no data
 * read unless `validateArgs`. The batch axes along which `l` is broadcast
 * are folded into the columns of `b`: many right-hand sides against one `l`
 * make one wide solve. A zero on the diagonal gives
 * non-finite values. A backend that registers the kernel
 * `MatrixTriangularSolve` (the native one does; semantics in the module
 * comment) runs the solve, and the gradient's, as that one kernel instead.
 * @example
 * const l = tf.tensor2d([[2, 0], [1, 4]]);
 * zs.triangularSolve(l, tf.tensor2d([[2], [9]]));                    // [[1], [2]]
 * zs.triangularSolve(l, tf.tensor2d([[4], [8]]), { adjoint: true }); // lᵀ·x = b: [[1], [2]]
 * @throws naming `triangularSolve` and the argument: `l` of rank below 2 or
 *   not square, `b` of rank below 2 or without n rows, batch shapes that do
 *   not broadcast; with `validateArgs`, a zero or NaN on the diagonal of `l`.
 */
export function triangularSolve(
  l: tf.Tensor,
  b: tf.Tensor,
  opts: TriangularSolveOptions = {},
): tf.Tensor {
  const lower = opts.lower ?? true;
  const adjoint = opts.adjoint ?? false;
  const n = squareMatrixSize('triangularSolve', 'l', l.shape, 'n × n triangular matrices');
  if (b.rank < 2) {
    throw new Error(
      `triangularSolve: \`b\` must have rank at least 2 (its last two axes hold n × k right-hand sides), got shape [${b.shape}]`,
    );
  }
  if (b.shape[b.rank - 2] !== n) {
    throw new Error(
      `triangularSolve: \`b\` [${b.shape}] must have n = ${n} rows (its second-last axis), as \`l\` [${l.shape}] is n × n`,
    );
  }
  const lb = l.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  if (broadcastBatch(lb, bb) === null) {
    throw new Error(
      `triangularSolve: the batch shapes of \`l\` [${lb}] and \`b\` [${bb}] (their shapes less the last two axes) do not broadcast`,
    );
  }
  if (opts.validateArgs ?? getValidateArgs()) {
    assertNone(
      () => {
        const d = diagPart(l);
        return tf.logicalOr(tf.equal(d, 0), tf.isNaN(d));
      },
      'triangularSolve',
      '`l` is singular: its diagonal holds a 0 or NaN',
    );
  }
  const bShape = b.shape;
  const f = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [li, bi] = inputs as tf.Tensor[];
    const save = inputs[2] as tf.GradSaveFunc;
    const x = solve(li, bi, lower, adjoint);
    save([li, x]);
    return {
      value: x,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [ls, xs] = saved;
        const gb = solve(ls, dy as tf.Tensor, lower, !adjoint);
        const gl = adjoint ? sumOuter(xs, gb, ls.shape) : sumOuter(gb, xs, ls.shape);
        return [tf.where(triangleMask(n, lower), tf.neg(gl), 0), reduceToShape(gb, bShape)];
      },
    };
  });
  return tf.tidy(() => f(asFloat(l), asFloat(b)));
}
