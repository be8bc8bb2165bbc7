/**
 * The SVGP's single ops (common/gp.ts and svgp.ts: RBF kernel, inducing
 * terms, the projection behind the conditional, the Gaussian log density
 * from L⁻¹, q's factor and draws) against the tfjs compositions they
 * replaced, kept here as the reference: the same values (1e-6 relative) and
 * gradients within 1e-5 of tfjs' autodiff through the composition (relative
 * to the gradient's largest entry), on several shapes (d = 1, n ≠ m, x and
 * y the same tensor), with no tensor left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import * as zs from 'zhusuan';
import {
  gpConditional,
  gpProjection,
  inducingTerms,
  mvnLogProbCholInv,
  VARIANCE_FLOOR,
} from '../src/common/gp.js';
import { lowerSoftplusDiag, sampleQ } from '../src/svgp.js';

await tf.setBackend('cpu');

// ---- the compositions the ops replaced (the code before them) ----------------------

function rbfRef(x: tf.Tensor2D, y: tf.Tensor2D, kScale: tf.Tensor1D): tf.Tensor2D {
  const r = tf.rsqrt(kScale);
  const xs = tf.mul(x, r);
  const ys = tf.mul(y, r);
  const xx = tf.sum(tf.square(xs), 1, true);
  const yy = tf.reshape(tf.sum(tf.square(ys), 1), [1, -1]);
  const sq = tf.relu(tf.sub(tf.add(xx, yy), tf.mul(tf.matMul(xs, ys, false, true), 2)));
  return tf.exp(tf.mul(sq, -0.5)) as tf.Tensor2D;
}

function inducingRef(z: tf.Tensor2D, kScale: tf.Tensor1D, jitter: number) {
  const eye = tf.eye(z.shape[0]);
  const l = zs.cholesky(tf.add(rbfRef(z, z, kScale), tf.mul(eye, jitter))) as tf.Tensor2D;
  return { kzzChol: l, kzzCholInv: zs.triangularSolve(l, eye) as tf.Tensor2D };
}

function mvnRef(x: tf.Tensor2D, lInv: tf.Tensor2D): tf.Tensor {
  const m = lInv.shape[0];
  const logDet = tf.sum(tf.log(tf.sum(tf.mul(lInv, tf.eye(m)), 1)));
  const white = tf.matMul(x, lInv, false, true);
  return tf.sub(
    tf.add(logDet, -0.5 * m * Math.log(2 * Math.PI)),
    tf.mul(tf.sum(tf.square(white), 1), 0.5),
  );
}

function projectRef(z: tf.Tensor2D, lInv: tf.Tensor2D, x: tf.Tensor2D, kScale: tf.Tensor1D) {
  const a = tf.matMul(lInv, rbfRef(z, x, kScale));
  const variance = tf.maximum(tf.sub(1, tf.sum(tf.square(a), 0)), VARIANCE_FLOOR);
  return { a, variance, logstd: tf.mul(tf.log(variance), 0.5) };
}

function lowerSoftplusDiagRef(raw: tf.Tensor2D): tf.Tensor {
  const n = raw.shape[0];
  const eye = tf.eye(n);
  const idx = tf.range(0, n);
  const strictLower = tf.cast(tf.greater(tf.reshape(idx, [n, 1]), idx), 'float32');
  const diag = tf.sum(tf.mul(raw, eye), 1, true);
  return tf.add(tf.mul(raw, strictLower), tf.mul(eye, tf.softplus(diag)));
}

function sampleQRef(qMean: tf.Tensor1D, sChol: tf.Tensor2D, n: number) {
  const m = qMean.shape[0];
  const eps = zs.seededNormal([n, m], zs.random.nextSeed());
  const fz = tf.add(qMean, tf.matMul(eps, sChol, false, true));
  const logDet = tf.sum(tf.log(tf.sum(tf.mul(sChol, tf.eye(m)), 1)));
  const logQ = tf.sub(
    tf.sub(-0.5 * m * Math.log(2 * Math.PI), logDet),
    tf.mul(tf.sum(tf.square(eps), 1), 0.5),
  );
  return { fz, logQ };
}

// ---- helpers ---------------------------------------------------------------------------

/** Deterministic values in (−1, 1)·scale + shift, varied by `salt`. */
function values(shape: number[], salt: number, scale = 1, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from(
    { length: size },
    (_, i) => Math.sin(1.7 * i + 0.9 * salt) * scale + shift,
  );
  return tf.tensor(v, shape);
}

/** Σ out_i·w_i over several outputs, w fixed per output: a scalar reaching every entry. */
function weighted(outs: tf.Tensor[]): tf.Scalar {
  return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, values(o.shape, 100 + i))))) as tf.Scalar;
}

function assertRel(got: tf.Tensor, want: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const g = got.dataSync();
  const w = want.dataSync();
  let scale = 0;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < w.length; i++) {
    const err = Math.abs(g[i] - w[i]);
    assert.ok(
      err <= tol * Math.max(1e-30, scale),
      `${what}[${i}]: ${g[i]} vs ${w[i]} (scale ${scale})`,
    );
  }
}

/**
 * The op `f` and the composition `ref` (functions of the same inputs, each
 * returning its outputs): equal values within 1e-6 of each output's largest
 * entry, and the gradients of a weighted sum of the outputs within 1e-5.
 */
function compare(
  what: string,
  inputs: tf.Tensor[],
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
  ref: (...xs: tf.Tensor[]) => tf.Tensor[],
  before: () => void = () => {},
): void {
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    before();
    const got = f(...inputs);
    before();
    const want = ref(...inputs);
    got.forEach((g, i) => assertRel(g, want[i], 1e-6, `${what}: value ${i}`));
    before();
    const dGot = tf.grads((...xs: tf.Tensor[]) => weighted(f(...xs)))(inputs);
    before();
    const dWant = tf.grads((...xs: tf.Tensor[]) => weighted(ref(...xs)))(inputs);
    dGot.forEach((g, i) => assertRel(g, dWant[i], 1e-5, `${what}: gradient ${i}`));
  });
  assert.equal(tf.memory().numTensors, start, `${what}: tensors left behind`);
}

/** gpProjection's A, variance and log standard deviation from (z, L⁻¹, x, kScale), and the composition's. */
function projOp(z: tf.Tensor, lInv: tf.Tensor, x: tf.Tensor, kScale: tf.Tensor): tf.Tensor[] {
  const l = lInv as tf.Tensor2D;
  const p = gpProjection(
    z as tf.Tensor2D,
    { kzzChol: l, kzzCholInv: l },
    x as tf.Tensor2D,
    kScale as tf.Tensor1D,
  );
  return [p.a, p.variance, p.logstd];
}

function projRef(z: tf.Tensor, lInv: tf.Tensor, x: tf.Tensor, kScale: tf.Tensor): tf.Tensor[] {
  const p = projectRef(
    z as tf.Tensor2D,
    lInv as tf.Tensor2D,
    x as tf.Tensor2D,
    kScale as tf.Tensor1D,
  );
  return [p.a, p.variance, p.logstd];
}

/** (n, m, d) of the kernel tests: n ≠ m, d = 1, n = 1. */
const SHAPES: [number, number, number][] = [
  [5, 3, 2],
  [4, 7, 1],
  [1, 4, 3],
  [6, 6, 13],
];

// ---- the tests -------------------------------------------------------------------------

test('rbfKernel: the value and the x, y and kScale gradients of the composition', () => {
  for (const [n, m, d] of SHAPES) {
    const x = values([n, d], 1, 1.5);
    const y = values([m, d], 2, 1.5);
    const k = values([d], 3, 0.5, 1.2);
    compare(
      `rbf ${n}x${m}x${d}`,
      [x, y, k],
      (a, b, s) => [zs.rbfKernel(a as tf.Tensor2D, b as tf.Tensor2D, s as tf.Tensor1D)],
      (a, b, s) => [rbfRef(a as tf.Tensor2D, b as tf.Tensor2D, s as tf.Tensor1D)],
    );
    tf.dispose([x, y, k]);
  }
});

test('rbfKernel with x and y the same tensor (clipped diagonal): the summed gradient', () => {
  for (const [n, d] of [
    [5, 2],
    [4, 1],
  ]) {
    const x = values([n, d], 4, 1.5);
    const k = values([d], 5, 0.5, 1.2);
    compare(
      `rbf(x, x) ${n}x${d}`,
      [x, k],
      (a, s) => [zs.rbfKernel(a as tf.Tensor2D, a as tf.Tensor2D, s as tf.Tensor1D)],
      (a, s) => [rbfRef(a as tf.Tensor2D, a as tf.Tensor2D, s as tf.Tensor1D)],
    );
    tf.dispose([x, k]);
  }
});

test('inducingTerms: L and L⁻¹ of K(z, z) + jitter·I and their z and kScale gradients', () => {
  for (const [m, d, jitter] of [
    [4, 2, 1e-2],
    [5, 1, 1e-2],
    [6, 3, 1e-3],
  ]) {
    const z = values([m, d], 6, 2);
    const k = values([d], 7, 0.3, 0.8);
    compare(
      `inducingTerms ${m}x${d}`,
      [z, k],
      (a, s) => {
        const t = inducingTerms(a as tf.Tensor2D, s as tf.Tensor1D, jitter);
        return [t.kzzChol, t.kzzCholInv];
      },
      (a, s) => {
        const t = inducingRef(a as tf.Tensor2D, s as tf.Tensor1D, jitter);
        return [t.kzzChol, t.kzzCholInv];
      },
    );
    tf.dispose([z, k]);
  }
});

test('mvnLogProbCholInv: the value and the x and L⁻¹ gradients of the composition', () => {
  for (const [s, m] of [
    [3, 4],
    [1, 1],
    [5, 2],
  ]) {
    const x = values([s, m], 8);
    // A lower-triangular L⁻¹ with a positive diagonal.
    const lInv = tf.tidy(() =>
      tf.add(
        tf.mul(values([m, m], 9, 0.5), tf.linalg.bandPart(tf.ones([m, m]), -1, 0)),
        tf.mul(tf.eye(m), 1.5),
      ),
    );
    compare(
      `mvnLogProbCholInv ${s}x${m}`,
      [x, lInv],
      (a, l) => [mvnLogProbCholInv(a as tf.Tensor2D, l as tf.Tensor2D)],
      (a, l) => [mvnRef(a as tf.Tensor2D, l as tf.Tensor2D)],
    );
    // Given W = x·L⁻ᵀ, made by the caller's own product: the same value, and
    // the same gradients once they have gone back through that product.
    compare(
      `mvnLogProbCholInv ${s}x${m} from W`,
      [x, lInv],
      (a, l) => {
        const w = tf.matMul(a, l, false, true) as tf.Tensor2D;
        return [mvnLogProbCholInv(a as tf.Tensor2D, l as tf.Tensor2D, w)];
      },
      (a, l) => [mvnRef(a as tf.Tensor2D, l as tf.Tensor2D)],
    );
    tf.dispose([x, lInv]);
  }
  tf.tidy(() => {
    const x = values([3, 4], 8) as tf.Tensor2D;
    assert.throws(
      () => mvnLogProbCholInv(x, tf.eye(4) as tf.Tensor2D, tf.zeros([3, 3]) as tf.Tensor2D),
      /mvnLogProbCholInv: `white` has shape \[3,3\], expected \[3, 4\]/,
    );
  });
});

test('gpProjection: A = L⁻¹K(z, x), the floored variance and its ½ log, gradients in z, L⁻¹, x and kScale', () => {
  for (const [m, n, d] of [
    [4, 3, 2],
    [3, 5, 1],
    [5, 5, 3],
  ]) {
    const z = values([m, d], 10, 2);
    const k = values([d], 11, 0.3, 0.8);
    const terms = inducingTerms(z as tf.Tensor2D, k as tf.Tensor1D, 1e-2);
    const lInv = terms.kzzCholInv;
    const x = values([n, d], 12, 2);
    compare(`gpProjection ${m}x${n}x${d}`, [z, lInv, x, k], projOp, projRef);
    tf.dispose([z, k, terms.kzzChol, lInv, x]);
  }
});

test('gpProjection where the variance floor holds: no variance gradient there; x the same tensor as z', () => {
  const z = values([4, 2], 13, 2) as tf.Tensor2D;
  const k = values([2], 14, 0.3, 0.8) as tf.Tensor1D;
  const terms = inducingTerms(z, k, 1e-2);
  // 1.2·L⁻¹: at the inducing inputs 1 − Σ A² ≈ 1 − 1.44 < 0 (floored), far from them ≈ 1.
  const lInv = tf.mul(terms.kzzCholInv, 1.2) as tf.Tensor2D;
  const x = tf.concat([z, values([3, 2], 22, 1, 8)]) as tf.Tensor2D;
  const v = tf.tidy(() => Array.from(projOp(z, lInv, x, k)[1].dataSync()));
  assert.deepEqual(
    v.map((u) => u === Math.fround(VARIANCE_FLOOR)),
    [true, true, true, true, false, false, false],
    `variances ${v}`,
  );
  compare('gpProjection, floored at z', [z, lInv, x, k], projOp, projRef);
  compare(
    'gpProjection, x = z (one tensor)',
    [z, lInv, k],
    (a, l, s) => projOp(a, l, a, s),
    (a, l, s) => projRef(a, l, a, s),
  );
  tf.dispose([z, k, terms.kzzChol, terms.kzzCholInv, lInv, x]);
});

test('gpConditional reuses a projection at the same x and refuses one made at another', () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const z = values([3, 2], 15, 2) as tf.Tensor2D;
    const k = values([2], 16, 0.3, 0.8) as tf.Tensor1D;
    const x = values([4, 2], 17, 2) as tf.Tensor2D;
    const fz = values([2, 3], 18) as tf.Tensor2D;
    const terms = inducingTerms(z, k);
    const proj = gpProjection(z, terms, x, k);
    const a = gpConditional(z, terms, fz, x, k);
    const b = gpConditional(z, terms, fz, x, k, proj);
    assert.deepEqual(b.mean.dataSync(), a.mean.dataSync());
    assert.deepEqual(b.logstd.dataSync(), a.logstd.dataSync());
    // W = fz·L⁻ᵀ, the product the mean is made from.
    const w = tf.matMul(fz, terms.kzzCholInv, false, true);
    assert.deepEqual(a.white.dataSync(), w.dataSync());
    assert.throws(
      () => gpConditional(z, terms, fz, tf.clone(x), k, proj),
      /gpConditional: `projection` was computed at other inputs than `x`/,
    );
  });
  assert.equal(tf.memory().numTensors, before);
});

test("lowerSoftplusDiag and sampleQ: q's factor and draws, values and gradients", () => {
  for (const m of [1, 4]) {
    const raw = values([m, m], 19, 1.5);
    compare(
      `lowerSoftplusDiag ${m}`,
      [raw],
      (r) => [lowerSoftplusDiag(r as tf.Tensor2D)],
      (r) => [lowerSoftplusDiagRef(r as tf.Tensor2D)],
    );
    const qMean = values([m], 20);
    compare(
      `sampleQ ${m}`,
      [qMean, raw],
      (a, r) => {
        const q = sampleQ(a as tf.Tensor1D, lowerSoftplusDiag(r as tf.Tensor2D), 3);
        return [q.fz, q.logQ];
      },
      (a, r) => {
        const q = sampleQRef(
          a as tf.Tensor1D,
          lowerSoftplusDiagRef(r as tf.Tensor2D) as tf.Tensor2D,
          3,
        );
        return [q.fz, q.logQ];
      },
      () => zs.random.setSeed(21), // the same ε for the op and the composition
    );
    tf.dispose([raw, qMean]);
  }
});
