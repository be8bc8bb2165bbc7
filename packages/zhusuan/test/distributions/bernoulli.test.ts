import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import {
  assertClose,
  assertNoGradientPath,
  noLeak,
  rng,
  softplus,
  uniform,
  useCpu,
} from '../helpers.js';

before(useCpu);

test('Bernoulli.logProb matches the float64 closed form, from logits and from probs', () => {
  const r = rng(2);
  // Includes large |logits| where a naive log(sigmoid) would underflow.
  const logits = [...uniform(r, 10, -8, 8), 40, -40, 0];
  const x = logits.map(() => (r() < 0.5 ? 0 : 1));
  x[10] = 0; // log p(0 | logit 40) = -40 - log1p(e^-40)
  x[11] = 1;
  const expected = logits.map((l, i) => x[i] * l - softplus(l));
  const d = new zs.Bernoulli({ logits: tf.tensor(logits) });
  const given = tf.tensor(x);
  const lp = noLeak('logProb', () => {
    const t = d.logProb(given);
    const v = t.dataSync();
    t.dispose();
    return v;
  });
  assertClose(lp, expected, 1e-5, 1e-5, 'logits');
  assert.ok(Number.isFinite(lp[10]) && Number.isFinite(lp[11]));

  const probs = uniform(r, 8, 0.01, 0.99);
  const xp = probs.map(() => (r() < 0.5 ? 0 : 1));
  const expectedP = probs.map((p, i) => (xp[i] ? Math.log(p) : Math.log1p(-p)));
  assertClose(
    new zs.Bernoulli({ probs: tf.tensor(probs) }).logProb(tf.tensor(xp)).dataSync(),
    expectedP,
    1e-5,
    1e-5,
    'probs',
  );
  // p = 0 and p = 1: exact, -Infinity for the impossible value, never NaN.
  const edge = new zs.Bernoulli({ probs: tf.tensor([0, 0, 1, 1]) })
    .logProb(tf.tensor([0, 1, 0, 1]))
    .dataSync();
  assert.deepEqual(
    Array.from(edge, (v) => v + 0),
    [0, -Infinity, -Infinity, 0],
  ); // + 0 folds -0
});

test('Bernoulli with broadcasting, groupNdims and nSamples', () => {
  const logits = tf.tensor([
    [0.5, -1, 2],
    [0, 1, -3],
  ]);
  const d = new zs.Bernoulli({ logits, groupNdims: 1 });
  const s = d.sample(5);
  assert.deepEqual(s.shape, [5, 2, 3]);
  assert.ok(Array.from(s.dataSync()).every((v) => v === 0 || v === 1));
  const lp = d.logProb(s);
  assert.deepEqual(lp.shape, [5, 2]);
  const sv = s.arraySync() as number[][][];
  const l = logits.arraySync() as number[][];
  const expected = sv.flatMap((a) =>
    a.map((row, i) => row.reduce((acc, xi, j) => acc + xi * l[i][j] - softplus(l[i][j]), 0)),
  );
  assertClose(lp.dataSync(), expected, 1e-5, 1e-5, 'grouped');
  assert.deepEqual(d.sample().shape, [2, 3]);
  assert.equal(new zs.Bernoulli({ logits: 0, dtype: 'int32' }).sample(3).dtype, 'int32');
});

test('Bernoulli sample frequencies match sigmoid(logits) (seeded)', () => {
  zs.random.setSeed(5);
  const d = new zs.Bernoulli({ logits: tf.tensor([-1, 0, 2]) });
  const s = tf.mean(d.sample(20000), 0).dataSync();
  const p = [-1, 0, 2].map((l) => 1 / (1 + Math.exp(-l)));
  // sd of a frequency over 2e4 draws ≤ 0.0035; allow 5 sd.
  assertClose(s, p, 0, 0.018, 'frequency');
});

test('no gradient flows through Bernoulli samples', () => {
  assertNoGradientPath(
    (l) => tf.sum(new zs.Bernoulli({ logits: l }).sample(4)),
    [tf.tensor([0.3, -0.2])],
    'Bernoulli sample',
  );
  // ...but the log probability has the usual gradient: d/dl [x l - softplus(l)] = x - sigmoid(l).
  const [gl] = tf.grads((l: tf.Tensor) =>
    tf.sum(new zs.Bernoulli({ logits: l }).logProb(tf.tensor([1, 0]))),
  )([tf.tensor([0.3, -0.2])]);
  assertClose(
    gl.dataSync(),
    [1 - 1 / (1 + Math.exp(-0.3)), -1 / (1 + Math.exp(0.2))],
    1e-5,
    1e-6,
    'dlogits',
  );
});

test('Bernoulli errors name the arguments; validateArgs checks probs and values', () => {
  assert.throws(
    () => new zs.Bernoulli({ logits: 0, probs: 0.5 }),
    /exactly one of `logits` and `probs`/,
  );
  assert.throws(() => new zs.Bernoulli({}), /exactly one of `logits` and `probs`/);
  assert.throws(
    () => new zs.Bernoulli({ probs: tf.tensor([0.5, 1.5]), validateArgs: true }),
    /`probs` must lie in \[0, 1\]/,
  );
  assert.throws(
    () => new zs.Bernoulli({ probs: tf.tensor([0.5, NaN]), validateArgs: true }),
    /`probs` must lie in \[0, 1\]/,
  );
  const d = new zs.Bernoulli({ logits: tf.zeros([2]), validateArgs: true });
  assert.throws(() => d.logProb(tf.tensor([0, 0.5])), /must be 0 or 1/);
  // The checks free their comparison tensors.
  const probs = tf.tensor([0.2, 1]);
  const given = tf.tensor([0, 1]);
  const before = tf.memory().numTensors;
  new zs.Bernoulli({ probs, validateArgs: true });
  const e = new zs.Bernoulli({ logits: tf.zeros([2]), validateArgs: true });
  const n0 = tf.memory().numTensors;
  e.logProb(given).dispose();
  assert.equal(tf.memory().numTensors, n0, 'logProb with validateArgs leaked');
  assert.equal(n0, before + 1, 'constructors leaked (only the zeros logits are new)');
});
