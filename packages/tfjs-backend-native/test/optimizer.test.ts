/**
 * NativeAdamOptimizer: same updates as tf.train.adam, state round trips
 * through getWeights/setWeights, and it works (with ops) off the native backend.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { NativeAdamOptimizer, adam } from '../src/optimizer.js';
import { assertClose, rand, setupNative, uniform } from './helpers.js';

before(async () => {
  await setupNative();
});

function its(name: string, f: () => Promise<void>): void {
  it(name, async () => {
    await f();
  });
}

/** A least-squares problem with two variables; returns them after `steps`. */
function fit(
  opt: tf.Optimizer,
  steps: number,
  tag: string,
  init?: { w: Float32Array; b: Float32Array },
): { w: tf.Variable; b: tf.Variable } {
  const w = tf.variable(tf.tensor2d(init?.w ?? uniform([6, 3], 1), [6, 3]), true, `${tag}/w`);
  const b = tf.variable(tf.tensor1d(init?.b ?? uniform([3], 2)), true, `${tag}/b`);
  const x = rand([10, 6], 3);
  const y = rand([10, 3], 4);
  for (let i = 0; i < steps; i++) {
    opt.minimize(
      () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x as tf.Tensor2D, w), b), y))) as tf.Scalar,
      false,
      [w, b],
    );
  }
  tf.dispose([x, y]);
  return { w, b };
}

async function values(vs: tf.Variable[]): Promise<number[]> {
  const out: number[] = [];
  for (const v of vs) out.push(...(await v.data()));
  return out;
}

describe('NativeAdamOptimizer', () => {
  its('matches tf.train.adam on the native backend (bit for bit)', async () => {
    await tf.setBackend('native');
    const ref = tf.train.adam(0.01, 0.8, 0.99, 1e-6);
    const a = fit(ref, 25, 'ref');
    const nat = new NativeAdamOptimizer(0.01, 0.8, 0.99, 1e-6);
    const b = fit(nat, 25, 'nat');
    assert.deepEqual(await values([b.w, b.b]), await values([a.w, a.b]));
    tf.dispose([a.w, a.b, b.w, b.b]);
    ref.dispose();
    nat.dispose();
  });
  its('matches tf.train.adam on cpu within float tolerance, default hyper-parameters', async () => {
    await tf.setBackend('cpu');
    const ref = tf.train.adam(0.01);
    const a = fit(ref, 25, 'cref');
    const wantVals = await values([a.w, a.b]);
    await tf.setBackend('native');
    const nat = adam(0.01);
    assert.ok(nat instanceof NativeAdamOptimizer);
    const b = fit(nat, 25, 'cnat');
    assertClose(await values([b.w, b.b]), wantVals, 1e-5, 1e-7, 'variables');
    tf.dispose([b.w, b.b]);
    await tf.setBackend('cpu');
    tf.dispose([a.w, a.b]);
    ref.dispose();
    nat.dispose();
    await tf.setBackend('native');
  });
  its('runs with ops on other backends', async () => {
    await tf.setBackend('cpu');
    const ref = tf.train.adam(0.02);
    const a = fit(ref, 10, 'oref');
    const nat = new NativeAdamOptimizer(0.02);
    const b = fit(nat, 10, 'onat');
    assertClose(await values([b.w, b.b]), await values([a.w, a.b]), 1e-6, 1e-8, 'variables');
    tf.dispose([a.w, a.b, b.w, b.b]);
    ref.dispose();
    nat.dispose();
    await tf.setBackend('native');
  });
  its('getWeights/setWeights resume training exactly', async () => {
    await tf.setBackend('native');
    const straight = new NativeAdamOptimizer(0.01);
    const s = fit(straight, 10, 's');
    const want = await values([s.w, s.b]);

    const first = new NativeAdamOptimizer(0.01);
    const f = fit(first, 5, 'r');
    const state = await first.getWeights();
    assert.deepEqual(
      state.map((w) => w.name),
      ['iter', 'r/w/m', 'r/b/m', 'r/w/v', 'r/b/v'],
    );
    assert.equal((await state[0].tensor.data())[0], 5);
    assert.equal(first.step, 5);
    // Copy state (as a checkpoint would), then continue in a fresh optimizer.
    const saved = state.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const wv = new Float32Array(await f.w.data());
    const bv = new Float32Array(await f.b.data());
    first.dispose();
    tf.dispose([f.w, f.b]);
    const second = new NativeAdamOptimizer(0.01);
    await second.setWeights(saved);
    tf.dispose(saved.map((w) => w.tensor));
    assert.equal(second.step, 5);
    const g = fit(second, 5, 'r', { w: wv, b: bv });
    assert.deepEqual(await values([g.w, g.b]), want);
    tf.dispose([s.w, s.b, g.w, g.b]);
    straight.dispose();
    second.dispose();
  });
  its("accepts tf.train.adam's state", async () => {
    await tf.setBackend('native');
    const ref = tf.train.adam(0.01);
    const a = fit(ref, 4, 'x');
    const nat = new NativeAdamOptimizer(0.01);
    await nat.setWeights(await ref.getWeights());
    assert.equal(nat.step, 4);
    const got = await nat.getWeights();
    const want = await ref.getWeights();
    assert.deepEqual(
      got.map((w) => w.name),
      want.map((w) => w.name),
    );
    for (let i = 1; i < got.length; i++) {
      assert.deepEqual(
        Array.from(await got[i].tensor.data()),
        Array.from(await want[i].tensor.data()),
      );
    }
    tf.dispose([a.w, a.b]);
    ref.dispose();
    nat.dispose();
  });
  its('the learning rate can change between steps', async () => {
    await tf.setBackend('native');
    const opt = new NativeAdamOptimizer(0.01);
    const a = fit(opt, 2, 'lr');
    const before = await values([a.w]);
    opt.learningRate = 0;
    opt.minimize(() => tf.sum(tf.square(a.w)) as tf.Scalar, false, [a.w]);
    assert.deepEqual(await values([a.w]), before);
    tf.dispose([a.w, a.b]);
    opt.dispose();
  });
});
