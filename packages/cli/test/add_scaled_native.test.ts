/**
 * The library's leapfrog on `native`, where the backend registers the fused
 * `ZsAddScaled` kernel (a + b·ε in one pass): HMC chains, with a fixed step
 * and with an adapted one, are the same with and without the kernel, bit for
 * bit; the leapfrog runs it in place of every Multiply-and-Add pair of its
 * updates; and the op's gradients are dy and dy·scale.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadNative, useBackend } from '../src/backend.js';
import { lcgValues, withKernelNames, withoutKernel } from './helpers.js';

const KERNEL = zs.OPTIONAL_KERNELS.addScaled;

before(async () => {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
  await useBackend('native');
});

/** A correlated 2-latent Gaussian target over 6 chains. */
function logDensity(values: Record<string, tf.Tensor>): tf.Tensor {
  const { a, b } = values;
  return tf.neg(
    tf.add(
      tf.sum(tf.mul(tf.square(a), tf.tensor1d([1, 4, 9])), -1),
      tf.sum(tf.square(tf.sub(b, tf.mul(a, 0.5))), -1),
    ),
  );
}

/** 12 HMC iterations from fixed starts; the chains' final values. */
function chains(opts: zs.HmcOptions): number[][] {
  zs.random.setSeed(11);
  const a = tf.tidy(() => tf.variable(tf.tensor2d(lcgValues(18, 1, -1, 1), [6, 3])));
  const b = tf.tidy(() => tf.variable(tf.tensor2d(lcgValues(18, 2, -1, 1), [6, 3])));
  const hmc = new zs.HMC(opts);
  for (let t = 0; t < 12; t++) hmc.step(logDensity, {}, { a, b });
  const out = [Array.from(a.dataSync()), Array.from(b.dataSync())];
  hmc.dispose();
  tf.dispose([a, b]);
  return out;
}

for (const [what, opts] of [
  ['a fixed step', { stepSize: 0.1, nLeapfrogs: 5 }],
  [
    'an adapted step and mass',
    { stepSize: 0.1, nLeapfrogs: 5, adaptStepSize: true, adaptMass: true, nWarmup: 8 },
  ],
] as Array<[string, zs.HmcOptions]>) {
  test(`native: HMC with ${what} is the same with and without ${KERNEL}`, () => {
    const fused = chains(opts);
    const composite = withoutKernel(KERNEL, () => chains(opts));
    assert.deepEqual(fused, composite);
  });
}

test(`native: the leapfrog runs ${KERNEL} for its updates, and nothing leaks`, () => {
  const before = tf.memory().numTensors;
  const { kernels } = withKernelNames(() => chains({ stepSize: 0.1, nLeapfrogs: 5 }));
  // Per iteration and latent: the first half step, 5 position and 5 momentum steps.
  assert.equal(kernels.filter((k) => k === KERNEL).length, 12 * 2 * 11);
  assert.equal(tf.memory().numTensors, before);
});

test(`native: ${KERNEL}'s gradients are dy and dy·scale`, () => {
  const a = tf.tensor1d([1, 2, 3]);
  const b = tf.tensor1d([4, 5, 6]);
  const w = tf.tensor1d([0.5, -1, 2]);
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
    tf.sum(tf.mul(tf.engine().runKernel(KERNEL, { a: x, b: y }, { scale: 0.25 }) as tf.Tensor, w)),
  )([a, b]);
  assert.deepEqual(Array.from(ga.dataSync()), [0.5, -1, 2]);
  assert.deepEqual(Array.from(gb.dataSync()), [0.125, -0.25, 0.5]);
  tf.dispose([a, b, w, ga, gb]);
});
