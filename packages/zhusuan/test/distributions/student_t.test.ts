import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { StudentT } from '../../src/distributions/student_t.js';
import * as random from '../../src/random.js';
import { lgamma } from '../../src/special.js';
import {
  assertClose,
  assertNoGradientPath,
  lgamma64,
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
  broadcastShape,
  column,
  gradientsVsFiniteDiff,
  oracle,
  size,
} from './oracles.js';

before(useCpu);

/** log StudentT(x; ν, loc, σ) in float64. */
function studentTLogPdf(x: number, nu: number, loc: number, s: number): number {
  const z = (x - loc) / s;
  return (
    lgamma64((nu + 1) / 2) -
    lgamma64(nu / 2) -
    0.5 * Math.log(nu * Math.PI) -
    Math.log(s) -
    ((nu + 1) / 2) * Math.log1p((z * z) / nu)
  );
}

/** Closed-form CDFs of the standard t for ν = 1 (Cauchy), 2 and 3. */
const T_CDF: Record<number, (t: number) => number> = {
  1: (t) => 0.5 + Math.atan(t) / Math.PI,
  2: (t) => 0.5 + t / (2 * Math.sqrt(2 + t * t)),
  3: (t) => 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI,
};

/** E[X^k], k = 1..4, of StudentT(ν, loc, σ), ν > 4: central moments 0, σ²ν/(ν−2), 0, 3σ⁴ν²/((ν−2)(ν−4)). */
function studentTRawMoments(nu: number, loc: number, s: number): number[] {
  const v = (s * s * nu) / (nu - 2);
  const mu4 = (3 * s ** 4 * nu * nu) / ((nu - 2) * (nu - 4));
  return [loc, loc ** 2 + v, loc ** 3 + 3 * loc * v, loc ** 4 + 6 * loc ** 2 * v + mu4];
}

const CASES: {
  df: number[];
  loc: number[];
  scale: number[];
  given: number[];
  groupNdims: number;
}[] = [
  { df: [5], loc: [5], scale: [5], given: [5], groupNdims: 0 },
  { df: [], loc: [3, 4], scale: [4], given: [3, 4], groupNdims: 1 },
  { df: [3, 1], loc: [1, 4], scale: [], given: [2, 3, 4], groupNdims: 2 },
  { df: [6], loc: [], scale: [], given: [6], groupNdims: 0 },
  { df: [2, 3], loc: [2, 1], scale: [3], given: [7, 2, 3], groupNdims: 1 },
];

test('StudentT.logProb matches the float64 closed form (broadcasting, groupNdims)', () => {
  const r = rng(101);
  for (const c of CASES) {
    const df = tf.tensor(uniform(r, size(c.df), 0.3, 30), c.df);
    const loc = tf.tensor(uniform(r, size(c.loc), -2, 2), c.loc);
    const scale = tf.tensor(uniform(r, size(c.scale), 0.3, 2), c.scale);
    const given = tf.tensor(uniform(r, size(c.given), -8, 8), c.given);
    const d = new StudentT({ df, loc, scale, groupNdims: c.groupNdims });
    assert.deepEqual(d.batchShape, broadcastShape(c.df, c.loc, c.scale));
    const want = oracle([given, df, loc, scale].map(arr), c.groupNdims, studentTLogPdf);
    const got = noLeak('logProb', () => read(d.logProb(given)));
    // float32 terms of size ≤ ~20 and the log-gamma difference (~1e-6):
    // 2e-5 relative plus 1e-4 absolute for sums of up to 12.
    assertClose(got.data, want, 2e-5, 1e-4, `StudentT ${JSON.stringify(c)}`);
    assertClose(read(d.prob(given)).data, want.map(Math.exp), 1e-4, 1e-7, 'prob');
  }
});

test('StudentT.logProb stays accurate for large df, where lgamma(ν/2 + ½) − lgamma(ν/2) cancels', () => {
  const dfs = [0.05, 1, 100, 1e4, 1e6, 1e7];
  const x = [0.3, -2, 1.5, 4, -0.7, 2];
  const d = new StudentT({ df: tf.tensor(dfs), loc: 0.5, scale: 1.3 });
  const want = dfs.map((nu, i) => studentTLogPdf(x[i], nu, 0.5, 1.3));
  // 2e-6 absolute on values of size ~2.
  assertClose(read(d.logProb(tf.tensor(x))).data, want, 1e-6, 2e-6, 'large df');
  // The naive difference of float32 log-gammas is off by far more at ν = 1e6.
  const naive = tf.tidy(
    () => tf.sub(lgamma(tf.scalar(0.5e6 + 0.5)), lgamma(tf.scalar(0.5e6))).dataSync()[0],
  );
  const exact = lgamma64(0.5e6 + 0.5) - lgamma64(0.5e6);
  assert.ok(Math.abs(naive - exact) > 1e-2, `naive error ${Math.abs(naive - exact)}`);
});

test('StudentT.logProb gradients w.r.t. df, loc, scale and the value match float64 finite differences', () => {
  const r = rng(102);
  const df = tf.tensor(uniform(r, 3, 0.5, 20), [3, 1]);
  const loc = tf.tensor(uniform(r, 4, -1, 1), [4]);
  const scale = tf.tensor(uniform(r, 3, 0.3, 2), [3, 1]);
  const given = tf.tensor(uniform(r, 24, -4, 4), [2, 3, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]);
  const { got, want } = gradientsVsFiniteDiff(
    (n, l, s, x) => new StudentT({ df: n, loc: l, scale: s, groupNdims: 1 }).logProb(x),
    (n, l, s, x) => oracle([x, n, l, s], 1, studentTLogPdf),
    [df, loc, scale, given],
    w,
  );
  // float32 autodiff (the df derivative, a difference of digammas through
  // the log-gamma terms, to ~1e-5) against float64 central differences.
  ['df', 'loc', 'scale', 'given'].forEach((name, i) =>
    assertClose(got[i], want[i], 2e-4, 2e-4, `d/d${name}`),
  );
});

test('StudentT defaults: loc 0, scale 1; with ν = 1 it is the Cauchy', () => {
  const d = new StudentT({ df: 1 });
  assert.deepEqual(d.batchShape, []);
  const x = [0, 1, -3];
  const cauchy = x.map((v) => -Math.log(Math.PI * (1 + v * v)));
  assertClose(read(d.logProb(tf.tensor(x))).data, cauchy, 1e-6, 1e-6, 'Cauchy');
});

test('StudentT.sample shapes and flags; reparameterised in loc and scale, not in df', () => {
  const d = new StudentT({ df: tf.ones([2, 1]), loc: tf.zeros([3]) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assertSampleShapes(d, [2, 3]);
  const df = tf.tensor([2, 7]);
  const loc = tf.tensor([0.5, -1]);
  const scale = tf.tensor([2, 0.3]);
  random.setSeed(103);
  const x = new StudentT({ df, loc, scale }).sample(5).dataSync();
  random.setSeed(103);
  const [gl, gs] = tf.grads((l: tf.Tensor, s: tf.Tensor) =>
    tf.sum(new StudentT({ df, loc: l, scale: s }).sample(5)),
  )([loc, scale]);
  assertClose(gl.dataSync(), [5, 5], 1e-6, 1e-6, 'd/dloc');
  const want = [0, 1].map((j) =>
    column(x, 2, j).reduce((acc, v) => acc + (v - [0.5, -1][j]) / [2, 0.3][j], 0),
  );
  assertClose(gs.dataSync(), want, 1e-4, 1e-5, 'd/dscale');
  // df shapes the Gamma draw, which is not reparameterised: no path to df.
  assertNoGradientPath((n) => tf.sum(new StudentT({ df: n, loc, scale }).sample(5)), [df], 'd/ddf');
  assertNoGradientPath(
    (l) => tf.sum(new StudentT({ df, loc: l, isReparameterized: false }).sample(5)),
    [loc],
    'not reparameterised',
  );
});

test('StudentT samples follow the closed-form CDFs for ν = 1, 2, 3 (Kolmogorov–Smirnov)', () => {
  random.setSeed(104);
  const dfs = [1, 2, 3];
  const n = 20000;
  const s = new StudentT({
    df: tf.tensor(dfs),
    loc: tf.tensor([1, 0, -2]),
    scale: tf.tensor([0.5, 1, 3]),
  })
    .sample(n)
    .dataSync();
  assert.ok(s.every(Number.isFinite), 'a sample is not finite');
  dfs.forEach((nu, j) => {
    const [loc, sc] = [
      [1, 0.5],
      [0, 1],
      [-2, 3],
    ][j];
    assertKs(column(s, 3, j), (x) => T_CDF[nu]((x - loc) / sc), `StudentT(${nu})`);
  });
  // The check has power: the ν = 2 draws fail the ν = 3 CDF.
  assert.throws(() => assertKs(column(s, 3, 1), T_CDF[3], 'ν = 3'));
});

test('StudentT samples have the closed-form mean and variance for ν = 10 and 200 (5 standard errors)', () => {
  random.setSeed(105);
  const n = 20000;
  const s = new StudentT({ df: tf.tensor([10, 200]), loc: tf.tensor([2, -1]), scale: 1.5 })
    .sample(n)
    .dataSync();
  assertMoments(column(s, 2, 0), studentTRawMoments(10, 2, 1.5), 'StudentT(10)');
  assertMoments(column(s, 2, 1), studentTRawMoments(200, -1, 1.5), 'StudentT(200)');
});

test('StudentT sampling is reproducible from the seed', () => {
  assertReproducible(new StudentT({ df: tf.tensor([0.5, 3, 30]) }));
});

test('StudentT errors and validateArgs name the family; no tensor leaked', () => {
  assert.throws(() => new StudentT({} as never), /^Error: StudentT: `df` is required$/);
  assert.throws(
    () => new StudentT({ df: 1, loc: tf.zeros([2]), scale: tf.ones([3]) }),
    /StudentT: shapes of `loc` \[2\] and `scale` \[3\] do not broadcast/,
  );
  assert.throws(
    () => new StudentT({ df: tf.ones([4]), loc: tf.zeros([2]) }),
    /StudentT: shapes of `df` \[4\] and `loc and scale` \[2\] do not broadcast/,
  );
  assert.throws(
    () => new StudentT({ df: 0, validateArgs: true }),
    /^Error: StudentT: `df` must be positive$/,
  );
  assert.throws(
    () => new StudentT({ df: 2, scale: -1, validateArgs: true }),
    /^Error: StudentT: `scale` must be positive$/,
  );
  setValidateArgs(true);
  try {
    assert.throws(() => new StudentT({ df: NaN }), /`df` must be positive/);
  } finally {
    setValidateArgs(false);
  }
  const df = tf.tensor([1, 4]);
  const x = tf.tensor([0.5, 1]);
  const wrong = tf.tensor([1, 2, 3]);
  assertLeakFree(
    new StudentT({ df, groupNdims: 1 }),
    new StudentT({ df, validateArgs: true }),
    x,
    wrong,
    () => new StudentT({ df: -1, validateArgs: true }),
  );
  assert.equal(df.isDisposed, false);
});
