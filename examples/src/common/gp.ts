/**
 * Gaussian-process pieces of ZhuSuan's examples/gaussian_process (utils.py
 * and svgp.py): the RBF kernel with one length scale per input, the
 * conditional f(x) | f(z), and the sparse variational GP's predictive
 * distribution.
 *
 *   k(x, x') = exp(−½ Σ_j (x_j − x'_j)² / s_j)
 *
 * with s_j (ZhuSuan's `k_scale`, a squared length scale) = softplus of a raw
 * parameter; the signal variance is 1 (the targets are standardised).
 *
 * Differences from ZhuSuan: K(z, z) gets a jitter (float32 Cholesky of a
 * kernel matrix whose length scales grow during training), and the
 * conditional variance is floored at {@link VARIANCE_FLOOR} (rounding can
 * make it slightly negative; ZhuSuan takes its square root as it is).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';

/** The jitter added to the diagonal of K(z, z) before its Cholesky factorisation. */
export const JITTER = 1e-4;

/** The smallest conditional variance of f(x) | f(z) (its float32 rounding can go below 0). */
export const VARIANCE_FLOOR = 1e-8;

/**
 * A constant `[n, n]` float32 matrix with `below` under the diagonal,
 * `diag` on it and 0 above (the identity, triangle masks), made from a typed
 * array: no kernel runs, where `tf.eye` and comparisons of ranges run several.
 */
export function triangleMatrix(n: number, below: number, diag: number): tf.Tensor2D {
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    v.fill(below, i * n, i * n + i);
    v[i * n + i] = diag;
  }
  return tf.tensor2d(v, [n, n]);
}

/**
 * The pieces of the RBF kernel's forward pass that its gradient reuses: the
 * scaled inputs xs = x/√s, ys = y/√s, r = 1/√s, the kernel matrix k and kh =
 * k where the clipped squared distance was positive, 0 where it was clipped
 * (the gradient of the clip, ReLU, is 0 there). The value is computed by the
 * same ops, in the same order, as the composite it replaced; with `x` and
 * `y` the same tensor, its scaled copy and norms are computed once.
 */
interface RbfParts {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
  r: tf.Tensor1D;
  k: tf.Tensor2D;
  kh: tf.Tensor2D;
}

function rbfParts(x: tf.Tensor2D, y: tf.Tensor2D, kScale: tf.Tensor1D): RbfParts {
  const r = tf.rsqrt(kScale) as tf.Tensor1D;
  const xs = tf.mul(x, r) as tf.Tensor2D;
  const ys = x === y ? xs : (tf.mul(y, r) as tf.Tensor2D);
  const xx = tf.sum(tf.square(xs), 1, true);
  const yy = tf.reshape(x === y ? xx : tf.sum(tf.square(ys), 1), [1, -1]);
  // |x − y|² = |x|² + |y|² − 2 x·y, clipped at 0 against rounding.
  const raw = tf.sub(tf.add(xx, yy), tf.mul(tf.matMul(xs, ys, false, true), 2));
  const k = tf.exp(tf.mul(tf.relu(raw), -0.5)) as tf.Tensor2D;
  return { xs, ys, r, k, kh: tf.mul(k, tf.step(raw)) as tf.Tensor2D };
}

/**
 * The RBF kernel's gradients from gp = dK·kh (see {@link RbfParts}): with
 * G = −½·gp the gradient of the squared scaled distance,
 *   dxs = gp·ys − xs·rowsum(gp),   dys = gpᵀ·xs − ys·colsum(gp),
 *   dx = dxs·r,   dy = dys·r,   ds = −½(Σ_i dxs·xs + Σ_k dys·ys)/s.
 * With `sym` (x and y the same tensor) both contributions are summed into
 * one, from h = gp + gpᵀ: dxs = h·xs − xs·rowsum(h); `dy` is then absent.
 */
function rbfGrads(
  gp: tf.Tensor2D,
  xs: tf.Tensor2D,
  ys: tf.Tensor2D,
  r: tf.Tensor1D,
  sym: boolean,
): { dx: tf.Tensor2D; dy?: tf.Tensor2D; ds: tf.Tensor1D } {
  const h = sym ? tf.add(gp, tf.transpose(gp)) : gp;
  const dxs = tf.sub(tf.matMul(h, ys), tf.mul(xs, tf.sum(h, 1, true)));
  let dr = tf.sum(tf.mul(dxs, xs), 0);
  let dy: tf.Tensor2D | undefined;
  if (!sym) {
    const dys = tf.sub(tf.matMul(gp, xs, true), tf.mul(ys, tf.reshape(tf.sum(gp, 0), [-1, 1])));
    dr = tf.add(dr, tf.sum(tf.mul(dys, ys), 0));
    dy = tf.mul(dys, r) as tf.Tensor2D;
  }
  return {
    dx: tf.mul(dxs, r) as tf.Tensor2D,
    dy,
    ds: tf.mul(dr, tf.mul(tf.square(r), -0.5)) as tf.Tensor1D,
  };
}

/** The RBF kernel as one op of (x, y, kScale); see {@link rbfKernel}. */
const rbfOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, y, kScale] = args as tf.Tensor[];
  const p = rbfParts(x as tf.Tensor2D, y as tf.Tensor2D, kScale as tf.Tensor1D);
  (args[3] as tf.GradSaveFunc)([p.xs, p.ys, p.r, p.kh]);
  return {
    value: p.k,
    gradFunc: (dk: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, ys, r, kh] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
      const g = rbfGrads(tf.mul(dk as tf.Tensor, kh) as tf.Tensor2D, xs, ys, r, false);
      return [g.dx, g.dy!, g.ds];
    },
  };
});

/**
 * The RBF kernel matrix K(x, y) `[n, m]` of `x` `[n, d]` and `y` `[m, d]`
 * with squared length scales `kScale` `[d]`: exp(−½ Σ_j (x_j − y_j)² / s_j),
 * the squared distance computed as |x|² + |y|² − 2 x·y (scaled by 1/√s) and
 * clipped at 0.
 *
 * One differentiable op: its forward kernels run off the tape and its
 * gradients with respect to x, y and kScale are written out in closed form
 * (see `rbfGrads`): two matrix products and a few element-wise kernels, where
 * tfjs' autodiff of the composite runs some forty kernels and keeps a copy of
 * every intermediate.
 */
export function rbfKernel(x: tf.Tensor2D, y: tf.Tensor2D, kScale: tf.Tensor1D): tf.Tensor2D {
  return rbfOp(x, y, kScale) as tf.Tensor2D;
}

/**
 * What the conditional and the predictive share at inducing inputs `z`
 * `[M, d]`: the Cholesky factor L of K(z, z) + jitter·I and its inverse.
 */
export interface InducingTerms {
  /** L `[M, M]`, lower triangular, L·Lᵀ = K(z, z) + jitter·I. */
  kzzChol: tf.Tensor2D;
  /** L⁻¹ `[M, M]`. */
  kzzCholInv: tf.Tensor2D;
}

/**
 * L and L⁻¹ of K(z, z) + `jitter`·I (see {@link InducingTerms}), as one
 * differentiable op of (z, kScale) whose value is L and L⁻¹ stacked.
 *
 * Its gradient, from dL and dL⁻¹: L⁻¹'s reaches L as −L⁻ᵀ·dL⁻¹·L⁻ᵀ on the
 * lower triangle (`zs.triangularSolve`'s rule), L's reaches K as ½(S + Sᵀ),
 * S = L⁻ᵀ·Φ(Lᵀ·dL)·L⁻¹ (Murray 2016, `zs.cholesky`'s rule, Φ keeping the
 * lower triangle with its diagonal halved) — with L⁻¹ at hand, by matrix
 * products instead of triangular solves — and K's reaches z and kScale by
 * the RBF kernel's rule with x = y = z.
 */
export function inducingTerms(z: tf.Tensor2D, kScale: tf.Tensor1D, jitter = JITTER): InducingTerms {
  const m = z.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [zi, s] = args as [tf.Tensor2D, tf.Tensor1D];
    const p = rbfParts(zi, zi, s);
    const eye = triangleMatrix(m, 0, 1);
    const l = zs.cholesky(tf.add(p.k, tf.mul(eye, jitter)));
    const lInv = zs.triangularSolve(l, eye);
    (args[2] as tf.GradSaveFunc)([p.xs, p.r, p.kh, l, lInv]);
    return {
      value: tf.stack([l, lInv]),
      gradFunc: (dv: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, r, kh, ls, li] = saved as [
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
        ];
        const [dl, dlInv] = tf.unstack(dv as tf.Tensor);
        const fromInv = tf.matMul(tf.matMul(li, dlInv, true), li, false, true);
        const dlAll = tf.sub(dl, tf.mul(fromInv, triangleMatrix(m, 1, 1)));
        const phi = tf.mul(tf.matMul(ls, dlAll, true), triangleMatrix(m, 1, 0.5));
        const sm = tf.matMul(tf.matMul(li, phi, true), li);
        const dk = tf.mul(tf.add(sm, tf.transpose(sm)), 0.5);
        const g = rbfGrads(tf.mul(dk, kh) as tf.Tensor2D, xs, xs, r, true);
        return [g.dx, g.ds];
      },
    };
  });
  return tf.tidy(() => {
    const [kzzChol, kzzCholInv] = tf.unstack(op(z, kScale)) as [tf.Tensor2D, tf.Tensor2D];
    return { kzzChol, kzzCholInv };
  });
}

/**
 * log N(x; 0, L·Lᵀ) of each row of `x` `[S, M]` from L⁻¹ `[M, M]` (lower
 * triangular, positive diagonal): −(M/2)·log 2π + Σ log diag L⁻¹ −
 * ½‖L⁻¹x‖², `[S]`. With L⁻¹ at hand this is two matrix products, where the
 * distribution's `logProb` would run a triangular solve.
 *
 * One differentiable op: with W = x·L⁻ᵀ and the upstream dy `[S]`,
 * dx = −(dy·W)·L⁻¹ and dL⁻¹ = −(dy·W)ᵀ·x + diag(Σ dy / diag L⁻¹).
 */
export function mvnLogProbCholInv(x: tf.Tensor2D, lInv: tf.Tensor2D): tf.Tensor1D {
  const m = lInv.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, li] = args as tf.Tensor[];
    const diag = tf.sum(tf.mul(li, triangleMatrix(m, 0, 1)), 1);
    const logDet = tf.sum(tf.log(diag));
    const white = tf.matMul(xi, li, false, true);
    (args[2] as tf.GradSaveFunc)([xi, li, white, diag]);
    return {
      value: tf.sub(
        tf.add(logDet, -0.5 * m * Math.log(2 * Math.PI)),
        tf.mul(tf.sum(tf.square(white), 1), 0.5),
      ),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ls, w, d] = saved;
        const gw = tf.mul(w, tf.reshape(dy as tf.Tensor, [-1, 1])); // −dW
        const dLogDet = tf.mul(triangleMatrix(m, 0, 1), tf.div(tf.sum(dy as tf.Tensor), d));
        return [tf.neg(tf.matMul(gw, ls)), tf.sub(dLogDet, tf.matMul(gw, xs, true))];
      },
    };
  });
  return op(x, lInv) as tf.Tensor1D;
}

/** B = K(z, z)⁻¹ K(z, x) and the conditional variance at inputs `x` (see {@link gpProjection}). */
export interface GpProjection {
  /** The inputs `[n, d]` it was computed at (compared by identity when reused). */
  x: tf.Tensor2D;
  /** B = K(z, z)⁻¹ K(z, x) `[M, n]`. */
  b: tf.Tensor2D;
  /** 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) `[n]`, floored at {@link VARIANCE_FLOOR}. */
  variance: tf.Tensor1D;
}

/**
 * B = K(z, z)⁻¹ K(z, x) `[M, n]` and the conditional variance
 * 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) `[n]` (floored) at inputs `x` `[n, d]`,
 * through A = L⁻¹ K(z, x): B = L⁻ᵀA, variance = max(1 − Σ_rows A², floor):
 * what {@link gpConditional} and {@link svgpPredictive} compute from, to
 * compute once where both q's draws and the model need the conditional at
 * the same inputs.
 *
 * One differentiable op of (z, L⁻¹, x, kScale) whose value is B with the
 * variance as an extra row; with dB and dv (0 where the floor holds):
 *   dA = L⁻¹·dB − 2·A·dv,   dL⁻¹ = A·dBᵀ + dA·Kᵀ,   dK = L⁻ᵀ·dA,
 * and dK reaches z, x and kScale by the RBF kernel's rule.
 */
export function gpProjection(
  z: tf.Tensor2D,
  terms: InducingTerms,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
): GpProjection {
  const m = z.shape[0];
  const n = x.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [zi, li, xi, s] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const p = rbfParts(zi, xi, s);
    const a = tf.matMul(li, p.k);
    const b = tf.matMul(li, a, true);
    const c = tf.sub(1, tf.sum(tf.square(a), 0));
    // −2 where the variance is above the floor (Maximum's gradient), else 0.
    const open = tf.mul(tf.cast(tf.greaterEqual(c, VARIANCE_FLOOR), 'float32'), -2);
    const variance = tf.maximum(c, VARIANCE_FLOOR);
    (args[4] as tf.GradSaveFunc)([p.xs, p.ys, p.r, p.kh, p.k, li, a, open]);
    return {
      value: tf.concat([b, tf.reshape(variance, [1, n])], 0),
      gradFunc: (dv: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ys, r, kh, k, ls, as, op2] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor,
        ];
        const [db, dVar] = tf.split(dv as tf.Tensor, [m, 1], 0);
        const da = tf.add(tf.matMul(ls, db), tf.mul(as, tf.mul(dVar, op2)));
        const dlInv = tf.add(tf.matMul(as, db, false, true), tf.matMul(da, k, false, true));
        const dk = tf.matMul(ls, da, true);
        const g = rbfGrads(tf.mul(dk, kh) as tf.Tensor2D, xs, ys, r, false);
        return [g.dx, dlInv, g.dy!, g.ds];
      },
    };
  });
  return tf.tidy(() => {
    const [b, v] = tf.split(op(z, terms.kzzCholInv, x, kScale), [m, 1], 0);
    return { x, b: b as tf.Tensor2D, variance: tf.reshape(v, [n]) as tf.Tensor1D };
  });
}

/**
 * The conditional f(x) | f(z) = fz of the GP (ZhuSuan's `gp_conditional`
 * with `full_cov=False`): for `fz` `[S, M]` and inputs `x` `[n, d]`, the mean
 * K(x, z) K(z, z)⁻¹ fz `[S, n]` and the standard deviation
 * √(1 − diag K(x, z) K(z, z)⁻¹ K(z, x)) `[n]` of each f(x_i). Pass
 * `projection`, a {@link gpProjection} at this same `x` tensor, to reuse it.
 * @throws naming `projection` when it was computed at another `x`.
 */
export function gpConditional(
  z: tf.Tensor2D,
  terms: InducingTerms,
  fz: tf.Tensor2D,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
  projection?: GpProjection,
): { mean: tf.Tensor2D; std: tf.Tensor1D } {
  if (projection !== undefined && projection.x !== x) {
    throw new Error(
      'gpConditional: `projection` was computed at other inputs than `x` (pass the same x tensor, or leave it out)',
    );
  }
  return tf.tidy(() => {
    const { b, variance } = projection ?? gpProjection(z, terms, x, kScale);
    return { mean: tf.matMul(fz, b) as tf.Tensor2D, std: tf.sqrt(variance) as tf.Tensor1D };
  });
}

/**
 * The sparse GP's predictive distribution of f(x) under q(f(z)) = N(m, S·Sᵀ):
 * the mean Bᵀm and the variance 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) +
 * diag Bᵀ S Sᵀ B `[n]`, with B = K(z, z)⁻¹ K(z, x), for inducing inputs `z`
 * `[M, d]`, `qMean` `[M]`, the lower factor `qCholTril` `[M, M]` and inputs
 * `x` `[n, d]`. Add the noise variance for the predictive of y.
 */
export function svgpPredictive(
  z: tf.Tensor2D,
  terms: InducingTerms,
  qMean: tf.Tensor1D,
  qCholTril: tf.Tensor2D,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  return tf.tidy(() => {
    const { b, variance: condVariance } = gpProjection(z, terms, x, kScale);
    const mean = tf.squeeze(tf.matMul(tf.reshape(qMean, [1, -1]), b), [0]) as tf.Tensor1D;
    const sb = tf.matMul(qCholTril, b, true); // Sᵀ B  [M, n]
    const variance = tf.add(condVariance, tf.sum(tf.square(sb), 0)) as tf.Tensor1D;
    return { mean, variance };
  });
}
