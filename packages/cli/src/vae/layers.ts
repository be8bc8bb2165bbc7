/**
 * The trainer's layers for the one VAE definition (`@zhusuan/vae`):
 * trainable variables with tf.layers.dense's initialisation, applied with the
 * native backend's fused dense layer when that backend is active.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NATIVE_BACKEND, dense as nativeDense } from '@zhusuan/tfjs-backend-native';
import { denseApply, Vae, type LayerFactory, type VaeShape } from '@zhusuan/vae';

let modelCounter = 0;

/**
 * A factory of trainable dense layers: Glorot-uniform kernels (each from its
 * own seed, drawn in layer order from `seed`), zero biases — tf.layers.dense's
 * defaults, as in ZhuSuan's vae.py. Variable names are global to the tfjs
 * engine, so each factory prefixes its own (`vae<N>/gen/h1/kernel`).
 */
export function trainableLayers(seed: number): LayerFactory<tf.Variable> {
  const prefix = `vae${++modelCounter}`;
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483647);
  return (spec) => {
    const { name, inDim, outDim, activation } = spec;
    const limit = Math.sqrt(6 / (inDim + outDim));
    const layerSeed = next();
    const kernel = tf.tidy(() =>
      tf.variable(
        tf.randomUniform([inDim, outDim], -limit, limit, 'float32', layerSeed),
        true,
        `${prefix}/${name}/kernel`,
      ),
    );
    const bias = tf.tidy(() => tf.variable(tf.zeros([outDim]), true, `${prefix}/${name}/bias`));
    return {
      spec,
      kernel,
      bias,
      // On the native backend one kernel forward and at most three backward
      // (tfjs unfuses a fused matMul's activation while recording gradients).
      apply: (x) =>
        tf.getBackend() === NATIVE_BACKEND
          ? nativeDense(x, kernel, bias, activation)
          : denseApply(x, kernel, bias, activation),
    };
  };
}

/** A trainable VAE, initialised from `seed`. */
export function trainableVae(shape: VaeShape, seed: number): Vae<tf.Variable> {
  return new Vae(shape, trainableLayers(seed));
}
