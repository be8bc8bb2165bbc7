import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Binomial } from '../../src/distributions/binomial.js';
import { setSeed } from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  logFact64,
  noLeak,
  read,
  rng,
  softplus,
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

function logChoose64(n: number, x: number): number {
  return logFact64(n) - logFact64(x) - logFact64(n - x);
}

function outOfSupport(x: number, n: number): boolean {
  return x < 0 || x > n || !Number.isInteger(x);
}

/** log Binomial(x; n, sigmoid(l)) in float64. */
function logPmfLogits64(x: number, n: number, l: number): number {
  if (outOfSupport(x, n)) return -Infinity;
  return logChoose64(n, x) + x * l - n * softplus(l);
}

function logPmfProbs64(x: number, n: number, p: number): number {
  if (outOfSupport(x, n)) return -Infinity;
  const a = x === 0 ? 0 : x * Math.log(p);
  const b = n - x === 0 ? 0 : (n - x) * Math.log1p(-p);
  return logChoose64(n, x) + a + b;
}

/** Sum of the absolute terms: the scale float32 rounding of logProb is relative to. */
function scale64(x: number, n: number, l: number): number {
  return logFact64(n) + logFact64(x) + logFact64(n - x) + Math.abs(x * l) + n * softplus(l);
}

// ---- tests ------------------------------------------------------------------

const CASES: {
  param: number[];
  trials: number[] | number;
  given: number[];
  group: number;
  out: number[];
}[] = [
  { param: [], trials: 10, given: [], group: 0, out: [] },
  { param: [3], trials: 10, given: [5, 3], group: 0, out: [5, 3] },
  { param: [3], trials: 10, given: [5, 3], group: 1, out: [5] },
  { param: [2, 1], trials: [3], given: [4, 1, 1], group: 0, out: [4, 2, 3] },
  { param: [2, 1], trials: [3], given: [4, 1, 1], group: 2, out: [4] },
  { param: [2, 3], trials: [2, 1], given: [2, 3], group: 1, out: [2] },
  { param: [], trials: [4], given: [3, 4], group: 1, out: [3] },
];

test('Binomial.logProb matches a float64 oracle over shapes, broadcasting and groupNdims', () => {
  const r = rng(17);
  for (const kind of ['logits', 'probs'] as const) {
    for (const c of CASES) {
      const tShape = typeof c.trials === 'number' ? [] : c.trials;
      const trials =
        typeof c.trials === 'number'
          ? [c.trials]
          : Array.from({ length: size(c.trials) }, () => 1 + Math.floor(r() * 60));
      const batch = broadcastShape(c.param, tShape);
      const full = broadcastShape(c.given, batch);
      const pv =
        kind === 'logits'
          ? uniform(r, size(c.param), -4, 4)
          : uniform(r, size(c.param), 0.02, 0.98);
      // Values in range for their own n (drawn per element of the broadcast shape
      // would not fit `given`'s shape): draw up to the smallest n in play.
      const nMin = Math.min(...trials);
      const gv = Array.from({ length: size(c.given) }, () => Math.floor(r() * (nMin + 1)));
      const d = new Binomial({
        [kind]: tf.tensor(pv, c.param),
        nTrials: typeof c.trials === 'number' ? c.trials : tf.tensor(trials, c.trials, 'int32'),
        groupNdims: c.group,
      });
      assert.deepEqual(d.batchShape, batch);
      const given = tf.tensor(gv, c.given);
      const got = noLeak(`logProb ${kind} ${c.param}/${c.given}`, () => read(d.logProb(given)));
      const p32 = pv.map(Math.fround);
      const elem: number[] = [];
      const scale: number[] = [];
      for (let i = 0; i < size(full); i++) {
        const x = gv[offsetIn(full, c.given, i)];
        const n = trials[offsetIn(full, tShape, i)];
        const v = p32[offsetIn(full, c.param, i)];
        elem.push(kind === 'logits' ? logPmfLogits64(x, n, v) : logPmfProbs64(x, n, v));
        scale.push(scale64(x, n, kind === 'logits' ? v : Math.log(v / (1 - v))));
      }
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

test('Binomial.logProb: large n, extreme logits, p = 0 and 1, out-of-support values', () => {
  const d = new Binomial({ logits: tf.tensor([0.4, 30, -30]), nTrials: 1000 });
  const got = read(d.logProb(tf.tensor([430, 1000, 0]))).data;
  const l = [0.4, 30, -30].map(Math.fround);
  const want = [430, 1000, 0].map((x, i) => logPmfLogits64(x, 1000, l[i]));
  // log 1000! ≈ 5912: float32 lgamma is good to a few ulps (~5e-4 each).
  assertClose(got, want, 0, 3e-3, 'n = 1000');
  assert.ok(got[1] > -1e-9 && got[2] > -1e-9, `extreme logits: ${got}`);
  // From probs, p = 0 and 1 are exact: 0 for the certain count, −∞ for others.
  const e = new Binomial({ probs: tf.tensor([0, 0, 1, 1]), nTrials: 5 });
  assert.deepEqual(
    read(e.logProb(tf.tensor([0, 2, 5, 4]))).data.map((v) => v + 0),
    [0, -Infinity, 0, -Infinity],
  );
  // Values outside {0, …, n} have probability 0 without validateArgs.
  const off = read(
    new Binomial({ probs: 0.3, nTrials: 4 }).logProb(tf.tensor([-1, 5, 2.5, 4])),
  ).data;
  assert.deepEqual(off.slice(0, 3), [-Infinity, -Infinity, -Infinity]);
  assertClose(off[3], 4 * Math.log(Math.fround(0.3)), 1e-5, 1e-5, 'x = n');
});

test('Binomial.logProb gradients: x − n·sigmoid(l) (logits), x/p − (n − x)/(1 − p) (probs)', () => {
  const xs = [
    [0, 3, 7],
    [2, 5, 10],
  ];
  const n = [4, 6, 10];
  const x = tf.tensor(xs);
  const nT = tf.tensor(n, [3], 'int32');
  const ls = [-1, 0.3, 2];
  const [gl] = tf.grads((l: tf.Tensor) =>
    tf.sum(new Binomial({ logits: l, nTrials: nT }).logProb(x)),
  )([tf.tensor(ls)]);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  assertClose(
    gl.dataSync(),
    ls.map((l, j) => xs[0][j] + xs[1][j] - 2 * n[j] * sig(l)),
    1e-5,
    1e-5,
    'd/dlogits',
  );
  const ps = [0.2, 0.5, 0.9];
  const [gp] = tf.grads((p: tf.Tensor) =>
    tf.sum(new Binomial({ probs: p, nTrials: nT }).logProb(x)),
  )([tf.tensor(ps)]);
  assertClose(
    gp.dataSync(),
    ps.map((p, j) => xs.reduce((a, row) => a + row[j] / p - (n[j] - row[j]) / (1 - p), 0)),
    1e-5,
    1e-5,
    'd/dprobs',
  );
});

test('Binomial samples: shapes, dtype, range, nTrials broadcasting, no gradient', () => {
  const d = new Binomial({
    logits: tf.zeros([2, 1]),
    nTrials: tf.tensor([1, 5, 50], [3], 'int32'),
  });
  assert.deepEqual(d.batchShape, [2, 3]);
  assert.equal(d.dtype, 'int32');
  const one = d.sample();
  assert.deepEqual(one.shape, [2, 3]);
  assert.equal(one.dtype, 'int32');
  const many = d.sample(30);
  assert.deepEqual(many.shape, [30, 2, 3]);
  const v = many.dataSync();
  for (let i = 0; i < v.length; i++) {
    const n = [1, 5, 50][i % 3];
    assert.ok(Number.isInteger(v[i]) && v[i] >= 0 && v[i] <= n, `draw ${v[i]} for n = ${n}`);
  }
  const f = new Binomial({ probs: tf.tensor([0, 1]), nTrials: 7, dtype: 'float32' }).sample(5);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(Array.from(f.dataSync()), [0, 7, 0, 7, 0, 7, 0, 7, 0, 7]);
  assertNoGradientPath(
    (l) => tf.sum(new Binomial({ logits: l, nTrials: 9, dtype: 'float32' }).sample(3)),
    [tf.tensor([0.3, -2])],
    'Binomial sample',
  );
});

test('Binomial sample frequencies pass chi-square tests at small and large n·p (seeded)', () => {
  setSeed(77);
  // (n, p): inversion at n·min(p, 1 − p) < 10 (including p > 1/2 by symmetry),
  // BTRS above (n·p = 30, 400, 9e3).
  const ns = [5, 20, 20, 60, 100, 1000, 30000];
  const ps = [0.5, 0.1, 0.9, 1 / 6, 0.3, 0.6, 0.3];
  const n = 20000;
  const logits = ps.map((p) => Math.log(p / (1 - p)));
  for (const kind of ['logits', 'probs'] as const) {
    const d = new Binomial({
      [kind]: tf.tensor(kind === 'logits' ? logits : ps),
      nTrials: tf.tensor(ns),
    });
    const s = d.sample(n).dataSync();
    ns.forEach((nt, j) => {
      const v = kind === 'logits' ? Math.fround(logits[j]) : Math.fround(ps[j]);
      const counts = new Array<number>(nt + 1).fill(0);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const k = s[i * ns.length + j];
        counts[k]++;
        sum += k;
      }
      const pmf = (k: number) =>
        Math.exp(kind === 'logits' ? logPmfLogits64(k, nt, v) : logPmfProbs64(k, nt, v));
      const { stat, critical, df } = chiSquare(counts, pmf);
      assert.ok(df >= 1, `${kind} n = ${nt}: too few bins`);
      assert.ok(
        stat < critical,
        `${kind} n = ${nt}, p = ${ps[j]}: chi-square ${stat} ≥ ${critical} (df ${df})`,
      );
      // The mean within 5 standard errors (sd √(npq) / √n).
      const se = Math.sqrt((nt * ps[j] * (1 - ps[j])) / n);
      assert.ok(Math.abs(sum / n - nt * ps[j]) < 5 * se, `${kind} n = ${nt}: mean ${sum / n}`);
    });
  }
});

test('Binomial sampling is reproducible from the seed', () => {
  const make = () =>
    new Binomial({ probs: tf.tensor([0.05, 0.5, 0.7]), nTrials: tf.tensor([10, 200, 3]) });
  setSeed(12);
  const a = Array.from(make().sample(40).dataSync());
  setSeed(12);
  const b = Array.from(make().sample(40).dataSync());
  setSeed(13);
  const c = Array.from(make().sample(40).dataSync());
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('Binomial errors name the class and the parameter', () => {
  assert.throws(
    () => new Binomial({ logits: 0, probs: 0.5, nTrials: 3 }),
    /^Error: Binomial: exactly one of `logits` and `probs` must be given/,
  );
  assert.throws(() => new Binomial({ nTrials: 3 }), /exactly one of `logits` and `probs`/);
  assert.throws(
    () => new Binomial({ logits: 0 } as unknown as { logits: number; nTrials: number }),
    /Binomial: `nTrials` is required/,
  );
  for (const bad of [0, -3, 2.5, NaN, Infinity]) {
    assert.throws(
      () => new Binomial({ logits: 0, nTrials: bad }),
      /Binomial: `nTrials` must be a positive integer, got/,
      `nTrials ${bad}`,
    );
  }
  assert.throws(
    () =>
      new Binomial({ logits: tf.zeros([3]), nTrials: tf.tensor([4, 0, 2]), validateArgs: true }),
    /Binomial: `nTrials` must hold positive integers/,
  );
  assert.throws(
    () =>
      new Binomial({ logits: tf.zeros([3]), nTrials: tf.tensor([4, 1.5, 2]), validateArgs: true }),
    /`nTrials` must hold positive integers/,
  );
  assert.throws(
    () => new Binomial({ logits: tf.zeros([3]), nTrials: tf.tensor([4, 5]) }),
    /Binomial: shapes of `logits` \[3\] and `nTrials` \[2\] do not broadcast/,
  );
  assert.throws(
    () => new Binomial({ probs: tf.tensor([0.5, 1.5]), nTrials: 2, validateArgs: true }),
    /Binomial: `probs` must lie in \[0, 1\]/,
  );
  assert.throws(
    () => new Binomial({ probs: 0.5, nTrials: 2, dtype: 'bool' as unknown as 'int32' }),
    /Binomial: `dtype` must be 'int32' or 'float32'/,
  );
  const d = new Binomial({ logits: tf.zeros([2]), nTrials: tf.tensor([3, 5]), validateArgs: true });
  assert.throws(
    () => d.logProb(tf.tensor([4, 1])),
    /Binomial: values given to logProb must be integers in \[0, nTrials\]/,
  );
  assert.throws(() => d.logProb(tf.tensor([1, -1])), /integers in \[0, nTrials\]/);
  assert.throws(() => d.logProb(tf.tensor([1, 0.5])), /integers in \[0, nTrials\]/);
  assert.doesNotThrow(() => d.logProb(tf.tensor([3, 5])).dispose());
  // Sampling reads nTrials and the probabilities back, checking them.
  assert.throws(
    () => new Binomial({ logits: tf.zeros([2]), nTrials: tf.tensor([3, 0]) }).sample(),
    /Binomial.sample: `nTrials` must be a positive integer, got 0/,
  );
  assert.throws(
    () => new Binomial({ probs: tf.tensor([0.5, NaN]), nTrials: 3 }).sample(),
    /Binomial.sample: the probability must lie in \[0, 1\], got NaN/,
  );
});

test('Binomial leaks no tensors', () => {
  const logits = tf.tensor([-1, 0.5, 3]);
  const probs = tf.tensor([0.1, 0.5, 0.95]);
  const nTrials = tf.tensor([4, 30, 200], [3], 'int32');
  const given = tf.tensor([[0, 12, 190]]);
  noLeak('Binomial', () => {
    for (const p of [{ logits }, { probs }]) {
      const d = new Binomial({ ...p, nTrials, groupNdims: 1, validateArgs: true });
      tf.dispose([d.sample(), d.sample(3), d.logProb(given), d.prob(given)]);
    }
    const g = tf.grads((l: tf.Tensor) =>
      tf.sum(new Binomial({ logits: l, nTrials }).logProb(given)),
    )([logits]);
    tf.dispose(g);
  });
});
