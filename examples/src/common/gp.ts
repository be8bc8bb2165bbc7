/**
 * Gaussian-process pieces of ZhuSuan's examples/gaussian_process (utils.py
 * and svgp.py): the inducing points' Cholesky terms, the conditional
 * f(x) | f(z), and the sparse variational GP's predictive distribution, on
 * the library's RBF kernel `zs.rbfKernel` with one length scale per input,
 *
 *   k(x, x') = exp(−½ Σ_j (x_j − x'_j)² / s_j),
 *
 * s_j (ZhuSuan's `k_scale`, a squared length scale) = softplus of a raw
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

/** The values of each {@link triangleMatrix} asked for so far, by n, below and diag. */
const triangleValues = new Map<string, Float32Array>();

/**
 * A constant `[n, n]` float32 matrix with `below` under the diagonal,
 * `diag` on it and 0 above (the identity, triangle masks), made from a typed
 * array: no kernel runs, where `tf.eye` and comparisons of ranges run several.
 * The values are made once per (n, below, diag) and shared by the tensors
 * (tfjs does not copy a tensor's typed array, and no kernel writes to its
 * inputs), so that a training step, which asks for ~10 of them, neither
 * fills nor allocates them again.
 */
export function triangleMatrix(n: number, below: number, diag: number): tf.Tensor2D {
  const key = `${n},${below},${diag}`;
  let v = triangleValues.get(key);
  if (v === undefined) {
    v = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      v.fill(below, i * n, i * n + i);
      v[i * n + i] = diag;
    }
    triangleValues.set(key, v);
  }
  return tf.tensor2d(v, [n, n]);
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
 * L and L⁻¹ of K(z, z) + `jitter`·I (see {@link InducingTerms}): K(z, z) by
 * `zs.rbfKernel`, then L and L⁻¹ as one differentiable op of K with two
 * outputs (`zs.customGradMulti`).
 *
 * Its gradient, from dL and dL⁻¹: L⁻¹'s reaches L as −L⁻ᵀ·dL⁻¹·L⁻ᵀ on the
 * lower triangle (`zs.triangularSolve`'s rule), L's reaches K as ½(S + Sᵀ),
 * S = L⁻ᵀ·Φ(Lᵀ·dL)·L⁻¹ (Murray 2016, `zs.cholesky`'s rule, Φ keeping the
 * lower triangle with its diagonal halved) — with L⁻¹ at hand, by matrix
 * products instead of triangular solves; K's gradient reaches z and kScale
 * through `zs.rbfKernel`'s. The two rules meet in Φ(Lᵀ·(dL − L⁻ᵀ·dL⁻¹·L⁻ᵀ)),
 * which is Φ(Lᵀ·dL − dL⁻¹·L⁻ᵀ): Lᵀ·L⁻ᵀ = I, and Φ needs no mask of the
 * lower triangle first (Lᵀ is upper triangular, so an upper part of its
 * right operand only reaches the strict upper triangle of the product). Four
 * products of [M, M], where the rules one after the other take five.
 */
export function inducingTerms(z: tf.Tensor2D, kScale: tf.Tensor1D, jitter = JITTER): InducingTerms {
  const m = z.shape[0];
  const op = zs.customGradMulti(([k], save) => {
    const eye = triangleMatrix(m, 0, 1);
    const l = zs.cholesky(tf.add(k, tf.mul(eye, jitter)) as tf.Tensor2D);
    const lInv = zs.triangularSolve(l, eye);
    save([l, lInv]);
    return {
      value: [l, lInv],
      gradFunc: ([dl, dlInv], [ls, li]) => {
        const ltDl = tf.sub(tf.matMul(ls, dl, true), tf.matMul(dlInv, li, false, true));
        const phi = tf.mul(ltDl, triangleMatrix(m, 1, 0.5));
        const sm = tf.matMul(tf.matMul(li, phi, true), li);
        return [tf.mul(tf.add(sm, tf.transpose(sm)), 0.5)];
      },
    };
  });
  return tf.tidy(() => {
    const [kzzChol, kzzCholInv] = op(zs.rbfKernel(z, z, kScale)) as [tf.Tensor2D, tf.Tensor2D];
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
 * dx = −(dy·W)·L⁻¹ and dL⁻¹ = −(dy·W)ᵀ·x + diag(Σ dy / diag L⁻¹). Pass
 * `white`, W itself, when the caller has it ({@link gpConditional}'s): the
 * op then reads W instead of taking the product again, and its gradient goes
 * to W as −dy·W (and to L⁻¹ through the diagonal), reaching x and L⁻¹ through
 * the product that made W.
 * @throws naming `white` when its shape is not `[S, M]`.
 */
export function mvnLogProbCholInv(
  x: tf.Tensor2D,
  lInv: tf.Tensor2D,
  white?: tf.Tensor2D,
): tf.Tensor1D {
  const m = lInv.shape[0];
  const given = white !== undefined;
  if (given && !tf.util.arraysEqual(white.shape, [x.shape[0], m])) {
    throw new Error(
      `mvnLogProbCholInv: \`white\` has shape [${white.shape}], expected [${x.shape[0]}, ${m}] (x·L⁻ᵀ)`,
    );
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [first, li] = args as tf.Tensor[];
    const diag = tf.sum(tf.mul(li, triangleMatrix(m, 0, 1)), 1);
    const logDet = tf.sum(tf.log(diag));
    const w = given ? first : tf.matMul(first, li, false, true);
    (args[2] as tf.GradSaveFunc)(given ? [w, diag] : [w, diag, first, li]);
    return {
      value: tf.sub(
        tf.add(logDet, -0.5 * m * Math.log(2 * Math.PI)),
        tf.mul(tf.sum(tf.square(w), 1), 0.5),
      ),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [ws, d, xs, ls] = saved;
        const gw = tf.mul(ws, tf.reshape(dy as tf.Tensor, [-1, 1])); // −dW
        const dLogDet = tf.mul(triangleMatrix(m, 0, 1), tf.div(tf.sum(dy as tf.Tensor), d));
        if (given) return [tf.neg(gw), dLogDet];
        return [tf.neg(tf.matMul(gw, ls)), tf.sub(dLogDet, tf.matMul(gw, xs, true))];
      },
    };
  });
  return op(given ? white : x, lInv) as tf.Tensor1D;
}

/** A = L⁻¹ K(z, x) and the conditional variance at inputs `x` (see {@link gpProjection}). */
export interface GpProjection {
  /** The inputs `[n, d]` it was computed at (compared by identity when reused). */
  x: tf.Tensor2D;
  /** A = L⁻¹ K(z, x) `[M, n]`, L the Cholesky factor of K(z, z) + jitter·I. */
  a: tf.Tensor2D;
  /** 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) = 1 − Σ_rows A² `[n]`, floored at {@link VARIANCE_FLOOR}. */
  variance: tf.Tensor1D;
  /** ½ log of {@link GpProjection.variance}: the conditional's log standard deviation `[n]`. */
  logstd: tf.Tensor1D;
}

/**
 * A = L⁻¹ K(z, x) `[M, n]` and the conditional variance
 * 1 − diag K(x, z) K(z, z)⁻¹ K(z, x) = max(1 − Σ_rows A², floor) `[n]` at
 * inputs `x` `[n, d]`: what {@link gpConditional} and {@link svgpPredictive}
 * compute from, to compute once where both q's draws and the model need the
 * conditional at the same inputs. Everything downstream goes through A, never
 * B = K(z, z)⁻¹ K(z, x) = L⁻ᵀA: a product with B is one with L⁻ᵀ (on the
 * small side, [·, M]) and then with A, which saves an [M, M]·[M, n] product
 * forward and two backward.
 *
 * K(z, x) by `zs.rbfKernel`, then one differentiable op of (L⁻¹, K) with
 * three outputs, A, the variance v and ½ log v (the log standard deviation,
 * which the reparameterised draw of f(x) takes); with their upstream dA, dv
 * and dl, dc = dv + dl/(2v) where the floor does not hold (else 0) and
 * G = dA − 2·A·dc:  dL⁻¹ = G·Kᵀ,  dK = L⁻ᵀ·G, and dK reaches z, x and
 * kScale through `zs.rbfKernel`'s gradient.
 */
export function gpProjection(
  z: tf.Tensor2D,
  terms: InducingTerms,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
): GpProjection {
  const op = zs.customGradMulti(([li, k], save) => {
    const a = tf.matMul(li, k);
    const c = tf.sub(1, tf.sum(tf.square(a), 0));
    const v = tf.maximum(c, VARIANCE_FLOOR);
    // −2 where the variance is above the floor (Maximum's gradient), else 0;
    // and the same over v, for ½ log v's gradient (−2·dl/(2v) = open·dl/(2v)).
    const open = tf.mul(tf.cast(tf.greaterEqual(c, VARIANCE_FLOOR), 'float32'), -2);
    const openHalfInv = tf.div(open, tf.mul(v, 2));
    save([li, k, a, open, openHalfInv]);
    return {
      value: [a, v, tf.mul(tf.log(v), 0.5)],
      gradFunc: ([da, dv, dl], [ls, ks, as, op2, op2v]) => {
        const g = tf.add(da, tf.mul(as, tf.add(tf.mul(dv, op2), tf.mul(dl, op2v))));
        return [tf.matMul(g, ks, false, true), tf.matMul(ls, g, true)];
      },
    };
  });
  return tf.tidy(() => {
    const [a, variance, logstd] = op(terms.kzzCholInv, zs.rbfKernel(z, x, kScale)) as [
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    return { x, a, variance, logstd };
  });
}

/**
 * The conditional f(x) | f(z) = fz of the GP (ZhuSuan's `gp_conditional`
 * with `full_cov=False`): for `fz` `[S, M]` and inputs `x` `[n, d]`, the mean
 * K(x, z) K(z, z)⁻¹ fz `[S, n]`, computed as (fz·L⁻ᵀ)·A, and the log of the
 * standard deviation √(1 − diag K(x, z) K(z, z)⁻¹ K(z, x)) `[n]` of each
 * f(x_i) (the parameter the library's Normal draws from in one kernel); also
 * `white`, W = fz·L⁻ᵀ `[S, M]`, which {@link mvnLogProbCholInv} reads for
 * log p(fz) rather than taking the product again. Pass `projection`, a
 * {@link gpProjection} at this same `x` tensor, to reuse it.
 * @throws naming `projection` when it was computed at another `x`.
 */
export function gpConditional(
  z: tf.Tensor2D,
  terms: InducingTerms,
  fz: tf.Tensor2D,
  x: tf.Tensor2D,
  kScale: tf.Tensor1D,
  projection?: GpProjection,
): { mean: tf.Tensor2D; logstd: tf.Tensor1D; white: tf.Tensor2D } {
  if (projection !== undefined && projection.x !== x) {
    throw new Error(
      'gpConditional: `projection` was computed at other inputs than `x` (pass the same x tensor, or leave it out)',
    );
  }
  return tf.tidy(() => {
    const { a, logstd } = projection ?? gpProjection(z, terms, x, kScale);
    const white = tf.matMul(fz, terms.kzzCholInv, false, true) as tf.Tensor2D;
    return { mean: tf.matMul(white, a) as tf.Tensor2D, logstd, white };
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
    const { a, variance: condVariance } = gpProjection(z, terms, x, kScale);
    const lInv = terms.kzzCholInv;
    // Bᵀm = Aᵀ(L⁻¹m) and SᵀB = (L⁻¹S)ᵀA, with B = L⁻ᵀA.
    const whiteMean = tf.matMul(tf.reshape(qMean, [1, -1]), lInv, false, true);
    const mean = tf.squeeze(tf.matMul(whiteMean, a), [0]) as tf.Tensor1D;
    const sb = tf.matMul(tf.matMul(lInv, qCholTril), a, true); // Sᵀ B  [M, n]
    const variance = tf.add(condVariance, tf.sum(tf.square(sb), 0)) as tf.Tensor1D;
    return { mean, variance };
  });
}
