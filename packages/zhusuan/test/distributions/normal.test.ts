import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import {
  assertClose,
  assertNoGradientPath,
  meanStd,
  noLeak,
  normalLogPdf,
  read,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import { arr, broadcastShape, oracle, size } from './oracles.js';

before(useCpu);

// Table of parameter/value shapes: broadcasting between mean, std and the value.
const CASES: { mean: number[]; std: number[]; given: number[]; groupNdims: number }[] = [
  { mean: [5], std: [5], given: [5], groupNdims: 0 },
  { mean: [3, 4], std: [4], given: [3, 4], groupNdims: 1 },
  { mean: [3, 1], std: [1, 4], given: [2, 3, 4], groupNdims: 2 },
  { mean: [], std: [], given: [6], groupNdims: 0 },
  { mean: [2, 3], std: [2, 3], given: [7, 2, 3], groupNdims: 1 },
];

test('Normal.logProb matches the float64 closed form (std and logstd, broadcasting, groupNdims)', () => {
  const r = rng(1);
  for (const c of CASES) {
    const mean = tf.tensor(uniform(r, size(c.mean), -2, 2), c.mean);
    const std = tf.tensor(uniform(r, size(c.std), 0.3, 2), c.std);
    const given = tf.tensor(uniform(r, size(c.given), -3, 3), c.given);
    const expected = oracle([given, mean, std].map(arr), c.groupNdims, normalLogPdf);
    const byStd = new zs.Normal({ mean, std, groupNdims: c.groupNdims });
    const byLogstd = new zs.Normal({ mean, logstd: tf.log(std), groupNdims: c.groupNdims });
    assert.deepEqual(byStd.batchShape, broadcastShape(c.mean, c.std));
    for (const d of [byStd, byLogstd]) {
      const lp = noLeak('logProb', () => read(d.logProb(given)).data);
      // float32 vs float64: relative 1e-5 plus a small absolute term for sums.
      assertClose(lp, expected, 1e-5, 1e-4, `Normal ${JSON.stringify(c)}`);
    }
    assertClose(byStd.prob(given).dataSync(), expected.map(Math.exp), 1e-4, 1e-6, 'prob');
  }
});

test('Normal.sample shapes: no sample axis without nSamples, a leading one with it (even for 1)', () => {
  const d = new zs.Normal({ mean: tf.zeros([2, 3]), std: 1 });
  assert.deepEqual(d.sample().shape, [2, 3]);
  assert.deepEqual(d.sample(1).shape, [1, 2, 3]);
  assert.deepEqual(d.sample(4).shape, [4, 2, 3]);
  assert.throws(() => d.sample(0), /nSamples.*positive integer/);
  assert.throws(() => d.sample(1.5), /nSamples/);
});

test('Normal samples have the right moments (seeded)', () => {
  zs.random.setSeed(3);
  const d = new zs.Normal({ mean: tf.tensor([1.5]), std: tf.tensor([0.5]) });
  const s = d.sample(20000).dataSync();
  const { mean, std } = meanStd(s);
  // sd of the sample mean = 0.5/sqrt(2e4) = 0.0035; allow ~5 sd. Sample std: sd ≈ 0.0025.
  assert.ok(Math.abs(mean - 1.5) < 0.018, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.5) < 0.0125, `std ${std}`);
});

test('the random stream makes sampling reproducible and resumable', () => {
  const d = new zs.Normal({ mean: tf.zeros([4]), std: 1 });
  zs.random.setSeed(42);
  const a = d.sample(2).dataSync();
  const state = zs.random.getState();
  const b = d.sample(2).dataSync();
  zs.random.setSeed(42);
  assert.deepEqual(d.sample(2).dataSync(), a);
  zs.random.setState(JSON.parse(JSON.stringify(state)));
  assert.deepEqual(d.sample(2).dataSync(), b);
  assert.notDeepEqual(a, b);
  assert.throws(() => zs.random.setState({ s: [1, 2] } as never), /four uint32/);
});

test('gradients flow through reparameterised Normal samples only', () => {
  const mean = tf.tensor([0.5, -1]);
  const std = tf.tensor([1.2, 0.7]);
  const n = 10;
  const [dMean, dStd] = tf.grads((m: tf.Tensor, s: tf.Tensor) =>
    tf.sum(new zs.Normal({ mean: m, std: s }).sample(n)),
  )([mean, std]);
  // d/dmean sum_i (mean + std eps_i) = n exactly.
  assertClose(dMean.dataSync(), [n, n], 1e-6, 1e-6, 'dmean');
  assert.ok(dStd.dataSync().some((v) => v !== 0));
  assertNoGradientPath(
    (m) => tf.sum(new zs.Normal({ mean: m, std: 1, isReparameterized: false }).sample(n)),
    [mean],
    'not reparameterised',
  );
});

test('Normal parameter errors name the argument', () => {
  assert.throws(
    () => new zs.Normal({ mean: 0, std: 1, logstd: 0 }),
    /exactly one of `std` and `logstd`/,
  );
  assert.throws(() => new zs.Normal({ mean: 0 }), /exactly one of `std` and `logstd`/);
  assert.throws(
    () => new zs.Normal({ mean: tf.zeros([3]), std: tf.ones([4]) }),
    /Normal: shapes of `mean` \[3\] and `std` \[4\] do not broadcast/,
  );
  assert.throws(
    () => new zs.Normal({ mean: tf.zeros([3]), std: 1, groupNdims: 2 }),
    /groupNdims.*exceeds/,
  );
  // A scalar distribution accepts values of any shape; a shaped one checks broadcasting.
  assert.doesNotThrow(() => new zs.Normal({ mean: 0, std: 1 }).logProb(tf.zeros([2])).dispose());
  assert.throws(
    () => new zs.Normal({ mean: tf.zeros([3]), std: 1 }).logProb(tf.zeros([2])),
    /`given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
});

test('validateArgs catches a non-positive std; off by default', () => {
  assert.throws(
    () => new zs.Normal({ mean: 0, std: tf.tensor([1, -1]), validateArgs: true }),
    /`std` must be positive/,
  );
  assert.doesNotThrow(() => new zs.Normal({ mean: 0, std: tf.tensor([1, -1]) }));
  // NaN is not a positive std either; a passing check frees its comparison tensors.
  assert.throws(
    () => new zs.Normal({ mean: 0, std: tf.tensor([1, NaN]), validateArgs: true }),
    /`std` must be positive/,
  );
  const std = tf.tensor([1, 2]);
  const before = tf.memory().numTensors;
  new zs.Normal({ mean: 0, std, validateArgs: true });
  assert.equal(tf.memory().numTensors, before + 1, 'only the scalar mean is new');
  zs.setValidateArgs(true);
  try {
    assert.throws(() => new zs.Normal({ mean: 0, std: tf.tensor([0]) }), /`std` must be positive/);
  } finally {
    zs.setValidateArgs(false);
  }
});
