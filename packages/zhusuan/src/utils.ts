/** Numerically stable reductions used by the objectives. */
import * as tf from '@tensorflow/tfjs-core';
import { fusedLogSumExp } from './kernels.js';

/**
 * log(sum(exp(x))) along `axis`, shifted by the maximum so large magnitudes
 * neither overflow nor underflow. Slices that are all -Infinity give -Infinity
 * (not NaN), with gradient 0. One kernel forward and one backward where the
 * backend has the optional `ZsLogSumExp` kernels (see `OPTIONAL_KERNELS`)
 * and x is float32, else Max, Sub, Exp, Sum, Log and Add: the same numbers.
 * @example zs.logSumExp(tf.tensor([[0, 0], [1000, 1000]]), 1) // [log 2, 1000 + log 2]
 */
export function logSumExp(x: tf.Tensor, axis: number | number[], keepDims = false): tf.Tensor {
  const axes = normAxes(axis, x.rank);
  const fused = fusedLogSumExp(x, axes, keepDims);
  if (fused !== null) return fused;
  // One op with its gradient written out, dy·exp(x − m)/Σ exp(x − m) (the
  // softmax, from the shifted exponentials as autodiff would form it): its
  // forward kernels run off the tape, so a gradient computation keeps no
  // copies of their inputs and does not differentiate the shift.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor;
    const m = tf.max(t, axes, true);
    // A slice of -Infinity has max -Infinity; shift by 0 there to avoid inf - inf.
    const safe = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
    const e = tf.exp(tf.sub(t, safe));
    const s = tf.sum(e, axes, true);
    const out = tf.add(tf.log(s), safe);
    (args[1] as tf.GradSaveFunc)([e, s]);
    return {
      value: keepDims ? out : tf.squeeze(out, axes),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [es, ss] = saved;
        return tf.mul(tf.div(tf.reshape(dy as tf.Tensor, ss.shape), ss), es);
      },
    };
  });
  return op(x);
}

/**
 * log(mean(exp(x))) along `axis`: {@link logSumExp} minus log of the number of
 * elements reduced.
 */
export function logMeanExp(x: tf.Tensor, axis: number | number[], keepDims = false): tf.Tensor {
  return tf.tidy(() => {
    const axes = normAxes(axis, x.rank);
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    return tf.sub(logSumExp(x, axes, keepDims), Math.log(count));
  });
}

/** Normalises (possibly negative) axes to sorted non-negative ones; checks range. */
function normAxes(axis: number | number[], rank: number): number[] {
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    return a < 0 ? a + rank : a;
  });
  return [...new Set(axes)].sort((p, q) => p - q);
}

/** Sums `x` over its last `k` axes (a distribution's group axes); `x` itself when k is 0. */
export function sumLast(x: tf.Tensor, k: number): tf.Tensor {
  if (k === 0) return x;
  return tf.sum(
    x,
    Array.from({ length: k }, (_, i) => x.rank - 1 - i),
  );
}

/**
 * `compute()` with no gradient path to anything it reads: its kernels run off
 * the tape, so a gradient computation neither reaches the tensors it read nor
 * does any backward work for them (TensorFlow's `stop_gradient`, PyTorch's
 * `detach`). A parameter reached only through the result gets no gradient:
 * `tf.grads` with respect to it throws, and `tf.variableGrads` leaves it out.
 *
 * How: tfjs records no kernel that runs inside a custom gradient's forward
 * pass, and the custom gradient's own tape node takes only a fresh scalar,
 * which nothing being differentiated reaches.
 */
export function untaped(compute: () => tf.Tensor): tf.Tensor {
  const anchor = tf.scalar(0);
  try {
    return detachOp(compute)(anchor);
  } finally {
    anchor.dispose();
  }
}

function detachOp(compute: () => tf.Tensor): (anchor: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: compute(),
    gradFunc: () => [tf.zerosLike(inputs[0] as tf.Tensor)],
  })) as (anchor: tf.Tensor) => tf.Tensor;
}

/**
 * Identity in the forward pass, no gradient path in the backward pass
 * (TensorFlow's `stop_gradient`, which tfjs lacks; PyTorch's `detach`): a
 * gradient computation does no work through it, and a tensor reached only
 * through it gets no gradient: `tf.grads` with respect to it throws, and
 * `tf.variableGrads` (so `optimizer.minimize`) leaves it out. A tensor also
 * reached by a live path gets exactly that path's gradient.
 * @example
 * ```ts
 * // d/dx (2x + stop(5x)) = 2
 * tf.grads((x) => tf.sum(tf.add(tf.mul(x, 2), zs.stopGradient(tf.mul(x, 5)))));
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return untaped(() => tf.clone(x)) as T;
}
