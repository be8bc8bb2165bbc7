import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Poisson } from '../../src/distributions/poisson.js';
import { setSeed } from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  logFact64,
  noLeak,
  read,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  assertCloseToScale,
  broadcastShape,
  chiSquare,
  offsetIn,
  size,
  sumLast64,
} from './oracles.js';

before(useCpu);

// ---- float64 oracle helpers -------------------------------------------------

function poissonLogPmf64(x: number, lambda: number): number {
  if (x < 0 || !Number.isInteger(x)) return -Infinity;
  return (x === 0 ? 0 : x * Math.log(lambda)) - lambda - logFact64(x);
}

/** Sum of the absolute terms: the scale float32 rounding of logProb is relative to. */
function poissonScale64(x: number, lambda: number): number {
  return Math.abs(x * Math.log(lambda)) + lambda + logFact64(x);
}

// ---- tests ------------------------------------------------------------------

const CASES: { param: number[]; given: number[]; group: number; out: number[] }[] = [
  { param: [], given: [], group: 0, out: [] },
  { param: [], given: [4], group: 0, out: [4] },
  { param: [3], given: [5, 3], group: 1, out: [5] },
  { param: [2, 3], given: [2, 3], group: 2, out: [] },
  { param: [2, 1], given: [4, 1, 3], group: 0, out: [4, 2, 3] },
  { param: [2, 1], given: [4, 1, 3], group: 1, out: [4, 2] },
  { param: [1, 3], given: [2, 1], group: 0, out: [2, 3] },
];

test('Poisson.logProb matches a float64 oracle over shapes, broadcasting and groupNdims', () => {
  const r = rng(3);
  for (const kind of ['rate', 'logRate'] as const) {
    for (const c of CASES) {
      const rates = uniform(r, size(c.param), 0.1, 60);
      const gv = Array.from({ length: size(c.given) }, () => Math.floor(r() * 80));
      const pv = kind === 'rate' ? rates : rates.map(Math.log);
      const d = new Poisson({ [kind]: tf.tensor(pv, c.param), groupNdims: c.group });
      const given = tf.tensor(gv, c.given, 'int32');
      const got = noLeak(`logProb ${kind} ${c.param}/${c.given}`, () => read(d.logProb(given)));
      // The oracle takes the rates as the float32 parameter holds them.
      const r32 = kind === 'rate' ? pv.map(Math.fround) : pv.map((l) => Math.exp(Math.fround(l)));
      const full = broadcastShape(c.given, c.param);
      const at = (i: number) => [gv[offsetIn(full, c.given, i)], r32[offsetIn(full, c.param, i)]];
      const elem = Array.from({ length: size(full) }, (_, i) =>
        poissonLogPmf64(at(i)[0], at(i)[1]),
      );
      const scale = Array.from({ length: size(full) }, (_, i) =>
        poissonScale64(at(i)[0], at(i)[1]),
      );
      assert.deepEqual(got.shape, c.out, `${kind} ${c.param}/${c.given} shape`);
      // float32: each term rounds to ~1e-7 of its size and lgamma adds a few
      // ulps, so allow 2e-6 of the summed absolute terms (plus 1e-5).
      assertCloseToScale(
        got.data,
        sumLast64(elem, full, c.group),
        sumLast64(scale, full, c.group),
        2e-6,
        1e-5,
        `${kind} ${c.param}/${c.given}`,
      );
    }
  }
});

test('Poisson.logProb: stable from logRate, λ = 0, out-of-support values', () => {
  // logRate −30 (λ ≈ 9e−14) and 10 (λ ≈ 22026): x·logRate − e^logRate − log x!.
  const d = new Poisson({ logRate: tf.tensor([-30, -30, 10]) });
  const got = read(d.logProb(tf.tensor([0, 2, 22000]))).data;
  const l = [-30, -30, 10];
  const want = [0, 2, 22000].map((x, i) => x * l[i] - Math.exp(l[i]) - logFact64(x));
  assertClose(got.slice(0, 2), want.slice(0, 2), 1e-6, 1e-6, 'tiny rate');
  // Cancellation among terms ~2e5: 2e-6 of their size.
  assertClose(got[2], want[2], 0, 2e-6 * (220000 + 22026 + logFact64(22000)), 'large rate');
  // λ = 0: the point mass at 0 (0, not NaN), −∞ elsewhere.
  assert.deepEqual(read(new Poisson({ rate: tf.tensor([0, 0]) }).logProb(tf.tensor([0, 3]))).data, [
    0,
    -Infinity,
  ]);
  // Negative and non-integer values have probability 0 without validateArgs.
  const off = read(new Poisson({ rate: 2 }).logProb(tf.tensor([-1, 2.5, -0.5, 1]))).data;
  assert.deepEqual(off.slice(0, 3), [-Infinity, -Infinity, -Infinity]);
  assertClose(off[3], Math.log(2) - 2, 1e-6, 1e-6, 'x = 1');
});

test('Poisson.logProb gradients: x/λ − 1 (rate) and x − e^logRate (logRate), summed over samples', () => {
  const x = tf.tensor(
    [
      [0, 3, 7],
      [2, 1, 12],
    ],
    [2, 3],
  );
  const xs = [
    [0, 3, 7],
    [2, 1, 12],
  ];
  const rates = [0.5, 4, 9];
  const [gr] = tf.grads((r: tf.Tensor) => tf.sum(new Poisson({ rate: r }).logProb(x)))([
    tf.tensor(rates),
  ]);
  assertClose(
    gr.dataSync(),
    rates.map((lam, j) => xs[0][j] / lam - 1 + xs[1][j] / lam - 1),
    1e-5,
    1e-6,
    'd/drate',
  );
  const logs = [-1, 0.5, 2.5];
  const [gl] = tf.grads((l: tf.Tensor) => tf.sum(new Poisson({ logRate: l }).logProb(x)))([
    tf.tensor(logs),
  ]);
  assertClose(
    gl.dataSync(),
    logs.map((l, j) => xs[0][j] + xs[1][j] - 2 * Math.exp(l)),
    1e-5,
    1e-5,
    'd/dlogRate',
  );
});

test('Poisson samples: shapes, dtype, no gradient, λ = 0', () => {
  const d = new Poisson({ rate: tf.tensor([[1, 20, 0]]) });
  assert.equal(d.dtype, 'int32');
  const one = d.sample();
  assert.deepEqual(one.shape, [1, 3]);
  assert.equal(one.dtype, 'int32');
  const many = d.sample(6);
  assert.deepEqual(many.shape, [6, 1, 3]);
  const v = many.arraySync() as number[][][];
  assert.ok(v.every((s) => s[0].every((k) => Number.isInteger(k) && k >= 0)));
  assert.ok(
    v.every((s) => s[0][2] === 0),
    'λ = 0 draws 0',
  );
  const f = new Poisson({ logRate: 0, dtype: 'float32' }).sample(4);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(f.shape, [4]);
  assertNoGradientPath(
    (r) => tf.sum(new Poisson({ rate: r, dtype: 'float32' }).sample(3)),
    [tf.tensor([2, 30])],
    'Poisson sample',
  );
});

test('Poisson sample frequencies pass chi-square tests at λ = 0.5, 4, 9.9, 10, 30, 1000 (seeded)', () => {
  setSeed(31);
  const lambdas = [0.5, 4, 9.9, 10, 30, 1000]; // Knuth below 10, PTRS from 10
  const n = 20000;
  const d = new Poisson({ rate: tf.tensor(lambdas) });
  const s = d.sample(n).dataSync();
  lambdas.forEach((lam, j) => {
    const lam32 = Math.fround(lam);
    const counts: number[] = [];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const k = s[i * lambdas.length + j];
      counts[k] = (counts[k] ?? 0) + 1;
      sum += k;
    }
    for (let k = 0; k < counts.length; k++) counts[k] ??= 0;
    const { stat, critical, df } = chiSquare(counts, (k) => Math.exp(poissonLogPmf64(k, lam32)));
    assert.ok(df >= 1, `λ = ${lam}: too few bins`);
    assert.ok(stat < critical, `λ = ${lam}: chi-square ${stat} ≥ ${critical} (df ${df})`);
    // The mean within 5 standard errors (sd √λ / √n).
    const se = Math.sqrt(lam / n);
    assert.ok(Math.abs(sum / n - lam) < 5 * se, `λ = ${lam}: mean ${sum / n}`);
  });
});

test('Poisson sampling is reproducible from the seed, from rate or logRate', () => {
  const make = () => new Poisson({ logRate: tf.tensor([-1, 1.5, 3, 6]) });
  setSeed(5);
  const a = Array.from(make().sample(40).dataSync());
  setSeed(5);
  const b = Array.from(make().sample(40).dataSync());
  setSeed(6);
  const c = Array.from(make().sample(40).dataSync());
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('Poisson errors name the class and the parameter', () => {
  assert.throws(
    () => new Poisson({ rate: 1, logRate: 0 }),
    /^Error: Poisson: exactly one of `rate` and `logRate` must be given/,
  );
  assert.throws(() => new Poisson({}), /Poisson: exactly one of `rate` and `logRate`/);
  assert.throws(
    () => new Poisson({ rate: tf.tensor([1, -0.5]), validateArgs: true }),
    /Poisson: `rate` must be non-negative/,
  );
  assert.throws(
    () => new Poisson({ rate: tf.tensor([NaN]), validateArgs: true }),
    /`rate` must be non-negative/,
  );
  assert.throws(
    () => new Poisson({ rate: 1, dtype: 'bool' as unknown as 'int32' }),
    /Poisson: `dtype` must be 'int32' or 'float32'/,
  );
  const d = new Poisson({ rate: tf.ones([3]), validateArgs: true });
  assert.throws(
    () => d.logProb(tf.tensor([1, -1, 0])),
    /Poisson: values given to logProb must be non-negative integers/,
  );
  assert.throws(() => d.logProb(tf.tensor([1, 1.5, 0])), /non-negative integers/);
  assert.throws(() => d.logProb(tf.tensor([1, 2])), /Poisson: shapes of `given` \[2\]/);
  // Sampling reads the rate back and rejects what it cannot draw from.
  assert.throws(
    () => new Poisson({ rate: tf.tensor([1, -2]) }).sample(),
    /Poisson.sample: the rate must be finite and non-negative, got -2/,
  );
  assert.throws(
    () => new Poisson({ logRate: 100 }).sample(),
    /Poisson.sample: the rate must be finite and non-negative, got Infinity/,
  );
  assert.throws(
    () => new Poisson({ rate: 1e10 }).sample(),
    /Poisson.sample: a draw \(\d+\) at rate 10000000000 exceeds the int32 range/,
  );
  const big = new Poisson({ rate: 1e10, dtype: 'float32' }).sample(2).dataSync();
  assert.ok(
    Array.from(big).every((k) => Math.abs(k - 1e10) < 1e6),
    `got ${Array.from(big)}`,
  );
});

test('Poisson leaks no tensors', () => {
  const rate = tf.tensor([0.5, 3, 40]);
  const logRate = tf.log(rate);
  const given = tf.tensor([[0, 2, 45]]);
  noLeak('Poisson', () => {
    for (const p of [{ rate }, { logRate }]) {
      const d = new Poisson({ ...p, groupNdims: 1, validateArgs: true });
      tf.dispose([d.sample(), d.sample(3), d.logProb(given), d.prob(given)]);
    }
    const g = tf.grads((r: tf.Tensor) => tf.sum(new Poisson({ rate: r }).logProb(given)))([rate]);
    tf.dispose(g);
  });
});
