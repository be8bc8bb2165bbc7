// tfjs' engine cost per kernel call on the native backend, in production
// mode: 100 chained Neg kernels on a 4-element tensor (the data work is
// nothing), forward alone and under tf.grad (each forward kernel then has a
// backward one). Behind docs/benchmarks.md's "What is left".
// Run after `npm run build`: node packages/tfjs-backend-native/bench/engine-overhead.mjs
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { registerNativeBackend, nativeLoadError } from '../dist/src/index.js';

// tfjs-core's Node bundle registers no gradients; the @tensorflow/tfjs bundle
// registers them all into the same (hoisted) tfjs-core.
await import('@tensorflow/tfjs');
if (!registerNativeBackend()) throw new Error(`native backend unavailable: ${nativeLoadError()}`);
await tf.setBackend('native');
tf.env().set('PROD', true);

const N = 100;
const REPS = 2000;
const x = tf.ones([4]);
const chain = (v) => {
  let y = v;
  for (let i = 0; i < N; i++) y = tf.neg(y);
  return tf.sum(y);
};
const grad = tf.grad(chain);
const time = (f) => {
  for (let i = 0; i < 200; i++) tf.tidy(() => f(x));
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) tf.tidy(() => f(x));
  return ((performance.now() - t0) / REPS) * 1000;
};
const fwd = time(chain) / (N + 1);
const both = time(grad) / (2 * (N + 1));
console.log(
  `forward: ${fwd.toFixed(2)} us per kernel call; under tf.grad: ${both.toFixed(2)} us per ` +
    'forward or backward kernel call',
);
