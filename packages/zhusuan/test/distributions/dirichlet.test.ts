import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { Beta } from '../../src/distributions/beta.js';
import { Dirichlet } from '../../src/distributions/dirichlet.js';
import * as random from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  lgamma64,
  meanStd,
  noLeak,
  read,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  arr,
  assertLeakFree,
  assertReproducible,
  gradientsVsFiniteDiff,
  assertKs,
  assertMoments,
  betaRawMoments,
  broadcastShape,
  column,
  gather,
  size,
  sumLast64,
  type Arr,
} from './oracles.js';

before(useCpu);

// ---- float64 oracles ----------------------------------------------------

function dirichletLogPdf(x: number[], a: number[]): number {
  let lp = lgamma64(a.reduce((s, v) => s + v, 0));
  a.forEach((ak, k) => (lp += (ak - 1) * Math.log(x[k]) - lgamma64(ak)));
  return lp;
}

/**
 * Float64 Dirichlet log densities: `given` [..., K] and `alpha` [..., K]
 * broadcast over their leading axes, then the last `groupNdims` of those summed.
 */
function dirichletOracle(given: Arr, alpha: Arr, groupNdims: number): number[] {
  const k = alpha.shape[alpha.shape.length - 1];
  const batch = broadcastShape(given.shape.slice(0, -1), alpha.shape.slice(0, -1));
  const [x, a] = [given, alpha].map((t) => gather(t, [...batch, k]));
  const lp = Array.from({ length: size(batch) }, (_, i) =>
    dirichletLogPdf(x.slice(i * k, (i + 1) * k), a.slice(i * k, (i + 1) * k)),
  );
  return sumLast64(lp, batch, groupNdims);
}

/** Random points of the K-simplex (`shape` is `[..., K]`), away from its boundary. */
function simplexPoints(r: () => number, shape: number[]): tf.Tensor {
  const k = shape[shape.length - 1];
  const u = uniform(r, size(shape), 0.05, 1);
  for (let i = 0; i < u.length; i += k) {
    const s = u.slice(i, i + k).reduce((p, v) => p + v, 0);
    for (let j = i; j < i + k; j++) u[j] /= s;
  }
  return tf.tensor(u, shape);
}

// ---- tests -------------------------------------------------------------------

const CASES: { alpha: number[]; given: number[]; groupNdims: number }[] = [
  { alpha: [3], given: [3], groupNdims: 0 },
  { alpha: [2, 3], given: [2, 3], groupNdims: 1 },
  { alpha: [2, 1, 4], given: [5, 4], groupNdims: 1 },
  { alpha: [4], given: [6, 4], groupNdims: 0 },
  { alpha: [3, 2], given: [7, 1, 2], groupNdims: 1 },
  { alpha: [2, 3, 5], given: [5], groupNdims: 2 },
];

test('Dirichlet.logProb matches the float64 density (broadcasting, groupNdims)', () => {
  const r = rng(31);
  for (const c of CASES) {
    const alpha = tf.tensor(uniform(r, size(c.alpha), 0.2, 5), c.alpha);
    const given = simplexPoints(r, c.given);
    const d = new Dirichlet({ alpha, groupNdims: c.groupNdims });
    assert.deepEqual(d.batchShape, c.alpha.slice(0, -1));
    assert.deepEqual(d.valueShape, c.alpha.slice(-1));
    assert.equal(d.nCategories, c.alpha[c.alpha.length - 1]);
    const want = dirichletOracle(arr(given), arr(alpha), c.groupNdims);
    const got = noLeak('logProb', () => read(d.logProb(given)));
    const batch = broadcastShape(c.alpha.slice(0, -1), c.given.slice(0, -1));
    assert.deepEqual(got.shape, batch.slice(0, batch.length - c.groupNdims));
    // float32: lgamma(Σα) with Σα up to ~25 is ~50, less Σ lgamma(α_k):
    // 2e-5 relative plus 2e-4 absolute for sums of up to 15 vectors.
    assertClose(got.data, want, 2e-5, 2e-4, `Dirichlet ${JSON.stringify(c)}`);
    assertClose(d.prob(given).dataSync(), want.map(Math.exp), 2e-4, 1e-7, 'prob');
  }
});

test('Dirichlet with K = 2 is the Beta distribution of its first component', () => {
  const a = tf.tensor([0.4, 2, 7]);
  const b = tf.tensor([1.5, 0.6, 3]);
  const x = tf.tensor([0.1, 0.5, 0.8]);
  const viaBeta = new Beta({ alpha: a, beta: b }).logProb(x).dataSync();
  const viaDirichlet = new Dirichlet({ alpha: tf.stack([a, b], -1) })
    .logProb(tf.stack([x, tf.sub(1, x)], -1))
    .dataSync();
  assertClose(viaDirichlet, viaBeta, 1e-5, 1e-5, 'K = 2');
});

test('Dirichlet.logProb is −∞ off the open simplex, NaN only for NaN, with finite gradients', () => {
  const alpha = tf.tensor([
    [1, 1, 1],
    [0.5, 2, 3],
    [2, 2, 2],
    [1, 1, 1],
  ]);
  const x = tf.tensor([
    [0, 0.5, 0.5],
    [0, 0, 1],
    [-0.1, 0.6, 0.5],
    [NaN, 0.5, 0.5],
  ]);
  const lp = new Dirichlet({ alpha }).logProb(x).arraySync() as number[];
  assert.deepEqual(lp.slice(0, 3), [-Infinity, -Infinity, -Infinity]);
  assert.ok(Number.isNaN(lp[3]));
  const [ga, gx] = tf.grads((a: tf.Tensor, v: tf.Tensor) =>
    tf.sum(new Dirichlet({ alpha: a }).logProb(v)),
  )([alpha.slice(0, 3), x.slice(0, 3)]);
  assert.ok(ga.dataSync().every(Number.isFinite), `d/dalpha ${ga.dataSync()}`);
  // Zero off the support (+0 or −0: the support masks have no gradient path).
  assert.deepEqual(
    Array.from(gx.dataSync(), (v) => v + 0),
    new Array(9).fill(0),
  );
  // Dirichlet(1, 1, 1) is uniform on the simplex: density Γ(3) = 2.
  assertClose(
    new Dirichlet({ alpha: tf.ones([3]) }).logProb(tf.tensor([0.2, 0.3, 0.5])).dataSync(),
    [Math.log(2)],
    1e-6,
    1e-6,
    'uniform',
  );
});

test('Dirichlet.logProb gradients w.r.t. alpha and the value match float64 finite differences', () => {
  const r = rng(32);
  const alpha = tf.tensor(uniform(r, 6, 0.3, 5), [2, 1, 3]);
  const given = simplexPoints(r, [4, 3]);
  const w = tf.tensor(uniform(r, 2, 0.5, 1.5), [2]);
  const { got, want } = gradientsVsFiniteDiff(
    (a, x) => new Dirichlet({ alpha: a, groupNdims: 1 }).logProb(x),
    (a, x) => dirichletOracle(x, a, 1),
    [alpha, given],
    w,
  );
  // float32 autodiff (digamma through lgamma, relative ~1e-4) against
  // float64 differences (error ~1e-9): 1e-3 relative, 1e-3 absolute.
  assertClose(got[0], want[0], 1e-3, 1e-3, 'd/dalpha');
  assertClose(got[1], want[1], 1e-3, 1e-3, 'd/dgiven');
});

test('Dirichlet.sample shapes; not reparameterised; samples carry no gradient', () => {
  const d = new Dirichlet({ alpha: tf.ones([2, 3, 4]) });
  assert.equal(d.isReparameterized, false);
  assert.deepEqual(d.batchShape, [2, 3]);
  assert.deepEqual(d.valueShape, [4]);
  assert.deepEqual(d.sample().shape, [2, 3, 4]);
  assert.deepEqual(d.sample(1).shape, [1, 2, 3, 4]);
  assert.deepEqual(d.sample(5).shape, [5, 2, 3, 4]);
  const flat = new Dirichlet({ alpha: tf.tensor([1, 2, 3]) });
  assert.deepEqual(flat.batchShape, []);
  assert.deepEqual(flat.sample().shape, [3]);
  assert.deepEqual(flat.sample(7).shape, [7, 3]);
  assert.throws(() => d.sample(0), /Dirichlet\.sample: `nSamples` must be a positive integer/);
  assertNoGradientPath(
    (a) => tf.sum(new Dirichlet({ alpha: a }).sample(3)),
    [tf.tensor([0.5, 2, 1])],
    'Dirichlet sample',
  );
});

test('Dirichlet samples lie on the simplex and have the closed-form moments (5 standard errors)', () => {
  random.setSeed(33);
  const alphas = [
    [0.2, 0.5, 1.3],
    [2, 3, 5],
  ];
  const n = 20000;
  const s = new Dirichlet({ alpha: tf.tensor(alphas) }).sample(n).dataSync();
  for (let i = 0; i < s.length; i += 3) {
    const sum = s[i] + s[i + 1] + s[i + 2];
    // three float32 roundings of the normalised components: |sum − 1| ≤ 3·2^−24.
    assert.ok(Math.abs(sum - 1) < 2e-7, `sum ${sum} at ${i}`);
    assert.ok(s[i] > 0 && s[i + 1] > 0 && s[i + 2] > 0, `component ≤ 0 at ${i}`);
  }
  alphas.forEach((a, b) => {
    const a0 = a.reduce((p, v) => p + v, 0);
    const cols = a.map((_, k) => column(s, 6, 3 * b + k));
    // Each component is Beta(α_k, α₀ − α_k).
    a.forEach((ak, k) =>
      assertMoments(cols[k], betaRawMoments(ak, a0 - ak), `Dirichlet ${a}[${k}]`),
    );
    // Cov(X_0, X_1) = −α_0 α_1 / (α₀² (α₀ + 1)), within 5 empirical standard errors.
    const m0 = meanStd(cols[0]).mean;
    const m1 = meanStd(cols[1]).mean;
    const prodDev = cols[0].map((x, i) => (x - m0) * (cols[1][i] - m1));
    const { mean: cov, std: sd } = meanStd(prodDev);
    const want = (-a[0] * a[1]) / (a0 * a0 * (a0 + 1));
    const se = sd / Math.sqrt(n);
    assert.ok(Math.abs(cov - want) < 5 * se, `Dirichlet ${a}: cov ${cov} vs ${want} (se ${se})`);
  });
});

test('Dirichlet sample marginals follow their CDFs (Kolmogorov–Smirnov)', () => {
  random.setSeed(34);
  // Dirichlet(0.3, 1): X_0 ~ Beta(0.3, 1), F = x^0.3. Dirichlet(1, 1, 1):
  // X_0 ~ Beta(1, 2), F = 1 − (1 − x)².
  const n = 20000;
  const checks: [number[], (x: number) => number][] = [
    [[0.3, 1], (x) => x ** 0.3],
    [[1, 1, 1], (x) => 1 - (1 - x) ** 2],
  ];
  for (const [alpha, cdf] of checks) {
    const s = new Dirichlet({ alpha: tf.tensor(alpha) }).sample(n).dataSync();
    assertKs(column(s, alpha.length, 0), cdf, `Dirichlet(${alpha})`);
  }
});

test('Dirichlet samples stay in the open simplex in float32 for tiny alpha', () => {
  random.setSeed(35);
  const d = new Dirichlet({ alpha: tf.fill([2, 3], 0.01) });
  const s = d.sample(1000);
  const v = s.dataSync();
  // Most components of Dirichlet(0.01, 0.01, 0.01) are below float32's range:
  // they come back as 2^−126, so every component is positive.
  assert.ok(
    v.every((x) => x >= 2 ** -126 && x <= 1),
    'a component left (0, 1]',
  );
  for (let i = 0; i < v.length; i += 3) {
    assert.ok(Math.abs(v[i] + v[i + 1] + v[i + 2] - 1) < 2e-7, `sum at ${i}`);
  }
  assert.ok(d.logProb(s).dataSync().every(Number.isFinite), 'logProb of a sample is not finite');
});

test('Dirichlet sampling is reproducible from the seed', () => {
  const d = new Dirichlet({ alpha: tf.tensor([0.4, 3, 1]) });
  assertReproducible(d);
});

test('Dirichlet errors name the class and the parameter', () => {
  assert.throws(() => new Dirichlet({} as never), /^Error: Dirichlet: `alpha` is required$/);
  assert.throws(() => new Dirichlet({ alpha: 2 }), /Dirichlet: `alpha` must have rank at least 1/);
  assert.throws(
    () => new Dirichlet({ alpha: tf.ones([3, 1]) }),
    /Dirichlet: the last axis of `alpha` \(the number of categories K\) must have size at least 2, got shape \[3,1\]/,
  );
  assert.throws(
    () => new Dirichlet({ alpha: tf.ones([3, 2]), groupNdims: 2 }),
    /Dirichlet: `groupNdims` \(2\) exceeds/,
  );
  const d = new Dirichlet({ alpha: tf.ones([2, 3]) });
  assert.throws(
    () => d.logProb(tf.fill([2, 4], 0.25)),
    /Dirichlet: shapes of `given` \[2,4\] and `batch and value shape` \[2,3\] do not broadcast/,
  );
  assert.throws(
    () => d.logProb(tf.fill([2, 1], 1)),
    /Dirichlet: the last axis of `given` \[2,1\] must have size K = 3, that of `alpha` \[2,3\]/,
  );
  assert.throws(
    () => new Dirichlet({ alpha: tf.tensor([1, 0, 2]), validateArgs: true }),
    /Dirichlet: `alpha` must be positive/,
  );
  const dv = new Dirichlet({ alpha: tf.ones([3]), validateArgs: true });
  assert.throws(
    () => dv.logProb(tf.tensor([-0.1, 0.6, 0.5])),
    /Dirichlet: values given to logProb must lie in the simplex: a component is negative or NaN/,
  );
  assert.throws(
    () => dv.logProb(tf.tensor([NaN, 0.5, 0.5])),
    /Dirichlet: values given to logProb must lie in the simplex: a component is negative or NaN/,
  );
  assert.throws(
    () =>
      dv.logProb(
        tf.tensor([
          [0.2, 0.3, 0.5],
          [0.2, 0.3, 0.6],
        ]),
      ),
    /Dirichlet: values given to logProb must lie in the simplex: components must sum to 1 \(within 0\.00001\)/,
  );
  // Within the tolerance, and on the boundary (a zero component: −∞).
  assert.equal(dv.simplexTolerance, 1e-5);
  assert.doesNotThrow(() => dv.logProb(tf.tensor([0.2, 0.3, 0.500005])).dispose());
  assert.equal(dv.logProb(tf.tensor([0, 0.5, 0.5])).dataSync()[0], -Infinity);
  // K·2^−23 once K is large.
  assert.equal(new Dirichlet({ alpha: tf.ones([1000]) }).simplexTolerance, 1000 * 2 ** -23);
  assert.doesNotThrow(() => new Dirichlet({ alpha: tf.tensor([-1, 1]) }));
  setValidateArgs(true);
  try {
    assert.throws(() => new Dirichlet({ alpha: tf.tensor([NaN, 1]) }), /`alpha` must be positive/);
  } finally {
    setValidateArgs(false);
  }
});

test('Dirichlet leaks no tensors', () => {
  const d = new Dirichlet({ alpha: tf.tensor([[0.5, 2, 1]]), groupNdims: 1 });
  const dv = new Dirichlet({ alpha: tf.tensor([0.5, 2, 1]), validateArgs: true });
  const x = tf.tensor([[0.2, 0.3, 0.5]]);
  const outside = tf.tensor([[0.2, 0.3, 0.6]]);
  const badAlpha = tf.tensor([1, -1]);
  assertLeakFree(d, dv, x, outside, () => new Dirichlet({ alpha: badAlpha, validateArgs: true }));
});
