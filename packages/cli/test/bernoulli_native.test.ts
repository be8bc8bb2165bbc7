/**
 * The library's Bernoulli sampler on `native`, where the backend registers
 * the fused `ZsBernoulliSample` kernel: the same seeds give the very same
 * samples with and without the kernel and on `cpu` (exact equality: the
 * kernel draws tfjs' uniform stream and rounds the sigmoid as native's
 * Sigmoid kernel does, which agrees with cpu's except within an ulp of a
 * draw); the gradients of a sigmoid belief net's objective through its
 * samples are the same with and without it (exactly) and match cpu's within
 * 1e-4 of their scale; and nothing leaks.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadNative, useBackend } from '../src/backend.js';
import { fusedCompositeCpu, lcgValues as values, withoutKernel } from './helpers.js';

const KERNEL = zs.OPTIONAL_KERNELS.bernoulliSample;

before(async () => {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
});

/** Samples from logits (with 0 and ±100 among them) and from probabilities (with 0 and 1), both dtypes. */
function draws(): number[][] {
  const lv = values(24 * 200, 1, -10, 10);
  [lv[0], lv[1], lv[2]] = [0, 100, -100];
  const pv = values(5 * 7, 2, 0, 1);
  [pv[0], pv[1]] = [0, 1];
  return tf.tidy(() => {
    zs.random.setSeed(7);
    const logits = tf.tensor(lv, [24, 200]);
    const probs = tf.tensor(pv, [5, 7]);
    return [
      new zs.Bernoulli({ logits, groupNdims: 1 }).sample(10),
      new zs.Bernoulli({ logits, dtype: 'int32' }).sample(),
      new zs.Bernoulli({ probs }).sample(3),
      new zs.Bernoulli({ probs, dtype: 'int32' }).sample(4),
    ].map((t) => Array.from(t.dataSync()));
  });
}

test('native: Bernoulli samples are the same with and without ZsBernoulliSample, and on cpu', async () => {
  await useBackend('native');
  const profile = await tf.profile(() => {
    draws();
  });
  const names = new Set(profile.kernels.map((k) => k.name));
  assert.ok(names.has(KERNEL), 'the fused kernel draws');
  assert.ok(!names.has('Less') && !names.has('ZsRandomUniform'), 'and nothing else does');
  const fused = draws();
  const composite = withoutKernel(KERNEL, draws);
  await useBackend('cpu');
  const cpu = draws();
  for (let i = 0; i < fused.length; i++) {
    assert.deepEqual(fused[i], composite[i], `draw ${i}: with and without the kernel`);
    assert.deepEqual(fused[i], cpu[i], `draw ${i}: native and cpu`);
  }
  const mean = fused[0].reduce((a, b) => a + b, 0) / fused[0].length;
  assert.ok(mean > 0.3 && mean < 0.7, `a draw, not a constant (mean ${mean})`);
});

/**
 * A two-layer sigmoid belief net's VIMCO and wake-sleep-like objectives on a
 * fixed batch: q(h | x) draws h, p(x | h) scores x; returns the cost and its
 * gradients for the four weights.
 */
function sbnGradients(): number[][] {
  const w = [
    values(12 * 8, 3, -0.5, 0.5),
    values(8, 4, -0.5, 0.5),
    values(8 * 12, 5, -0.5, 0.5),
    values(12, 6, -0.5, 0.5),
  ];
  return tf.tidy(() => {
    zs.random.setSeed(21);
    const x = tf.tensor(
      values(6 * 12, 7, 0, 1).map((u) => (u < 0.5 ? 0 : 1)),
      [6, 12],
    );
    const [qW, qB, pW, pB] = [
      tf.tensor(w[0], [12, 8]),
      tf.tensor(w[1], [8]),
      tf.tensor(w[2], [8, 12]),
      tf.tensor(w[3], [12]),
    ];
    const cost = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
      const q = new zs.BayesianNet();
      const h = q.bernoulli('h', tf.add(tf.matMul(x, a), b), { groupNdims: 1, nSamples: 5 });
      const model = (obs: Record<string, tf.Tensor>) => {
        const bn = new zs.BayesianNet(obs);
        const hh = bn.bernoulli('h', tf.zeros([6, 8]), { groupNdims: 1, nSamples: 5 });
        const logits = tf.add(tf.matMul(tf.reshape(hh, [30, 8]), c), d);
        bn.bernoulli('x', tf.reshape(logits, [5, 6, 12]), { groupNdims: 1 });
        return bn;
      };
      assert.equal(h.shape.join(), '5,6,8');
      const iw = zs.importanceWeightedObjective(model, { x }, { variational: q, axis: 0 });
      return tf.mean(iw.vimco()) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(cost)([qW, qB, pW, pB]);
    return [[value.dataSync()[0]], ...grads.map((g) => Array.from(g.dataSync()))];
  });
}

test('native: gradients through Bernoulli samples are the same with and without the kernel, and match cpu', async () => {
  const { fused, composite, cpu } = await fusedCompositeCpu(KERNEL, sbnGradients);
  for (let i = 0; i < fused.length; i++) {
    assert.equal(fused[i].length, composite[i].length);
    fused[i].forEach((v, j) =>
      assert.ok(v === composite[i][j], `[${i}][${j}]: ${v} vs ${composite[i][j]}`),
    );
    const scale = Math.max(...cpu[i].map(Math.abs));
    fused[i].forEach((v, j) =>
      assert.ok(
        Math.abs(v - cpu[i][j]) <= 1e-4 * scale,
        `[${i}][${j}]: native ${v} vs cpu ${cpu[i][j]}`,
      ),
    );
  }
  assert.ok(Math.max(...fused[1].map(Math.abs)) > 0, 'q gets a gradient');
});

test('native: sampling and its gradient leak no tensors or backend data', async () => {
  await useBackend('native');
  sbnGradients();
  draws();
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  sbnGradients();
  draws();
  assert.equal(tf.memory().numTensors, before, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), ids, 'backend data ids');
});
