import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { Exponential } from '../../src/distributions/exponential.js';
import * as random from '../../src/random.js';
import {
  assertClose,
  assertCloseInf,
  assertNoGradientPath,
  noLeak,
  read,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  arr,
  assertKs,
  assertLeakFree,
  assertMoments,
  assertReproducible,
  assertSampleShapes,
  column,
  gammaRawMoments,
  gradientsVsFiniteDiff,
  oracle,
  size,
} from './oracles.js';

before(useCpu);

/** log Exponential(x; rate) in float64: log λ − λx on [0, ∞), −∞ below. */
const expLogPdf = (x: number, rate: number): number =>
  Number.isNaN(x) ? NaN : x >= 0 ? Math.log(rate) - rate * x : -Infinity;

// Shapes of rate and the value: broadcasting and groupNdims.
const CASES: { rate: number[]; given: number[]; groupNdims: number }[] = [
  { rate: [5], given: [5], groupNdims: 0 },
  { rate: [3, 4], given: [3, 4], groupNdims: 1 },
  { rate: [3, 1], given: [2, 3, 4], groupNdims: 2 },
  { rate: [], given: [6], groupNdims: 0 },
  { rate: [2, 3], given: [7, 2, 3], groupNdims: 1 },
  { rate: [4], given: [2, 1], groupNdims: 1 },
];

test('Exponential.logProb matches the float64 closed form (broadcasting, groupNdims)', () => {
  const r = rng(81);
  for (const c of CASES) {
    const rate = tf.tensor(uniform(r, size(c.rate), 0.2, 5), c.rate);
    const given = tf.tensor(uniform(r, size(c.given), 0, 4), c.given);
    const d = new Exponential({ rate, groupNdims: c.groupNdims });
    assert.deepEqual(d.batchShape, c.rate);
    const want = oracle([given, rate].map(arr), c.groupNdims, expLogPdf);
    const got = noLeak('logProb', () => read(d.logProb(given)));
    // float32 terms of size ≤ ~20, sums of up to 12: 1e-5 relative plus 1e-5 absolute.
    assertClose(got.data, want, 1e-5, 1e-5, `Exponential ${JSON.stringify(c)}`);
    assertClose(read(d.prob(given)).data, want.map(Math.exp), 1e-4, 1e-7, 'prob');
  }
});

test('Exponential.logProb on the support [0, ∞): log λ at 0, −∞ below 0 and at ∞, NaN for NaN', () => {
  const d = new Exponential({ rate: tf.tensor([2, 2, 2, 2, 2]) });
  const x = tf.tensor([0, -1e-30, -3, Infinity, NaN]);
  assertCloseInf(
    read(d.logProb(x)).data,
    [Math.log(2), -Infinity, -Infinity, -Infinity, NaN],
    1e-6,
    0,
    'edges',
  );
  // Gradients stay finite at the edges (the value outside the support is replaced).
  const [gRate, gX] = tf.grads((r: tf.Tensor, v: tf.Tensor) =>
    tf.sum(new Exponential({ rate: r }).logProb(v)),
  )([tf.tensor([2, 2, 2]), tf.tensor([0, -3, 1])]);
  assertClose(gRate.dataSync(), [0.5, 0, 0.5 - 1], 1e-6, 1e-6, 'd/drate');
  assertClose(gX.dataSync(), [-2, 0, -2], 1e-6, 1e-6, 'd/dx');
});

test('Exponential.logProb gradients w.r.t. rate and the value match float64 finite differences', () => {
  const r = rng(82);
  const rate = tf.tensor(uniform(r, 3, 0.3, 4), [3, 1]);
  const given = tf.tensor(uniform(r, 24, 0.05, 3), [2, 3, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]);
  const { got, want } = gradientsVsFiniteDiff(
    (a, x) => new Exponential({ rate: a, groupNdims: 1 }).logProb(x),
    (a, x) => oracle([x, a], 1, expLogPdf),
    [rate, given],
    w,
  );
  // float32 autodiff against float64 central differences (error ~1e-9).
  assertClose(got[0], want[0], 1e-4, 1e-4, 'd/drate');
  assertClose(got[1], want[1], 1e-4, 1e-4, 'd/dgiven');
});

test('Exponential.sample shapes and flags; samples are reparameterised (d/dλ x = −x/λ)', () => {
  const d = new Exponential({ rate: tf.ones([2, 3]) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assert.equal(d.dtype, 'float32');
  assertSampleShapes(d, [2, 3]);
  assert.deepEqual(new Exponential({ rate: 2 }).sample(4).shape, [4]);
  const rate = tf.tensor([0.5, 3]);
  random.setSeed(83);
  const x = new Exponential({ rate }).sample(6).dataSync();
  random.setSeed(83);
  const [g] = tf.grads((a: tf.Tensor) => tf.sum(new Exponential({ rate: a }).sample(6)))([rate]);
  const want = [0, 1].map((j) => -column(x, 2, j).reduce((s, v) => s + v, 0) / [0.5, 3][j]);
  assertClose(g.dataSync(), want, 1e-5, 1e-6, 'd/drate of the samples');
  assertNoGradientPath(
    (a) => tf.sum(new Exponential({ rate: a, isReparameterized: false }).sample(6)),
    [rate],
    'not reparameterised',
  );
});

test('Exponential samples: moments within 5 standard errors, and the CDF 1 − e^(−λx) (Kolmogorov–Smirnov)', () => {
  random.setSeed(84);
  const rates = [0.1, 1, 7];
  const n = 20000;
  const s = new Exponential({ rate: tf.tensor(rates) }).sample(n).dataSync();
  assert.ok(
    s.every((v) => v >= 0 && Number.isFinite(v)),
    'a sample is outside [0, ∞)',
  );
  rates.forEach((rate, j) => {
    const col = column(s, rates.length, j);
    assertMoments(col, gammaRawMoments(1, rate), `Exponential(${rate})`);
    assertKs(col, (x) => 1 - Math.exp(-rate * x), `Exponential(${rate})`);
  });
  // The check has power: the law of twice the rate fails it.
  assert.throws(() => assertKs(column(s, 3, 1), (x) => 1 - Math.exp(-2 * x), 'rate 2'));
});

test('Exponential sampling is reproducible from the seed', () => {
  assertReproducible(new Exponential({ rate: tf.tensor([1, 2, 3]) }));
});

test('Exponential errors and validateArgs name the family; no tensor leaked', () => {
  assert.throws(() => new Exponential({} as never), /^Error: Exponential: `rate` is required$/);
  assert.throws(
    () => new Exponential({ rate: tf.ones([2]), groupNdims: 2 }),
    /Exponential: `groupNdims` \(2\) exceeds/,
  );
  assert.throws(
    () => new Exponential({ rate: tf.tensor([1, 0]), validateArgs: true }),
    /^Error: Exponential: `rate` must be positive$/,
  );
  assert.throws(
    () => new Exponential({ rate: NaN, validateArgs: true }),
    /Exponential: `rate` must be positive/,
  );
  const dv = new Exponential({ rate: tf.ones([2]), validateArgs: true });
  assert.doesNotThrow(() => dv.logProb(tf.tensor([0, 3])));
  assert.throws(
    () => dv.logProb(tf.tensor([1, -0.5])),
    /^Error: Exponential: values given to logProb must lie in \[0, ∞\)$/,
  );
  setValidateArgs(true);
  try {
    assert.throws(() => new Exponential({ rate: -1 }), /`rate` must be positive/);
  } finally {
    setValidateArgs(false);
  }
  const rate = tf.tensor([1, 2]);
  const x = tf.tensor([0.5, 1]);
  const outside = tf.tensor([-1, 1]);
  assertLeakFree(
    new Exponential({ rate, groupNdims: 1 }),
    new Exponential({ rate, validateArgs: true }),
    x,
    outside,
    () => new Exponential({ rate: -1, validateArgs: true }),
  );
  assert.equal(rate.isDisposed, false);
});
