/**
 * `dense(x, w, b, activation)`: a fully connected layer y = act(x·W + b).
 * On the native backend it is one kernel forward and one per needed gradient
 * backward (see kernels/native_ops.ts); elsewhere it is tf.matMul + tf.add +
 * the activation, so the same model code runs on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Act } from './addon.js';
import {
  DenseAttrs,
  ZSN_DENSE,
  ZSN_DENSE_GRAD_B,
  ZSN_DENSE_GRAD_W,
  ZSN_DENSE_GRAD_X,
} from './kernels/native_ops.js';

/** Activations {@link dense} supports. */
export type DenseActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'sigmoid';

const ACT: Record<DenseActivation, Act> = {
  linear: Act.Linear,
  relu: Act.Relu,
  relu6: Act.Relu6,
  elu: Act.Elu,
  leakyrelu: Act.LeakyRelu,
  sigmoid: Act.Sigmoid,
};

let gradientRegistered = false;

/** Registers the gradient of the native dense kernel (global in tfjs; idempotent). */
export function registerDenseGradient(): void {
  if (gradientRegistered || tf.getGradient(ZSN_DENSE) !== undefined) {
    gradientRegistered = true;
    return;
  }
  tf.registerGradient({
    kernelName: ZSN_DENSE,
    inputsToSave: ['x', 'w'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, w, y] = saved;
      const a = attrs as unknown as DenseAttrs;
      const run = (name: string, inputs: tf.NamedTensorMap): tf.Tensor =>
        tf.engine().runKernel(name, inputs, a as unknown as tf.NamedAttrMap) as tf.Tensor;
      const g = dy as tf.Tensor;
      return {
        x: () => run(ZSN_DENSE_GRAD_X, { dy: g, y, x, w }),
        w: () => run(ZSN_DENSE_GRAD_W, { dy: g, y, x, w }),
        b: () => run(ZSN_DENSE_GRAD_B, { dy: g, y, x, w }),
      };
    },
  });
  gradientRegistered = true;
}

function activate(y: tf.Tensor, activation: DenseActivation, alpha: number): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'leakyrelu':
      return tf.leakyRelu(y, alpha);
    case 'sigmoid':
      return tf.sigmoid(y);
    default:
      return y;
  }
}

/**
 * A dense layer: `act(x·w + b)` for x [..., in], w [in, out], b [out]
 * (optional) giving [..., out]; leading dimensions of x (samples, batch) are
 * rows of one matrix product. Gradients flow to x, w and b. Second
 * derivatives are not available on the native path.
 *
 * @param alpha slope of 'leakyrelu' for negative inputs (must be > 0 on native).
 * @example
 * ```ts
 * const h = dense(x, w1, b1, 'relu'); // x [128, 784], w1 [784, 500], b1 [500]
 * ```
 */
export function dense(
  x: tf.Tensor,
  w: tf.Tensor,
  b?: tf.Tensor | null,
  activation: DenseActivation = 'linear',
  alpha = 0.2,
): tf.Tensor {
  if (x.rank < 1) throw new Error(`dense: x must have rank >= 1 [..., in], got a scalar`);
  if (w.rank !== 2) throw new Error(`dense: w must be rank 2 [in, out], got shape [${w.shape}]`);
  if (x.shape[x.rank - 1] !== w.shape[0]) {
    throw new Error(`dense: x [${x.shape}] and w [${w.shape}] differ in the inner dimension`);
  }
  if (b != null && (b.rank !== 1 || b.shape[0] !== w.shape[1])) {
    throw new Error(`dense: b must have shape [${w.shape[1]}], got [${b.shape}]`);
  }
  if (!(activation in ACT)) throw new Error(`dense: unknown activation '${activation}'`);
  const native =
    tf.getBackend() === 'native' &&
    x.dtype === 'float32' &&
    w.dtype === 'float32' &&
    (b == null || b.dtype === 'float32') &&
    (activation !== 'leakyrelu' || alpha > 0);
  if (!native) {
    return tf.tidy(() => {
      const outShape: number[] = [...x.shape.slice(0, -1), w.shape[1] as number];
      const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, w.shape[0] as number]);
      const y = tf.matMul(x2 as tf.Tensor2D, w as tf.Tensor2D);
      const z = activate(b == null ? y : tf.add(y, b), activation, alpha);
      return x.rank === 2 ? z : tf.reshape(z, outShape);
    });
  }
  registerDenseGradient();
  const inputs: tf.NamedTensorMap = b == null ? { x, w } : { x, w, b };
  const attrs: DenseAttrs = { act: ACT[activation], alpha, hasBias: b != null };
  return tf.engine().runKernel(ZSN_DENSE, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
