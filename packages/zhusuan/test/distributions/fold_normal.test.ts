import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FoldNormal } from '../../src/distributions/fold_normal.js';
import { setValidateArgs } from '../../src/distributions/base.js';
import * as random from '../../src/random.js';
import {
  assertClose,
  assertCloseInf,
  assertNoGradientPath,
  meanStd,
  noLeak,
  normalLogPdf,
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
  centralDiff,
  column,
  oracle,
  size,
} from './oracles.js';

before(useCpu);

/** log(N(x; m, s) + N(−x; m, s)) for x ≥ 0, −∞ below: float64, by log-add-exp of the two terms. */
function foldLogPdf(x: number, m: number, s: number): number {
  if (x < 0) return -Infinity;
  const a = normalLogPdf(x, m, s);
  const b = normalLogPdf(-x, m, s);
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** erf in float64 (Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const y = 1 - poly * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** Mean of |y| for y ~ N(m, s²). */
const foldMean = (m: number, s: number): number =>
  s * Math.sqrt(2 / Math.PI) * Math.exp((-m * m) / (2 * s * s)) + m * erf(m / (s * Math.SQRT2));

// Table of parameter/value shapes: broadcasting between mean, std and the value.
const CASES: { mean: number[]; std: number[]; given: number[]; groupNdims: number }[] = [
  { mean: [5], std: [5], given: [5], groupNdims: 0 },
  { mean: [3, 4], std: [4], given: [3, 4], groupNdims: 1 },
  { mean: [3, 1], std: [1, 4], given: [2, 3, 4], groupNdims: 2 },
  { mean: [], std: [], given: [6], groupNdims: 0 },
  { mean: [2, 3], std: [2, 3], given: [7, 2, 3], groupNdims: 1 },
  { mean: [4], std: [], given: [2, 1], groupNdims: 1 },
];

test('FoldNormal.logProb matches the float64 oracle (std and logstd, broadcasting, groupNdims)', () => {
  const r = rng(1);
  let negative = 0;
  for (const c of CASES) {
    const mean = tf.tensor(uniform(r, size(c.mean), -2, 2), c.mean);
    const std = tf.tensor(uniform(r, size(c.std), 0.3, 2), c.std);
    // Mostly non-negative values, some negative (density 0).
    const given = tf.tensor(uniform(r, size(c.given), -0.5, 4), c.given);
    const expected = oracle([given, mean, std].map(arr), c.groupNdims, foldLogPdf);
    const byStd = new FoldNormal({ mean, std, groupNdims: c.groupNdims });
    const byLogstd = new FoldNormal({ mean, logstd: tf.log(std), groupNdims: c.groupNdims });
    assert.deepEqual(byStd.batchShape, broadcastShape(c.mean, c.std));
    for (const d of [byStd, byLogstd]) {
      const lp = noLeak('logProb', () => read(d.logProb(given)).data);
      assertCloseInf(lp, expected, 1e-5, 1e-4, `FoldNormal ${JSON.stringify(c)}`);
    }
    negative += expected.filter((e) => e === -Infinity).length;
    assertClose(byStd.prob(given).dataSync(), expected.map(Math.exp), 1e-4, 1e-7, 'prob');
  }
  assert.ok(negative > 0, 'the table should include values outside the support');
});

test('FoldNormal.logProb is stable where the two Normal terms underflow or differ by far', () => {
  // Rows: [x, mean, std]. N(20; 0, 1) ≈ e^−200 underflows in float32, and so
  // would the naive log(N(x) + N(−x)); the others have terms e^±20000 apart.
  const rows = [
    [20, 0, 1],
    [100, -100, 1],
    [100, 100, 1],
    [0, -3, 0.5],
    [300, 1, 2],
    [1, 1, 0.01],
    [0, 0, 1],
  ];
  for (const kind of ['std', 'logstd'] as const) {
    const m = tf.tensor(rows.map((r) => r[1]));
    const s = tf.tensor(rows.map((r) => r[2]));
    const d =
      kind === 'std'
        ? new FoldNormal({ mean: m, std: s })
        : new FoldNormal({ mean: m, logstd: tf.log(s) });
    const lp = d.logProb(tf.tensor(rows.map((r) => r[0]))).dataSync();
    assertClose(
      lp,
      rows.map(([x, mu, sd]) => foldLogPdf(x, mu, sd)),
      1e-5,
      1e-4,
      `stable (${kind})`,
    );
  }
  // Below zero the density is 0: −Infinity, not NaN; zero itself is in the support.
  const lp = new FoldNormal({ mean: 1, std: 1 }).logProb(tf.tensor([-1e-3, -0, 0, -5]));
  assertCloseInf(
    lp.dataSync(),
    [-Infinity, foldLogPdf(0, 1, 1), foldLogPdf(0, 1, 1), -Infinity],
    1e-5,
    1e-4,
    'x < 0',
  );
});

test('FoldNormal getters: std and logstd from either parameter', () => {
  const a = new FoldNormal({ mean: 0, std: tf.tensor([0.5, 2]) });
  const b = new FoldNormal({ mean: 0, logstd: tf.tensor([0, 1]) });
  assertClose(a.logstd.dataSync(), [Math.log(0.5), Math.log(2)], 1e-6, 1e-7, 'logstd');
  assertClose(b.std.dataSync(), [1, Math.E], 1e-6, 1e-7, 'std');
  assertClose(a.std.dataSync(), [0.5, 2], 0, 0, 'std as given');
});

test('FoldNormal.sample shapes: no sample axis without nSamples, a leading one with it; no leaks', () => {
  for (const d of [
    new FoldNormal({ mean: tf.zeros([2, 1]), std: tf.ones([3]) }),
    new FoldNormal({ mean: tf.zeros([2, 1]), logstd: tf.zeros([3]) }),
  ]) {
    assert.equal(d.isReparameterized, true);
    assert.equal(d.isContinuous, true);
    assert.equal(d.dtype, 'float32');
    assertSampleShapes(d, [2, 3]);
    assert.throws(() => d.sample(-1), /FoldNormal\.sample: `nSamples` must be a positive integer/);
  }
});

test('FoldNormal samples are non-negative with the right mean and variance (seeded)', () => {
  random.setSeed(3);
  const mu = [0, 1, -2];
  const sd = [1, 0.5, 1.5];
  const n = 20000;
  for (const kind of ['std', 'logstd'] as const) {
    const d =
      kind === 'std'
        ? new FoldNormal({ mean: tf.tensor(mu), std: tf.tensor(sd) })
        : new FoldNormal({ mean: tf.tensor(mu), logstd: tf.tensor(sd.map(Math.log)) });
    const s = d.sample(n).dataSync();
    assert.ok(
      s.every((v) => v >= 0),
      'samples are |y|',
    );
    for (let j = 0; j < 3; j++) {
      const col = column(s, 3, j);
      const [m, sigma] = [mu[j], sd[j]];
      const mean = foldMean(m, sigma);
      const m2 = m * m + sigma * sigma; // E[s²] = E[y²]
      const variance = m2 - mean * mean;
      const est = meanStd(col);
      const estM2 = col.reduce((a, v) => a + v * v, 0) / n;
      // 5 standard errors: sd(mean) = sqrt(var/n); sd of the mean of s² =
      // sqrt(Var(y²)/n) = sqrt((4m²σ² + 2σ⁴)/n). The sample variance
      // (≈ m2 − mean²) then errs by at most dM2 + 2·mean·dMean + dMean².
      const dMean = 5 * Math.sqrt(variance / n);
      const dM2 = 5 * Math.sqrt((4 * m * m * sigma * sigma + 2 * sigma ** 4) / n);
      const what = `${kind}, mean ${m}, std ${sigma}`;
      assert.ok(Math.abs(est.mean - mean) < dMean, `mean ${est.mean} vs ${mean} (${what})`);
      assert.ok(Math.abs(estM2 - m2) < dM2, `E[s²] ${estM2} vs ${m2} (${what})`);
      assert.ok(
        Math.abs(est.std ** 2 - variance) < dM2 + 2 * mean * dMean + dMean ** 2,
        `variance ${est.std ** 2} vs ${variance} (${what})`,
      );
    }
  }
});

test('FoldNormal sampling is reproducible from the seed', () => {
  for (const d of [
    new FoldNormal({ mean: tf.zeros([4]), std: 2 }),
    new FoldNormal({ mean: tf.zeros([4]), logstd: 0 }),
  ]) {
    random.setSeed(42);
    const x = d.sample(3).dataSync();
    const y = d.sample(3).dataSync();
    random.setSeed(42);
    assert.deepEqual(d.sample(3).dataSync(), x);
    assert.notDeepEqual(x, y);
  }
});

test('reparameterised gradients of E|y| match the closed form; none when not reparameterised', () => {
  random.setSeed(5);
  const [m, sigma] = [0.7, 1.3];
  const n = 100000;
  const grad = (kind: 'std' | 'logstd'): number[] => {
    const params = [tf.scalar(m), tf.scalar(kind === 'std' ? sigma : Math.log(sigma))];
    return readGrads(
      (a: tf.Tensor, b: tf.Tensor) => tf.mean(new FoldNormal({ mean: a, [kind]: b }).sample(n)),
      params,
    ).map(([g]) => g);
  };
  // dE|y|/dm = E[sign y] = erf(m/(σ√2)); dE|y|/dσ = E[sign(y)·ε] = √(2/π)·e^(−m²/2σ²).
  // Each per-draw term has |sign(y)| ≤ 1 and E[(sign(y)ε)²] = 1, so variance ≤ 1:
  // 5 standard errors ≤ 5/√n (times σ for logstd, where d/dlogstd = σ·d/dσ).
  const dm = erf(m / (sigma * Math.SQRT2));
  const ds = Math.sqrt(2 / Math.PI) * Math.exp((-m * m) / (2 * sigma * sigma));
  const tol = 5 / Math.sqrt(n);
  const [gm, gs] = grad('std');
  assert.ok(Math.abs(gm - dm) < tol, `d/dmean ${gm} vs ${dm}`);
  assert.ok(Math.abs(gs - ds) < tol, `d/dstd ${gs} vs ${ds}`);
  const [gm2, gl] = grad('logstd');
  assert.ok(Math.abs(gm2 - dm) < tol, `d/dmean ${gm2} vs ${dm} (logstd)`);
  assert.ok(Math.abs(gl - sigma * ds) < sigma * tol, `d/dlogstd ${gl} vs ${sigma * ds}`);

  assertNoGradientPath(
    (a, b) => tf.sum(new FoldNormal({ mean: a, std: b, isReparameterized: false }).sample(10)),
    [tf.scalar(m), tf.scalar(sigma)],
    'not reparameterised',
  );
});

test('pathwise gradient is exact where y never crosses 0: ±n for the mean, Σε for std', () => {
  random.setSeed(9);
  const n = 50;
  for (const m of [5, -5]) {
    let samples = new Float32Array();
    const [gm, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const s = new FoldNormal({ mean: a, std: b }).sample(n);
      samples = s.dataSync() as Float32Array;
      return tf.sum(s);
    })([tf.scalar(m), tf.scalar(0.5)]);
    // P(y < 0) = Φ(−10): every |y| = sign(m)·(m + 0.5ε), so ε = (sign(m)·s − m)/0.5.
    const sumEps = Array.from(samples).reduce((a, s) => a + (Math.sign(m) * s - m) / 0.5, 0);
    assertClose(gm.dataSync(), [Math.sign(m) * n], 1e-6, 1e-6, `d/dmean (m = ${m})`);
    assertClose(gs.dataSync(), [Math.sign(m) * sumEps], 1e-4, 1e-3, `d/dstd (m = ${m})`);
  }
});

test('gradients of FoldNormal.logProb match float64 finite differences, and are 0 below zero', () => {
  const mean = [0.3, -1, 2, 0, 1];
  const std = [0.7, 1.5, 0.4, 1, 0.8];
  const x = [1, 0.5, 1.5, 0.8, -1];
  // Central differences of the float64 oracle in argument k (0: x, 1: mean, 2: std).
  const fd = (k: number): number[] =>
    x.map((_, i) => (x[i] < 0 ? 0 : centralDiff(foldLogPdf, [x[i], mean[i], std[i]], k, 1e-6)));
  for (const kind of ['std', 'logstd'] as const) {
    const scale = tf.tensor(kind === 'std' ? std : std.map(Math.log));
    const [dX, dM, dS] = tf.grads((v: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
      new FoldNormal({ mean: a, [kind]: b }).logProb(v),
    )([tf.tensor(x), tf.tensor(mean), scale]);
    // d/dlogstd = std · d/dstd.
    const dStd = kind === 'std' ? fd(2) : fd(2).map((g, i) => g * std[i]);
    assertClose(dX.dataSync(), fd(0), 1e-4, 1e-4, `d/dx (${kind})`);
    assertClose(dM.dataSync(), fd(1), 1e-4, 1e-4, `d/dmean (${kind})`);
    assertClose(dS.dataSync(), dStd, 1e-4, 1e-4, `d/d${kind}`);
  }
});

test('FoldNormal parameter errors name the argument', () => {
  assert.throws(
    () => new FoldNormal({ mean: 0, std: 1, logstd: 0 }),
    /FoldNormal: exactly one of `std` and `logstd` must be given/,
  );
  assert.throws(
    () => new FoldNormal({ mean: 0 }),
    /FoldNormal: exactly one of `std` and `logstd` must be given/,
  );
  assert.throws(() => new FoldNormal({ std: 1 } as never), /FoldNormal: `mean` is required/);
  assert.throws(
    () => new FoldNormal({ mean: tf.zeros([3]), std: tf.ones([4]) }),
    /FoldNormal: shapes of `mean` \[3\] and `std` \[4\] do not broadcast/,
  );
  assert.throws(
    () => new FoldNormal({ mean: tf.zeros([3]), logstd: tf.ones([2, 4]) }),
    /FoldNormal: shapes of `mean` \[3\] and `logstd` \[2,4\] do not broadcast/,
  );
  assert.throws(
    () => new FoldNormal({ mean: tf.zeros([3]), std: 1, groupNdims: 2 }),
    /FoldNormal: `groupNdims` \(2\) exceeds/,
  );
  assert.throws(
    () => new FoldNormal({ mean: tf.zeros([3]), std: 1 }).logProb(tf.zeros([2])),
    /FoldNormal: shapes of `given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
});

test('validateArgs requires std > 0 (NaN too), leaks nothing; off by default', () => {
  for (const std of [tf.tensor([1, 0]), tf.tensor([1, -2]), tf.tensor([NaN, 1])]) {
    noLeak('failed check', () =>
      assert.throws(
        () => new FoldNormal({ mean: 0, std, validateArgs: true }),
        /FoldNormal: `std` must be positive/,
      ),
    );
    assert.doesNotThrow(() => new FoldNormal({ mean: 0, std }));
  }
  // logstd needs no check: any real logstd is a valid scale.
  assert.doesNotThrow(() => new FoldNormal({ mean: 0, logstd: -30, validateArgs: true }));
  const ok = tf.tensor([1, 2]);
  const mean = tf.zeros([2]);
  noLeak('passed check', () => new FoldNormal({ mean, std: ok, validateArgs: true }));
  setValidateArgs(true);
  try {
    assert.throws(() => new FoldNormal({ mean: 0, std: 0 }), /`std` must be positive/);
  } finally {
    setValidateArgs(false);
  }
});
