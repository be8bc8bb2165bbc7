import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { BinConcrete } from '../../src/distributions/bin_concrete.js';
import { setSeed } from '../../src/random.js';
import {
  assertClose,
  assertCloseInf,
  assertNoGradientPath,
  noLeak,
  read,
  readGrads,
  rng,
  softplus,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  arr,
  assertKs,
  assertLeakFree,
  assertReproducible,
  assertSampleShapes,
  broadcastShape,
  centralDiff,
  chiSquare,
  column,
  gradientsVsFiniteDiff,
  oracle,
  size,
  withStandInUniform,
} from './oracles.js';

before(useCpu);

// ---- float64 oracles --------------------------------------------------------

const sigmoid64 = (z: number): number => 1 / (1 + Math.exp(-z));
const logit64 = (x: number): number => Math.log(x) - Math.log1p(-x);

/**
 * log BinConcrete(x; τ, l) in float64, in Maddison et al.'s form (their
 * eq. 21 in logs): log τ + l − (τ + 1) log x + (τ − 1) log(1 − x) −
 * 2·softplus(l − τ·logit x). (The library computes ZhuSuan's equivalent form.)
 */
function binConcreteLogPdf(x: number, l: number, tau: number): number {
  if (!(x > 0 && x < 1)) return Number.isNaN(x) ? NaN : -Infinity;
  return (
    Math.log(tau) +
    l -
    (tau + 1) * Math.log(x) +
    (tau - 1) * Math.log1p(-x) -
    2 * softplus(l - tau * logit64(x))
  );
}

/** The CDF: P(X ≤ x) = P(L ≤ τ·logit x − l) = σ(τ·logit x − l). */
const binConcreteCdf = (x: number, l: number, tau: number): number =>
  sigmoid64(tau * logit64(x) - l);

// ---- logProb ------------------------------------------------------------------

// Shapes of logits, temperature and the value: broadcasting among all three.
const CASES: { logits: number[]; temp: number[]; given: number[]; group: number }[] = [
  { logits: [5], temp: [], given: [5], group: 0 },
  { logits: [3, 4], temp: [4], given: [3, 4], group: 1 },
  { logits: [3, 1], temp: [1, 4], given: [2, 3, 4], group: 2 },
  { logits: [], temp: [], given: [6], group: 0 },
  { logits: [2, 3], temp: [2, 3], given: [7, 2, 3], group: 1 },
  { logits: [4], temp: [3, 1], given: [2, 1, 1], group: 1 },
];

test('BinConcrete.logProb matches the float64 density (broadcasting, groupNdims)', () => {
  const r = rng(51);
  for (const c of CASES) {
    const logits = tf.tensor(uniform(r, size(c.logits), -3, 3), c.logits);
    const temperature = tf.tensor(uniform(r, size(c.temp), 0.2, 3), c.temp);
    const given = tf.tensor(uniform(r, size(c.given), 0.01, 0.99), c.given);
    const d = new BinConcrete({ temperature, logits, groupNdims: c.group });
    const batch = broadcastShape(c.logits, c.temp);
    assert.deepEqual(d.batchShape, batch);
    assert.deepEqual(d.valueShape, []);
    const got = noLeak('logProb', () => read(d.logProb(given)));
    const full = broadcastShape(batch, c.given);
    assert.deepEqual(got.shape, full.slice(0, full.length - c.group));
    const want = oracle([given, logits, temperature].map(arr), c.group, binConcreteLogPdf);
    // float32: terms up to ~30 ((τ + 1)·|log x| with x ≥ 0.01, τ ≤ 3, and
    // the softplus) cancel to the result, summed over up to 12 values:
    // 1e-5 relative plus 2e-4 absolute.
    assertClose(got.data, want, 1e-5, 2e-4, `BinConcrete ${JSON.stringify(c)}`);
    assertClose(read(d.prob(given)).data, want.map(Math.exp), 2e-4, 1e-7, 'prob');
  }
});

test('exp(logProb) is the derivative of the CDF σ(τ·logit x − l) (the law samples follow)', () => {
  // The CDF follows from the sampler alone; its float64 central difference
  // (step 1e-6, error ~1e-9) against the float32 density: 1e-5 relative.
  const pts = [0.001, 0.05, 0.3, 0.5, 0.77, 0.96, 0.999];
  for (const [tau, l] of [
    [0.4, 1.2],
    [1, 0],
    [2.5, -2],
  ]) {
    const p = read(new BinConcrete({ temperature: tau, logits: l }).prob(tf.tensor(pts))).data;
    const want = pts.map((x) => centralDiff((v) => binConcreteCdf(v, l, tau), [x], 0, 1e-7 * x));
    assertClose(p, want, 1e-5, 0, `τ = ${tau}, l = ${l}`);
  }
});

test('the density integrates to 1 (float64 quadrature of exp(logProb))', () => {
  // Nodes s = logit x on [−80, 15] (step 0.01), x = σ(s) rounded to float32,
  // dx = x(1 − x) ds. In s the integrand is smooth (the logistic density of
  // (l + L)/τ), where the trapezoid rule converges geometrically. The window
  // stops at s = 15 because a float32 x closer to 1 cannot resolve 1 − x;
  // the mass past it, σ(l − 15τ), is below 4e-6 for the (τ, l) here and is
  // compared with exactly (closed-form CDF). What is left: float32 rounding
  // of logProb and of 1 − x near the window's top (the masses come out within
  // ~1e-7), hence 2e-6; a density off by a factor, or missing a term, misses by far more.
  const h = 0.01;
  const s = Array.from({ length: 9501 }, (_, i) => -80 + i * h);
  const x = s.map((v) => Math.fround(sigmoid64(v)));
  const cases = [
    [1, 0],
    [2, 1.5],
    [0.7, -2],
    [3, -1],
  ];
  const temperature = tf.tensor(cases.map((c) => c[0]));
  const logits = tf.tensor(cases.map((c) => c[1]));
  const p = read(new BinConcrete({ temperature, logits }).prob(tf.tensor(x, [x.length, 1]))).data;
  cases.forEach(([tau, l], b) => {
    const f = s.map((_, i) => p[i * cases.length + b] * x[i] * (1 - x[i]));
    const mass = h * (f.reduce((a, v) => a + v, 0) - (f[0] + f[f.length - 1]) / 2);
    const window = binConcreteCdf(x[x.length - 1], l, tau) - binConcreteCdf(x[0], l, tau);
    assertClose(mass, window, 0, 2e-6, `τ = ${tau}, l = ${l}`);
    assert.ok(1 - window < 4e-6, `tail ${1 - window}`);
  });
});

test('BinConcrete.logProb: −∞ outside (0, 1) and at its ends, NaN for NaN; finite gradients', () => {
  const d = new BinConcrete({ temperature: 0.5, logits: 0.3 });
  const x = [0, 1, -0.5, 2, NaN, 0.4];
  assertCloseInf(
    read(d.logProb(tf.tensor(x))).data,
    x.map((v) => binConcreteLogPdf(v, 0.3, 0.5)),
    1e-5,
    1e-5,
    'outside',
  );
  const [gl, gt, gx] = readGrads(
    (l, t, v) => tf.sum(new BinConcrete({ temperature: t, logits: l }).logProb(v)),
    [tf.scalar(0.3), tf.scalar(0.5), tf.tensor([0, 1, -0.5, 0.4])],
  );
  for (const g of [gl, gt, gx]) assert.ok(g.every(Number.isFinite), `gradient ${g}`);
  assert.deepEqual(gx.slice(0, 3), [0, 0, 0]);
});

test('BinConcrete.logProb gradients match float64 finite differences', () => {
  const r = rng(52);
  const logits = tf.tensor(uniform(r, 3, -2, 2), [3, 1]);
  const temperature = tf.tensor(uniform(r, 4, 0.3, 2), [4]);
  const given = tf.tensor(uniform(r, 8, 0.05, 0.95), [2, 1, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]);
  const { got, want } = gradientsVsFiniteDiff(
    (l, t, x) => new BinConcrete({ temperature: t, logits: l, groupNdims: 1 }).logProb(x),
    (l, t, x) => oracle([x, l, t], 1, binConcreteLogPdf),
    [logits, temperature, given],
    w,
  );
  // float32 autodiff against float64 differences: 1e-4 relative plus 1e-4 absolute.
  assertClose(got[0], want[0], 1e-4, 1e-4, 'd/dlogits');
  assertClose(got[1], want[1], 1e-4, 1e-4, 'd/dtemperature');
  assertClose(got[2], want[2], 1e-4, 1e-4, 'd/dgiven');
});

// ---- sampling -----------------------------------------------------------------

test('BinConcrete.sample shapes and flags', () => {
  const d = new BinConcrete({ temperature: tf.tensor([0.5, 1, 2]), logits: tf.zeros([2, 1]) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assert.equal(d.dtype, 'float32');
  assert.deepEqual(d.batchShape, [2, 3]);
  assertSampleShapes(d, [2, 3]);
  assertSampleShapes(new BinConcrete({ temperature: 0.3, logits: 1 }), []);
  assert.equal(
    new BinConcrete({ temperature: 1, logits: 0, isReparameterized: false }).isReparameterized,
    false,
  );
  assert.throws(() => d.sample(0), /BinConcrete\.sample: `nSamples` must be a positive integer/);
});

test('samples lie strictly inside (0, 1), even at small τ and large |logits|', () => {
  setSeed(53);
  const logits = tf.tensor([-8, -1, 0, 2, 8]);
  for (const tau of [0.02, 0.3, 1, 5]) {
    const d = new BinConcrete({ temperature: tau, logits, validateArgs: true });
    const x = d.sample(2000);
    assert.ok(
      x.dataSync().every((v) => v > 0 && v < 1),
      `τ = ${tau}`,
    );
    // The validating distribution accepts its own samples; their density is finite.
    assert.ok(read(d.logProb(x)).data.every(Number.isFinite), `τ = ${tau}: logProb`);
  }
});

test('samples follow the CDF σ(τ·logit x − l) (KS, seeded)', () => {
  // KS at level 1e-3 with n = 20000 per member: a CDF off by 1.4% anywhere fails.
  const tau = [0.6, 2];
  const l = [0.8, -1.5];
  setSeed(54);
  const x = new BinConcrete({ temperature: tf.tensor(tau), logits: tf.tensor(l) })
    .sample(20000)
    .dataSync();
  for (let b = 0; b < 2; b++) {
    assertKs(column(x, 2, b), (v) => binConcreteCdf(v, l[b], tau[b]), `member ${b}`);
  }
});

test('x > 1/2 is Bernoulli(sigmoid(logits)) at any τ (chi-square, seeded)', () => {
  // x > 1/2 ⇔ l + L > 0, which has probability σ(l) whatever τ. A sampler
  // that scaled the logits alone (l/τ + L) would give σ(l/τ). Pearson's
  // chi-square (df = 1) at level 1e-3, n = 20000: a bias of 0.02 fails.
  const l = [1.2, -0.4, 2.5];
  const n = 20000;
  setSeed(55);
  for (const tau of [0.3, 3]) {
    const x = new BinConcrete({ temperature: tau, logits: tf.tensor(l) }).sample(n).dataSync();
    l.forEach((lb, b) => {
      const ones = column(x, 3, b).filter((v) => v > 0.5).length;
      const p = sigmoid64(lb);
      const { stat, critical } = chiSquare([n - ones, ones], (k) => [1 - p, p][k] ?? 0);
      assert.ok(stat < critical, `τ = ${tau}, l = ${lb}: ${stat} ≥ ${critical} (${ones}/${n})`);
    });
  }
});

test('as τ → 0 samples approach 0 or 1', () => {
  // min(x, 1 − x) = σ(−|l + L|/τ) ≤ e^{−|l + L|/τ}, and l + L is logistic
  // (density ≤ 1/4), so E[min(x, 1 − x)] ≤ τ/2. n = 4000 draws; the sample
  // mean's standard error is below √(τ/(2n)), and the bound is checked with
  // 5 of them to spare.
  const n = 4000;
  setSeed(56);
  const means = [2, 0.5, 0.1, 0.02].map((tau) => {
    const x = new BinConcrete({ temperature: tau, logits: 0.7 }).sample(n).dataSync();
    const m = Array.from(x).reduce((a, v) => a + Math.min(v, 1 - v), 0) / n;
    if (tau <= 0.1) {
      const bound = tau / 2 + 5 * Math.sqrt(tau / (2 * n));
      assert.ok(m < bound, `τ = ${tau}: mean min(x, 1 − x) = ${m} ≥ ${bound}`);
    }
    return m;
  });
  for (let i = 1; i < means.length; i++) assert.ok(means[i] < means[i - 1], `${means}`);
  // With fixed noise (u = 0.2, 0.8: L = ∓log 4) at τ = 0.01 the samples are
  // σ(∓138.6), kept inside (0, 1) as 2^−126 and 1 − 2^−24.
  withStandInUniform([0.2, 0.8], () => {
    const x = new BinConcrete({ temperature: 0.01, logits: 0 }).sample(2).dataSync();
    assert.deepEqual(Array.from(x), [2 ** -126, 1 - 2 ** -24]);
  });
});

test('reparameterised samples: gradients match finite differences of the fixed-noise map', () => {
  // The stand-in uniform kernel fixes U, so a sample is σ((l + L)/τ) with
  // L = log U − log(1 − U) fixed. Autodiff (float32) against float64
  // central differences of that map: 1e-4 relative plus 1e-6 absolute.
  const U = [0.13, 0.71, 0.42, 0.93, 0.05, 0.58];
  const L = U.map((u) => logit64(Math.fround(u)));
  const lv = [0.4, -1, 1.2];
  const tv = [0.6, 1.7, 0.9];
  const wv = [0.3, -0.8, 1.1, 0.5, -0.2, 0.9];
  const w = tf.tensor(wv, [2, 3]);
  const sample64 = (l: number[], t: number[]): number[] =>
    L.map((v, i) => sigmoid64((l[i % 3] + v) / t[i % 3]));
  const obj = (l: number[], t: number[]): number =>
    sample64(l, t).reduce((a, v, i) => a + v * wv[i], 0);
  withStandInUniform(U, () => {
    const logits = tf.tensor(lv);
    const temperature = tf.tensor(tv);
    const s = new BinConcrete({ temperature, logits }).sample(2).dataSync();
    assertClose(s, sample64(lv, tv), 1e-6, 1e-7, 'forward');
    const [gl, gt] = readGrads(
      (l, t) => tf.sum(tf.mul(new BinConcrete({ temperature: t, logits: l }).sample(2), w)),
      [logits, temperature],
    );
    const fd = (v: number[], f: (p: number[]) => number): number[] =>
      v.map((_, i) => centralDiff((...p) => f(p), v, i, 1e-6));
    assertClose(
      gl,
      fd(lv, (p) => obj(p, tv)),
      1e-4,
      1e-6,
      'd/dlogits',
    );
    assertClose(
      gt,
      fd(tv, (p) => obj(lv, p)),
      1e-4,
      1e-6,
      'd/dtemperature',
    );
    assert.ok(
      [...gl, ...gt].every((v) => v !== 0),
      'gradients flow',
    );
    assertNoGradientPath(
      (l, t) =>
        tf.sum(
          tf.mul(
            new BinConcrete({ temperature: t, logits: l, isReparameterized: false }).sample(2),
            w,
          ),
        ),
      [logits, temperature],
      'not reparameterised',
    );
  });
});

test('BinConcrete sampling is reproducible from the seed', () => {
  assertReproducible(
    new BinConcrete({ temperature: tf.tensor([0.5, 2]), logits: tf.zeros([3, 2]) }),
  );
});

// ---- errors and leaks ---------------------------------------------------------

test('BinConcrete errors name the parameter', () => {
  assert.throws(
    () => new BinConcrete({ logits: 0 } as never),
    /^Error: BinConcrete: `temperature` is required/,
  );
  assert.throws(
    () => new BinConcrete({ temperature: 1 } as never),
    /BinConcrete: `logits` is required/,
  );
  assert.throws(
    () => new BinConcrete({ temperature: tf.ones([2]), logits: tf.zeros([3]) }),
    /BinConcrete: shapes of `temperature` \[2\] and `logits` \[3\] do not broadcast/,
  );
  assert.throws(
    () => new BinConcrete({ temperature: 1, logits: tf.zeros([3]), groupNdims: 2 }),
    /BinConcrete: `groupNdims` \(2\) exceeds the rank of the batch shape \[3\]/,
  );
  assert.throws(
    () => new BinConcrete({ temperature: 1, logits: tf.zeros([3]) }).logProb(tf.zeros([2])),
    /BinConcrete: shapes of `given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
});

test('validateArgs: temperature > 0 (NaN too) and values in (0, 1); no leaks; off by default', () => {
  const logits = tf.zeros([2]);
  for (const temperature of [0, -1, NaN, tf.tensor([1, 0]), tf.tensor([NaN, 1])]) {
    noLeak('rejected temperature', () =>
      assert.throws(
        () => new BinConcrete({ temperature, logits, validateArgs: true }),
        /^Error: BinConcrete: `temperature` must be positive/,
      ),
    );
    assert.doesNotThrow(() => new BinConcrete({ temperature, logits }));
  }
  const one = tf.scalar(1);
  noLeak(
    'accepted construction',
    () => new BinConcrete({ temperature: one, logits, validateArgs: true }),
  );
  setValidateArgs(true);
  try {
    assert.throws(() => new BinConcrete({ temperature: 0, logits: 0 }), /must be positive/);
  } finally {
    setValidateArgs(false);
  }
  const d = new BinConcrete({ temperature: 1, logits, validateArgs: true });
  for (const bad of [
    [0.5, 1],
    [0, 0.5],
    [NaN, 0.5],
    [1.5, 0.5],
  ]) {
    assert.throws(
      () => d.logProb(tf.tensor(bad)),
      /BinConcrete: values given to logProb must lie in \(0, 1\)/,
    );
  }
  assert.doesNotThrow(() => d.logProb(tf.tensor([0.2, 0.9])));
});

test('BinConcrete leaks no tensors', () => {
  const logits = tf.tensor([[0.5, -1, 2]]);
  const temperature = tf.tensor([0.5, 1, 2]);
  assertLeakFree(
    new BinConcrete({ temperature, logits, groupNdims: 1 }),
    new BinConcrete({ temperature, logits, validateArgs: true }),
    tf.tensor([0.2, 0.5, 0.9]),
    tf.tensor([0.2, 1, 0.9]),
    () => new BinConcrete({ temperature: 0, logits: 1, validateArgs: true }),
  );
  noLeak('grads', () =>
    tf.dispose(
      tf.grads((l: tf.Tensor, t: tf.Tensor) =>
        tf.add(
          tf.sum(new BinConcrete({ temperature: t, logits: l }).logProb(tf.tensor([0.3]))),
          tf.sum(new BinConcrete({ temperature: t, logits: l }).sample(2)),
        ),
      )([logits, temperature]),
    ),
  );
});
