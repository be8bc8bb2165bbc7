/**
 * Gaussian-process building blocks: the RBF (squared-exponential) kernel
 * matrix with one length scale per input dimension, as ZhuSuan's Gaussian
 * process examples define it (examples/gaussian_process/utils.py), as one
 * differentiable op.
 *
 * Where the backend registers {@link OPTIONAL_KERNELS.rbfKernel} and
 * {@link OPTIONAL_KERNELS.rbfKernelGrad} (`@zhusuan/tfjs-backend-native`
 * does), the forward pass and the gradient are one kernel each; elsewhere
 * they are composed of tfjs ops (about 17 forward, 20 for the gradient).
 * Both give the same values to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OPTIONAL_KERNELS, backendHasKernel } from './kernels.js';

/** The kernel matrix k and kh = k where the squared distance was not clipped, else 0. */
function rbfComposite(x: tf.Tensor2D, y: tf.Tensor2D, scale: tf.Tensor1D): [tf.Tensor, tf.Tensor] {
  const r = tf.rsqrt(scale);
  const xs = tf.mul(x, r);
  const ys = x === y ? xs : tf.mul(y, r);
  const xx = tf.sum(tf.square(xs), 1, true);
  const yy = tf.reshape(x === y ? xx : tf.sum(tf.square(ys), 1), [1, -1]);
  // |x − y|² = |x|² + |y|² − 2 x·y, clipped at 0 against rounding.
  const raw = tf.sub(tf.add(xx, yy), tf.mul(tf.matMul(xs, ys, false, true), 2));
  const k = tf.exp(tf.mul(tf.relu(raw), -0.5));
  return [k, tf.mul(k, tf.step(raw))];
}

/**
 * The gradients for x, y and scale from gp = dk·kh: with r = 1/√scale and
 * the scaled rows xs, ys, dxs = gp·ys − xs·rowsum(gp) and dys = gpᵀ·xs −
 * ys·colsum(gp) (the squared distance's gradient is −½·gp), dx = dxs·r, dy
 * = dys·r and dscale = (Σ_i dxs·xs + Σ_c dys·ys)·(−½r²).
 */
function rbfGradComposite(
  dk: tf.Tensor,
  kh: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
  scale: tf.Tensor,
): tf.Tensor[] {
  const gp = tf.mul(dk, kh);
  const r = tf.rsqrt(scale);
  const xs = tf.mul(x, r);
  const ys = tf.mul(y, r);
  const dxs = tf.sub(tf.matMul(gp, ys), tf.mul(xs, tf.sum(gp, 1, true)));
  const dys = tf.sub(tf.matMul(gp, xs, true), tf.mul(ys, tf.reshape(tf.sum(gp, 0), [-1, 1])));
  const dr = tf.add(tf.sum(tf.mul(dxs, xs), 0), tf.sum(tf.mul(dys, ys), 0));
  return [tf.mul(dxs, r), tf.mul(dys, r), tf.mul(dr, tf.mul(tf.square(r), -0.5))];
}

/** Whether the active backend runs both RBF kernels (and the operands are float32). */
function fused(...ts: tf.Tensor[]): boolean {
  return (
    ts.every((t) => t.dtype === 'float32') &&
    backendHasKernel(OPTIONAL_KERNELS.rbfKernel) &&
    backendHasKernel(OPTIONAL_KERNELS.rbfKernelGrad)
  );
}

const rbfOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, y, scale] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
  const native = fused(x, y, scale);
  const [k, kh] = native
    ? (tf.engine().runKernel(OPTIONAL_KERNELS.rbfKernel, { x, y, scale }, {}) as tf.Tensor[])
    : rbfComposite(x, y, scale);
  // K(z, z): z kept once (the tape copies each tensor it keeps).
  const same = x === y;
  (args[3] as tf.GradSaveFunc)(same ? [x, scale, kh] : [x, y, scale, kh]);
  return {
    value: k,
    gradFunc: (dk: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [xs, ys, ss, khs] = same ? [saved[0], ...saved] : saved;
      return native
        ? (tf
            .engine()
            .runKernel(
              OPTIONAL_KERNELS.rbfKernelGrad,
              { dk: dk as tf.Tensor, kh: khs, x: xs, y: ys, scale: ss },
              {},
            ) as tf.Tensor[])
        : rbfGradComposite(dk as tf.Tensor, khs, xs, ys, ss);
    },
  };
});

/**
 * The RBF kernel matrix K(x, y) `[n, m]` of the rows of `x` `[n, d]` and `y`
 * `[m, d]` with squared length scales `scale` `[d]` (positive):
 *
 *   K_ic = exp(−½ Σ_j (x_ij − y_cj)² / scale_j),
 *
 * the squared distance computed as |x_i|² + |y_c|² − 2·x_i·y_c of the rows
 * scaled by 1/√scale and clipped at 0 (rounding can make it slightly
 * negative); the signal variance is 1 (multiply for another). `x` and `y`
 * may be the same tensor, K(z, z).
 *
 * One differentiable op of (x, y, scale) with its gradient in closed form:
 * two matrix products and a few element-wise steps. The clip's gradient is
 * 0 where it acts, as `tf.relu`'s is. See the module comment for the
 * backend kernels it uses when present.
 * @throws naming the argument when the shapes do not fit.
 * @example
 * const z = tf.randomUniform([100, 13], -1, 1);
 * const kzz = zs.rbfKernel(z, z, tf.ones([13])); // [100, 100]
 */
export function rbfKernel(x: tf.Tensor2D, y: tf.Tensor2D, scale: tf.Tensor1D): tf.Tensor2D {
  if (x.rank !== 2 || y.rank !== 2) {
    throw new Error(
      `rbfKernel: x and y must be matrices, got shapes [${x.shape}] and [${y.shape}]`,
    );
  }
  if (scale.rank !== 1 || scale.shape[0] !== x.shape[1] || y.shape[1] !== x.shape[1]) {
    throw new Error(
      `rbfKernel: x [${x.shape}], y [${y.shape}] and scale [${scale.shape}] must share d, the last axis (scale [d])`,
    );
  }
  return rbfOp(x, y, scale) as tf.Tensor2D;
}
