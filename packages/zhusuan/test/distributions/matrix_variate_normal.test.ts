import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { MatrixVariateNormalCholesky } from '../../src/distributions/matrix_variate_normal.js';
import { MultivariateNormalCholesky } from '../../src/distributions/multivariate_normal.js';
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
import {
  chol64,
  kron64,
  lowerPart64,
  matMul64,
  matrices,
  randomChol,
  transpose64,
  triSolve64,
} from '../linalg64.js';
import {
  arr,
  assertCloseToScale,
  assertLeakFree,
  assertReproducible,
  assertSampleShapes,
  broadcastShape,
  gradientsVsFiniteDiff,
  size,
  sumLast64,
  type Arr,
} from './oracles.js';

before(useCpu);

const MVN = MatrixVariateNormalCholesky;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

// ---- float64 oracle: the multivariate Normal of vec(X) with covariance V ⊗ U ----

/** vec(x): the columns of the n × p matrix x (row-major) stacked. */
const vec = (x: number[], n: number, p: number): number[] => transpose64(x, n, p);

/**
 * log N(vec(x); vec(m), V ⊗ U) in float64, U = L_U·L_Uᵀ and V = L_V·L_Vᵀ
 * (lower triangles of `lu`, `lv` read), through the Cholesky factor of the
 * np × np Kronecker product; and the sum of its absolute terms (the float32
 * scale).
 */
function mvnKronLogPdf(
  x: number[],
  m: number[],
  lu: number[],
  lv: number[],
  n: number,
  p: number,
): { lp: number; scale: number } {
  const luL = lowerPart64(lu, n);
  const lvL = lowerPart64(lv, p);
  const cov = kron64(matMul64(lvL, lvL, p, p, p, true), p, matMul64(luL, luL, n, n, n, true), n);
  const d = n * p;
  const l = chol64(cov, d);
  const y = vec(x, n, p).map((v, i) => v - vec(m, n, p)[i]);
  const z = triSolve64(l, y, d, 1, true, false);
  const quad = z.reduce((s, v) => s + v * v, 0);
  let logDet = 0;
  for (let i = 0; i < d; i++) logDet += Math.log(l[i * d + i]);
  return {
    lp: -d * HALF_LOG_2PI - logDet - 0.5 * quad,
    scale: d * HALF_LOG_2PI + Math.abs(logDet) + 0.5 * quad,
  };
}

/** The oracle over the broadcast batch of the value and the parameters, `groupNdims` axes summed. */
function oracle64(
  given: Arr,
  mean: Arr,
  u: Arr,
  v: Arr,
  groupNdims: number,
): { lp: number[]; scale: number[] } {
  const [n, p] = mean.shape.slice(-2);
  const batch = broadcastShape(
    given.shape.slice(0, -2),
    mean.shape.slice(0, -2),
    u.shape.slice(0, -2),
    v.shape.slice(0, -2),
  );
  const xs = matrices(given, batch, n, p);
  const ms = matrices(mean, batch, n, p);
  const us = matrices(u, batch, n, n);
  const vs = matrices(v, batch, p, p);
  const r = xs.map((x, i) => mvnKronLogPdf(x, ms[i], us[i], vs[i], n, p));
  return {
    lp: sumLast64(
      r.map((t) => t.lp),
      batch,
      groupNdims,
    ),
    scale: sumLast64(
      r.map((t) => t.scale),
      batch,
      groupNdims,
    ),
  };
}

/** {@link randomChol} with the entries below the diagonal scaled by 1/√n (condition below ~20 up to n = 33). */
const randomFactor = (r: () => number, shape: number[], upper: number, signed = false) =>
  randomChol(r, shape, upper, signed, 0.5 / Math.sqrt(shape[shape.length - 1]));

// ---- logProb ------------------------------------------------------------------

const CASES: {
  mean: number[];
  u: number[];
  v: number[];
  given: number[];
  group: number;
  out: number[];
}[] = [
  { mean: [2, 3], u: [2, 2], v: [3, 3], given: [2, 3], group: 0, out: [] },
  { mean: [2, 3], u: [2, 2], v: [3, 3], given: [5, 2, 3], group: 0, out: [5] },
  { mean: [4, 2, 3], u: [2, 2], v: [3, 3], given: [4, 2, 3], group: 1, out: [] },
  { mean: [2, 3], u: [4, 2, 2], v: [1, 3, 3], given: [4, 2, 3], group: 0, out: [4] },
  { mean: [2, 1, 3, 2], u: [3, 3, 3], v: [2, 2], given: [6, 2, 3, 3, 2], group: 1, out: [6, 2] },
  { mean: [1, 1], u: [1, 1], v: [1, 1], given: [3, 1, 1], group: 0, out: [3] },
  { mean: [5, 4], u: [5, 5], v: [2, 4, 4], given: [2, 5, 4], group: 1, out: [] },
  { mean: [33, 2], u: [33, 33], v: [2, 2], given: [33, 2], group: 0, out: [] },
];

test('MatrixVariateNormalCholesky.logProb is that of vec(X) ~ N(vec(M), V ⊗ U) in float64 (broadcasting, groupNdims)', () => {
  const r = rng(111);
  for (const c of CASES) {
    const [n, p] = c.mean.slice(-2);
    // NaN above the diagonals: never read.
    for (const [upper, signed] of [
      [NaN, false],
      [3.5, true],
    ] as const) {
      const mean = tf.tensor(uniform(r, size(c.mean), -1, 1), c.mean);
      const u = randomFactor(r, c.u, upper, signed);
      const v = randomFactor(r, c.v, upper, signed);
      const given = tf.tensor(uniform(r, size(c.given), -3, 3), c.given);
      const d = new MVN({ mean, uTril: u, vTril: v, groupNdims: c.group });
      assert.deepEqual(
        d.batchShape,
        broadcastShape(c.mean.slice(0, -2), c.u.slice(0, -2), c.v.slice(0, -2)),
      );
      assert.deepEqual(d.valueShape, [n, p]);
      assert.deepEqual([d.nRow, d.nCol], [n, p]);
      const want = oracle64(arr(given), arr(mean), arr(u), arr(v), c.group);
      const got = noLeak('logProb', () => read(d.logProb(given)));
      assert.deepEqual(got.shape, c.out, `${JSON.stringify(c)} shape`);
      // float32: each term rounds to ~6e-8 of its size, the two solves grow
      // that with n·cond (cond ≤ ~20): 2e-6 of the summed absolute terms
      // (plus 1e-5) against an O(1) error for a wrong formula.
      assertCloseToScale(got.data, want.lp, want.scale, 2e-6, 1e-5, JSON.stringify(c));
      assertClose(read(d.prob(given)).data, want.lp.map(Math.exp), 2e-4, 1e-30, 'prob');
      tf.dispose([mean, u, v, given]);
    }
  }
});

test('MatrixVariateNormalCholesky with one column is MultivariateNormalCholesky with L = |v|·L_U', () => {
  const r = rng(112);
  const mean = tf.tensor(uniform(r, 12, -1, 1), [3, 4, 1]);
  const u = randomFactor(r, [3, 4, 4], 0);
  const x = tf.tensor(uniform(r, 24, -2, 2), [2, 3, 4, 1]);
  const got = read(new MVN({ mean, uTril: u, vTril: tf.tensor([[-1.7]]) }).logProb(x)).data;
  const want = read(
    new MultivariateNormalCholesky({
      mean: tf.squeeze(mean, [2]),
      cholTril: tf.mul(u, 1.7),
    }).logProb(tf.squeeze(x, [3])),
  ).data;
  assertClose(got, want, 1e-5, 1e-5, 'p = 1');
});

test('MatrixVariateNormalCholesky.logProb gradients w.r.t. the value, mean, uTril and vTril match finite differences', () => {
  const r = rng(113);
  const given = tf.tensor(uniform(r, 3 * 2 * 2 * 3, -2, 2), [3, 2, 2, 3]);
  const mean = tf.tensor(uniform(r, 2 * 2 * 3, -1, 1), [2, 2, 3]);
  // uTril shared by the batch (broadcast), vTril per member; finite numbers
  // above the diagonals, whose gradients must be exactly 0.
  const u = randomFactor(r, [2, 2], 2.5, true);
  const v = randomFactor(r, [2, 3, 3], 2.5, true);
  const w = tf.tensor(uniform(r, 3, 0.5, 1.5), [3]);
  const { got, want } = gradientsVsFiniteDiff(
    (x, m, lu, lv) => new MVN({ mean: m, uTril: lu, vTril: lv, groupNdims: 1 }).logProb(x),
    (x, m, lu, lv) => oracle64(x, m, lu, lv, 1).lp,
    [given, mean, u, v],
    w,
  );
  // float32 autodiff through two solves against float64 central differences.
  ['given', 'mean', 'uTril', 'vTril'].forEach((name, i) =>
    assertClose(got[i], want[i], 1e-4, 1e-4, `d/d${name}`),
  );
  assert.equal(got[2][1], 0, 'uTril above the diagonal');
  [1, 2, 5].forEach((idx) => {
    assert.equal(got[3][idx], 0, `vTril above the diagonal [${idx}]`);
    assert.equal(got[3][9 + idx], 0, `vTril above the diagonal [${9 + idx}]`);
  });
});

// ---- sampling -----------------------------------------------------------------

test('MatrixVariateNormalCholesky.sample shapes, batch broadcasting and flags', () => {
  const d = new MVN({ mean: tf.zeros([2, 3, 2]), uTril: tf.eye(3), vTril: tf.eye(2) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assert.equal(d.dtype, 'float32');
  assertSampleShapes(d, [2, 3, 2]);
  const e = new MVN({
    mean: tf.zeros([3, 2]),
    uTril: tf.broadcastTo(tf.eye(3), [4, 1, 3, 3]),
    vTril: tf.broadcastTo(tf.eye(2), [5, 2, 2]),
  });
  assert.deepEqual(e.batchShape, [4, 5]);
  assertSampleShapes(e, [4, 5, 3, 2]);
  assert.throws(
    () => d.sample(0),
    /MatrixVariateNormalCholesky\.sample: `nSamples` must be a positive integer/,
  );
});

test('MatrixVariateNormalCholesky samples: vec(X) has mean vec(M) and covariance V ⊗ U (5 standard errors)', () => {
  setSeed(114);
  const nS = 20000;
  const lu = [1, NaN, -0.8, 0.6];
  const lvs = [
    [1.5, NaN, 0.7, 0.5],
    [0.4, NaN, -1.2, 1.1],
  ];
  const m = [1, -2, 0.5, 3];
  const d = new MVN({
    mean: tf.tensor(m, [2, 2]),
    uTril: tf.tensor(lu, [2, 2]),
    vTril: tf.tensor(lvs.flat(), [2, 2, 2]),
  });
  const s = d.sample(nS).dataSync();
  assert.ok(s.every(Number.isFinite));
  const cov = (a: number[], b: number[]) => {
    const aL = lowerPart64(
      a.map((x) => (Number.isNaN(x) ? 0 : x)),
      2,
    );
    const bL = lowerPart64(
      b.map((x) => (Number.isNaN(x) ? 0 : x)),
      2,
    );
    return kron64(matMul64(bL, bL, 2, 2, 2, true), 2, matMul64(aL, aL, 2, 2, 2, true), 2);
  };
  /** Whether member b's vec(X) samples agree with mean vec(m) and covariance c (4 × 4); else why not. */
  const agrees = (b: number, c: number[]): string | null => {
    const cols = [0, 1, 2, 3].map((k) =>
      // vec index k = j·2 + i ↔ X[i][j], at flat offset b·4 + i·2 + j of a draw.
      Array.from({ length: nS }, (_, t) => s[t * 8 + b * 4 + (k % 2) * 2 + Math.floor(k / 2)]),
    );
    const mv = vec(m, 2, 2);
    const means = cols.map((col) => col.reduce((acc, x) => acc + x, 0) / nS);
    for (let k = 0; k < 4; k++) {
      if (Math.abs(means[k] - mv[k]) >= 5 * Math.sqrt(c[k * 5] / nS))
        return `mean[${k}] ${means[k]}`;
    }
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j <= i; j++) {
        let acc = 0;
        for (let t = 0; t < nS; t++) acc += (cols[i][t] - means[i]) * (cols[j][t] - means[j]);
        const got = acc / (nS - 1);
        const se = Math.sqrt((c[i * 5] * c[j * 5] + c[i * 4 + j] ** 2) / nS);
        if (Math.abs(got - c[i * 4 + j]) >= 5 * se)
          return `cov[${i}][${j}] ${got} vs ${c[i * 4 + j]}`;
      }
    }
    return null;
  };
  lvs.forEach((lv, b) => {
    assert.equal(agrees(b, cov(lu, lv)), null, `member ${b}`);
    // The check has power: U ⊗ V (rows and columns swapped) fails it.
    const swapped = (() => {
      const uL = lowerPart64(
        lu.map((x) => (Number.isNaN(x) ? 0 : x)),
        2,
      );
      const vL = lowerPart64(
        lv.map((x) => (Number.isNaN(x) ? 0 : x)),
        2,
      );
      return kron64(matMul64(uL, uL, 2, 2, 2, true), 2, matMul64(vL, vL, 2, 2, 2, true), 2);
    })();
    assert.notEqual(agrees(b, swapped), null, `member ${b}: U ⊗ V passes too`);
  });
});

test('MatrixVariateNormalCholesky samples are reparameterised: gradients w.r.t. mean, uTril and vTril', () => {
  const [n, p, nS] = [3, 2, 6];
  const mv = [0.5, -1, 2, 0, 1, -0.5];
  const luv = [1, 9, 9, 0.8, 1.5, 9, -0.6, 0.4, 0.7];
  const lvv = [1.2, 9, -0.3, 0.9];
  const m = tf.tensor(mv, [n, p]);
  const lu = tf.tensor(luv, [n, n]);
  const lv = tf.tensor(lvv, [p, p]);
  setSeed(115);
  const x = new MVN({ mean: m, uTril: lu, vTril: lv }).sample(nS).dataSync();
  setSeed(115);
  const [gm, gu, gv] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(new MVN({ mean: a, uTril: b, vTril: c }).sample(nS)),
  )([m, lu, lv]);
  assertClose(gm.dataSync(), new Array(n * p).fill(nS), 1e-6, 1e-6, 'd/dmean');
  // E_s = L_U⁻¹(X_s − M)L_V⁻ᵀ; Σ X = Σ_s 1ᵀ L_U E_s L_Vᵀ 1.
  const luL = lowerPart64(luv, n);
  const lvL = lowerPart64(lvv, p);
  const es = Array.from({ length: nS }, (_, t) => {
    const y = Array.from({ length: n * p }, (_, k) => x[t * n * p + k] - mv[k]);
    const a = triSolve64(luL, y, n, p, true, false); // L_U⁻¹·Y
    return transpose64(triSolve64(lvL, transpose64(a, n, p), p, n, true, false), p, n);
  });
  // d/dL_U[i][j] = Σ_s Σ_l (E_s·L_Vᵀ)[j][l] (i ≥ j); d/dL_V[i][j] = Σ_s Σ_k (L_U·E_s)[k][j] (i ≥ j).
  const wantU = Array.from({ length: n * n }, (_, idx) => {
    const [i, j] = [Math.floor(idx / n), idx % n];
    if (j > i) return 0;
    return es.reduce(
      (acc, e) =>
        acc +
        matMul64(e, lvL, n, p, p, true)
          .slice(j * p, (j + 1) * p)
          .reduce((q, v) => q + v, 0),
      0,
    );
  });
  const wantV = Array.from({ length: p * p }, (_, idx) => {
    const [i, j] = [Math.floor(idx / p), idx % p];
    if (j > i) return 0;
    return es.reduce((acc, e) => {
      const le = matMul64(luL, e, n, n, p);
      return acc + le.filter((_, k) => k % p === j).reduce((q, v) => q + v, 0);
    }, 0);
  });
  assertClose(gu.dataSync(), wantU, 1e-4, 1e-4, 'd/duTril');
  assertClose(gv.dataSync(), wantV, 1e-4, 1e-4, 'd/dvTril');
  assertNoGradientPath(
    (a, b, c) =>
      tf.sum(new MVN({ mean: a, uTril: b, vTril: c, isReparameterized: false }).sample(nS)),
    [m, lu, lv],
    'not reparameterised',
  );
});

test('MatrixVariateNormalCholesky sampling is reproducible from the seed', () => {
  assertReproducible(
    new MVN({
      mean: tf.zeros([2, 3]),
      uTril: tf.tensor([
        [1, 0],
        [0.5, 2],
      ]),
      vTril: tf.eye(3),
    }),
  );
});

// ---- errors and hygiene -------------------------------------------------------

test('MatrixVariateNormalCholesky errors name the class and the parameter', () => {
  const [u, v] = [tf.eye(2), tf.eye(3)];
  const mean = tf.zeros([2, 3]);
  assert.throws(
    () => new MVN({ uTril: u, vTril: v } as never),
    /^Error: MatrixVariateNormalCholesky: `mean` is required$/,
  );
  assert.throws(
    () => new MVN({ mean, vTril: v } as never),
    /^Error: MatrixVariateNormalCholesky: `uTril` is required$/,
  );
  assert.throws(
    () => new MVN({ mean, uTril: u } as never),
    /^Error: MatrixVariateNormalCholesky: `vTril` is required$/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([3]), uTril: u, vTril: v }),
    /MatrixVariateNormalCholesky: `mean` must have rank at least 2 \(its last two axes hold an n × p matrix\), got shape \[3\]/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([0, 3]), uTril: tf.zeros([0, 0]), vTril: v }),
    /MatrixVariateNormalCholesky: `mean` must hold matrices of n, p ≥ 1, got shape \[0,3\]/,
  );
  assert.throws(
    () => new MVN({ mean, uTril: tf.ones([2, 3]), vTril: v }),
    /MatrixVariateNormalCholesky: the last two axes of `uTril` must form a square matrix, got shape \[2,3\]/,
  );
  assert.throws(
    () => new MVN({ mean, uTril: tf.eye(3), vTril: v }),
    /MatrixVariateNormalCholesky: `uTril` \[3,3\] must be n × n with n = 2, the rows of `mean` \[2,3\]/,
  );
  assert.throws(
    () => new MVN({ mean, uTril: u, vTril: tf.ones([3]) }),
    /MatrixVariateNormalCholesky: `vTril` must have rank at least 2/,
  );
  assert.throws(
    () => new MVN({ mean, uTril: u, vTril: tf.eye(2) }),
    /MatrixVariateNormalCholesky: `vTril` \[2,2\] must be p × p with p = 3, the columns of `mean` \[2,3\]/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([4, 2, 3]), uTril: tf.ones([5, 2, 2]), vTril: v }),
    /MatrixVariateNormalCholesky: the batch shapes of `mean` \[4\], `uTril` \[5\] and `vTril` \[\] .*do not broadcast/,
  );
  assert.throws(
    () => new MVN({ mean: tf.zeros([4, 2, 3]), uTril: u, vTril: tf.ones([5, 3, 3]) }),
    /the batch shapes of `mean` \[4\], `uTril` \[\] and `vTril` \[5\]/,
  );
  assert.throws(
    () => new MVN({ mean, uTril: u, vTril: v, groupNdims: 1 }),
    /`groupNdims` \(1\) exceeds/,
  );
  const d = new MVN({ mean, uTril: u, vTril: v });
  assert.throws(
    () => d.logProb(tf.zeros([2, 1])),
    /^Error: MatrixVariateNormalCholesky: the last two axes of `given` \[2,1\] must be n × p = 2 × 3, as in `mean` \[2,3\]$/,
  );
  assert.throws(() => d.logProb(tf.zeros([3])), /the last two axes of `given` \[3\] must be n × p/);
  assert.throws(
    () => d.logProb(tf.zeros([2, 4])),
    /shapes of `given` \[2,4\] and `batch and value shape` \[2,3\] do not broadcast/,
  );
  // validateArgs: positive diagonals (NaN fails); off by default.
  const bad = tf.tensor([1, 0, 0.5, -2], [2, 2]);
  assert.throws(
    () => new MVN({ mean, uTril: bad, vTril: v, validateArgs: true }),
    /^Error: MatrixVariateNormalCholesky: the diagonal of `uTril` must be positive$/,
  );
  assert.throws(
    () =>
      new MVN({
        mean,
        uTril: u,
        vTril: tf.tensor([1, 0, 0, 0, NaN, 0, 0, 0, 1], [3, 3]),
        validateArgs: true,
      }),
    /^Error: MatrixVariateNormalCholesky: the diagonal of `vTril` must be positive$/,
  );
  assert.doesNotThrow(
    () =>
      new MVN({ mean, uTril: tf.tensor([1, NaN, -3, 2], [2, 2]), vTril: v, validateArgs: true }),
  );
  assert.doesNotThrow(() => new MVN({ mean, uTril: bad, vTril: v }));
  setValidateArgs(true);
  try {
    assert.throws(() => new MVN({ mean, uTril: bad, vTril: v }), /diagonal of `uTril`/);
  } finally {
    setValidateArgs(false);
  }
});

test('MatrixVariateNormalCholesky leaks no tensors', () => {
  const mean = tf.tensor([
    [0.5, -1, 2],
    [0, 1, 0],
  ]);
  const u = tf.tensor([1, 0, 0.5, 2], [2, 2]);
  const v = tf.tensor([1, 0, 0, 0.5, 2, 0, -1, 0.3, 0.4], [3, 3]);
  const d = new MVN({ mean: tf.expandDims(mean, 0), uTril: u, vTril: v, groupNdims: 1 });
  const dv = new MVN({ mean: tf.expandDims(mean, 0), uTril: u, vTril: v, validateArgs: true });
  const x = tf.expandDims(mean, 0);
  const wrongShape = tf.zeros([1, 2, 2]);
  const bad = tf.tensor([1, 0, 0, -1], [2, 2]);
  noLeak('validated construction', () => new MVN({ mean, uTril: u, vTril: v, validateArgs: true }));
  assertLeakFree(
    d,
    dv,
    x,
    wrongShape,
    () => new MVN({ mean, uTril: bad, vTril: v, validateArgs: true }),
  );
  noLeak('grads', () =>
    tf.dispose(
      tf.grads((m: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const q = new MVN({ mean: m, uTril: a, vTril: b });
        return tf.sum(q.logProb(q.sample(3)));
      })([mean, u, v]),
    ),
  );
  assert.equal(mean.isDisposed || u.isDisposed || v.isDisposed || bad.isDisposed, false);
});
