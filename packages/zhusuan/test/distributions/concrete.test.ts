import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { BinConcrete } from '../../src/distributions/bin_concrete.js';
import { Concrete, ExpConcrete } from '../../src/distributions/concrete.js';
import { setSeed } from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  lgamma64,
  noLeak,
  read,
  readGrads,
  rng,
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
  chiSquare,
  column,
  gradientsVsFiniteDiff,
  offsetIn,
  size,
  sumLast64,
  withStandInUniform,
  type Arr,
} from './oracles.js';

before(useCpu);

// ---- float64 oracles --------------------------------------------------------

const lse64 = (v: number[]): number => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
};
const sum64 = (v: number[]): number => v.reduce((s, x) => s + x, 0);
const sigmoid64 = (z: number): number => 1 / (1 + Math.exp(-z));

/** log ExpConcrete(y; τ, l) (Maddison et al., Appendix C) in float64. */
function expConcreteLogPdf(y: number[], l: number[], tau: number): number {
  const k = l.length;
  const temp = l.map((lk, i) => lk - tau * y[i]);
  return lgamma64(k) + (k - 1) * Math.log(tau) + sum64(temp) - k * lse64(temp);
}

/** log Concrete(x; τ, l) (Maddison et al., eq. 2) in float64, written out on its own. */
function concreteLogPdf(x: number[], l: number[], tau: number): number {
  const k = l.length;
  const logX = x.map(Math.log);
  return (
    lgamma64(k) +
    (k - 1) * Math.log(tau) +
    sum64(l.map((lk, i) => lk - (tau + 1) * logX[i])) -
    k * lse64(l.map((lk, i) => lk - tau * logX[i]))
  );
}

/**
 * Float64 log densities of `given` [..., K] under logits [..., K] and
 * temperature T, broadcast over the batch axes, the last `group` summed.
 */
function oracle(
  f: (v: number[], l: number[], tau: number) => number,
  given: Arr,
  logits: Arr,
  temperature: Arr,
  group: number,
): number[] {
  const k = logits.shape[logits.shape.length - 1];
  const gb = given.shape.slice(0, -1);
  const lb = logits.shape.slice(0, -1);
  const batch = broadcastShape(gb, lb, temperature.shape);
  const lp = Array.from({ length: size(batch) }, (_, i) => {
    const g = offsetIn(batch, gb, i) * k;
    const r = offsetIn(batch, lb, i) * k;
    return f(
      given.data.slice(g, g + k),
      logits.data.slice(r, r + k),
      temperature.data[offsetIn(batch, temperature.shape, i)],
    );
  });
  return sumLast64(lp, batch, group);
}

/** Random points of the K-simplex (`shape` is `[..., K]`), away from its boundary. */
function simplexValues(r: () => number, shape: number[]): number[] {
  const k = shape[shape.length - 1];
  const u = uniform(r, size(shape), 0.05, 1);
  for (let i = 0; i < u.length; i += k) {
    const s = sum64(u.slice(i, i + k));
    for (let j = i; j < i + k; j++) u[j] /= s;
  }
  return u;
}

/** Rows of an `[n, K]` sample (flat). */
const rows = (s: ArrayLike<number>, k: number): number[][] =>
  Array.from({ length: s.length / k }, (_, i) => Array.from({ length: k }, (_, j) => s[i * k + j]));

const argmax = (v: number[]): number => v.indexOf(Math.max(...v));

// ---- logProb ------------------------------------------------------------------

// Shapes of logits, temperature and the value; the temperature may extend the batch.
const CASES: { logits: number[]; temp: number[]; given: number[]; group: number; out: number[] }[] =
  [
    { logits: [3], temp: [], given: [3], group: 0, out: [] },
    { logits: [2, 4], temp: [], given: [2, 4], group: 1, out: [] },
    { logits: [2, 1, 3], temp: [2, 5], given: [5, 3], group: 1, out: [2] },
    { logits: [4], temp: [3], given: [6, 1, 4], group: 0, out: [6, 3] },
    { logits: [3, 2], temp: [3], given: [7, 3, 2], group: 1, out: [7] },
    { logits: [2, 3, 5], temp: [1, 3], given: [5], group: 2, out: [] },
    { logits: [2, 1], temp: [], given: [2, 1], group: 0, out: [2] },
  ];

test('Concrete and ExpConcrete logProb match float64 oracles (broadcasting, groupNdims)', () => {
  const r = rng(41);
  for (const c of CASES) {
    const logits = tf.tensor(uniform(r, size(c.logits), -3, 3), c.logits);
    const temperature = tf.tensor(uniform(r, size(c.temp), 0.2, 3), c.temp);
    const x = simplexValues(r, c.given);
    const given = tf.tensor(x, c.given);
    const logGiven = tf.tensor(x.map(Math.log), c.given);
    const k = c.logits[c.logits.length - 1];
    for (const [D, f, v] of [
      [Concrete, concreteLogPdf, given],
      [ExpConcrete, expConcreteLogPdf, logGiven],
    ] as const) {
      const d = new D({ temperature, logits, groupNdims: c.group });
      assert.deepEqual(d.batchShape, broadcastShape(c.logits.slice(0, -1), c.temp));
      assert.deepEqual(d.valueShape, [k]);
      assert.equal(d.nCategories, k);
      const got = noLeak('logProb', () => read(d.logProb(v)));
      assert.deepEqual(got.shape, c.out, `${d.name} ${JSON.stringify(c)} shape`);
      const want = oracle(f, arr(v), arr(logits), arr(temperature), c.group);
      // float32: terms of magnitude up to ~50 (τ·|log x| ≤ 3·3, K·logSumExp,
      // Σ log x) cancel to the result, summed over up to 15 vectors: 1e-5
      // relative plus 2e-4 absolute (float32 rounding is ~6e-8 of each term).
      assertClose(got.data, want, 1e-5, 2e-4, `${d.name} ${JSON.stringify(c)}`);
      assertClose(read(d.prob(v)).data, want.map(Math.exp), 2e-4, 1e-7, `${d.name} prob`);
    }
  }
});

test('ExpConcrete.logProb(log x) = Concrete.logProb(x) + Σ log x; K = 2 Concrete is BinConcrete', () => {
  const r = rng(42);
  const logits = tf.tensor(uniform(r, 8, -2, 2), [4, 2]);
  const temperature = tf.tensor([0.3, 0.8, 1.5, 4]);
  const xv = simplexValues(r, [4, 2]);
  const x = tf.tensor(xv, [4, 2]);
  const lc = read(new Concrete({ temperature, logits }).logProb(x)).data;
  const le = read(new ExpConcrete({ temperature, logits }).logProb(tf.log(x))).data;
  const sumLog = rows(xv, 2).map((row) => sum64(row.map(Math.log)));
  assertClose(
    le,
    lc.map((v, i) => v + sumLog[i]),
    1e-5,
    1e-5,
    'ExpConcrete vs Concrete',
  );
  // The first component of a K = 2 Concrete is BinConcrete(τ, l1 − l2),
  // both densities taken with respect to dx_1.
  const diff = tf.sub(logits.slice([0, 0], [4, 1]), logits.slice([0, 1], [4, 1])).reshape([4]);
  const lb = read(
    new BinConcrete({ temperature, logits: diff }).logProb(tf.tensor(column(xv, 2, 0))),
  ).data;
  assertClose(lc, lb, 1e-5, 1e-5, 'K = 2 vs BinConcrete');
});

/** The trapezoid rule on a uniform grid of step h (values at the nodes). */
const trapezoid = (v: number[], h: number): number => h * (sum64(v) - (v[0] + v[v.length - 1]) / 2);

/**
 * Tolerance of the quadratures below. Their nodes are in the log-ratios
 * s_k = log(x_k/x_K), where the integrands are smooth with tails
 * ~e^{−τ|s| + |Δl|} (below 1e-13 past the grids' ends for the τ used): the
 * trapezoid rule converges geometrically there, so what is left is float32
 * rounding of logProb, ~1e-7 relative per node and not systematic (the
 * masses come out within ~1e-8). A density off by any constant factor, or
 * integrated against the wrong measure, misses by far more.
 */
const QUAD_TOL = 1e-6;

test('K = 2: the densities integrate to 1 (float64 quadrature of exp(logProb))', () => {
  // Nodes s on [−80, 80] (step 0.01): x = (σ(s), σ(−s)), each component
  // rounded to float32 with its full relative precision.
  const h = 0.01;
  const s = Array.from({ length: 16001 }, (_, i) => -80 + i * h);
  const logits = tf.tensor([
    [0.5, -1],
    [2, 0],
    [-1, 1.5],
  ]);
  const temperature = tf.tensor([0.5, 1, 3]);
  const x1 = s.map(sigmoid64);
  const x2 = s.map((v) => sigmoid64(-v));
  const x = tf.tensor(
    s.flatMap((_, i) => [x1[i], x2[i]]),
    [s.length, 1, 2],
  );
  const y = tf.tensor(
    s.flatMap((_, i) => [Math.log(x1[i]), Math.log(x2[i])]),
    [s.length, 1, 2],
  );
  const pc = rows(read(new Concrete({ temperature, logits }).prob(x)).data, 3);
  const pe = rows(read(new ExpConcrete({ temperature, logits }).prob(y)).data, 3);
  for (let b = 0; b < 3; b++) {
    const quad = (f: (p: number[], i: number) => number): number => trapezoid(pc.map(f), h);
    // Concrete: the density in dx_1 = x_1·x_2 ds.
    const mass = quad((p, i) => p[b] * x1[i] * x2[i]);
    assertClose(mass, 1, 0, QUAD_TOL, `Concrete mass, member ${b}`);
    // ExpConcrete: ZhuSuan's density is that of the log-ratio s (ds = dy_1/x_2).
    const massE = trapezoid(
      pe.map((p) => p[b]),
      h,
    );
    assertClose(massE, 1, 0, QUAD_TOL, `ExpConcrete mass, member ${b}`);
    // Against dy_1 = x_2 ds it integrates to E[X_2] (from the Concrete density), not 1.
    const ex2 = quad((p, i) => p[b] * x1[i] * x2[i] * x2[i]);
    const inDy1 = trapezoid(
      pe.map((p, i) => p[b] * x2[i]),
      h,
    );
    assertClose(inDy1, ex2, 0, QUAD_TOL, `ExpConcrete in dy_1, member ${b}`);
    assert.ok(Math.abs(ex2 - 1) > 0.05, 'E[X_2] is not 1, so the check above tells');
  }
});

test('K = 3: the densities integrate to 1 (2-D float64 quadrature)', () => {
  // Nodes (s1, s2) on [−40, 40]² (step 0.2): x = softmax(s1, s2, 0).
  const h = 0.2;
  const m = 401;
  const grid = Array.from({ length: m }, (_, i) => -40 + i * h);
  const ys: number[][] = [];
  for (const s1 of grid) {
    for (const s2 of grid) {
      const lse = lse64([s1, s2, 0]);
      ys.push([s1 - lse, s2 - lse, -lse]);
    }
  }
  const logits = tf.tensor([
    [0.5, -0.3, 0.2],
    [1.5, 0, -1],
  ]);
  const temperature = tf.tensor([0.8, 2]);
  const y = tf.tensor(ys.flat(), [ys.length, 1, 3]);
  const x = tf.tensor(ys.flat().map(Math.exp), [ys.length, 1, 3]);
  const pc = rows(read(new Concrete({ temperature, logits }).prob(x)).data, 2);
  const pe = rows(read(new ExpConcrete({ temperature, logits }).prob(y)).data, 2);
  // The 2-D trapezoid rule: weights h² inside, halved on edges, quartered at corners.
  const w = (i: number): number => (i === 0 || i === m - 1 ? 0.5 : 1);
  const quad = (f: (j: number) => number): number => {
    let total = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) total += w(i) * w(j) * f(i * m + j);
    return total * h * h;
  };
  for (let b = 0; b < 2; b++) {
    // Concrete: dx_1 dx_2 = x_1 x_2 x_3 ds_1 ds_2.
    const massC = quad((j) => pc[j][b] * Math.exp(sum64(ys[j])));
    assertClose(massC, 1, 0, QUAD_TOL, `Concrete mass, member ${b}`);
    const massE = quad((j) => pe[j][b]);
    assertClose(massE, 1, 0, QUAD_TOL, `ExpConcrete mass, member ${b}`);
  }
});

test('logProb is −∞ off the (log-)simplex support, NaN for NaN, with finite gradients elsewhere', () => {
  const logits = tf.tensor([0.3, -0.2]);
  const c = new Concrete({ temperature: 0.7, logits });
  const lp = read(
    c.logProb(
      tf.tensor([
        [0, 1],
        [-0.1, 1.1],
        [NaN, 0.5],
        [0.4, 0.6],
      ]),
    ),
  ).data;
  assert.deepEqual(lp.slice(0, 2), [-Infinity, -Infinity]);
  assert.ok(Number.isNaN(lp[2]));
  assert.ok(Number.isFinite(lp[3]));
  const e = new ExpConcrete({ temperature: 0.7, logits });
  const le = read(
    e.logProb(
      tf.tensor([
        [-Infinity, 0],
        [NaN, 0],
        [Math.log(0.4), Math.log(0.6)],
      ]),
    ),
  ).data;
  assert.equal(le[0], -Infinity);
  assert.ok(Number.isNaN(le[1]));
  assert.ok(Number.isFinite(le[2]));
  const [gl, gt, gx] = readGrads(
    (l, t, v) => tf.sum(new Concrete({ temperature: t, logits: l }).logProb(v)),
    [
      logits,
      tf.scalar(0.7),
      tf.tensor([
        [0, 1],
        [0.4, 0.6],
      ]),
    ],
  );
  for (const g of [gl, gt, gx]) assert.ok(g.every(Number.isFinite), `gradient ${g}`);
  // Zero off the support (+0 or −0: the support masks have no gradient path).
  assert.deepEqual(
    gx.slice(0, 2).map((v) => v + 0),
    [0, 0],
  );
});

test('logProb gradients w.r.t. logits, temperature and the value match float64 finite differences', () => {
  const r = rng(43);
  const logits = tf.tensor(uniform(r, 6, -2, 2), [2, 1, 3]);
  const temperature = tf.tensor(uniform(r, 8, 0.3, 2), [2, 4]);
  const xv = simplexValues(r, [4, 3]);
  const w = tf.tensor([0.7, 1.3]);
  for (const [D, f, v] of [
    [Concrete, concreteLogPdf, tf.tensor(xv, [4, 3])],
    [ExpConcrete, expConcreteLogPdf, tf.tensor(xv.map(Math.log), [4, 3])],
  ] as const) {
    const { got, want } = gradientsVsFiniteDiff(
      (l, t, x) => new D({ temperature: t, logits: l, groupNdims: 1 }).logProb(x),
      (l, t, x) => oracle(f, x, l, t, 1),
      [logits, temperature, v],
      w,
    );
    // float32 autodiff (terms up to ~20 cancelling) against float64
    // differences (error ~1e-8): 1e-4 relative plus 1e-4 absolute.
    assertClose(got[0], want[0], 1e-4, 1e-4, `${D.name} d/dlogits`);
    assertClose(got[1], want[1], 1e-4, 1e-4, `${D.name} d/dtemperature`);
    assertClose(got[2], want[2], 1e-4, 1e-4, `${D.name} d/dgiven`);
  }
});

// ---- sampling -----------------------------------------------------------------

test('sample shapes (the temperature may extend the batch), flags, K = 1', () => {
  for (const D of [Concrete, ExpConcrete]) {
    const d = new D({ temperature: tf.tensor([1, 2, 3]), logits: tf.zeros([2, 1, 4]) });
    assert.equal(d.isReparameterized, true);
    assert.equal(d.isContinuous, true);
    assert.equal(d.dtype, 'float32');
    assert.deepEqual(d.batchShape, [2, 3]);
    assert.deepEqual(d.valueShape, [4]);
    assertSampleShapes(d, [2, 3, 4]);
    assertSampleShapes(new D({ temperature: 0.5, logits: tf.zeros([5]) }), [5]);
    assert.equal(
      new D({ temperature: 1, logits: tf.zeros([2]), isReparameterized: false }).isReparameterized,
      false,
    );
    assert.throws(() => d.sample(1.5), new RegExp(`${D.name}\\.sample: \`nSamples\``));
  }
  // K = 1: the only point of the simplex, density 1.
  const one = new Concrete({ temperature: 0.5, logits: tf.zeros([2, 1]) });
  assert.deepEqual(Array.from(one.sample(3).dataSync()), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(read(one.logProb(tf.ones([2, 1]))).data, [0, 0]);
  const eOne = new ExpConcrete({ temperature: 0.5, logits: tf.zeros([1]) });
  assert.deepEqual(Array.from(eOne.sample(2).dataSync()), [0, 0]);
  assert.deepEqual(read(eOne.logProb(tf.zeros([1]))).data, [0]);
});

test('samples lie on the simplex (Concrete: positive, sum 1) and the log-simplex (ExpConcrete)', () => {
  setSeed(44);
  const logits = tf.tensor([
    [3, -2, 0, 1, -5],
    [0, 0, 0, 0, 0],
  ]);
  for (const tau of [0.02, 0.3, 1, 5]) {
    const c = new Concrete({ temperature: tau, logits, validateArgs: true });
    const x = c.sample(500);
    const xr = rows(x.dataSync(), 5);
    assert.ok(
      xr.every((row) => row.every((v) => v > 0 && v <= 1)),
      `τ = ${tau}: components in (0, 1]`,
    );
    const worst = Math.max(...xr.map((row) => Math.abs(sum64(row) - 1)));
    assert.ok(worst <= c.simplexTolerance, `τ = ${tau}: |Σx − 1| = ${worst}`);
    // The validating distribution accepts its own samples, and their density is finite.
    assert.ok(read(c.logProb(x)).data.every(Number.isFinite), `τ = ${tau}: logProb finite`);
    const e = new ExpConcrete({ temperature: tau, logits, validateArgs: true });
    const y = e.sample(500);
    const yr = rows(y.dataSync(), 5);
    assert.ok(yr.every((row) => row.every((v) => Number.isFinite(v) && v <= 0)));
    const worstLse = Math.max(...yr.map((row) => Math.abs(lse64(row))));
    assert.ok(worstLse <= e.simplexTolerance, `τ = ${tau}: |logSumExp y| = ${worstLse}`);
    assert.ok(read(e.logProb(y)).data.every(Number.isFinite), `τ = ${tau}: ExpConcrete logProb`);
  }
});

test('a Concrete sample is the exp of the ExpConcrete sample drawn from the same seed', () => {
  const opts = {
    temperature: tf.tensor([0.05, 0.5, 2]),
    logits: tf.tensor([1, -1, 0.2, 3]).reshape([1, 4]),
  };
  setSeed(45);
  const y = new ExpConcrete(opts).sample(200).dataSync();
  setSeed(45);
  const x = new Concrete(opts).sample(200).dataSync();
  // float32 exp of the same float32 value: within one rounding; underflow
  // below 2^−126 is raised to it.
  assertClose(
    x,
    Array.from(y, (v) => Math.max(Math.exp(v), 2 ** -126)),
    3e-7,
    0,
    'exp',
  );
});

test('the argmax of Concrete samples is Categorical(softmax(logits)) at any τ (chi-square, seeded)', () => {
  // Gumbel-max: argmax (logits + G)/τ = argmax (logits + G), whatever τ. A
  // sampler that scaled the logits alone (logits/τ + G) would give
  // softmax(logits/τ), far off at τ = 0.3 or 3. Pearson's chi-square at
  // level 1e-3 (df = 3), n = 20000 per member: a fixed seed passes or fails
  // for good; a bias of 0.02 in one probability fails.
  const lv = [
    [1, 0, -1, 0.5],
    [-2, 0, 0.3, 1],
  ];
  const pmfs = lv.map((l) => l.map((v) => Math.exp(v - lse64(l))));
  const n = 20000;
  setSeed(46);
  for (const tau of [0.3, 3]) {
    const x = new Concrete({ temperature: tau, logits: tf.tensor(lv) }).sample(n).dataSync();
    const counts = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    rows(x, 4).forEach((row, i) => counts[i % 2][argmax(row)]++);
    for (let b = 0; b < 2; b++) {
      const { stat, critical } = chiSquare(counts[b], (k) => pmfs[b][k] ?? 0);
      assert.ok(stat < critical, `τ = ${tau}, member ${b}: ${stat} ≥ ${critical}, ${counts[b]}`);
    }
  }
});

test('ExpConcrete log-ratios y_k − y_K are logistic((l_k − l_K)/τ, 1/τ) (KS, seeded)', () => {
  // y_k − y_K = (l_k − l_K + G_k − G_K)/τ and G_k − G_K is standard
  // logistic, so P(y_k − y_K ≤ s) = σ(τs − (l_k − l_K)). KS at level 1e-3,
  // n = 20000: a CDF off by 1.4% anywhere fails.
  const l = [1, -0.5, 0.3, 0];
  const tau = 0.7;
  setSeed(47);
  const y = rows(
    new ExpConcrete({ temperature: tau, logits: tf.tensor(l) }).sample(20000).dataSync(),
    4,
  );
  for (let k = 0; k < 3; k++) {
    assertKs(
      y.map((row) => row[k] - row[3]),
      (s) => sigmoid64(tau * s - (l[k] - l[3])),
      `log-ratio ${k}`,
    );
  }
});

test('as τ → 0 samples approach one-hot vectors', () => {
  // 1 − max_k x_k ≤ Σ_{i≠j} e^{−(Z_i − Z_j)/τ}·[Z_i > Z_j] with Z = l + G;
  // Z_i − Z_j is logistic (density ≤ 1/4), so E[1 − max x] ≤ K(K − 1)τ/4
  // = 1.5τ for K = 3. n = 4000 draws; the sample mean's standard error is
  // below √(1.5τ/n), and the bound is checked with 5 of them to spare.
  const logits = tf.tensor([1, 0, -0.5]);
  const n = 4000;
  setSeed(48);
  const means = [2, 0.5, 0.1, 0.02].map((tau) => {
    const x = rows(new Concrete({ temperature: tau, logits }).sample(n).dataSync(), 3);
    const m = sum64(x.map((row) => 1 - Math.max(...row))) / n;
    if (tau <= 0.1) {
      const bound = 1.5 * tau + 5 * Math.sqrt((1.5 * tau) / n);
      assert.ok(m < bound, `τ = ${tau}: mean 1 − max x = ${m} ≥ ${bound}`);
    }
    return m;
  });
  for (let i = 1; i < means.length; i++) assert.ok(means[i] < means[i - 1], `${means}`);
  // With fixed noise the sample tends to the one-hot vector of argmax(l + G).
  // u = 0.1, 0.5, 0.9 give G ≈ −0.83, 0.37, 2.25: at τ = 0.01 the other
  // components are e^{−188} and e^{−120}, raised to 2^−126.
  withStandInUniform([0.1, 0.5, 0.9], () => {
    const x = new Concrete({ temperature: 0.01, logits: tf.zeros([3]) }).sample().dataSync();
    assert.deepEqual(Array.from(x), [2 ** -126, 2 ** -126, 1]);
    const y = new ExpConcrete({ temperature: 0.01, logits: tf.zeros([3]) }).sample().dataSync();
    const g = [0.1, 0.5, 0.9].map((u) => -Math.log(-Math.log(Math.fround(u))));
    const z = g.map((v) => v / 0.01);
    assertClose(
      y,
      z.map((v) => v - lse64(z)),
      1e-5,
      1e-3,
      'ExpConcrete at τ = 0.01',
    );
  });
});

test('reparameterised samples: gradients match finite differences of the fixed-noise map', () => {
  // The stand-in uniform kernel fixes U, so a sample is a deterministic
  // function of (logits, τ): softmax or log-softmax of (l + G)/τ with
  // G = −log(−log U). Autodiff (float32) against float64 central
  // differences of that map: 1e-4 relative plus 1e-5 absolute.
  const U = [0.13, 0.71, 0.42, 0.93, 0.05, 0.58, 0.27, 0.86, 0.35, 0.64, 0.99, 0.2];
  const G = U.map((u) => -Math.log(-Math.log(Math.fround(u))));
  const lv = [0.4, -1, 1.2, 0, 0.8, -0.3];
  const tv = [0.6, 1.7];
  const wv = uniform(rng(49), 12, -1, 1);
  const w = tf.tensor(wv, [2, 2, 3]);
  /** Σ w·sample in float64: n = 2 draws of a batch of 2, K = 3. */
  const sample64 = (l: number[], t: number[], log: boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let b = 0; b < 2; b++) {
        const z = [0, 1, 2].map((k) => (l[b * 3 + k] + G[i * 6 + b * 3 + k]) / t[b]);
        const c = lse64(z);
        out.push(...z.map((v) => (log ? v - c : Math.exp(v - c))));
      }
    }
    return out;
  };
  for (const [D, log] of [
    [Concrete, false],
    [ExpConcrete, true],
  ] as const) {
    withStandInUniform(U, () => {
      const logits = tf.tensor(lv, [2, 3]);
      const temperature = tf.tensor(tv);
      const s = new D({ temperature, logits }).sample(2).dataSync();
      assertClose(s, sample64(lv, tv, log), 1e-5, 1e-6, `${D.name} forward`);
      const [gl, gt] = readGrads(
        (l, t) => tf.sum(tf.mul(new D({ temperature: t, logits: l }).sample(2), w)),
        [logits, temperature],
      );
      const obj = (l: number[], t: number[]): number =>
        sum64(sample64(l, t, log).map((v, i) => v * wv[i]));
      const fd = (v: number[], f: (p: number[]) => number): number[] =>
        v.map((_, i) => {
          const [p, q] = [[...v], [...v]];
          p[i] += 1e-6;
          q[i] -= 1e-6;
          return (f(p) - f(q)) / 2e-6;
        });
      assertClose(
        gl,
        fd(lv, (p) => obj(p, tv)),
        1e-4,
        1e-5,
        `${D.name} d/dlogits`,
      );
      assertClose(
        gt,
        fd(tv, (p) => obj(lv, p)),
        1e-4,
        1e-5,
        `${D.name} d/dtemperature`,
      );
      assert.ok(gt.every((v) => v !== 0) && gl.some((v) => v !== 0), 'gradients flow');
      assertNoGradientPath(
        (l, t) =>
          tf.sum(
            tf.mul(new D({ temperature: t, logits: l, isReparameterized: false }).sample(2), w),
          ),
        [logits, temperature],
        `${D.name} not reparameterised`,
      );
    });
  }
});

test('sampling is reproducible from the seed', () => {
  const logits = tf.tensor([
    [0, 1, 2],
    [1, 1, -3],
  ]);
  assertReproducible(new Concrete({ temperature: 0.5, logits }));
  assertReproducible(new ExpConcrete({ temperature: tf.tensor([0.5, 2]), logits }));
});

// ---- errors and leaks ---------------------------------------------------------

test('errors name the class and the parameter', () => {
  for (const D of [Concrete, ExpConcrete]) {
    const n = D.name;
    assert.throws(
      () => new D({ logits: tf.zeros([3]) } as never),
      new RegExp(`^Error: ${n}: \`temperature\` is required`),
    );
    assert.throws(
      () => new D({ temperature: 1 } as never),
      new RegExp(`${n}: \`logits\` is required`),
    );
    assert.throws(
      () => new D({ temperature: 1, logits: 2 }),
      new RegExp(`${n}: \`logits\` must have rank at least 1.*got shape \\[\\]`),
    );
    assert.throws(
      () => new D({ temperature: 1, logits: tf.zeros([2, 0]) }),
      new RegExp(
        `${n}: \`logits\` must have at least one category \\(K ≥ 1\\), got shape \\[2,0\\]`,
      ),
    );
    assert.throws(
      () => new D({ temperature: tf.ones([4]), logits: tf.zeros([3, 2]) }),
      new RegExp(
        `${n}: the shape of \`temperature\` \\[4\\] does not broadcast against the batch shape \\[3\\] of \`logits\` \\[3,2\\]`,
      ),
    );
    assert.throws(
      () => new D({ temperature: 1, logits: tf.zeros([3, 2]), groupNdims: 2 }),
      new RegExp(`${n}: \`groupNdims\` \\(2\\) exceeds the rank of the batch shape \\[3\\]`),
    );
    const d = new D({ temperature: 1, logits: tf.zeros([3, 2]) });
    assert.throws(
      () => d.logProb(tf.zeros([3, 3])),
      new RegExp(`${n}: the last axis of \`given\` \\[3,3\\] must have size K = 2`),
    );
    assert.throws(
      () => d.logProb(tf.zeros([4, 2])),
      new RegExp(`${n}: shapes of \`given\` \\[4,2\\] and \`batch and value shape\` \\[3,2\\]`),
    );
    assert.throws(
      () => d.sample(0),
      new RegExp(`${n}\\.sample: \`nSamples\` must be a positive integer`),
    );
  }
});

test('validateArgs: temperature > 0 (NaN too), values on the simplex; no leaks; off by default', () => {
  const zeros = tf.zeros([2, 3]);
  for (const D of [Concrete, ExpConcrete]) {
    const n = D.name;
    for (const temperature of [0, -1, NaN, tf.tensor([1, 0]), tf.tensor([NaN, 1])]) {
      noLeak(`${n} rejected temperature`, () =>
        assert.throws(
          () => new D({ temperature, logits: zeros, validateArgs: true }),
          new RegExp(`^Error: ${n}: \`temperature\` must be positive`),
        ),
      );
      assert.doesNotThrow(() => new D({ temperature, logits: zeros }));
    }
    setValidateArgs(true);
    try {
      assert.throws(() => new D({ temperature: 0, logits: tf.zeros([3]) }), /must be positive/);
    } finally {
      setValidateArgs(false);
    }
  }
  const logits = tf.zeros([3]);
  const two = tf.scalar(2);
  noLeak(
    'accepted construction',
    () => new Concrete({ temperature: two, logits, validateArgs: true }),
  );
  const c = new Concrete({ temperature: 1, logits, validateArgs: true });
  assert.throws(
    () => c.logProb(tf.tensor([0.5, 0.6, 0.1])),
    /Concrete: values given to logProb must lie in the simplex: components must sum to 1/,
  );
  assert.throws(
    () => c.logProb(tf.tensor([-0.1, 0.6, 0.5])),
    /Concrete: values given to logProb must lie in the simplex: a component is negative or NaN/,
  );
  assert.throws(() => c.logProb(tf.tensor([NaN, 0.5, 0.5])), /negative or NaN/);
  assert.doesNotThrow(() => c.logProb(tf.tensor([0.2, 0.3, 0.5])));
  const e = new ExpConcrete({ temperature: 1, logits, validateArgs: true });
  assert.throws(
    () => e.logProb(tf.log(tf.tensor([0.5, 0.6, 0.1]))),
    /ExpConcrete: values given to logProb must lie in the log-simplex/,
  );
  assert.throws(() => e.logProb(tf.tensor([NaN, 0, 0])), /log-simplex/);
  assert.doesNotThrow(() => e.logProb(tf.log(tf.tensor([0.2, 0.3, 0.5]))));
});

test('Concrete and ExpConcrete leak no tensors', () => {
  const logits = tf.randomNormal([3, 4]);
  const temperature = tf.tensor([0.5, 1, 2]);
  const x = tf.tensor([0.1, 0.2, 0.3, 0.4]);
  const off = tf.tensor([0.5, 0.5, 0.5, 0.5]);
  for (const [D, given, outside] of [
    [Concrete, x, off],
    [ExpConcrete, tf.log(x), tf.log(off)],
  ] as const) {
    assertLeakFree(
      new D({ temperature, logits, groupNdims: 1 }),
      new D({ temperature, logits, validateArgs: true }),
      given,
      outside,
      () => new D({ temperature: -1, logits, validateArgs: true }),
    );
    noLeak(`${D.name} grads`, () =>
      tf.dispose(
        tf.grads((l: tf.Tensor, t: tf.Tensor) =>
          tf.add(
            tf.sum(new D({ temperature: t, logits: l }).logProb(given)),
            tf.sum(new D({ temperature: t, logits: l }).sample(2)),
          ),
        )([logits, temperature]),
      ),
    );
  }
});
