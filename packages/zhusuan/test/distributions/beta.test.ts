import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { Beta } from '../../src/distributions/beta.js';
import * as random from '../../src/random.js';
import { assertClose, assertNoGradientPath, lgamma64, rng, uniform, useCpu } from '../helpers.js';
import {
  assertLeakFree,
  assertReproducible,
  gradientsVsFiniteDiff,
  assertKs,
  assertMoments,
  betaRawMoments,
  column,
  oracle,
  assertAlphaBetaLogProbTable,
} from './oracles.js';

before(useCpu);

// ---- float64 oracles ----------------------------------------------------

function betaLogPdf(x: number, a: number, b: number): number {
  return (
    (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - (lgamma64(a) + lgamma64(b) - lgamma64(a + b))
  );
}

// ---- tests -------------------------------------------------------------------

test('Beta.logProb matches the float64 density (broadcasting, groupNdims)', () => {
  assertAlphaBetaLogProbTable({
    name: 'Beta',
    make: (p) => new Beta(p),
    pdf: betaLogPdf,
    seed: 11,
    beta: [0.2, 6],
    given: [0.01, 0.99],
  });
});

test('Beta.logProb is −∞ off (0, 1) and at its ends, NaN only for NaN, with finite gradients', () => {
  const alpha = tf.tensor([1, 0.5, 2, 1, 1, 3, 1]);
  const beta = tf.tensor([1, 0.5, 2, 1, 1, 3, 1]);
  const x = tf.tensor([0, 0, 1, 1, -0.5, 1.5, NaN]);
  const lp = new Beta({ alpha, beta }).logProb(x).arraySync() as number[];
  assert.deepEqual(lp.slice(0, 6), new Array<number>(6).fill(-Infinity));
  assert.ok(Number.isNaN(lp[6]));
  const [ga, gb, gx] = tf.grads((a: tf.Tensor, b: tf.Tensor, v: tf.Tensor) =>
    tf.sum(new Beta({ alpha: a, beta: b }).logProb(v)),
  )([alpha.slice(0, 6), beta.slice(0, 6), x.slice(0, 6)]);
  for (const g of [ga, gb, gx]) assert.deepEqual(Array.from(g.dataSync()), new Array(6).fill(0));
  // Values just inside the ends are finite: 2^−126 and 1 − 2^−24.
  const edge = new Beta({ alpha: 0.3, beta: 0.3 }).logProb(tf.tensor([2 ** -126, 1 - 2 ** -24]));
  assert.ok(edge.dataSync().every(Number.isFinite), `edge ${edge.dataSync()}`);
  // Beta(1, 1) is uniform: log density 0 everywhere inside.
  assertClose(
    new Beta({ alpha: 1, beta: 1 }).logProb(tf.tensor([0.001, 0.5, 0.999])).dataSync(),
    [0, 0, 0],
    0,
    1e-6,
    'uniform',
  );
});

test('Beta.logProb gradients w.r.t. alpha, beta and the value match float64 finite differences', () => {
  const r = rng(12);
  const alpha = tf.tensor(uniform(r, 3, 0.3, 5), [3, 1]);
  const beta = tf.tensor(uniform(r, 4, 0.3, 5), [4]);
  const given = tf.tensor(uniform(r, 24, 0.05, 0.95), [2, 3, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]);
  const { got, want } = gradientsVsFiniteDiff(
    (a, b, x) => new Beta({ alpha: a, beta: b, groupNdims: 1 }).logProb(x),
    (a, b, x) => oracle([x, a, b], 1, betaLogPdf),
    [alpha, beta, given],
    w,
  );
  // float32 autodiff (digamma through lgamma, relative ~1e-4; differences of
  // digammas for the Beta) against float64 differences (error ~1e-9).
  ['alpha', 'beta', 'given'].forEach((name, i) =>
    assertClose(got[i], want[i], 1e-3, 1e-3, `d/d${name}`),
  );
});

test('Beta.sample shapes; not reparameterised; samples carry no gradient', () => {
  const d = new Beta({ alpha: tf.ones([3, 1]), beta: tf.ones([4]) });
  assert.equal(d.isReparameterized, false);
  assert.deepEqual(d.sample().shape, [3, 4]);
  assert.deepEqual(d.sample(1).shape, [1, 3, 4]);
  assert.deepEqual(d.sample(5).shape, [5, 3, 4]);
  assert.deepEqual(new Beta({ alpha: 2, beta: 1 }).sample().shape, []);
  assert.deepEqual(new Beta({ alpha: 2, beta: 1 }).sample(7).shape, [7]);
  assert.throws(() => d.sample(-1), /Beta\.sample: `nSamples` must be a positive integer/);
  assertNoGradientPath(
    (a, b) => tf.sum(new Beta({ alpha: a, beta: b }).sample(3)),
    [tf.tensor([0.5, 2]), tf.tensor([1, 3])],
    'Beta sample',
  );
});

test('Beta samples have the closed-form mean and variance (seeded, 5 standard errors)', () => {
  random.setSeed(13);
  const alphas = [0.3, 2, 1, 0.1, 8];
  const betas = [0.5, 5, 1, 3, 0.7];
  const n = 20000;
  const s = new Beta({ alpha: tf.tensor(alphas), beta: tf.tensor(betas) }).sample(n).dataSync();
  alphas.forEach((a, j) =>
    assertMoments(
      column(s, alphas.length, j),
      betaRawMoments(a, betas[j]),
      `Beta(${a}, ${betas[j]})`,
    ),
  );
});

test('Beta samples follow the CDF where it has a closed form (Kolmogorov–Smirnov)', () => {
  random.setSeed(14);
  // Beta(a, 1): F = x^a. Beta(1, b): F = 1 − (1 − x)^b. Beta(1, 1): uniform.
  const params: [number, number, (x: number) => number][] = [
    [0.3, 1, (x) => x ** 0.3],
    [1, 0.4, (x) => 1 - (1 - x) ** 0.4],
    [1, 1, (x) => x],
    [4, 1, (x) => x ** 4],
  ];
  const n = 20000;
  const d = new Beta({
    alpha: tf.tensor(params.map((p) => p[0])),
    beta: tf.tensor(params.map((p) => p[1])),
  });
  const s = d.sample(n).dataSync();
  params.forEach(([a, b, cdf], j) =>
    assertKs(column(s, params.length, j), cdf, `Beta(${a}, ${b})`),
  );
});

test('Beta samples stay inside (0, 1) in float32 for tiny parameters', () => {
  random.setSeed(15);
  const d = new Beta({ alpha: tf.tensor([0.01, 0.05, 1e-3]), beta: tf.tensor([0.01, 2, 1e-3]) });
  const s = d.sample(2000);
  const v = s.dataSync();
  // Beta(0.01, 0.01) puts ~40% of its mass within float32 rounding of 1 and
  // ~20% below 2^−126: such draws come back as 1 − 2^−24 or 2^−126, never
  // 1, 0 or NaN.
  assert.ok(
    v.every((x) => x >= 2 ** -126 && x <= 1 - 2 ** -24),
    'a sample left (0, 1)',
  );
  assert.ok(d.logProb(s).dataSync().every(Number.isFinite), 'logProb of a sample is not finite');
  // Both ends are hit for Beta(0.01, 0.01), in about equal numbers.
  const col = column(v, 3, 0);
  const low = col.filter((x) => x < 0.5).length;
  assert.ok(Math.abs(low - 1000) < 5 * Math.sqrt(500), `${low} of 2000 below 1/2`);
});

test('Beta sampling is reproducible from the seed', () => {
  const d = new Beta({ alpha: tf.tensor([0.4, 3]), beta: tf.tensor([1, 2]) });
  assertReproducible(d);
});

test('Beta errors name the class and the parameter', () => {
  assert.throws(() => new Beta({ beta: 1 } as never), /^Error: Beta: `alpha` is required$/);
  assert.throws(() => new Beta({ alpha: 1 } as never), /^Error: Beta: `beta` is required$/);
  assert.throws(
    () => new Beta({ alpha: tf.ones([2, 3]), beta: tf.ones([2]) }),
    /Beta: shapes of `alpha` \[2,3\] and `beta` \[2\] do not broadcast/,
  );
  assert.throws(
    () => new Beta({ alpha: tf.ones([3]), beta: 1 }).logProb(tf.fill([2], 0.5)),
    /Beta: shapes of `given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
  const v = { validateArgs: true };
  assert.throws(
    () => new Beta({ alpha: tf.tensor([1, -1]), beta: 1, ...v }),
    /Beta: `alpha` must be positive/,
  );
  assert.throws(() => new Beta({ alpha: 1, beta: 0, ...v }), /Beta: `beta` must be positive/);
  assert.throws(() => new Beta({ alpha: 1, beta: NaN, ...v }), /Beta: `beta` must be positive/);
  const d = new Beta({ alpha: 2, beta: 2, ...v });
  for (const bad of [0, 1, -0.1, 1.1, NaN]) {
    assert.throws(
      () => d.logProb(tf.tensor([0.5, bad])),
      /Beta: values given to logProb must lie in \(0, 1\)/,
    );
  }
  assert.doesNotThrow(() => d.logProb(tf.tensor([1e-30, 1 - 2 ** -24])).dispose());
  assert.doesNotThrow(() => new Beta({ alpha: -1, beta: 0 }));
  assert.equal(new Beta({ alpha: 2, beta: 2 }).logProb(tf.scalar(2)).dataSync()[0], -Infinity);
  setValidateArgs(true);
  try {
    assert.throws(() => new Beta({ alpha: 0, beta: 1 }), /Beta: `alpha` must be positive/);
  } finally {
    setValidateArgs(false);
  }
});

test('Beta leaks no tensors', () => {
  const d = new Beta({ alpha: tf.tensor([0.5, 2]), beta: tf.scalar(2), groupNdims: 1 });
  const dv = new Beta({ alpha: tf.tensor([0.5, 2]), beta: 2, validateArgs: true });
  const x = tf.tensor([[0.25, 0.75]]);
  const outside = tf.add(x, 1);
  const [badAlpha, one] = [tf.tensor([-1]), tf.tensor([1])];
  assertLeakFree(
    d,
    dv,
    x,
    outside,
    () => new Beta({ alpha: badAlpha, beta: one, validateArgs: true }),
  );
});
