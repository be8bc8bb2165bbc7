import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Uniform } from '../../src/distributions/uniform.js';
import { setValidateArgs } from '../../src/distributions/base.js';
import * as random from '../../src/random.js';
import {
  assertClose,
  assertCloseInf,
  assertNoGradientPath,
  meanStd,
  noLeak,
  read,
  readGrads,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  arr,
  assertSampleShapes,
  broadcastShape,
  column,
  oracle,
  size,
  withStandInUniform,
} from './oracles.js';

before(useCpu);

const uniformLogPdf = (x: number, a: number, b: number): number =>
  x >= a && x < b ? -Math.log(b - a) : -Infinity;

// Table of parameter/value shapes: broadcasting between minval, maxval and the value.
const CASES: { minval: number[]; maxval: number[]; given: number[]; groupNdims: number }[] = [
  { minval: [5], maxval: [5], given: [5], groupNdims: 0 },
  { minval: [3, 4], maxval: [4], given: [3, 4], groupNdims: 1 },
  { minval: [3, 1], maxval: [1, 4], given: [2, 3, 4], groupNdims: 2 },
  { minval: [], maxval: [], given: [6], groupNdims: 0 },
  { minval: [2, 3], maxval: [2, 3], given: [7, 2, 3], groupNdims: 1 },
  { minval: [4], maxval: [], given: [2, 1], groupNdims: 1 },
];

test('Uniform.logProb matches the float64 closed form (broadcasting, groupNdims, −Infinity outside)', () => {
  const r = rng(1);
  let outside = 0;
  let inside = 0;
  for (const c of CASES) {
    const minval = tf.tensor(uniform(r, size(c.minval), -1, 0.5), c.minval);
    const maxval = tf.tensor(uniform(r, size(c.maxval), 1, 2.5), c.maxval);
    // Values from −1.5 to 3: some below minval, some above maxval.
    const given = tf.tensor(uniform(r, size(c.given), -1.5, 3), c.given);
    const d = new Uniform({ minval, maxval, groupNdims: c.groupNdims });
    assert.deepEqual(d.batchShape, broadcastShape(c.minval, c.maxval));
    const expected = oracle([given, minval, maxval].map(arr), c.groupNdims, uniformLogPdf);
    const lp = noLeak('logProb', () => read(d.logProb(given)).data);
    assertCloseInf(lp, expected, 1e-5, 1e-4, `Uniform ${JSON.stringify(c)}`);
    assert.ok(!lp.some(Number.isNaN), 'no NaN');
    inside += expected.filter(Number.isFinite).length;
    outside += expected.filter((e) => !Number.isFinite(e)).length;
    const p = noLeak('prob', () => read(d.prob(given)).data);
    assertClose(p, expected.map(Math.exp), 1e-5, 1e-6, 'prob');
  }
  // The table must exercise both branches for the test to mean anything.
  assert.ok(inside > 0 && outside > 0, `inside ${inside}, outside ${outside}`);
});

test('Uniform.logProb: minval is inside, maxval outside; invalid bounds give −Infinity, not NaN', () => {
  const d = new Uniform({ minval: 1, maxval: 3 });
  assertCloseInf(
    d.logProb(tf.tensor([1, 3, 2, 0.999, -Infinity, Infinity])).dataSync(),
    [-Math.log(2), -Infinity, -Math.log(2), -Infinity, -Infinity, -Infinity],
    1e-5,
    1e-4,
    'edges',
  );
  // Unchecked (validateArgs off) reversed or empty intervals contain nothing.
  const bad = new Uniform({ minval: tf.tensor([3, 2]), maxval: tf.tensor([1, 2]) });
  assert.deepEqual(Array.from(bad.logProb(tf.tensor([2, 2])).dataSync()), [-Infinity, -Infinity]);
});

test('Uniform.sample shapes: no sample axis without nSamples, a leading one with it; no leaks', () => {
  const d = new Uniform({ minval: tf.zeros([2, 1]), maxval: tf.ones([3]) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assert.equal(d.dtype, 'float32');
  assertSampleShapes(d, [2, 3]);
  assert.throws(() => d.sample(0), /Uniform\.sample: `nSamples` must be a positive integer/);
});

test('Uniform samples lie in [minval, maxval) with the right mean and variance (seeded)', () => {
  random.setSeed(3);
  const a = [-1, 2];
  const b = [3, 2.5];
  const n = 20000;
  const d = new Uniform({ minval: tf.tensor(a), maxval: tf.tensor(b) });
  const s = d.sample(n).dataSync();
  for (let j = 0; j < 2; j++) {
    const col = column(s, 2, j);
    assert.ok(
      col.every((v) => v >= a[j] && v < b[j]),
      `column ${j} leaves [${a[j]}, ${b[j]})`,
    );
    const w = b[j] - a[j];
    const variance = w ** 2 / 12;
    const { mean, std } = meanStd(col);
    // 5 standard errors: sd(mean) = sqrt(var/n); sd(sample variance) ≈
    // sqrt((μ4 − σ⁴)/n) with μ4 = w⁴/80 for a uniform of width w.
    const seMean = Math.sqrt(variance / n);
    const seVar = Math.sqrt((w ** 4 / 80 - variance ** 2) / n);
    assert.ok(Math.abs(mean - (a[j] + b[j]) / 2) < 5 * seMean, `mean ${mean} (col ${j})`);
    assert.ok(Math.abs(std ** 2 - variance) < 5 * seVar, `variance ${std ** 2} (col ${j})`);
  }
});

test('Uniform sampling is reproducible from the seed', () => {
  const d = new Uniform({ minval: tf.zeros([4]), maxval: 2 });
  random.setSeed(42);
  const x = d.sample(3).dataSync();
  const y = d.sample(3).dataSync();
  random.setSeed(42);
  assert.deepEqual(d.sample(3).dataSync(), x);
  assert.notDeepEqual(x, y);
});

test('a float32 draw that rounds onto maxval is wrapped to minval (stand-in uniform kernel)', () => {
  // A stand-in for the optional uniform kernel that returns chosen "uniforms",
  // among them 1 and the largest float32 below 1 (1 + that rounds to 2 in float32).
  withStandInUniform([0, 1, 0.5, 1 - 2 ** -24], () => {
    const d = new Uniform({ minval: 1, maxval: 2 });
    const s = d.sample(4);
    assert.deepEqual(Array.from(s.dataSync()), [1, 1, 1.5, 1]);
    assert.ok(d.logProb(s).dataSync().every(Number.isFinite));
  });
});

test('reparameterised gradients of E[s²] match the closed form; none when not reparameterised', () => {
  random.setSeed(5);
  const [a, b] = [0.5, 2];
  const n = 20000;
  let samples: Float32Array = new Float32Array();
  const params = [tf.scalar(a), tf.scalar(b)];
  const [[dA], [dB]] = readGrads((lo: tf.Tensor, hi: tf.Tensor) => {
    const s = new Uniform({ minval: lo, maxval: hi }).sample(n);
    samples = s.dataSync() as Float32Array;
    return tf.mean(tf.square(s));
  }, params);
  // Pathwise: ds/da = (b − s)/(b − a), ds/db = (s − a)/(b − a), so each draw
  // contributes 2s·ds/dθ; the autodiff gradient is their mean.
  const termA = Array.from(samples, (s) => (2 * s * (b - s)) / (b - a));
  const termB = Array.from(samples, (s) => (2 * s * (s - a)) / (b - a));
  const mA = meanStd(termA);
  const mB = meanStd(termB);
  assertClose(dA, mA.mean, 1e-4, 1e-5, 'pathwise d/dminval');
  assertClose(dB, mB.mean, 1e-4, 1e-5, 'pathwise d/dmaxval');
  // E[s²] = (a² + ab + b²)/3: d/da = (2a + b)/3, d/db = (a + 2b)/3. 5 standard errors.
  assert.ok(Math.abs(dA - (2 * a + b) / 3) < (5 * mA.std) / Math.sqrt(n), `d/dminval ${dA}`);
  assert.ok(Math.abs(dB - (a + 2 * b) / 3) < (5 * mB.std) / Math.sqrt(n), `d/dmaxval ${dB}`);

  assertNoGradientPath(
    (lo, hi) =>
      tf.sum(new Uniform({ minval: lo, maxval: hi, isReparameterized: false }).sample(10)),
    [tf.scalar(a), tf.scalar(b)],
    'not reparameterised',
  );
});

test('gradients of Uniform.logProb: ∓1/(maxval − minval) inside, 0 outside, never NaN', () => {
  const lo = tf.tensor([0, 0, 0, -1]);
  const hi = tf.tensor([2, 2, 2, 3]);
  const x = tf.tensor([0.5, 5, -3, 0]);
  const [dLo, dHi, dX] = tf.grads((l: tf.Tensor, h: tf.Tensor, v: tf.Tensor) =>
    new Uniform({ minval: l, maxval: h }).logProb(v),
  )([lo, hi, x]);
  assertClose(dLo.dataSync(), [0.5, 0, 0, 0.25], 1e-6, 1e-7, 'd/dminval');
  assertClose(dHi.dataSync(), [-0.5, 0, 0, -0.25], 1e-6, 1e-7, 'd/dmaxval');
  assert.deepEqual(Array.from(dX.dataSync()), [0, 0, 0, 0]);
  // Broadcast parameters: the gradient is summed back to the parameter's shape.
  const [dScalar] = tf.grads((h: tf.Tensor) =>
    tf.sum(new Uniform({ minval: 0, maxval: h }).logProb(tf.tensor([0.5, 1, 1.5]))),
  )([tf.scalar(2)]);
  assertClose(dScalar.dataSync(), [-1.5], 1e-6, 1e-7, 'broadcast d/dmaxval');
});

test('Uniform parameter errors name the argument', () => {
  assert.throws(() => new Uniform({ maxval: 1 } as never), /Uniform: `minval` is required/);
  assert.throws(() => new Uniform({ minval: 0 } as never), /Uniform: `maxval` is required/);
  assert.throws(
    () => new Uniform({ minval: tf.zeros([3]), maxval: tf.ones([4]) }),
    /Uniform: shapes of `minval` \[3\] and `maxval` \[4\] do not broadcast/,
  );
  assert.throws(
    () => new Uniform({ minval: tf.zeros([3]), maxval: 1, groupNdims: 2 }),
    /Uniform: `groupNdims` \(2\) exceeds/,
  );
  assert.throws(
    () => new Uniform({ minval: tf.zeros([3]), maxval: 1 }).logProb(tf.zeros([2])),
    /Uniform: shapes of `given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
});

test('validateArgs requires minval < maxval (NaN too), leaks nothing; off by default', () => {
  const lo = tf.tensor([0, 1, 0]);
  for (const hi of [tf.tensor([1, 1, 2]), tf.tensor([1, 0.5, 2]), tf.tensor([1, NaN, 2])]) {
    noLeak('failed check', () =>
      assert.throws(
        () => new Uniform({ minval: lo, maxval: hi, validateArgs: true }),
        /Uniform: `minval` must be less than `maxval`/,
      ),
    );
    assert.doesNotThrow(() => new Uniform({ minval: lo, maxval: hi }));
  }
  const hiOk = tf.tensor([1, 2, 3]);
  noLeak('passed check', () => new Uniform({ minval: lo, maxval: hiOk, validateArgs: true }));
  setValidateArgs(true);
  try {
    assert.throws(() => new Uniform({ minval: 2, maxval: tf.tensor([1]) }), /must be less than/);
  } finally {
    setValidateArgs(false);
  }
});
