/**
 * zs.cholesky and zs.triangularSolve against float64 oracles (./linalg64.ts):
 * values over batch and broadcasting tables (sizes below and above the
 * block size 32), gradients against float64 central differences, the
 * triangle that is never read, errors, and tensor leaks.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { assertClose, noLeak, read, readGrads, rng, uniform, useCpu } from './helpers.js';
import { arr, broadcastShape, finiteDiff, size, type Arr } from './distributions/oracles.js';
import { chol64, matMul64, matrices, triSolve64 } from './linalg64.js';

before(useCpu);

/**
 * A batch `[...batch, n, n]` of symmetric positive-definite matrices
 * M·Mᵀ/n + I (M standard normal: eigenvalues in about [1, 5]), with `upper`
 * written above the diagonal instead of the mirrored entries when given.
 */
function spd(r: () => number, batch: number[], n: number, upper?: number): tf.Tensor {
  const out: number[] = [];
  for (let b = 0; b < size(batch); b++) {
    const m = Array.from({ length: n * n }, () => gaussian(r));
    const a = matMul64(m, m, n, n, n, true).map((v, idx) => v / n + (idx % (n + 1) === 0 ? 1 : 0));
    out.push(
      ...a.map((v, idx) => (upper !== undefined && idx % n > Math.floor(idx / n) ? upper : v)),
    );
  }
  return tf.tensor(out, [...batch, n, n]);
}

/** A standard normal draw from the uniform generator `r` (Box–Muller). */
function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * A batch of triangular matrices: diagonal in ±[0.8, 1.6] (signs mixed),
 * the read triangle uniform in [−0.5, 0.5]/√n (condition number below ~10),
 * the other triangle `other`.
 */
function triangular(r: () => number, shape: number[], lower: boolean, other: number): tf.Tensor {
  const n = shape[shape.length - 1];
  const v = Array.from({ length: size(shape) }, (_, idx) => {
    const i = Math.floor(idx / n) % n;
    const j = idx % n;
    if (i === j) return (r() < 0.5 ? -1 : 1) * (0.8 + 0.8 * r());
    return (lower ? j < i : j > i) ? (r() - 0.5) / Math.sqrt(n) : other;
  });
  return tf.tensor(v, shape);
}

/** Float64 Cholesky factors of every matrix of `a` `[...batch, n, n]`, flat. */
function chol64Batch(a: Arr): number[] {
  const n = a.shape[a.shape.length - 1];
  return matrices(a, a.shape.slice(0, -2), n, n).flatMap((m) => chol64(m, n));
}

/** Float64 op(l)⁻¹·b over the broadcast batch of `l` and `b`, flat. */
function solve64Batch(l: Arr, b: Arr, lower: boolean, adjoint: boolean): number[] {
  const n = l.shape[l.shape.length - 1];
  const k = b.shape[b.shape.length - 1];
  const batch = broadcastShape(l.shape.slice(0, -2), b.shape.slice(0, -2));
  const ls = matrices(l, batch, n, n);
  const bs = matrices(b, batch, n, k);
  return ls.flatMap((lm, i) => triSolve64(lm, bs[i], n, k, lower, adjoint));
}

// ---- cholesky -------------------------------------------------------------------

test('cholesky matches a float64 Cholesky and l·lᵀ = a (batches, n below and above the block size)', () => {
  const r = rng(71);
  for (const [batch, n] of [
    [[], 1],
    [[], 3],
    [[2], 5],
    [[2, 1], 32],
    [[], 40],
    [[2], 70],
  ] as [number[], number][]) {
    // NaN above the diagonal: only the lower triangle is read.
    const a = spd(r, batch, n, NaN);
    const got = noLeak('cholesky', () => read(zs.cholesky(a)));
    assert.deepEqual(got.shape, [...batch, n, n]);
    const want = chol64Batch(arr(a));
    // float32 rounding grows like n·2^−24·cond(a) (cond ≤ ~5 here): measured
    // below 1e-6 for n = 70, so 1e-5 absolute on entries of size ~1.
    assertClose(got.data, want, 0, 1e-5, `cholesky ${batch} n = ${n}`);
    const ls = matrices({ data: got.data, shape: got.shape }, batch, n, n);
    const as = matrices(arr(a), batch, n, n);
    ls.forEach((l, b) => {
      l.forEach((v, idx) => {
        if (idx % n > Math.floor(idx / n)) assert.equal(v, 0, 'above the diagonal');
        if (idx % (n + 1) === 0) assert.ok(v > 0, 'positive diagonal');
      });
      const llt = matMul64(l, l, n, n, n, true);
      const sym = as[b].map((v, idx) =>
        Number.isNaN(v) ? as[b][(idx % n) * n + Math.floor(idx / n)] : v,
      );
      assertClose(llt, sym, 0, 1e-5, `l·lᵀ = a, ${batch} n = ${n}`);
    });
    a.dispose();
  }
});

test('cholesky gradients match float64 finite differences through a = m·mᵀ + I', () => {
  const r = rng(72);
  for (const [batch, n] of [
    [[], 4],
    [[2], 3],
    [[], 34],
  ] as [number[], number][]) {
    const m = tf.tensor(uniform(r, size(batch) * n * n, -1, 1), [...batch, n, n]);
    const w = tf.tensor(uniform(r, size(batch) * n * n, -1, 1), [...batch, n, n]);
    const f = (x: tf.Tensor) =>
      tf.sum(tf.mul(zs.cholesky(tf.add(tf.matMul(x, x, false, true), tf.eye(n))), w));
    const [got] = readGrads(f, [m]);
    const wv = arr(w).data;
    const f64 = (x: Arr): number => {
      const as = matrices(x, batch, n, n).map((mm) =>
        matMul64(mm, mm, n, n, n, true).map((v, idx) => v + (idx % (n + 1) === 0 ? 1 : 0)),
      );
      return as.flatMap((a) => chol64(a, n)).reduce((s, v, i) => s + v * wv[i], 0);
    };
    const want = finiteDiff(arr(m), f64);
    // float32 autodiff (two triangular solves, relative error ~n·2^−24·cond)
    // against float64 central differences (error ~1e-9): 2e-4 relative and
    // absolute, while a wrong formula is off by O(1).
    assertClose(got, want, 2e-4, 2e-4, `d/dm, ${batch} n = ${n}`);
    tf.dispose([m, w]);
  }
});

test('the cholesky gradient is symmetric: an off-diagonal entry moves both a_ij and a_ji', () => {
  const r = rng(73);
  const n = 5;
  const a = spd(r, [], n);
  const w = tf.tensor(uniform(r, n * n, -1, 1), [n, n]);
  const [g] = readGrads((x) => tf.sum(tf.mul(zs.cholesky(x), w)), [a]);
  const wv = arr(w).data;
  const av = arr(a).data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      assertClose(g[i * n + j], g[j * n + i], 1e-6, 1e-7, `symmetric [${i}, ${j}]`);
      // f(a + t·E), E = e_i e_jᵀ + e_j e_iᵀ (or e_i e_iᵀ): only the lower entry is read.
      const f = (t: number) => {
        const b = [...av];
        b[i * n + j] += t;
        return chol64(b, n).reduce((s, v, k) => s + v * wv[k], 0);
      };
      const h = 1e-6;
      const dir = (f(h) - f(-h)) / (2 * h);
      assertClose(
        i === j ? g[i * n + i] : 2 * g[i * n + j],
        dir,
        2e-4,
        2e-5,
        `⟨ā, E⟩ [${i}, ${j}]`,
      );
    }
  }
  tf.dispose([a, w]);
});

// ---- triangularSolve ------------------------------------------------------------

const SOLVES: { l: number[]; b: number[] }[] = [
  { l: [1, 1], b: [1, 2] },
  { l: [3, 3], b: [3, 2] },
  { l: [3, 3], b: [2, 3, 2] },
  { l: [2, 1, 4, 4], b: [3, 4, 1] },
  { l: [2, 4, 4], b: [1, 4, 3] },
  { l: [40, 40], b: [40, 3] },
  { l: [70, 70], b: [2, 70, 2] },
];

test('triangularSolve matches a float64 solve (lower/upper, adjoint, broadcasting, n above the block size)', () => {
  const r = rng(74);
  for (const c of SOLVES) {
    for (const lower of [true, false]) {
      for (const adjoint of [false, true]) {
        // NaN in the triangle that is not read.
        const l = triangular(r, c.l, lower, NaN);
        const b = tf.tensor(uniform(r, size(c.b), -2, 2), c.b);
        const got = noLeak('triangularSolve', () =>
          read(zs.triangularSolve(l, b, { lower, adjoint })),
        );
        const batch = broadcastShape(c.l.slice(0, -2), c.b.slice(0, -2));
        assert.deepEqual(got.shape, [...batch, ...c.b.slice(-2)]);
        const want = solve64Batch(arr(l), arr(b), lower, adjoint);
        // float32: relative error ~n·2^−24·cond(l) (cond ≤ ~10) on values of size ~2.
        assertClose(
          got.data,
          want,
          1e-5,
          1e-5,
          `${JSON.stringify(c)} lower ${lower} adjoint ${adjoint}`,
        );
        tf.dispose([l, b]);
      }
    }
  }
});

test('triangularSolve gradients match float64 finite differences; the unread triangle gets 0', () => {
  const r = rng(75);
  for (const c of [
    { l: [3, 3], b: [2, 3, 2] },
    { l: [2, 1, 3, 3], b: [4, 3, 1] },
    { l: [35, 35], b: [35, 2] },
  ]) {
    for (const lower of [true, false]) {
      for (const adjoint of [false, true]) {
        // Finite numbers in the other triangle: their gradient must be exactly 0.
        const l = triangular(r, c.l, lower, 2.5);
        const b = tf.tensor(uniform(r, size(c.b), -2, 2), c.b);
        const batch = broadcastShape(c.l.slice(0, -2), c.b.slice(0, -2));
        const out = [...batch, ...c.b.slice(-2)];
        const w = tf.tensor(uniform(r, size(out), -1, 1), out);
        const got = readGrads(
          (x, y) => tf.sum(tf.mul(zs.triangularSolve(x, y, { lower, adjoint }), w)),
          [l, b],
        );
        const wv = arr(w).data;
        const f = (x: Arr, y: Arr) =>
          solve64Batch(x, y, lower, adjoint).reduce((s, v, i) => s + v * wv[i], 0);
        const la = arr(l);
        const ba = arr(b);
        const what = `${JSON.stringify(c)} lower ${lower} adjoint ${adjoint}`;
        // float32 autodiff vs float64 central differences: 1e-4 relative and absolute.
        assertClose(
          got[0],
          finiteDiff(la, (x) => f(x, ba)),
          1e-4,
          1e-4,
          `d/dl ${what}`,
        );
        assertClose(
          got[1],
          finiteDiff(ba, (y) => f(la, y)),
          1e-4,
          1e-4,
          `d/db ${what}`,
        );
        const n = c.l[c.l.length - 1];
        got[0].forEach((v, idx) => {
          const i = Math.floor(idx / n) % n;
          const j = idx % n;
          if (lower ? j > i : j < i) assert.equal(v, 0, `unread triangle [${idx}] ${what}`);
        });
        tf.dispose([l, b, w]);
      }
    }
  }
});

test('triangularSolve with the Cholesky factor solves the system: a·x = b', () => {
  const r = rng(76);
  const a = spd(r, [], 6);
  const b = tf.tensor(uniform(r, 12, -1, 1), [6, 2]);
  const x = tf.tidy(() => {
    const l = zs.cholesky(a);
    return zs.triangularSolve(l, zs.triangularSolve(l, b), { adjoint: true });
  });
  assertClose(read(tf.matMul(a, x)).data, arr(b).data, 1e-5, 1e-5, 'a·x');
  tf.dispose([a, b, x]);
});

// ---- errors and hygiene ---------------------------------------------------------

test('cholesky and triangularSolve errors name the op and the argument', () => {
  const sq = tf.eye(3);
  assert.throws(
    () => zs.cholesky(tf.ones([3])),
    /^Error: cholesky: `a` must have rank at least 2 \(its last two axes hold n × n symmetric positive-definite matrices\), got shape \[3\]$/,
  );
  assert.throws(
    () => zs.cholesky(tf.ones([2, 3, 2])),
    /^Error: cholesky: the last two axes of `a` must form a square matrix, got shape \[2,3,2\]$/,
  );
  assert.throws(
    () => zs.triangularSolve(tf.ones([3, 2]), tf.ones([3, 1])),
    /^Error: triangularSolve: the last two axes of `l` must form a square matrix, got shape \[3,2\]$/,
  );
  assert.throws(
    () => zs.triangularSolve(sq, tf.ones([3])),
    /^Error: triangularSolve: `b` must have rank at least 2 .*got shape \[3\]$/,
  );
  assert.throws(
    () => zs.triangularSolve(sq, tf.ones([2, 1])),
    /^Error: triangularSolve: `b` \[2,1\] must have n = 3 rows \(its second-last axis\), as `l` \[3,3\] is n × n$/,
  );
  assert.throws(
    () => zs.triangularSolve(tf.ones([2, 3, 3]), tf.ones([4, 3, 1])),
    /^Error: triangularSolve: the batch shapes of `l` \[2\] and `b` \[4\] .*do not broadcast$/,
  );
  // Not positive definite: NaN unchecked, an error naming the member and the minor when checked.
  const bad = tf.tensor([4, 2, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1], [2, 3, 3]);
  const l = zs.cholesky(bad);
  assert.ok(Number.isNaN(l.dataSync()[4]), 'unchecked: NaN from the failing pivot');
  l.dispose();
  noLeak('rejected cholesky', () =>
    assert.throws(
      () => zs.cholesky(bad, { validateArgs: true }),
      /^Error: cholesky: `a` must be symmetric positive definite: its leading 2 × 2 block \(batch member \[0\]\) is not/,
    ),
  );
  assert.throws(
    () => zs.cholesky(tf.tensor2d([[-1]]), { validateArgs: true }),
    /^Error: cholesky: `a` must be symmetric positive definite: its leading 1 × 1 block is not/,
  );
  assert.throws(
    () =>
      zs.cholesky(
        tf.tensor2d([
          [NaN, 0],
          [0, 1],
        ]),
        { validateArgs: true },
      ),
    /positive definite/,
  );
  const singular = tf.tensor2d([
    [1, 0],
    [3, 0],
  ]);
  const ones = tf.ones([2, 1]);
  noLeak('rejected triangularSolve', () =>
    assert.throws(
      () => zs.triangularSolve(singular, ones, { validateArgs: true }),
      /^Error: triangularSolve: `l` is singular: its diagonal holds a 0 or NaN$/,
    ),
  );
  // The upper triangle of a lower l is not checked, and the switch is global.
  assert.doesNotThrow(() =>
    zs.triangularSolve(
      tf.tensor2d([
        [1, NaN],
        [3, 2],
      ]),
      tf.ones([2, 1]),
      { validateArgs: true },
    ),
  );
  zs.setValidateArgs(true);
  try {
    assert.throws(() => zs.cholesky(bad), /positive definite/);
    assert.throws(() => zs.triangularSolve(singular, tf.ones([2, 1])), /singular/);
  } finally {
    zs.setValidateArgs(false);
  }
  tf.dispose([sq, bad, singular, ones]);
});

test('cholesky and triangularSolve leak no tensors, take int32 input, and keep the caller’s', () => {
  const a = spd(rng(77), [2], 5);
  const b = tf.ones([5, 2]);
  noLeak('cholesky', () => zs.cholesky(a).dispose());
  noLeak('validated cholesky', () => zs.cholesky(a, { validateArgs: true }).dispose());
  noLeak('triangularSolve', () => zs.triangularSolve(a, b, { lower: false }).dispose());
  noLeak('gradients', () =>
    tf.dispose(
      tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(zs.triangularSolve(zs.cholesky(x), y, { adjoint: true })),
      )([a, b]),
    ),
  );
  const ai = tf.tensor2d(
    [
      [4, 2],
      [2, 5],
    ],
    undefined,
    'int32',
  );
  const li = zs.cholesky(ai);
  assert.equal(li.dtype, 'float32');
  assertClose(li.dataSync(), [2, 0, 1, 2], 1e-6, 1e-6, 'int32 input');
  const x = zs.triangularSolve(li, tf.tensor2d([[2], [5]], undefined, 'int32'));
  assertClose(x.dataSync(), [1, 2], 1e-6, 1e-6, 'int32 right-hand side');
  assert.equal(a.isDisposed || b.isDisposed, false);
  tf.dispose([a, b, ai, li, x]);
  // Empty matrices.
  assert.deepEqual(zs.cholesky(tf.zeros([3, 0, 0])).shape, [3, 0, 0]);
  assert.deepEqual(zs.triangularSolve(tf.zeros([0, 0]), tf.zeros([2, 0, 4])).shape, [2, 0, 4]);
});
