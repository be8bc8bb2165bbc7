import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { Logistic } from '../../src/distributions/logistic.js';
import * as random from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  read,
  rng,
  softplus,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  assertLocScaleLogProbTable,
  assertKs,
  assertLeakFree,
  assertMoments,
  assertReproducible,
  assertSampleShapes,
  column,
  gradientsVsFiniteDiff,
  oracle,
} from './oracles.js';

before(useCpu);

/** log Logistic(x; loc, s) in float64: −z − 2·log(1 + e^−z) − log s, z = (x − loc)/s. */
const logisticLogPdf = (x: number, loc: number, s: number): number => {
  const z = (x - loc) / s;
  return -z - 2 * softplus(-z) - Math.log(s);
};

/** E[X^k], k = 1..4, of Logistic(loc, s): central moments 0, π²s²/3, 0, 7π⁴s⁴/15. */
function logisticRawMoments(loc: number, s: number): number[] {
  const v = (Math.PI * s) ** 2 / 3;
  const mu4 = (7 * (Math.PI * s) ** 4) / 15;
  return [loc, loc ** 2 + v, loc ** 3 + 3 * loc * v, loc ** 4 + 6 * loc ** 2 * v + mu4];
}

test('Logistic.logProb matches the float64 closed form (broadcasting, groupNdims)', () => {
  assertLocScaleLogProbTable({
    name: 'Logistic',
    make: (p) => new Logistic(p),
    logPdf: logisticLogPdf,
    seed: 91,
    given: [-6, 6],
  });
});

test('Logistic.logProb stays accurate in the far tails of both sides', () => {
  const d = new Logistic({ loc: 1, scale: 0.5 });
  const xs = [-200, -30, -5, 1, 7, 30, 200];
  const want = xs.map((x) => logisticLogPdf(x, 1, 0.5));
  // −|z| − 2·softplus(−|z|): no term grows and cancels, so relative 1e-6.
  assertClose(read(d.logProb(tf.tensor(xs))).data, want, 1e-6, 1e-6, 'tails');
  assertClose(want[0], -402 - Math.log(0.5), 1e-12, 0, 'the oracle: −|z| − log s far out');
});

test('Logistic.logProb gradients w.r.t. loc, scale and the value match float64 finite differences', () => {
  const r = rng(92);
  const loc = tf.tensor(uniform(r, 3, -1, 1), [3, 1]);
  const scale = tf.tensor(uniform(r, 4, 0.3, 2), [4]);
  const given = tf.tensor(uniform(r, 24, -4, 4), [2, 3, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]);
  const { got, want } = gradientsVsFiniteDiff(
    (l, s, x) => new Logistic({ loc: l, scale: s, groupNdims: 1 }).logProb(x),
    (l, s, x) => oracle([x, l, s], 1, logisticLogPdf),
    [loc, scale, given],
    w,
  );
  ['loc', 'scale', 'given'].forEach((name, i) =>
    assertClose(got[i], want[i], 1e-4, 1e-4, `d/d${name}`),
  );
  // At z = 0 (the mode) the derivative in x is exactly 0.
  const [g0] = tf.grads((x: tf.Tensor) => new Logistic({ loc: 0.5, scale: 2 }).logProb(x))([
    tf.scalar(0.5),
  ]);
  assert.equal(Math.abs(g0.dataSync()[0]), 0);
});

test('Logistic.sample shapes and flags; samples are reparameterised', () => {
  const d = new Logistic({ loc: tf.zeros([2, 1]), scale: tf.ones([3]) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assertSampleShapes(d, [2, 3]);
  const loc = tf.tensor([0.5, -1]);
  const scale = tf.tensor([2, 0.3]);
  random.setSeed(93);
  const x = new Logistic({ loc, scale }).sample(5).dataSync();
  random.setSeed(93);
  const [gl, gs] = tf.grads((l: tf.Tensor, s: tf.Tensor) =>
    tf.sum(new Logistic({ loc: l, scale: s }).sample(5)),
  )([loc, scale]);
  assertClose(gl.dataSync(), [5, 5], 1e-6, 1e-6, 'd/dloc');
  // d/ds Σ (loc + s·L) = Σ L = Σ (x − loc)/s.
  const want = [0, 1].map((j) =>
    column(x, 2, j).reduce((acc, v) => acc + (v - [0.5, -1][j]) / [2, 0.3][j], 0),
  );
  assertClose(gs.dataSync(), want, 1e-4, 1e-5, 'd/dscale');
  assertNoGradientPath(
    (l) => tf.sum(new Logistic({ loc: l, scale, isReparameterized: false }).sample(5)),
    [loc],
    'not reparameterised',
  );
});

test('Logistic samples: moments within 5 standard errors, and the CDF sigmoid(z) (Kolmogorov–Smirnov)', () => {
  random.setSeed(94);
  const locs = [0, 3, -1];
  const scales = [1, 0.2, 4];
  const n = 20000;
  const s = new Logistic({ loc: tf.tensor(locs), scale: tf.tensor(scales) }).sample(n).dataSync();
  locs.forEach((loc, j) => {
    const col = column(s, 3, j);
    assertMoments(col, logisticRawMoments(loc, scales[j]), `Logistic(${loc}, ${scales[j]})`);
    assertKs(
      col,
      (x) => 1 / (1 + Math.exp(-(x - loc) / scales[j])),
      `Logistic(${loc}, ${scales[j]})`,
    );
  });
  // The check has power: a Normal of the same variance fails it.
  assert.throws(() =>
    assertKs(
      column(s, 3, 0),
      (x) => 0.5 * (1 + erf(x / (Math.PI / Math.sqrt(3)) / Math.SQRT2)),
      'normal',
    ),
  );
});

/** erf in float64 (Abramowitz–Stegun 7.1.26, error below 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

test('Logistic sampling is reproducible from the seed', () => {
  assertReproducible(new Logistic({ loc: tf.tensor([0, 1, 2]), scale: 1 }));
});

test('Logistic errors and validateArgs name the family; no tensor leaked', () => {
  assert.throws(() => new Logistic({ scale: 1 } as never), /^Error: Logistic: `loc` is required$/);
  assert.throws(() => new Logistic({ loc: 0 } as never), /^Error: Logistic: `scale` is required$/);
  assert.throws(
    () => new Logistic({ loc: tf.zeros([2]), scale: tf.ones([3]) }),
    /Logistic: shapes of `loc` \[2\] and `scale` \[3\] do not broadcast/,
  );
  assert.throws(
    () => new Logistic({ loc: 0, scale: 0, validateArgs: true }),
    /^Error: Logistic: `scale` must be positive$/,
  );
  setValidateArgs(true);
  try {
    assert.throws(() => new Logistic({ loc: 0, scale: -2 }), /`scale` must be positive/);
  } finally {
    setValidateArgs(false);
  }
  const loc = tf.tensor([0, 1]);
  const x = tf.tensor([0.5, 1]);
  const wrong = tf.tensor([1, 2, 3]);
  assertLeakFree(
    new Logistic({ loc, scale: 2, groupNdims: 1 }),
    new Logistic({ loc, scale: 2, validateArgs: true }),
    x,
    wrong,
    () => new Logistic({ loc, scale: -1, validateArgs: true }),
  );
  assert.equal(loc.isDisposed, false);
});
