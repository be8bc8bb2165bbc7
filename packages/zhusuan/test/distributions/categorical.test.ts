import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Categorical, OnehotCategorical } from '../../src/distributions/categorical.js';
import { setSeed } from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  noLeak,
  read,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import { broadcastShape, chiSquareCritical, offsetIn, size, sumLast64 } from './oracles.js';

before(useCpu);

// ---- float64 oracle helpers -------------------------------------------------

/** log-softmax of each length-K row of `v` (flat), in float64. */
function logSoftmax64(v: number[], k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / k; r++) {
    const row = v.slice(r * k, r * k + k);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    out.push(...row.map((x) => x - lse));
  }
  return out;
}

function logNormalised64(v: number[], k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / k; r++) {
    const row = v.slice(r * k, r * k + k);
    const s = row.reduce((a, x) => a + x, 0);
    out.push(...row.map((x) => Math.log(x / s)));
  }
  return out;
}

/**
 * Pearson's chi-square statistic of `counts` against `probs`, pooling
 * categories of expected count below 5 into one, and the critical value at
 * level 1e-3 ({@link chiSquareCritical}). Unlike the shared `chiSquare` (a
 * law on {0, 1, 2, …} with a tail beyond the counts), the pooled bin holds
 * only the categories' own small expectations, and a category of
 * probability 0 must not be drawn.
 */
function chiSquare(counts: number[], probs: number[]): { stat: number; critical: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  let stat = 0;
  let bins = 0;
  let poolO = 0;
  let poolE = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = n * probs[i];
    if (e < 5) {
      poolO += counts[i];
      poolE += e;
    } else {
      stat += (counts[i] - e) ** 2 / e;
      bins++;
    }
  }
  if (poolE > 0) {
    stat += (poolO - poolE) ** 2 / poolE;
    bins++;
  } else {
    assert.equal(poolO, 0, 'draws in categories of probability 0');
  }
  return { stat, critical: chiSquareCritical(bins - 1) };
}

// ---- Categorical ------------------------------------------------------------

const CASES: { param: number[]; given: number[]; group: number; out: number[] }[] = [
  { param: [3], given: [], group: 0, out: [] },
  { param: [4], given: [5], group: 0, out: [5] },
  { param: [2, 3, 4], given: [2, 3], group: 0, out: [2, 3] },
  { param: [2, 3, 4], given: [2, 3], group: 1, out: [2] },
  { param: [2, 1, 5], given: [3], group: 0, out: [2, 3] },
  { param: [2, 1, 5], given: [3], group: 2, out: [] },
  { param: [3, 2], given: [6, 3], group: 1, out: [6] },
  { param: [1, 1], given: [2, 4], group: 1, out: [2] },
];

test('Categorical.logProb matches a float64 oracle over shapes, broadcasting and groupNdims', () => {
  const r = rng(11);
  for (const kind of ['logits', 'probs'] as const) {
    for (const c of CASES) {
      const k = c.param[c.param.length - 1];
      const pv =
        kind === 'logits' ? uniform(r, size(c.param), -6, 6) : uniform(r, size(c.param), 0.05, 3); // unnormalised on purpose
      const gv = Array.from({ length: size(c.given) }, () => Math.floor(r() * k));
      const d = new Categorical({ [kind]: tf.tensor(pv, c.param), groupNdims: c.group });
      assert.deepEqual(d.batchShape, c.param.slice(0, -1));
      assert.equal(d.nCategories, k);
      const given = tf.tensor(gv, c.given, 'int32');
      const got = noLeak(`logProb ${kind} ${c.param}/${c.given}`, () => read(d.logProb(given)));
      const full = broadcastShape(c.given, c.param.slice(0, -1));
      const lp = kind === 'logits' ? logSoftmax64(pv, k) : logNormalised64(pv, k);
      const elem = Array.from({ length: size(full) }, (_, i) => {
        const row = offsetIn(full, c.param.slice(0, -1), i);
        return lp[row * k + gv[offsetIn(full, c.given, i)]];
      });
      assert.deepEqual(got.shape, c.out, `${kind} ${c.param}/${c.given} shape`);
      // float32 logits up to 6 and a log-sum-exp: 1e-5 relative / 2e-6 absolute.
      assertClose(got.data, sumLast64(elem, full, c.group), 1e-5, 2e-6, `${kind} ${c.param}`);
      // A float32 given is read the same way.
      assertClose(
        read(d.logProb(tf.cast(given, 'float32'))).data,
        got.data,
        0,
        0,
        `${kind} float given`,
      );
    }
  }
});

test('Categorical.logProb: extreme logits, zero probs and out-of-support values', () => {
  // Logits far apart: no overflow, exact log-softmax.
  const d = new Categorical({ logits: tf.tensor([100, -100, 0]) });
  assertClose(
    read(d.logProb(tf.tensor([0, 1, 2], [3], 'int32'))).data,
    [-Math.log1p(Math.exp(-100) * 2), -200, -100],
    1e-6,
    1e-4,
    'extreme',
  );
  // A category of probability 0 gives −∞, the others stay finite.
  const z = new Categorical({ probs: tf.tensor([0, 1, 3]) });
  assert.deepEqual(read(z.logProb(tf.tensor([0, 1, 2]))).data.slice(0, 1), [-Infinity]);
  assertClose(
    read(z.logProb(tf.tensor([1, 2]))).data,
    [Math.log(0.25), Math.log(0.75)],
    1e-6,
    1e-6,
    'zero probs',
  );
  // Without validateArgs, values outside {0, 1, 2} have probability 0.
  const off = read(d.logProb(tf.tensor([-1, 3, 1.5, 2]))).data;
  assert.deepEqual(off.slice(0, 3), [-Infinity, -Infinity, -Infinity]);
  assert.ok(Number.isFinite(off[3]));
});

test('Categorical.logProb gradients: one-hot minus softmax (logits), 1/p minus 1/Σp (probs)', () => {
  const lv = [0.3, -1.2, 2, 0.5, 1, 1, -0.5, 0];
  const x = [
    [2, 0],
    [2, 3],
    [1, 3],
  ]; // three samples of a batch of two members, K = 4
  const [gl] = tf.grads((l: tf.Tensor) =>
    tf.sum(new Categorical({ logits: l }).logProb(tf.tensor(x, [3, 2], 'int32'))),
  )([tf.tensor(lv, [2, 4])]);
  const sm = logSoftmax64(lv, 4).map(Math.exp);
  const want = lv.map((_, idx) => {
    const [b, j] = [Math.floor(idx / 4), idx % 4];
    return x.reduce((acc, row) => acc + (row[b] === j ? 1 : 0) - sm[idx], 0);
  });
  assertClose(gl.dataSync(), want, 1e-5, 1e-6, 'd/dlogits');

  const pv = [0.2, 0.5, 1.3, 0.4, 1, 2, 0.1, 0.9];
  const [gp] = tf.grads((p: tf.Tensor) =>
    tf.sum(new Categorical({ probs: p }).logProb(tf.tensor(x, [3, 2], 'int32'))),
  )([tf.tensor(pv, [2, 4])]);
  const sums = [0, 1].map((b) => pv.slice(b * 4, b * 4 + 4).reduce((a, c) => a + c));
  const wantP = pv.map((p, idx) => {
    const [b, j] = [Math.floor(idx / 4), idx % 4];
    return x.reduce((acc, row) => acc + (row[b] === j ? 1 / p : 0) - 1 / sums[b], 0);
  });
  assertClose(gp.dataSync(), wantP, 1e-5, 1e-6, 'd/dprobs');
});

test('Categorical samples: shapes, dtype, range, no gradient', () => {
  const d = new Categorical({ logits: tf.randomNormal([2, 3, 4]) });
  const one = d.sample();
  assert.deepEqual(one.shape, [2, 3]);
  assert.equal(one.dtype, 'int32');
  const many = d.sample(5);
  assert.deepEqual(many.shape, [5, 2, 3]);
  assert.ok(Array.from(many.dataSync()).every((v) => Number.isInteger(v) && v >= 0 && v < 4));
  const f = new Categorical({ probs: tf.tensor([0.5, 0.5]), dtype: 'float32' }).sample(3);
  assert.deepEqual(f.shape, [3]);
  assert.equal(f.dtype, 'float32');
  assert.equal(d.dtype, 'int32');
  // K = 1: the only category, as an index and one-hot.
  const single = new Categorical({ logits: tf.zeros([2, 1]) }).sample(3);
  assert.deepEqual(single.shape, [3, 2]);
  assert.deepEqual(Array.from(single.dataSync()), [0, 0, 0, 0, 0, 0]);
  const singleHot = new OnehotCategorical({ logits: tf.zeros([2, 1]) }).sample(3);
  assert.deepEqual(singleHot.shape, [3, 2, 1]);
  assert.deepEqual(Array.from(singleHot.dataSync()), [1, 1, 1, 1, 1, 1]);
  assertNoGradientPath(
    (l) => tf.sum(new Categorical({ logits: l, dtype: 'float32' }).sample(4)),
    [tf.tensor([0.3, -0.2, 1])],
    'Categorical sample',
  );
});

test('Categorical sample frequencies pass a chi-square test against the pmf (seeded)', () => {
  setSeed(2024);
  const n = 20000;
  // Two batch members: skewed logits with a rare category, and probs with a zero.
  const logits = [2, 0, -1, 1, -4];
  const probs = [0.1, 0, 0.3, 0.2, 0.4];
  const cases = [
    { d: new Categorical({ logits: tf.tensor([logits, [0, 0, 0, 0, 0]]) }), member: 0 },
    { d: new Categorical({ probs: tf.tensor([[1, 1, 1, 1, 1], probs]) }), member: 1 },
  ];
  const pmfs = [logSoftmax64(logits, 5).map(Math.exp), probs];
  cases.forEach(({ d, member }, ci) => {
    const s = d.sample(n).arraySync() as number[][];
    const counts = [0, 0, 0, 0, 0];
    for (const row of s) counts[row[member]]++;
    const { stat, critical } = chiSquare(counts, pmfs[ci]);
    assert.ok(stat < critical, `case ${ci}: chi-square ${stat} ≥ ${critical}, counts ${counts}`);
    // The other member is uniform over 5.
    const other = [0, 0, 0, 0, 0];
    for (const row of s) other[row[1 - member]]++;
    const u = chiSquare(other, [0.2, 0.2, 0.2, 0.2, 0.2]);
    assert.ok(u.stat < u.critical, `case ${ci} uniform member: ${u.stat}, counts ${other}`);
  });
  const again = Array.from(cases[1].d.sample(n).dataSync());
  assert.equal(
    again.filter((v, i) => i % 2 === 1 && v === 1).length,
    0,
    'a category of probability 0 was drawn',
  );
});

test('Categorical and OnehotCategorical sampling is reproducible from the seed', () => {
  const logits = tf.tensor([
    [0, 1, 2],
    [1, 1, -3],
  ]);
  for (const make of [() => new Categorical({ logits }), () => new OnehotCategorical({ logits })]) {
    setSeed(7);
    const a = Array.from(make().sample(50).dataSync());
    setSeed(7);
    const b = Array.from(make().sample(50).dataSync());
    setSeed(8);
    const c = Array.from(make().sample(50).dataSync());
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  }
});

// ---- OnehotCategorical ------------------------------------------------------

test('OnehotCategorical.logProb matches a float64 oracle over shapes and groupNdims', () => {
  const r = rng(5);
  const cases: { param: number[]; given: number[]; group: number; out: number[] }[] = [
    { param: [4], given: [4], group: 0, out: [] },
    { param: [4], given: [6, 4], group: 0, out: [6] },
    { param: [2, 3, 4], given: [5, 2, 3, 4], group: 1, out: [5, 2] },
    { param: [2, 1, 3], given: [4, 3], group: 2, out: [] },
    { param: [3, 2], given: [7, 1, 2], group: 1, out: [7] },
  ];
  for (const kind of ['logits', 'probs'] as const) {
    for (const c of cases) {
      const k = c.param[c.param.length - 1];
      const pv =
        kind === 'logits' ? uniform(r, size(c.param), -5, 5) : uniform(r, size(c.param), 0.05, 2);
      const rows = size(c.given) / k;
      const cat = Array.from({ length: rows }, () => Math.floor(r() * k));
      const gv = cat.flatMap((j) => Array.from({ length: k }, (_, i) => (i === j ? 1 : 0)));
      const d = new OnehotCategorical({ [kind]: tf.tensor(pv, c.param), groupNdims: c.group });
      assert.deepEqual(d.valueShape, [k]);
      const given = tf.tensor(gv, c.given);
      const got = noLeak(`onehot logProb ${c.param}/${c.given}`, () => read(d.logProb(given)));
      const batch = c.param.slice(0, -1);
      const full = broadcastShape(c.given.slice(0, -1), batch);
      const lp = kind === 'logits' ? logSoftmax64(pv, k) : logNormalised64(pv, k);
      const elem = Array.from({ length: size(full) }, (_, i) => {
        const row = offsetIn(full, batch, i);
        return lp[row * k + cat[offsetIn(full, c.given.slice(0, -1), i)]];
      });
      assert.deepEqual(got.shape, c.out);
      assertClose(got.data, sumLast64(elem, full, c.group), 1e-5, 2e-6, `onehot ${kind}`);
    }
  }
  // A zero entry contributes 0 where log p = −∞; soft labels give Σ x_k log p_k.
  const z = new OnehotCategorical({ probs: tf.tensor([0, 1, 3]) });
  assertClose(read(z.logProb(tf.tensor([0, 0, 1]))).data, [Math.log(0.75)], 1e-6, 1e-6, 'zero');
  assert.deepEqual(read(z.logProb(tf.tensor([1, 0, 0]))).data, [-Infinity]);
  assertClose(
    read(z.logProb(tf.tensor([0, 0.5, 0.5]))).data,
    [0.5 * Math.log(0.25) + 0.5 * Math.log(0.75)],
    1e-6,
    1e-6,
    'soft label',
  );
});

test('OnehotCategorical.logProb gradient w.r.t. logits is x − softmax(logits)', () => {
  const lv = [0.5, -0.3, 1.2, 2, -1, 0];
  const xv = [0, 0, 1, 1, 0, 0];
  const [g] = tf.grads((l: tf.Tensor) =>
    tf.sum(new OnehotCategorical({ logits: l }).logProb(tf.tensor(xv, [2, 3]))),
  )([tf.tensor(lv, [2, 3])]);
  const sm = logSoftmax64(lv, 3).map(Math.exp);
  assertClose(
    g.dataSync(),
    xv.map((x, i) => x - sm[i]),
    1e-5,
    1e-6,
    'd/dlogits',
  );
});

test('OnehotCategorical samples: one-hot rows, shapes, dtype and frequencies (seeded)', () => {
  setSeed(99);
  const d = new OnehotCategorical({ logits: tf.tensor([[1, 0, -1, 0.5]]) });
  assert.equal(d.dtype, 'float32');
  assert.deepEqual(d.sample().shape, [1, 4]);
  const n = 20000;
  const s = d.sample(n);
  assert.deepEqual(s.shape, [n, 1, 4]);
  assert.equal(s.dtype, 'float32');
  const rows = s.reshape([n, 4]).arraySync() as number[][];
  assert.ok(
    rows.every((r) => r.every((v) => v === 0 || v === 1) && r.reduce((a, b) => a + b) === 1),
  );
  const counts = [0, 1, 2, 3].map((j) => rows.filter((r) => r[j] === 1).length);
  const { stat, critical } = chiSquare(counts, logSoftmax64([1, 0, -1, 0.5], 4).map(Math.exp));
  assert.ok(stat < critical, `chi-square ${stat} ≥ ${critical}, counts ${counts}`);
  const i = new OnehotCategorical({ probs: tf.ones([2, 3]), dtype: 'int32' }).sample(2);
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(i.shape, [2, 2, 3]);
});

// ---- errors and leaks -------------------------------------------------------

test('Categorical and OnehotCategorical errors name the class and the parameter', () => {
  for (const [C, name] of [
    [Categorical, 'Categorical'],
    [OnehotCategorical, 'OnehotCategorical'],
  ] as const) {
    assert.throws(
      () => new C({ logits: tf.zeros([3]), probs: tf.ones([3]) }),
      new RegExp(`^Error: ${name}: exactly one of \`logits\` and \`probs\``),
    );
    assert.throws(() => new C({}), /exactly one of `logits` and `probs`/);
    assert.throws(
      () => new C({ logits: 1 }),
      new RegExp(`${name}: \`logits\` must have rank at least 1.*shape \\[\\]`),
    );
    assert.throws(
      () => new C({ probs: tf.zeros([2, 0]) }),
      new RegExp(
        `${name}: \`probs\` must have at least one category \\(K ≥ 1\\), got shape \\[2,0\\]`,
      ),
    );
    assert.throws(
      () => new C({ probs: tf.tensor([0.5, -0.1, 0.6]), validateArgs: true }),
      /`probs` must be finite and non-negative/,
    );
    assert.throws(
      () =>
        new C({
          probs: tf.tensor([
            [1, 1],
            [0, 0],
          ]),
          validateArgs: true,
        }),
      /`probs` must have a positive sum along the last axis/,
    );
    assert.throws(
      () => new C({ logits: tf.zeros([3]), dtype: 'bool' as unknown as 'int32' }),
      /`dtype` must be 'int32' or 'float32'/,
    );
    assert.throws(
      () => new C({ logits: tf.zeros([3]), groupNdims: 1 }),
      /`groupNdims` \(1\) exceeds the rank of the batch shape \[\]/,
    );
  }
  const d = new Categorical({ logits: tf.zeros([2, 3]), validateArgs: true });
  assert.throws(
    () => d.logProb(tf.tensor([0, 3])),
    /Categorical: values given to logProb must be integers in \[0, 3\)/,
  );
  assert.throws(() => d.logProb(tf.tensor([0.5, 1])), /integers in \[0, 3\)/);
  assert.throws(() => d.logProb(tf.tensor([-1, 1])), /integers in \[0, 3\)/);
  assert.throws(() => d.logProb(tf.tensor([0, 1, 2])), /Categorical: shapes of `given` \[3\]/);
  const o = new OnehotCategorical({ logits: tf.zeros([2, 3]), validateArgs: true });
  assert.throws(
    () =>
      o.logProb(
        tf.tensor([
          [1, 0, 0],
          [0, 1, 1],
        ]),
      ),
    /OnehotCategorical: values given to logProb must be one-hot/,
  );
  assert.throws(
    () =>
      o.logProb(
        tf.tensor([
          [1, 0, 0],
          [0, 0.5, 0.5],
        ]),
      ),
    /must be one-hot/,
  );
  assert.throws(
    () => o.logProb(tf.tensor([[1], [0]])),
    /OnehotCategorical: the last axis of `given` \[2,1\] must have K = 3 entries/,
  );
  assert.throws(() => d.sample(0), /Categorical.sample: `nSamples` must be a positive integer/);
});

test('Categorical and OnehotCategorical leak no tensors', () => {
  const logits = tf.randomNormal([3, 4]);
  const probs = tf.randomUniform([3, 4], 0.1, 1);
  const given = tf.tensor([[0, 1, 3]], [1, 3], 'int32');
  const onehot = tf.oneHot(tf.tensor([0, 3, 2], [3], 'int32'), 4).toFloat();
  noLeak('Categorical', () => {
    for (const kind of ['logits', 'probs'] as const) {
      const p = kind === 'logits' ? logits : probs;
      const d = new Categorical({ [kind]: p, groupNdims: 1, validateArgs: true });
      tf.dispose([d.sample(), d.sample(3), d.logProb(given), d.prob(given)]);
      tf.dispose(
        tf.grads((q: tf.Tensor) => tf.sum(new Categorical({ [kind]: q }).logProb(given)))([p]),
      );
      const o = new OnehotCategorical({ [kind]: p, validateArgs: true });
      tf.dispose([o.sample(), o.sample(2), o.logProb(onehot)]);
    }
  });
});
