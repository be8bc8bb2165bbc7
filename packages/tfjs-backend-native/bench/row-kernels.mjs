// Kernels that work row by row, at the zoo's shapes: the Normal log-density
// kernels (ZsNormalLogProb, ZsNormalLogProbGrad) and a Sum over the last
// axis; best of 20 rounds of 200 calls each, in microseconds a call (the
// engine's ~1-2 us per call included). Behind docs/benchmarks.md's "The
// fifth 2026-12-05 session".
// Run after `npm run build`: node packages/tfjs-backend-native/bench/row-kernels.mjs
// - toy: toy_gaussian's density, values [1000, 10] (1000 chains of a 10-D
//   latent) against mean and logstd [10], summed over the last axis or not;
// - svgp: svgp's likelihood, targets [455] against means [20, 455] (20
//   particles) and a scalar logstd, summed over the last axis;
// - sum: pmf_hmc's dot products, [8, 4500, 5] summed over the last axis.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { registerNativeBackend, nativeLoadError } from '../dist/src/index.js';

if (!registerNativeBackend()) throw new Error(`native backend unavailable: ${nativeLoadError()}`);
await tf.setBackend('native');
tf.env().set('PROD', true);

const best = (f, n = 200) => {
  let b = Infinity;
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    tf.tidy(() => {
      for (let i = 0; i < n; i++) f();
    });
    b = Math.min(b, ((performance.now() - t0) * 1000) / n);
  }
  return b.toFixed(1);
};

const run = (name, inputs, groupNdims) => tf.engine().runKernel(name, inputs, { groupNdims });
const cases = {
  toy: {
    given: tf.randomNormal([1000, 10], 0, 1, 'float32', 1),
    mean: tf.zeros([10]),
    logstd: tf.log(tf.linspace(0.1, 1, 10)),
    dy: tf.ones([1000]),
  },
  svgp: {
    given: tf.randomNormal([455], 0, 1, 'float32', 2),
    mean: tf.randomNormal([20, 455], 0, 1, 'float32', 3),
    logstd: tf.scalar(-0.5),
    dy: tf.ones([20]),
  },
};
for (const [name, c] of Object.entries(cases)) {
  const ops = { given: c.given, mean: c.mean, logstd: c.logstd };
  const row = [`grouped ${best(() => run('ZsNormalLogProb', ops, 1))} us`];
  if (name === 'toy') row.push(`ungrouped ${best(() => run('ZsNormalLogProb', ops, 0))} us`);
  row.push(`gradient ${best(() => run('ZsNormalLogProbGrad', { dy: c.dy, ...ops }, 1))} us`);
  console.log(`${name}: ${row.join(', ')}`);
}
const products = tf.randomNormal([8, 4500, 5], 0, 1, 'float32', 4);
console.log(`sum: ${best(() => tf.sum(products, 2))} us`);
