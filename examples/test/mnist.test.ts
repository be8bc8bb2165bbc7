/**
 * The MNIST examples' plumbing (examples/src/common/mnist.ts): exact answers
 * on synthetic inputs, and no leaked tensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { Rng } from '@zhusuan/cli';
import {
  MNIST_DIM,
  Minibatches,
  dequantizedImages,
  fitWithValidation,
  lastQuarterGain,
  lastTenthGain,
  testScores,
  type MnistPart,
} from '../src/common/mnist.js';
import { bitsPerDim } from '../src/nice_mnist.js';
import { labelledSubset } from '../src/vae_ssl.js';

await tf.setBackend('cpu');

/** A synthetic part: image i has every pixel (37 i) mod 256, label i mod 10. */
function part(n: number): MnistPart {
  const images = new Uint8Array(n * MNIST_DIM);
  for (let i = 0; i < n; i++) images.fill((37 * i) % 256, i * MNIST_DIM, (i + 1) * MNIST_DIM);
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), n };
}

test('testScores: exact log-mean-exp across chunks and batches, no leaks', () => {
  // Weight k of image j: log w = j + k/10 (so log-mean-exp over K is j + log mean e^(k/10)).
  const n = 7;
  const K = 23;
  const x = new Float32Array(n * MNIST_DIM);
  for (let j = 0; j < n; j++) x[j * MNIST_DIM] = j; // image j carries its index in pixel 0
  let offset = 0; // which samples the chunk holds
  const logWeights = (xb: tf.Tensor2D, k: number) => {
    const idx = tf.slice(xb, [0, 0], [-1, 1]).reshape([1, -1]); // [1, m]
    const ks = tf
      .range(offset, offset + k)
      .div(10)
      .reshape([k, 1]);
    offset = (offset + k) % K;
    return tf.add(idx, ks) as tf.Tensor2D;
  };
  const before = tf.memory().numTensors;
  // The ELBO of image j is j (pixel 0), so its mean is (n − 1)/2.
  const elbo = (xb: tf.Tensor2D) => tf.squeeze(tf.slice(xb, [0, 0], [-1, 1]), [1]) as tf.Tensor1D;
  const s = testScores(
    { xDim: MNIST_DIM, elbo, logImportanceWeights: logWeights },
    { x, n },
    K,
    { batchImages: 3, chunkRows: 15 }, // chunks of 5 samples
  );
  const r = { mean: s.ll, se: s.llSemOverImages };
  assert.equal(tf.memory().numTensors, before);
  assert.equal(s.elbo, (n - 1) / 2);
  assert.ok(Number.isFinite(s.llStderr) && s.llStderr >= 0);
  let lme = 0;
  for (let k = 0; k < K; k++) lme += Math.exp(k / 10);
  lme = Math.log(lme / K);
  const expected = lme + (n - 1) / 2;
  assert.ok(Math.abs(r.mean - expected) < 1e-5, `${r.mean} vs ${expected}`);
  // The spread over images is that of 0..6: sd √(28/6), se sd/√7.
  assert.ok(Math.abs(r.se - Math.sqrt(28 / 6 / 7)) < 1e-5, `se ${r.se}`);
});

test('Minibatches: each epoch a permutation, binarised to {0, 1}, dequantised in [0, 1)', () => {
  const p = part(50);
  const b = new Minibatches(p, 8, 3);
  assert.equal(b.count, 6);
  b.shuffle();
  const seen = new Set<number>();
  for (let i = 0; i < b.count; i++) for (const r of b.rows(i)) seen.add(r);
  assert.equal(seen.size, 48);
  const before = tf.memory().numTensors;
  const xb = b.binarized(0);
  const v = xb.dataSync() as Float32Array;
  assert.ok(v.every((u) => u === 0 || u === 1));
  // Pixel value 0 never turns on, 255 almost always does.
  b.rows(0).forEach((r, i) => {
    const row = v.subarray(i * MNIST_DIM, (i + 1) * MNIST_DIM);
    let mean = 0;
    for (const u of row) mean += u / MNIST_DIM;
    const q = p.images[r * MNIST_DIM] / 255;
    assert.ok(Math.abs(mean - q) < 5 * Math.sqrt((q * (1 - q)) / MNIST_DIM) + 1e-9, `row ${r}`);
  });
  const dq = b.dequantized(1);
  const d = dq.dataSync();
  b.rows(1).forEach((r, i) => {
    const lo = p.images[r * MNIST_DIM] / 256;
    for (let j = 0; j < MNIST_DIM; j++) {
      const u = d[i * MNIST_DIM + j];
      assert.ok(u >= lo && u < lo + 1 / 256 + 1e-7, `pixel ${u} of image ${r}`);
    }
  });
  tf.dispose([xb, dq]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => new Minibatches(p, 51, 1), /batchSize must be in 1\.\.50/);
});

test('Minibatches with trainerOrder: zhusuan train’s permutation each epoch, last partial batch kept', () => {
  const p = part(50);
  const b = new Minibatches(p, 8, 3, { trainerOrder: true });
  assert.equal(b.count, 7);
  const rng = new Rng(3 ^ 0x5eed);
  for (let epoch = 0; epoch < 2; epoch++) {
    b.shuffle();
    const expected = rng.shuffle(Uint32Array.from({ length: 50 }, (_, i) => i));
    const rows: number[] = [];
    for (let i = 0; i < b.count; i++) rows.push(...b.rows(i));
    assert.deepEqual(rows, Array.from(expected));
    // The batch's Bernoulli draws come next from the same stream.
    const before = tf.memory().numTensors;
    const last = b.binarized(b.count - 1);
    assert.deepEqual(last.shape, [2, MNIST_DIM]);
    last.dispose();
    assert.equal(tf.memory().numTensors, before);
    for (let i = 0; i < 2 * MNIST_DIM; i++) rng.next();
  }
});

test('dequantizedImages is fixed by its seed', () => {
  const p = part(4);
  assert.deepEqual(dequantizedImages(p, 9), dequantizedImages(p, 9));
  assert.notDeepEqual(dequantizedImages(p, 9), dequantizedImages(p, 10));
});

test('fitWithValidation keeps the best epoch, scores the untrained model, leaks nothing', () => {
  const v = tf.variable(tf.scalar(0));
  const scores = [0.2, 0.9, 0.5, 0.4];
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  const r = fitWithValidation({
    epochs: 4,
    variables: [v],
    log: (l) => lines.push(l),
    trainName: 't',
    validName: 'v',
    epoch: (e) => {
      tf.tidy(() => v.assign(tf.scalar(10 * e)));
      return -e;
    },
    validate: () => (lines.length === 0 ? -1 : scores[lines.length - 1]),
  });
  assert.equal(r.untrained, -1);
  assert.equal(r.bestEpoch, 2);
  assert.equal(v.dataSync()[0], 20);
  assert.deepEqual(
    r.curve.map((c) => c.valid),
    scores,
  );
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(lastQuarterGain(r.curve) - (0.4 - 0.5)) < 1e-12);
  // The last tenth of 4 epochs is one epoch; of one epoch, from the untrained score.
  assert.ok(Math.abs(lastTenthGain(r) - (0.4 - 0.5)) < 1e-12);
  assert.ok(Math.abs(lastTenthGain({ curve: r.curve.slice(0, 1), untrained: -1 }) - 1.2) < 1e-12);
  v.dispose();
});

test('bitsPerDim: Dinh et al.’s 1980.50 nats are 4.36 bits per dimension', () => {
  const expected = (784 * Math.log(256) - 1980.5) / (784 * Math.log(2));
  assert.ok(Math.abs(bitsPerDim(1980.5) - expected) < 1e-12);
  assert.ok(Math.abs(bitsPerDim(1980.5) - 4.3555) < 1e-4);
  assert.equal(bitsPerDim(0), 8);
});

test('labelledSubset: 10 of each class, fixed by the seed', () => {
  const p = part(300);
  const a = labelledSubset(p, 10, 5);
  assert.equal(a.n, 100);
  for (let c = 0; c < 10; c++) assert.equal(a.labels.filter((l) => l === c).length, 10);
  assert.deepEqual(labelledSubset(p, 10, 5).images, a.images);
  assert.notDeepEqual(labelledSubset(p, 10, 6).images, a.images);
  assert.throws(() => labelledSubset(part(50), 10, 1), /fewer than 10 images of some class/);
});
