import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { Multinomial, UnnormalizedMultinomial } from '../../src/distributions/multinomial.js';
import { setSeed } from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  logFact64,
  meanStd,
  noLeak,
  read,
  rng,
  uniform,
  useCpu,
} from '../helpers.js';
import {
  arr,
  assertCloseToScale,
  assertLeakFree,
  assertReproducible,
  assertSampleShapes,
  broadcastShape,
  chiSquare,
  chiSquareCritical,
  column,
  gather,
  gradientsVsFiniteDiff,
  offsetIn,
  size,
  sumLast64,
  type Arr,
} from './oracles.js';

before(useCpu);

type Kind = 'logits' | 'probs';

// ---- float64 oracles --------------------------------------------------------

/** log p of one row of parameters, in float64 (normalised unless `normalize` is false). */
function logProbs64(kind: Kind, row: number[], normalize = true): number[] {
  if (kind === 'logits') {
    if (!normalize) return row;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    return row.map((v) => v - lse);
  }
  const s = normalize ? row.reduce((a, v) => a + v, 0) : 1;
  return row.map((v) => Math.log(v / s));
}

/** Σ_k x_k log p_k (a zero count contributes 0) and Σ_k |x_k log p_k|. */
function dot64(x: number[], logp: number[]): { v: number; abs: number } {
  let v = 0;
  let abs = 0;
  x.forEach((xk, k) => {
    if (xk === 0) return;
    v += xk * logp[k];
    abs += Math.abs(xk * logp[k]);
  });
  return { v, abs };
}

/** log Multinomial(x; n, p) in float64 (−∞ off the support), and the sum of its absolute terms. */
function multinomialLogPmf64(
  x: number[],
  n: number,
  logp: number[],
): { lp: number; scale: number } {
  const counts = x.every((v) => v >= 0 && Number.isInteger(v));
  if (!counts || x.reduce((a, v) => a + v, 0) !== n) return { lp: -Infinity, scale: 0 };
  const coef = logFact64(n) - x.reduce((a, v) => a + logFact64(v), 0);
  const d = dot64(x, logp);
  return { lp: coef + d.v, scale: logFact64(n) + x.reduce((a, v) => a + logFact64(v), 0) + d.abs };
}

/**
 * Float64 log-probabilities of `given` [..., K] under `param` [..., K] and
 * `trials` (null: UnnormalizedMultinomial), broadcasting the leading axes,
 * then the last `groupNdims` of those summed; with the summed absolute terms.
 */
function oracle64(
  kind: Kind,
  given: Arr,
  param: Arr,
  trials: Arr | null,
  groupNdims: number,
  normalize = true,
): { lp: number[]; scale: number[] } {
  const k = param.shape[param.shape.length - 1];
  const full = broadcastShape(
    given.shape.slice(0, -1),
    param.shape.slice(0, -1),
    trials?.shape ?? [],
  );
  const x = gather(given, [...full, k]);
  const p = gather(param, [...full, k]);
  const n = trials === null ? null : gather(trials, full);
  const lp: number[] = [];
  const scale: number[] = [];
  for (let i = 0; i < size(full); i++) {
    const xi = x.slice(i * k, (i + 1) * k);
    const logp = logProbs64(kind, p.slice(i * k, (i + 1) * k), normalize);
    if (n === null) {
      const d = dot64(xi, logp);
      lp.push(d.v);
      scale.push(d.abs);
    } else {
      const r = multinomialLogPmf64(xi, n[i], logp);
      lp.push(r.lp);
      scale.push(r.scale);
    }
  }
  return { lp: sumLast64(lp, full, groupNdims), scale: sumLast64(scale, full, groupNdims) };
}

/** A random composition of n into k parts (n balls thrown into k bins). */
function composition(r: () => number, n: number, k: number): number[] {
  const x = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) x[Math.floor(r() * k)]++;
  return x;
}

/** Every composition of n into k non-negative parts, in lexicographic order. */
function compositions(n: number, k: number): number[][] {
  if (k === 1) return [[n]];
  const out: number[][] = [];
  for (let first = 0; first <= n; first++) {
    for (const rest of compositions(n - first, k - 1)) out.push([first, ...rest]);
  }
  return out;
}

/**
 * Pearson's chi-square statistic of `counts` against `probs` (one bin per
 * outcome), pooling outcomes of expected count below 5 into one bin, and the
 * critical value at level 1e-3 ({@link chiSquareCritical}). An outcome of
 * probability 0 must not be drawn.
 */
function chiSquareOutcomes(counts: number[], probs: number[]): { stat: number; critical: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  let stat = 0;
  let bins = 0;
  let poolO = 0;
  let poolE = 0;
  probs.forEach((p, i) => {
    if (p === 0) assert.equal(counts[i], 0, `outcome ${i} of probability 0 drawn`);
    const e = n * p;
    if (e < 5) {
      poolO += counts[i];
      poolE += e;
    } else {
      stat += (counts[i] - e) ** 2 / e;
      bins++;
    }
  });
  if (poolE > 0) {
    stat += (poolO - poolE) ** 2 / poolE;
    bins++;
  }
  return { stat, critical: chiSquareCritical(bins - 1) };
}

// ---- logProb ------------------------------------------------------------------

const CASES: {
  param: number[];
  trials: number[] | number;
  given: number[];
  group: number;
  out: number[];
}[] = [
  { param: [3], trials: 5, given: [3], group: 0, out: [] },
  { param: [2, 4], trials: 6, given: [5, 2, 4], group: 1, out: [5] },
  { param: [2, 1, 3], trials: [3], given: [2, 3, 3], group: 0, out: [2, 3] },
  { param: [2, 1, 3], trials: [3], given: [4, 2, 3, 3], group: 2, out: [4] },
  { param: [3], trials: [2, 1], given: [2, 5, 3], group: 0, out: [2, 5] },
  { param: [2, 1], trials: 4, given: [2, 1], group: 0, out: [2] }, // K = 1
  { param: [4], trials: 1, given: [6, 4], group: 0, out: [6] }, // n = 1: one-hot
  { param: [3, 5], trials: 200, given: [3, 5], group: 1, out: [] },
];

test('Multinomial.logProb matches a float64 lgamma-based pmf over shapes, broadcasting and groupNdims', () => {
  const r = rng(51);
  for (const kind of ['logits', 'probs'] as const) {
    for (const c of CASES) {
      const k = c.param[c.param.length - 1];
      const nShape = typeof c.trials === 'number' ? [] : c.trials;
      const nv =
        typeof c.trials === 'number'
          ? [c.trials]
          : Array.from({ length: size(nShape) }, () => 1 + Math.floor(r() * 30));
      const pv =
        kind === 'logits' ? uniform(r, size(c.param), -3, 3) : uniform(r, size(c.param), 0.05, 2); // unnormalised on purpose
      // Each row of `given` sums to its own n (nTrials broadcasts into given's leading axes).
      const lead = c.given.slice(0, -1);
      const gv = Array.from({ length: size(lead) }, (_, row) =>
        composition(r, nv[offsetIn(lead, nShape, row)], k),
      ).flat();
      const nTrials = typeof c.trials === 'number' ? c.trials : tf.tensor(nv, nShape, 'int32');
      const param = tf.tensor(pv, c.param);
      const d = new Multinomial({ [kind]: param, nTrials, groupNdims: c.group });
      const batch = broadcastShape(c.param.slice(0, -1), nShape);
      assert.deepEqual(d.batchShape, batch);
      assert.deepEqual(d.valueShape, [k]);
      assert.equal(d.nCategories, k);
      assert.equal(d.dtype, 'int32');
      const given = tf.tensor(gv, c.given, 'int32');
      const got = noLeak('logProb', () => read(d.logProb(given)));
      const want = oracle64(kind, arr(given), arr(param), { data: nv, shape: nShape }, c.group);
      assert.deepEqual(got.shape, c.out, `${kind} ${JSON.stringify(c)} shape`);
      // float32: each term rounds to ~6e-8 of its size and lgamma adds a few
      // ulps, so 2e-6 of the summed absolute terms (plus 1e-5).
      assertCloseToScale(got.data, want.lp, want.scale, 2e-6, 1e-5, `${kind} ${JSON.stringify(c)}`);
      // A float32 given reads the same.
      assert.deepEqual(read(d.logProb(tf.cast(given, 'float32'))).data, got.data);
    }
  }
});

test('Multinomial.logProb: K = 1, zero probabilities, out-of-support values, normalizeLogits', () => {
  // K = 1: the only vector is [n], of probability 1.
  const one = new Multinomial({ logits: tf.zeros([1]), nTrials: 7 });
  assert.deepEqual(read(one.logProb(tf.tensor([7]))).data, [0]);
  assert.deepEqual(read(one.logProb(tf.tensor([6]))).data, [-Infinity]);
  // A category of probability 0 is exact: zero counts there contribute 0, others give −∞ (never NaN).
  const z = new Multinomial({ probs: tf.tensor([0, 1, 3]), nTrials: 4 });
  const zl = read(
    z.logProb(
      tf.tensor([
        [0, 1, 3],
        [1, 0, 3],
      ]),
    ),
  ).data;
  assertClose(zl[0], Math.log(4) + Math.log(0.25) + 3 * Math.log(0.75), 1e-5, 1e-5, 'zero prob');
  assert.equal(zl[1], -Infinity);
  const zi = new Multinomial({ logits: tf.tensor([-Infinity, 0, Math.log(3)]), nTrials: 4 });
  assertClose(read(zi.logProb(tf.tensor([0, 1, 3]))).data, [zl[0]], 1e-5, 1e-5, '−∞ logit');
  // Vectors that are not counts summing to n have probability 0.
  const d = new Multinomial({ probs: tf.tensor([0.2, 0.3, 0.5]), nTrials: 3 });
  const off = read(
    d.logProb(
      tf.tensor([
        [1, 1, 2],
        [-1, 2, 2],
        [0.5, 0.5, 2],
        [1, 1, 1],
      ]),
    ),
  ).data;
  assert.deepEqual(off.slice(0, 3), [-Infinity, -Infinity, -Infinity]);
  assertClose(off[3], Math.log(6 * 0.2 * 0.3 * 0.5), 1e-5, 1e-5, 'x = [1, 1, 1]');
  // normalizeLogits: false takes the parameter as normalised: a shift c of the
  // logits then shifts logProb by n·c (and not at all by default).
  const logits = tf.tensor([0.3, -1, 2]);
  const x = tf.tensor([
    [2, 0, 3],
    [1, 1, 3],
  ]);
  const ref = read(new Multinomial({ logits, nTrials: 5 }).logProb(x)).data;
  const shifted = tf.add(logits, 0.7);
  assertClose(
    read(new Multinomial({ logits: shifted, nTrials: 5 }).logProb(x)).data,
    ref,
    1e-5,
    1e-5,
    'shift',
  );
  const normalised = tf.sub(logits, tf.logSumExp(logits));
  const raw = new Multinomial({
    logits: tf.add(normalised, 0.7),
    nTrials: 5,
    normalizeLogits: false,
  });
  assert.equal(raw.normalizeLogits, false);
  assertClose(
    read(raw.logProb(x)).data,
    ref.map((v) => v + 5 * 0.7),
    1e-5,
    1e-5,
    'unnormalised',
  );
  const rawProbs = new Multinomial({
    probs: tf.tensor([0.2, 0.3, 0.5]),
    nTrials: 3,
    normalizeLogits: false,
  });
  assertClose(
    read(rawProbs.logProb(tf.tensor([1, 1, 1]))).data,
    [off[3]],
    1e-5,
    1e-5,
    'probs as given',
  );
  const halfProbs = new Multinomial({
    probs: tf.tensor([0.1, 0.15, 0.25]),
    nTrials: 3,
    normalizeLogits: false,
  });
  assertClose(
    read(halfProbs.logProb(tf.tensor([1, 1, 1]))).data,
    [off[3] + 3 * Math.log(0.5)],
    1e-5,
    1e-5,
    'probs not normalised',
  );
  // prob is exp(logProb).
  assertClose(read(d.prob(tf.tensor([1, 1, 1]))).data, [6 * 0.2 * 0.3 * 0.5], 1e-5, 1e-7, 'prob');
});

test('Multinomial.logProb gradients w.r.t. logits and probs match float64 finite differences', () => {
  const r = rng(52);
  const nv = [2, 5, 7];
  const nTrials = tf.tensor(nv, [3], 'int32');
  const lead = [4, 2, 3];
  const x = tf.tensor(
    Array.from({ length: size(lead) }, (_, row) =>
      composition(r, nv[offsetIn(lead, [3], row)], 3),
    ).flat(),
    [...lead, 3],
  );
  const w = tf.tensor(uniform(r, 4 * 2, 0.5, 1.5), [4, 2]);
  for (const kind of ['logits', 'probs'] as const) {
    const param = tf.tensor(
      kind === 'logits' ? uniform(r, 6, -2, 2) : uniform(r, 6, 0.2, 2),
      [2, 1, 3],
    );
    const { got, want } = gradientsVsFiniteDiff(
      (p) => new Multinomial({ [kind]: p, nTrials, groupNdims: 1 }).logProb(x),
      (p) => oracle64(kind, arr(x), p, { data: nv, shape: [3] }, 1).lp,
      [param],
      w,
    );
    // float32 autodiff (relative ~1e-6) against float64 central differences
    // (error ~1e-8) of values up to ~50: 1e-4 relative, 1e-4 absolute.
    assertClose(got[0], want[0], 1e-4, 1e-4, `d/d${kind}`);
  }
});

test('UnnormalizedMultinomial.logProb is Σ x log p: float64 oracle, any totals, Multinomial less its coefficient', () => {
  const r = rng(53);
  const cases: { param: number[]; given: number[]; group: number; out: number[] }[] = [
    { param: [4], given: [4], group: 0, out: [] },
    { param: [2, 3], given: [5, 2, 3], group: 1, out: [5] },
    { param: [2, 1, 3], given: [4, 3], group: 2, out: [] },
    { param: [1], given: [3, 1], group: 0, out: [3] },
  ];
  for (const kind of ['logits', 'probs'] as const) {
    for (const c of cases) {
      const k = c.param[c.param.length - 1];
      const pv =
        kind === 'logits' ? uniform(r, size(c.param), -3, 3) : uniform(r, size(c.param), 0.05, 2);
      const gv = Array.from({ length: size(c.given) }, () => Math.floor(r() * 9));
      const param = tf.tensor(pv, c.param);
      const given = tf.tensor(gv, c.given, 'int32');
      const d = new UnnormalizedMultinomial({ [kind]: param, groupNdims: c.group });
      assert.deepEqual(d.batchShape, c.param.slice(0, -1));
      assert.deepEqual(d.valueShape, [k]);
      assert.equal(d.isReparameterized, false);
      assert.equal(d.isContinuous, false);
      const got = noLeak('logProb', () => read(d.logProb(given)));
      const want = oracle64(kind, arr(given), arr(param), null, c.group);
      assert.deepEqual(got.shape, c.out);
      assertCloseToScale(got.data, want.lp, want.scale, 2e-6, 1e-5, `${kind} ${JSON.stringify(c)}`);
    }
  }
  // Multinomial = UnnormalizedMultinomial + log n!/Π x_k!.
  const logits = tf.tensor([0.5, -1, 2, 0]);
  const x = tf.tensor([
    [3, 0, 5, 2],
    [1, 1, 1, 7],
  ]);
  const full = read(new Multinomial({ logits, nTrials: 10 }).logProb(x)).data;
  const bag = read(new UnnormalizedMultinomial({ logits }).logProb(x)).data;
  const coef = [
    [3, 0, 5, 2],
    [1, 1, 1, 7],
  ].map((row) => logFact64(10) - row.reduce((a, v) => a + logFact64(v), 0));
  assertClose(
    full.map((v, i) => v - bag[i]),
    coef,
    1e-5,
    1e-4,
    'coefficient',
  );
  // Fractional counts go through the formula; a zero count where p = 0 gives 0.
  const z = new UnnormalizedMultinomial({ probs: tf.tensor([0, 1, 1]) });
  assertClose(
    read(z.logProb(tf.tensor([0, 0.5, 2]))).data,
    [2.5 * Math.log(0.5)],
    1e-6,
    1e-6,
    'fractional',
  );
  assert.equal(read(z.logProb(tf.tensor([1, 0, 0]))).data[0], -Infinity);
  // normalizeLogits: false uses the logits as given.
  const raw = new UnnormalizedMultinomial({ logits: tf.tensor([1, 2, 3]), normalizeLogits: false });
  assertClose(read(raw.logProb(tf.tensor([1, 0, 2]))).data, [7], 1e-6, 1e-6, 'raw logits');
  // Gradient w.r.t. logits: x − (Σ x)·softmax.
  const [g] = tf.grads((l: tf.Tensor) =>
    tf.sum(new UnnormalizedMultinomial({ logits: l }).logProb(tf.tensor([1, 0, 2]))),
  )([tf.tensor([0, 0, 0])]);
  assertClose(g.dataSync(), [0, -1, 1], 1e-6, 1e-6, 'd/dlogits');
});

test('UnnormalizedMultinomial.logProb gradients w.r.t. counts and log-probabilities, broadcast, with −∞', () => {
  // Σ x·l with raw logits l: d/dl = x summed over the broadcast sample
  // axis; d/dx = l where x ≠ 0 and 0 where x = 0 (so a zero count against
  // l = −∞ gives 0, not NaN).
  const lv = [0.5, -Infinity, 2, -1.5, 0.25, -Infinity];
  const xv = [3, 0, 1, 0, 2, 0, 1, 0, 0, 4, 1, 0];
  const l = tf.tensor(lv, [2, 3]);
  const x = tf.tensor(xv, [2, 2, 3]);
  const before = tf.memory().numTensors;
  const [gx, gl] = tf.grads((xs: tf.Tensor, ls: tf.Tensor) =>
    tf.sum(
      new UnnormalizedMultinomial({ logits: ls, normalizeLogits: false, groupNdims: 1 }).logProb(
        xs,
      ),
    ),
  )([x, l]);
  assert.equal(tf.memory().numTensors, before + 2, 'only the two gradients are left');
  assert.deepEqual(gx.shape, [2, 2, 3]);
  assert.deepEqual(gl.shape, [2, 3]);
  assert.deepEqual(
    Array.from(gx.dataSync()),
    xv.map((v, i) => (v === 0 ? 0 : lv[i % 6])),
  );
  assert.deepEqual(
    Array.from(gl.dataSync()),
    lv.map((_, j) => xv[j] + xv[6 + j]),
  );
  tf.dispose([gx, gl, l, x]);
});

// ---- sampling -----------------------------------------------------------------

test('Multinomial samples: shapes, dtype, counts summing to n (nTrials broadcasting), K = 1, n = 1, zero probabilities', () => {
  setSeed(54);
  const nv = [1, 5, 300];
  const d = new Multinomial({
    logits: tf.tensor([[[0, 1, -1]], [[2, 0, 0]]]),
    nTrials: tf.tensor(nv, [3], 'int32'),
  });
  assert.deepEqual(d.batchShape, [2, 3]);
  assert.deepEqual(d.valueShape, [3]);
  assert.equal(d.isReparameterized, false);
  assertSampleShapes(d, [2, 3, 3]);
  const s = d.sample(50);
  assert.equal(s.dtype, 'int32');
  const v = s.dataSync();
  for (let row = 0; row < v.length / 3; row++) {
    const x = [v[row * 3], v[row * 3 + 1], v[row * 3 + 2]];
    assert.ok(
      x.every((c) => Number.isInteger(c) && c >= 0),
      `counts ${x}`,
    );
    assert.equal(x[0] + x[1] + x[2], nv[row % 3], `row ${row}: ${x}`);
  }
  // n = 1: one-hot vectors.
  const oneHot = new Multinomial({ probs: tf.tensor([0.2, 0.3, 0.5]), nTrials: 1 })
    .sample(40)
    .dataSync();
  for (let row = 0; row < 40; row++) {
    const x = Array.from(oneHot.slice(row * 3, row * 3 + 3));
    assert.deepEqual([...x].sort(), [0, 0, 1], `row ${row}: ${x}`);
  }
  // K = 1: always [n].
  const k1 = new Multinomial({ logits: tf.zeros([2, 1]), nTrials: 9, dtype: 'float32' }).sample(3);
  assert.equal(k1.dtype, 'float32');
  assert.deepEqual(k1.shape, [3, 2, 1]);
  assert.deepEqual(Array.from(k1.dataSync()), [9, 9, 9, 9, 9, 9]);
  // Categories of probability 0 (probs 0, logits −∞) are never drawn; one certain category takes all.
  const zp = new Multinomial({ probs: tf.tensor([0, 1, 0, 2]), nTrials: 50 })
    .sample(200)
    .dataSync();
  const zl = new Multinomial({ logits: tf.tensor([-Infinity, 0, -Infinity, 0]), nTrials: 50 })
    .sample(200)
    .dataSync();
  for (let row = 0; row < 200; row++) {
    for (const z of [zp, zl]) {
      assert.equal(z[row * 4] + z[row * 4 + 2], 0, `a zero-probability category drawn`);
      assert.equal(z[row * 4 + 1] + z[row * 4 + 3], 50);
    }
  }
  const certain = new Multinomial({ probs: tf.tensor([0, 0, 3]), nTrials: 1000 })
    .sample(5)
    .dataSync();
  assert.deepEqual(Array.from(certain), new Array(5).fill([0, 0, 1000]).flat());
  // No gradient flows through samples.
  assertNoGradientPath(
    (l) => tf.sum(new Multinomial({ logits: l, nTrials: 6, dtype: 'float32' }).sample(3)),
    [tf.tensor([0.3, -0.2, 1])],
    'Multinomial sample',
  );
});

test('Multinomial sample frequencies over the compositions pass chi-square tests at level 1e-3 (seeded)', () => {
  setSeed(55);
  const n = 20000;
  const probs = [
    [0.2, 0.3, 0.5],
    [0.6, 0.1, 0.3],
    [0.05, 0.45, 0.5],
  ];
  const nv = [1, 4, 7];
  for (const kind of ['probs', 'logits'] as const) {
    // logits: log p plus a shift per row (normalisation is the sampler's job).
    const pv =
      kind === 'probs'
        ? probs.flat()
        : probs.flatMap((row, b) => row.map((p) => Math.log(p) + b - 1));
    const d = new Multinomial({
      [kind]: tf.tensor(pv, [3, 3]),
      nTrials: tf.tensor(nv, [3], 'int32'),
    });
    const s = d.sample(n).dataSync();
    nv.forEach((nt, b) => {
      const comps = compositions(nt, 3);
      const index = new Map(comps.map((x, i) => [x.join(','), i]));
      const counts = new Array<number>(comps.length).fill(0);
      for (let i = 0; i < n; i++) {
        const at = (i * 3 + b) * 3;
        const key = [s[at], s[at + 1], s[at + 2]].join(',');
        const j = index.get(key);
        assert.ok(j !== undefined, `${kind} n = ${nt}: ${key} is not a composition of ${nt}`);
        counts[j]++;
      }
      const logp = probs[b].map(Math.log);
      const pmf = (ps: number[]) => comps.map((x) => Math.exp(multinomialLogPmf64(x, nt, ps).lp));
      const { stat, critical } = chiSquareOutcomes(counts, pmf(logp));
      assert.ok(stat < critical, `${kind} n = ${nt}: chi-square ${stat} ≥ ${critical}`);
      // The check has power: p₀ off by 0.04 (taken from the last category) fails it.
      if (nt > 1) {
        const wrong = [probs[b][0] + 0.04, probs[b][1], probs[b][2] - 0.04].map(Math.log);
        const bad = chiSquareOutcomes(counts, pmf(wrong));
        assert.ok(bad.stat > bad.critical, `${kind} n = ${nt}: a wrong pmf passes (${bad.stat})`);
      }
    });
  }
  // K = 4 with a category of probability 0: its compositions are never drawn.
  const z = [0.3, 0, 0.5, 0.2];
  const s = new Multinomial({ probs: tf.tensor(z), nTrials: 3 }).sample(n).dataSync();
  const comps = compositions(3, 4);
  const index = new Map(comps.map((x, i) => [x.join(','), i]));
  const counts = new Array<number>(comps.length).fill(0);
  for (let i = 0; i < n; i++) counts[index.get(Array.from(s.slice(i * 4, i * 4 + 4)).join(','))!]++;
  const pz = comps.map((x) =>
    x[1] > 0 ? 0 : Math.exp(multinomialLogPmf64(x, 3, z.map(Math.log)).lp),
  );
  const { stat, critical } = chiSquareOutcomes(counts, pz);
  assert.ok(stat < critical, `K = 4 with a zero: chi-square ${stat} ≥ ${critical}`);
});

test('Multinomial samples at large n (BTRS steps): binomial marginals and covariance (seeded)', () => {
  setSeed(56);
  const n = 20000;
  const probs = [
    [0.2, 0.3, 0.5],
    [0.7, 0.2, 0.1],
  ];
  const nv = [1000, 50];
  const s = new Multinomial({ probs: tf.tensor(probs), nTrials: tf.tensor(nv) })
    .sample(n)
    .dataSync();
  probs.forEach((p, b) => {
    const nt = nv[b];
    const cols = [0, 1, 2].map((k) => column(s, 6, b * 3 + k));
    cols.forEach((col, k) => {
      // Each count is Binomial(n, p_k): chi-square over its values (level 1e-3).
      const counts = new Array<number>(nt + 1).fill(0);
      col.forEach((v) => counts[v]++);
      const pmf = (x: number) =>
        x > nt
          ? 0
          : Math.exp(
              logFact64(nt) -
                logFact64(x) -
                logFact64(nt - x) +
                x * Math.log(p[k]) +
                (nt - x) * Math.log1p(-p[k]),
            );
      const { stat, critical, df } = chiSquare(counts, pmf);
      assert.ok(df >= 5, `n = ${nt}, k = ${k}: too few bins`);
      assert.ok(
        stat < critical,
        `n = ${nt}, p = ${p[k]}: chi-square ${stat} ≥ ${critical} (df ${df})`,
      );
    });
    // Cov(x_0, x_1) = −n p_0 p_1 within 5 empirical standard errors.
    const m0 = meanStd(cols[0]).mean;
    const m1 = meanStd(cols[1]).mean;
    const { mean: cov, std } = meanStd(cols[0].map((x, i) => (x - m0) * (cols[1][i] - m1)));
    const want = -nt * p[0] * p[1];
    assert.ok(Math.abs(cov - want) < (5 * std) / Math.sqrt(n), `n = ${nt}: cov ${cov} vs ${want}`);
  });
});

test('Multinomial sampling is reproducible from the seed', () => {
  assertReproducible(
    new Multinomial({
      logits: tf.tensor([
        [0.5, -1, 2],
        [0, 0, 0],
      ]),
      nTrials: tf.tensor([3, 40]),
    }),
  );
});

// ---- errors and hygiene -------------------------------------------------------

test('Multinomial and UnnormalizedMultinomial errors name the class and the parameter', () => {
  const l3 = tf.zeros([3]);
  assert.throws(
    () => new Multinomial({ logits: l3, probs: l3, nTrials: 3 }),
    /^Error: Multinomial: exactly one of `logits` and `probs` must be given/,
  );
  assert.throws(
    () => new Multinomial({ nTrials: 3 }),
    /Multinomial: exactly one of `logits` and `probs`/,
  );
  assert.throws(
    () => new Multinomial({ logits: l3 } as never),
    /^Error: Multinomial: `nTrials` is required$/,
  );
  for (const bad of [0, -3, 2.5, NaN, Infinity]) {
    assert.throws(
      () => new Multinomial({ logits: l3, nTrials: bad }),
      /Multinomial: `nTrials` must be a positive integer, got/,
      `nTrials ${bad}`,
    );
  }
  assert.throws(
    () => new Multinomial({ logits: 0.5, nTrials: 3 }),
    /Multinomial: `logits` must have rank at least 1 \(its last axis holds the K categories\), got shape \[\]/,
  );
  assert.throws(
    () => new Multinomial({ probs: tf.zeros([2, 0]), nTrials: 3 }),
    /Multinomial: `probs` must have at least one category \(K ≥ 1\), got shape \[2,0\]/,
  );
  assert.throws(
    () => new Multinomial({ logits: tf.zeros([2, 3]), nTrials: tf.tensor([1, 2, 3]) }),
    /Multinomial: the batch shape of `logits` \[2\] \(shape \[2,3\] less its last axis\) and the shape of `nTrials` \[3\] do not broadcast/,
  );
  assert.throws(
    () => new Multinomial({ logits: l3, nTrials: 3, dtype: 'bool' as never }),
    /Multinomial: `dtype` must be 'int32' or 'float32', got 'bool'/,
  );
  assert.throws(
    () => new Multinomial({ logits: tf.zeros([2, 3]), nTrials: 3, groupNdims: 2 }),
    /Multinomial: `groupNdims` \(2\) exceeds/,
  );
  // validateArgs: nTrials, probs and logits values.
  const V = { validateArgs: true };
  assert.throws(
    () => new Multinomial({ logits: tf.zeros([2, 3]), nTrials: tf.tensor([4, 0]), ...V }),
    /^Error: Multinomial: `nTrials` must hold positive integers$/,
  );
  assert.throws(
    () => new Multinomial({ logits: tf.zeros([2, 3]), nTrials: tf.tensor([4, 1.5]), ...V }),
    /`nTrials` must hold positive integers/,
  );
  assert.throws(
    () => new Multinomial({ probs: tf.tensor([0.5, -0.1, 0.6]), nTrials: 2, ...V }),
    /Multinomial: `probs` must be finite and non-negative/,
  );
  assert.throws(
    () => new Multinomial({ probs: tf.tensor([0, 0, 0]), nTrials: 2, ...V }),
    /Multinomial: `probs` must have a positive sum along the last axis/,
  );
  assert.throws(
    () => new Multinomial({ logits: tf.tensor([0, NaN, 1]), nTrials: 2, ...V }),
    /Multinomial: `logits` must hold no NaN and no \+∞/,
  );
  assert.throws(
    () => new UnnormalizedMultinomial({ logits: tf.tensor([0, Infinity]), ...V }),
    /UnnormalizedMultinomial: `logits` must hold no NaN and no \+∞/,
  );
  assert.doesNotThrow(
    () => new Multinomial({ logits: tf.tensor([0, -Infinity, 1]), nTrials: 2, ...V }),
  );
  assert.doesNotThrow(() => new Multinomial({ probs: tf.tensor([0.5, -0.1, 0.6]), nTrials: 2 }));
  setValidateArgs(true);
  try {
    assert.throws(
      () => new Multinomial({ probs: tf.tensor([NaN, 1]), nTrials: 2 }),
      /`probs` must be finite/,
    );
  } finally {
    setValidateArgs(false);
  }
  // Values given to logProb.
  const d = new Multinomial({ logits: tf.zeros([2, 3]), nTrials: tf.tensor([3, 5]), ...V });
  assert.throws(
    () =>
      d.logProb(
        tf.tensor([
          [1, 1, 1],
          [1, 1, 2],
        ]),
      ),
    /^Error: Multinomial: values given to logProb must be non-negative integer counts summing to `nTrials`$/,
  );
  assert.throws(
    () =>
      d.logProb(
        tf.tensor([
          [1, 1, 1],
          [-1, 3, 3],
        ]),
      ),
    /non-negative integer counts/,
  );
  assert.throws(
    () =>
      d.logProb(
        tf.tensor([
          [1, 1, 1],
          [0.5, 1.5, 3],
        ]),
      ),
    /non-negative integer counts/,
  );
  assert.doesNotThrow(() =>
    d
      .logProb(
        tf.tensor([
          [1, 1, 1],
          [0, 0, 5],
        ]),
      )
      .dispose(),
  );
  assert.throws(
    () => d.logProb(tf.zeros([2, 4])),
    /Multinomial: shapes of `given` \[2,4\] and `batch and value shape` \[2,3\] do not broadcast/,
  );
  assert.throws(
    () => d.logProb(tf.zeros([2, 1])),
    /Multinomial: the last axis of `given` \[2,1\] must have K = 3 entries, that of `logits` \[2,3\]/,
  );
  const u = new UnnormalizedMultinomial({ probs: tf.ones([3]), ...V });
  assert.throws(
    () => u.logProb(tf.tensor([1, -1, 2])),
    /^Error: UnnormalizedMultinomial: values given to logProb must be non-negative integer counts$/,
  );
  assert.throws(() => u.logProb(tf.tensor([1, 0.5, 2])), /non-negative integer counts/);
  assert.throws(
    () => u.logProb(tf.tensor([[1], [2]])),
    /UnnormalizedMultinomial: the last axis of `given` \[2,1\] must have K = 3 entries/,
  );
  assert.doesNotThrow(() => u.logProb(tf.tensor([4, 0, 11])).dispose());
  assert.throws(
    () => new UnnormalizedMultinomial({ logits: 1 }),
    /UnnormalizedMultinomial: `logits` must have rank at least 1/,
  );
  // UnnormalizedMultinomial cannot be sampled.
  for (const call of [() => u.sample(), () => u.sample(3)]) {
    noLeak('UnnormalizedMultinomial.sample', () =>
      assert.throws(
        call,
        /^Error: UnnormalizedMultinomial\.sample: cannot sample without a number of trials/,
      ),
    );
  }
  // Sampling reads nTrials and the parameter back, checking them.
  assert.throws(
    () => new Multinomial({ logits: tf.zeros([2, 3]), nTrials: tf.tensor([3, 0]) }).sample(),
    /^Error: Multinomial\.sample: `nTrials` must be a positive integer, got 0$/,
  );
  assert.throws(
    () => new Multinomial({ logits: l3, nTrials: tf.tensor(2.5) }).sample(),
    /Multinomial\.sample: `nTrials` must be a positive integer, got 2\.5/,
  );
  assert.throws(
    () => new Multinomial({ probs: tf.tensor([0.5, NaN, 1]), nTrials: 3 }).sample(),
    /Multinomial\.sample: each row of `probs` must be finite and non-negative with a positive sum, got \[0\.5,NaN,1\]/,
  );
  assert.throws(
    () => new Multinomial({ probs: tf.tensor([0, 0]), nTrials: 3 }).sample(),
    /each row of `probs` must be finite and non-negative with a positive sum/,
  );
  for (const bad of [
    [-Infinity, -Infinity],
    [0, Infinity],
    [NaN, 0],
  ]) {
    assert.throws(
      () => new Multinomial({ logits: tf.tensor(bad), nTrials: 3 }).sample(),
      /Multinomial\.sample: each row of `logits` needs a finite largest entry \(no NaN, no \+∞, not all −∞\)/,
      `logits ${bad}`,
    );
  }
});

test('Multinomial and UnnormalizedMultinomial leak no tensors', () => {
  const logits = tf.tensor([[-1, 0.5, 3]]);
  const probs = tf.tensor([0.1, 0.5, 0.4]);
  const nTrials = tf.tensor([4, 30], [2], 'int32');
  const given = tf.tensor([
    [
      [0, 1, 3],
      [10, 10, 10],
    ],
  ]);
  const outside = tf.tensor([
    [
      [0, 1, 2],
      [10, 10, 10],
    ],
  ]);
  const d = new Multinomial({ logits, nTrials, groupNdims: 1 });
  const dv = new Multinomial({ probs, nTrials, validateArgs: true });
  const badProbs = tf.tensor([0.5, -0.5, 1]);
  assertLeakFree(
    d,
    dv,
    given,
    outside,
    () => new Multinomial({ probs: badProbs, nTrials: 3, validateArgs: true }),
  );
  const x = tf.tensor([1, 1, 3]);
  const badN = tf.tensor([4, 0]);
  const negative = tf.tensor([1, -1, 2]);
  noLeak('Multinomial, number nTrials', () => {
    const e = new Multinomial({ probs, nTrials: 5, validateArgs: true });
    tf.dispose([e.sample(2), e.logProb(x), e.nTrials]);
  });
  noLeak('rejected nTrials tensor', () =>
    assert.throws(
      () => new Multinomial({ probs, nTrials: badN, validateArgs: true }),
      /`nTrials` must hold positive integers/,
    ),
  );
  assert.equal(badN.isDisposed, false, "the caller's nTrials was disposed");
  const u = new UnnormalizedMultinomial({ logits, groupNdims: 1 });
  const uv = new UnnormalizedMultinomial({ probs, validateArgs: true });
  noLeak('UnnormalizedMultinomial', () => {
    tf.dispose([u.logProb(given), u.prob(given), uv.logProb(given)]);
    assert.throws(() => uv.logProb(negative));
  });
  noLeak('grads', () =>
    tf.dispose([
      ...tf.grads((l: tf.Tensor) => tf.sum(new Multinomial({ logits: l, nTrials }).logProb(given)))(
        [logits],
      ),
      ...tf.grads((p: tf.Tensor) =>
        tf.sum(new UnnormalizedMultinomial({ probs: p }).logProb(given)),
      )([probs]),
    ]),
  );
});
