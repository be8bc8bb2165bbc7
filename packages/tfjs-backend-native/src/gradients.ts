/**
 * Gradients of Sum and Mean without a tensor of ones. tfjs' own gradients
 * of both multiply dy by `ones(x.shape)`, a typed array filled in JavaScript
 * and copied into the backend on every backward pass: for the [8, 4500, 5]
 * sum of `pmf_hmc`'s likelihood that is ~0.8 ms a call, 15-20 % of the step.
 * On the native backend these send dy to x's shape with one broadcast copy
 * (`ZsnBroadcastTo`), the same values to the bit (dy·1 = dy; a mean's
 * division is of dy before the copy rather than after, the same quotient).
 * On every other backend they call tfjs' gradients unchanged.
 *
 * tfjs' gradient registry is global, and `@tensorflow/tfjs` fills it when it
 * is imported, so {@link installNativeGradients} runs when the backend is
 * made (at the first `setBackend('native')`, after a program's imports):
 * it wraps whatever gradient Sum and Mean have then, and does nothing when
 * they have none (tfjs-core alone) or are already wrapped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BroadcastToAttrs, ZSN_BROADCAST_TO } from './kernels/BroadcastTo.js';

const NATIVE = 'native';

/** The gradient configs this module registered (so that none is wrapped twice). */
const ours = new WeakSet<tf.GradConfig>();

/** The axes a reduction's `axis` attribute names in x. */
function reducedAxes(x: tf.Tensor, attrs: tf.NamedAttrMap): number[] {
  return tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
}

/** x's shape with the reduced axes set to 1: where dy's values sit in x. */
function keptShape(x: tf.Tensor, axes: number[]): number[] {
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  return shape;
}

/** `e` broadcast to `shape` as float32 (tfjs' gradients return float32 whatever dy's dtype). */
function broadcastTo(e: tf.Tensor, shape: number[]): tf.Tensor {
  const f = e.dtype === 'float32' ? e : tf.cast(e, 'float32');
  if (tf.util.arraysEqual(f.shape, shape)) return f === e ? tf.clone(f) : f;
  const attrs: BroadcastToAttrs = { shape };
  return tf
    .engine()
    .runKernel(ZSN_BROADCAST_TO, { x: f }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The gradient of `ZsnBroadcastTo`: dy summed over the broadcast axes, back to x's shape. */
const broadcastGradient: tf.GradConfig = {
  kernelName: ZSN_BROADCAST_TO,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    const axes = x.shape.flatMap((d, i) => (d === 1 && g.shape[i] !== 1 ? [i] : []));
    return { x: () => (axes.length === 0 ? tf.clone(g) : tf.sum(g, axes, true)) };
  },
};

/** Sum's gradient on native: dy reshaped to x's rank and broadcast. */
function sumGradient(dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x] = saved;
  const e = tf.reshape(dy, keptShape(x, reducedAxes(x, attrs)));
  return { x: () => broadcastTo(e, x.shape) };
}

/** Mean's gradient on native: dy divided by the reduced count, then broadcast. */
function meanGradient(dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x] = saved;
  const axes = reducedAxes(x, attrs);
  const kept = keptShape(x, axes);
  // tfjs' divisor: the product of the reduced axes.
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return { x: () => broadcastTo(tf.div(tf.reshape(dy, kept), count), x.shape) };
}

/**
 * Wraps the registered gradients of Sum and Mean so that on the native
 * backend they broadcast dy without a tensor of ones (see the module's
 * comment), and registers `ZsnBroadcastTo`'s gradient. Idempotent; does
 * nothing for a kernel that has no gradient registered.
 */
export function installNativeGradients(): void {
  if (tf.getGradient(ZSN_BROADCAST_TO) === undefined) tf.registerGradient(broadcastGradient);
  const fast: [string, typeof sumGradient][] = [
    [tf.Sum, sumGradient],
    [tf.Mean, meanGradient],
  ];
  for (const [kernelName, native] of fast) {
    const original = tf.getGradient(kernelName);
    if (original === undefined || ours.has(original)) continue;
    const config: tf.GradConfig = {
      ...original,
      gradFunc: (dy, saved, attrs) =>
        tf.getBackend() === NATIVE
          ? native(dy as tf.Tensor, saved, attrs)
          : original.gradFunc(dy, saved, attrs),
    };
    ours.add(config);
    tf.registerGradient(config);
  }
}
