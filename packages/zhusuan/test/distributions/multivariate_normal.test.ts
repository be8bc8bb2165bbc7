import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { MultivariateNormalCholesky } from '../../src/distributions/multivariate_normal.js';
import { Normal } from '../../src/distributions/normal.js';
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
import { randomChol } from '../linalg64.js';
import {
  arr,
  assertCloseToScale,
  assertLeakFree,
  assertReproducible,
  assertSampleShapes,
  broadcastShape,
  gather,
  gradientsVsFiniteDiff,
  size,
  sumLast64,
  type Arr,
} from './oracles.js';

before(useCpu);

const MVN = MultivariateNormalCholesky;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

// ---- float64 oracles --------------------------------------------------------

/** z = L⁻¹ y by forward substitution in float64 (`l` row-major D × D; only i ≥ j read). */
function forwardSolve64(l: number[], y: number[]): number[] {
  const d = y.length;
  const z: number[] = [];
  for (let i = 0; i < d; i++) {
    let s = y[i];
    for (let j = 0; j < i; j++) s -= l[i * d + j] * z[j];
    z.push(s / l[i * d + i]);
  }
  return z;
}

/** log N(x; m, L·Lᵀ) in float64, and the sum of its absolute terms (the float32 scale). */
function mvnLogPdf64(x: number[], m: number[], l: number[]): { lp: number; scale: number } {
  const d = x.length;
  const z = forwardSolve64(
    l,
    x.map((v, i) => v - m[i]),
  );
  const quad = z.reduce((s, v) => s + v * v, 0);
  let logDet = 0;
  let absLogDet = 0;
  for (let i = 0; i < d; i++) {
    logDet += Math.log(Math.abs(l[i * d + i]));
    absLogDet += Math.abs(Math.log(Math.abs(l[i * d + i])));
  }
  return {
    lp: -d * HALF_LOG_2PI - logDet - 0.5 * quad,
    scale: d * HALF_LOG_2PI + absLogDet + 0.5 * quad,
  };
}

/**
 * Float64 log densities of `given` [..., D] under `mean` [..., D] and `chol`
 * [..., D, D], broadcasting their leading axes, then the last `groupNdims` of
 * those summed; with the summed absolute terms (`scale`).
 */
function mvnOracle(
  given: Arr,
  mean: Arr,
  chol: Arr,
  groupNdims: number,
): { lp: number[]; scale: number[] } {
  const d = mean.shape[mean.shape.length - 1];
  const batch = broadcastShape(
    given.shape.slice(0, -1),
    mean.shape.slice(0, -1),
    chol.shape.slice(0, -2),
  );
  const x = gather(given, [...batch, d]);
  const m = gather(mean, [...batch, d]);
  const l = gather(chol, [...batch, d, d]);
  const lp: number[] = [];
  const scale: number[] = [];
  for (let i = 0; i < size(batch); i++) {
    const r = mvnLogPdf64(
      x.slice(i * d, (i + 1) * d),
      m.slice(i * d, (i + 1) * d),
      l.slice(i * d * d, (i + 1) * d * d),
    );
    lp.push(r.lp);
    scale.push(r.scale);
  }
  return { lp: sumLast64(lp, batch, groupNdims), scale: sumLast64(scale, batch, groupNdims) };
}

/**
 * L·Lᵀ of a row-major D × D lower-triangular `l` (upper triangle ignored),
 * or Lᵀ·L with `transposed`.
 */
function covOf(l: number[], d: number, transposed = false): number[] {
  const at = (i: number, j: number) => (j <= i ? l[i * d + j] : 0);
  return Array.from({ length: d * d }, (_, idx) => {
    const i = Math.floor(idx / d);
    const j = idx % d;
    let s = 0;
    for (let k = 0; k < d; k++) s += transposed ? at(k, i) * at(k, j) : at(i, k) * at(j, k);
    return s;
  });
}

// ---- logProb ------------------------------------------------------------------

const CASES: { mean: number[]; chol: number[]; given: number[]; group: number; out: number[] }[] = [
  { mean: [3], chol: [3, 3], given: [3], group: 0, out: [] },
  { mean: [3], chol: [3, 3], given: [5, 3], group: 0, out: [5] },
  { mean: [2, 3], chol: [3, 3], given: [2, 3], group: 1, out: [] },
  { mean: [3], chol: [2, 3, 3], given: [4, 1, 3], group: 0, out: [4, 2] },
  { mean: [2, 1, 4], chol: [3, 4, 4], given: [2, 3, 4], group: 2, out: [] },
  { mean: [2, 1, 4], chol: [3, 4, 4], given: [5, 2, 3, 4], group: 1, out: [5, 2] },
  { mean: [1], chol: [1, 1], given: [6, 1], group: 0, out: [6] },
  { mean: [2, 6], chol: [2, 6, 6], given: [2, 6], group: 0, out: [2] },
  { mean: [4, 2], chol: [1, 2, 2], given: [3, 4, 2], group: 1, out: [3] },
];

test('MultivariateNormalCholesky.logProb matches a float64 Cholesky solve (broadcasting, groupNdims)', () => {
  const r = rng(41);
  for (const c of CASES) {
    const d = c.mean[c.mean.length - 1];
    // NaN above the diagonal: it must never be read.
    for (const [upper, signed] of [
      [NaN, false],
      [3.5, true],
    ] as const) {
      const mean = tf.tensor(uniform(r, size(c.mean), -1, 1), c.mean);
      const chol = randomChol(r, c.chol, upper, signed);
      const given = tf.tensor(uniform(r, size(c.given), -3, 3), c.given);
      const dist = new MVN({ mean, cholTril: chol, groupNdims: c.group });
      const batch = broadcastShape(c.mean.slice(0, -1), c.chol.slice(0, -2));
      assert.deepEqual(dist.batchShape, batch);
      assert.deepEqual(dist.valueShape, [d]);
      assert.equal(dist.dim, d);
      const want = mvnOracle(arr(given), arr(mean), arr(chol), c.group);
      const got = noLeak('logProb', () => read(dist.logProb(given)));
      assert.deepEqual(got.shape, c.out, `${JSON.stringify(c)} shape`);
      // float32: each term rounds to ~6e-8 of its size and the solve grows
      // that with D·cond(L) (cond below ~20 here); measured below 2e-7 of
      // the summed absolute terms up to D = 20, so 2e-6 (plus 1e-5) leaves
      // a margin of ~10 while any error in the formula is O(1).
      assertCloseToScale(got.data, want.lp, want.scale, 2e-6, 1e-5, `${JSON.stringify(c)}`);
      assertClose(
        read(dist.prob(given)).data,
        want.lp.map(Math.exp),
        2e-4,
        1e-30,
        `prob ${JSON.stringify(c)}`,
      );
    }
  }
});

test('MultivariateNormalCholesky with D = 1 or a diagonal L is a product of Normals', () => {
  const mean = tf.tensor([
    [0.5, -1, 2],
    [0, 0, 0],
  ]);
  const std = tf.tensor([
    [0.3, 1.2, 2],
    [1, 0.5, 4],
  ]);
  const chol = tf.tidy(() => tf.mul(tf.expandDims(std, -1), tf.eye(3)));
  const x = tf.tensor([
    [0.1, 0.2, -0.4],
    [1.5, -0.3, 3],
  ]);
  const viaNormal = read(new Normal({ mean, std, groupNdims: 1 }).logProb(x)).data;
  assertClose(
    read(new MVN({ mean, cholTril: chol }).logProb(x)).data,
    viaNormal,
    1e-5,
    1e-5,
    'diag',
  );
  const one = new MVN({ mean: tf.expandDims(mean, -1), cholTril: tf.reshape(std, [2, 3, 1, 1]) });
  assert.deepEqual(one.batchShape, [2, 3]);
  assertClose(
    read(one.logProb(tf.expandDims(x, -1))).data,
    read(new Normal({ mean, std }).logProb(x)).data,
    1e-5,
    1e-5,
    'D = 1',
  );
});

test('MultivariateNormalCholesky.logProb gradients w.r.t. the value, mean and L match finite differences', () => {
  const r = rng(42);
  const given = tf.tensor(uniform(r, 4 * 2 * 3, -2, 2), [4, 2, 3]);
  const mean = tf.tensor(uniform(r, 2 * 3, -1, 1), [2, 3]);
  // One L shared by the batch (broadcast); finite numbers above the diagonal,
  // whose gradient must be exactly 0.
  const chol = randomChol(r, [1, 3, 3], 2.5, true);
  const w = tf.tensor(uniform(r, 4, 0.5, 1.5), [4]);
  const { got, want } = gradientsVsFiniteDiff(
    (x, m, l) => new MVN({ mean: m, cholTril: l, groupNdims: 1 }).logProb(x),
    (x, m, l) => mvnOracle(x, m, l, 1).lp,
    [given, mean, chol],
    w,
  );
  // float32 autodiff through the solve (relative ~1e-6·cond(L)) against
  // float64 central differences (error ~1e-8): 1e-4 relative, 1e-4 absolute.
  assertClose(got[0], want[0], 1e-4, 1e-4, 'd/dgiven');
  assertClose(got[1], want[1], 1e-4, 1e-4, 'd/dmean');
  assertClose(got[2], want[2], 1e-4, 1e-4, 'd/dcholTril');
  [1, 2, 5].forEach((idx) => assert.equal(got[2][idx], 0, `upper-triangle gradient [${idx}]`));
  assert.ok(
    [0, 3, 4, 6, 7, 8].every((idx) => Math.abs(got[2][idx]) > 1e-3),
    'lower-triangle gradients are all nonzero',
  );
});

// ---- sampling -----------------------------------------------------------------

test('MultivariateNormalCholesky.sample shapes, batch broadcasting and reparameterisation flags', () => {
  const d = new MVN({ mean: tf.zeros([2, 3]), cholTril: tf.eye(3) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assert.equal(d.dtype, 'float32');
  assertSampleShapes(d, [2, 3]);
  const e = new MVN({
    mean: tf.zeros([3, 2]),
    cholTril: tf.broadcastTo(tf.eye(2), [4, 1, 2, 2]),
  });
  assert.deepEqual(e.batchShape, [4, 3]);
  assertSampleShapes(e, [4, 3, 2]);
  const f = new MVN({ mean: tf.zeros([2]), cholTril: tf.eye(2) });
  assert.deepEqual(f.batchShape, []);
  assertSampleShapes(f, [2]);
  assert.throws(
    () => d.sample(0),
    /MultivariateNormalCholesky\.sample: `nSamples` must be a positive integer/,
  );
});

test('MultivariateNormalCholesky samples have mean `mean` and covariance L·Lᵀ (5 standard errors)', () => {
  setSeed(43);
  const n = 20000;
  // Two members, D = 3, non-diagonal L with NaN above the diagonal (unread).
  const ls = [
    [1, NaN, NaN, 0.8, 1.5, NaN, -0.6, 0.4, 0.7],
    [0.5, NaN, NaN, -1.2, 0.9, NaN, 0.3, 2, 1.1],
  ];
  const ms = [
    [1, -2, 0.5],
    [0, 3, -1],
  ];
  const d = new MVN({ mean: tf.tensor(ms), cholTril: tf.tensor(ls.flat(), [2, 3, 3]) });
  const s = d.sample(n).dataSync();
  assert.ok(s.every(Number.isFinite), 'a sample is not finite');
  /** Whether the sample moments of member b agree with mean m and covariance cov. */
  const agrees = (b: number, m: number[], cov: number[]): string | null => {
    const col = (j: number) => Array.from({ length: n }, (_, i) => s[i * 6 + b * 3 + j]);
    const cols = [0, 1, 2].map(col);
    const means = cols.map((c) => c.reduce((a, v) => a + v, 0) / n);
    for (let j = 0; j < 3; j++) {
      // se of a mean: √(Σ_jj / n).
      const se = Math.sqrt(cov[j * 3 + j] / n);
      if (Math.abs(means[j] - m[j]) >= 5 * se) return `mean[${j}] ${means[j]} vs ${m[j]}`;
    }
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j <= i; j++) {
        let c = 0;
        for (let t = 0; t < n; t++) c += (cols[i][t] - means[i]) * (cols[j][t] - means[j]);
        c /= n - 1;
        // se of a Gaussian sample covariance: √((Σ_ii Σ_jj + Σ_ij²) / n).
        const se = Math.sqrt((cov[i * 3 + i] * cov[j * 3 + j] + cov[i * 3 + j] ** 2) / n);
        if (Math.abs(c - cov[i * 3 + j]) >= 5 * se)
          return `cov[${i}][${j}] ${c} vs ${cov[i * 3 + j]}`;
      }
    }
    return null;
  };
  ls.forEach((l, b) => {
    assert.equal(agrees(b, ms[b], covOf(l, 3)), null, `member ${b}`);
    // The check has power: the covariance Lᵀ·L (L applied transposed) fails it.
    const ltCov = covOf(l, 3, true);
    assert.notEqual(agrees(b, ms[b], ltCov), null, `member ${b}: Lᵀ·L passes too`);
  });
});

test('MultivariateNormalCholesky samples are reparameterised: gradients w.r.t. mean and L', () => {
  const m = tf.tensor([0.5, -1, 2]);
  const lv = [1, 9, 9, 0.8, 1.5, 9, -0.6, 0.4, 0.7];
  const l = tf.tensor(lv, [3, 3]);
  const n = 7;
  setSeed(44);
  const x = new MVN({ mean: m, cholTril: l }).sample(n).arraySync() as number[][];
  setSeed(44);
  const [gm, gl] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(new MVN({ mean: a, cholTril: b }).sample(n)),
  )([m, l]);
  // d/dmean Σ x = n per component; d/dL_ij Σ x = Σ_s ε_sj (i ≥ j), 0 above.
  assertClose(gm.dataSync(), [n, n, n], 1e-6, 1e-6, 'd/dmean');
  const eps = x.map((row) =>
    forwardSolve64(
      lv,
      row.map((v, i) => v - [0.5, -1, 2][i]),
    ),
  );
  const want = Array.from({ length: 9 }, (_, idx) => {
    const i = Math.floor(idx / 3);
    const j = idx % 3;
    return j <= i ? eps.reduce((a, e) => a + e[j], 0) : 0;
  });
  assertClose(gl.dataSync(), want, 1e-4, 1e-4, 'd/dcholTril');
  assertNoGradientPath(
    (a, b) => tf.sum(new MVN({ mean: a, cholTril: b, isReparameterized: false }).sample(n)),
    [m, l],
    'not reparameterised',
  );
});

test('MultivariateNormalCholesky sampling is reproducible from the seed', () => {
  const d = new MVN({
    mean: tf.tensor([[0, 1, 2]]),
    cholTril: tf.tensor([1, 0, 0, 0.5, 2, 0, -1, 0.3, 0.4], [3, 3]),
  });
  assertReproducible(d);
});

// ---- errors and hygiene -------------------------------------------------------

test('MultivariateNormalCholesky errors name the class and the parameter', () => {
  const eye = tf.eye(3);
  assert.throws(
    () => new MVN({ cholTril: eye } as never),
    /^Error: MultivariateNormalCholesky: `mean` is required$/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([3]) } as never),
    /^Error: MultivariateNormalCholesky: `cholTril` is required$/,
  );
  assert.throws(
    () => new MVN({ mean: 0, cholTril: eye }),
    /MultivariateNormalCholesky: `mean` must have rank at least 1/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([0]), cholTril: tf.zeros([0, 0]) }),
    /MultivariateNormalCholesky: `mean` must have D ≥ 1 dimensions, got shape \[0\]/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([3]), cholTril: tf.ones([3]) }),
    /MultivariateNormalCholesky: `cholTril` must have rank at least 2.*got shape \[3\]/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([3]), cholTril: tf.ones([3, 2]) }),
    /MultivariateNormalCholesky: the last two axes of `cholTril` must form a square matrix, got shape \[3,2\]/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([2]), cholTril: eye }),
    /MultivariateNormalCholesky: `cholTril` \[3,3\] must be D × D with D = 2, the last axis of `mean` \[2\]/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([2, 3]), cholTril: tf.ones([4, 3, 3]) }),
    /MultivariateNormalCholesky: the batch shapes of `mean` \[2\] .* and `cholTril` \[4\] .* do not broadcast/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([2, 3]), cholTril: eye, groupNdims: 2 }),
    /MultivariateNormalCholesky: `groupNdims` \(2\) exceeds/,
  );
  const d = new MVN({ mean: tf.zeros([2, 3]), cholTril: eye });
  assert.throws(
    () => d.logProb(tf.zeros([2, 4])),
    /MultivariateNormalCholesky: shapes of `given` \[2,4\] and `batch and value shape` \[2,3\] do not broadcast/,
  );
  assert.throws(
    () => d.logProb(tf.zeros([2, 1])),
    /MultivariateNormalCholesky: the last axis of `given` \[2,1\] must have size D = 3/,
  );
  assert.throws(
    () => d.logProb(tf.scalar(0)),
    /the last axis of `given` \[\] must have size D = 3/,
  );
  // validateArgs: the diagonal of L must be positive (NaN fails); off by default.
  const bad = tf.tensor([1, 0, 0, 0.5, -2, 0, 0, 0, 1], [3, 3]);
  assert.throws(
    () => new MVN({ mean: tf.zeros([3]), cholTril: bad, validateArgs: true }),
    /^Error: MultivariateNormalCholesky: the diagonal of `cholTril` must be positive$/,
  );
  assert.throws(
    () =>
      new MVN({
        mean: tf.zeros([3]),
        cholTril: tf.tensor([1, 0, 0, 0, 0, 0, 0, 0, 1], [3, 3]),
        validateArgs: true,
      }),
    /diagonal of `cholTril` must be positive/,
  );
  assert.throws(
    () =>
      new MVN({
        mean: tf.zeros([3]),
        cholTril: tf.tensor([1, 0, 0, 0, NaN, 0, 0, 0, 1], [3, 3]),
        validateArgs: true,
      }),
    /diagonal of `cholTril` must be positive/,
  );
  // Only the diagonal is checked: negative or NaN entries elsewhere pass.
  assert.doesNotThrow(
    () =>
      new MVN({
        mean: tf.zeros([3]),
        cholTril: tf.tensor([1, NaN, -1, -3, 2, NaN, 0, -1, 1], [3, 3]),
        validateArgs: true,
      }),
  );
  assert.doesNotThrow(() => new MVN({ mean: tf.zeros([3]), cholTril: bad }));
  setValidateArgs(true);
  try {
    assert.throws(() => new MVN({ mean: tf.zeros([3]), cholTril: bad }), /diagonal of `cholTril`/);
  } finally {
    setValidateArgs(false);
  }
});

test('MultivariateNormalCholesky leaks no tensors', () => {
  const mean = tf.tensor([[0.5, -1, 2]]);
  const chol = tf.tensor([1, 0, 0, 0.5, 2, 0, -1, 0.3, 0.4], [3, 3]);
  const d = new MVN({ mean, cholTril: chol, groupNdims: 1 });
  const dv = new MVN({ mean, cholTril: chol, validateArgs: true });
  const x = tf.tensor([[0.1, 0.2, 0.3]]);
  const wrongShape = tf.tensor([[0.1, 0.2]]);
  const bad = tf.tensor([1, 0, 0, 0, -1, 0, 0, 0, 1], [3, 3]);
  noLeak('validated construction', () => new MVN({ mean, cholTril: chol, validateArgs: true }));
  assertLeakFree(d, dv, x, wrongShape, () => new MVN({ mean, cholTril: bad, validateArgs: true }));
  noLeak('grads', () =>
    tf.dispose(
      tf.grads((m: tf.Tensor, l: tf.Tensor) =>
        tf.sum(
          new MVN({ mean: m, cholTril: l }).logProb(new MVN({ mean: m, cholTril: l }).sample(3)),
        ),
      )([mean, chol]),
    ),
  );
  assert.equal(mean.isDisposed || chol.isDisposed || bad.isDisposed, false);
});
