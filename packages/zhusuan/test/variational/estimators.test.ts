/**
 * Every gradient estimator against an exact or float64 gradient on a
 * linear-Gaussian model, for a reparameterised q and for one that is not:
 *
 *   z ~ N(0, I_d),  x | z ~ N(Az + b, σ²I_D),  q(z) = N(m, diag s²), s = e^ρ.
 *
 * The ELBO and its gradient are closed-form. The K-sample bound's gradient
 * and the klpq estimator's expectation are not: their references are float64
 * Monte-Carlo means over 200,000 draws, with their standard errors. Each
 * estimate is the mean over R replicates of one data point, each replicate
 * with its own copy of (m, ρ), so the per-replicate gradients give the
 * estimate's standard error; every component must lie within 5 combined
 * standard errors of the reference. The estimators whose gradient the
 * samples must not carry (REINFORCE, VIMCO, klpq) fail these tests by many
 * standard errors when a reparameterised q's samples pass their gradient.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { rng, useCpu } from '../helpers.js';

before(useCpu);

const D_Z = 3;
const D_X = 4;
const A = [
  [0.8, -0.4, 0.3],
  [0.2, 0.9, -0.5],
  [-0.6, 0.1, 0.7],
  [0.4, 0.5, 0.2],
];
const B = [0.1, -0.2, 0.3, 0.0];
const SIGMA = 0.7;
const X = [0.9, -0.3, 1.2, 0.5];
const M0 = [0.3, -0.5, 0.8];
const RHO0 = [-0.3, 0.1, -0.6];
const S0 = RHO0.map(Math.exp);

/** Aᵀv for v of length D_X. */
const atv = (v: number[]) =>
  Array.from({ length: D_Z }, (_, j) => A.reduce((s, r, i) => s + r[j] * v[i], 0));
/** Az + b. */
const affine = (z: number[]) => A.map((r, i) => r.reduce((s, a, j) => s + a * z[j], B[i]));

/** The exact gradient of the ELBO in (m, ρ), float64. */
function exactElboGrad(): { m: number[]; rho: number[] } {
  const resid = affine(M0).map((v, i) => X[i] - v);
  const g = atv(resid);
  const ataDiag = Array.from({ length: D_Z }, (_, j) => A.reduce((s, r) => s + r[j] * r[j], 0));
  return {
    m: M0.map((mj, j) => -mj + g[j] / SIGMA ** 2),
    rho: S0.map((sj, j) => 1 - sj ** 2 - (ataDiag[j] * sj ** 2) / SIGMA ** 2),
  };
}

/** A standard normal generator (Box–Muller over mulberry32), float64. */
function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Mean and standard error of each column of per-draw gradient rows. */
function meanSe(rows: number[][]): { mean: number[]; se: number[] } {
  const n = rows.length;
  const k = rows[0].length;
  const mean = Array.from({ length: k }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const se = mean.map((mu, j) =>
    Math.sqrt(rows.reduce((s, r) => s + (r[j] - mu) ** 2, 0) / (n - 1) / n),
  );
  return { mean, se };
}

/**
 * Float64 Monte-Carlo references with K samples per draw: the IW bound's
 * gradient (pathwise: Σ_k w̃_k ∇ log w(m + sε_k)) and the expectation of the
 * klpq estimator (−Σ_k w̃_k ∇ log q(z_k) at fixed z_k), both in (m, ρ).
 */
function float64References(k: number, draws: number, seed: number) {
  const normal = gaussian(seed);
  const iw: number[][] = [];
  const kl: number[][] = [];
  for (let t = 0; t < draws; t++) {
    const lw: number[] = [];
    const path: number[][] = [];
    const score: number[][] = [];
    for (let i = 0; i < k; i++) {
      const eps = Array.from({ length: D_Z }, normal);
      const z = M0.map((m, j) => m + S0[j] * eps[j]);
      const mean = affine(z);
      const resid = mean.map((v, r) => X[r] - v);
      let l = 0;
      for (let j = 0; j < D_Z; j++) l += -0.5 * z[j] ** 2 + 0.5 * eps[j] ** 2 + RHO0[j];
      for (let r = 0; r < D_X; r++) l += -0.5 * (resid[r] / SIGMA) ** 2 - Math.log(SIGMA);
      lw.push(l);
      // d log w / dz (the log q term is constant along the reparameterisation in m,
      // and contributes +1 per ρ_j).
      const dz = atv(resid).map((g, j) => g / SIGMA ** 2 - z[j]);
      path.push([...dz, ...dz.map((g, j) => g * S0[j] * eps[j] + 1)]);
      score.push([...eps.map((e, j) => e / S0[j]), ...eps.map((e) => e * e - 1)]);
    }
    const mx = Math.max(...lw);
    const u = lw.map((l) => Math.exp(l - mx));
    const sum = u.reduce((a, b) => a + b, 0);
    const w = u.map((v) => v / sum);
    // The costs' gradients: −∇ bound, and the klpq surrogate's.
    iw.push(path[0].map((_, c) => -w.reduce((s, wi, i) => s + wi * path[i][c], 0)));
    kl.push(score[0].map((_, c) => -w.reduce((s, wi, i) => s + wi * score[i][c], 0)));
  }
  return { iw: meanSe(iw), kl: meanSe(kl) };
}

/** z ~ N(0, I) for R replicates with K samples; x | z ~ N(Az + b, σ²I). */
function model(r: number, k: number): zs.MetaBayesianNet {
  return zs.metaBayesianNet((bn: zs.BayesianNet) => {
    const z = bn.normal('z', tf.zeros([r, D_Z]), { std: 1, groupNdims: 1, nSamples: k });
    const zA = tf.matMul(tf.reshape(z, [k * r, D_Z]), tf.tensor2d(A), false, true);
    const mean = tf.add(tf.reshape(zA, [k, r, D_X]), B);
    bn.normal('x', mean, { std: SIGMA, groupNdims: 1 });
  });
}

type Estimator = 'sgvb' | 'reinforce' | 'iwSgvb' | 'vimco' | 'klpq';

/**
 * Per-replicate gradients of `estimator`'s cost in (m, ρ) ([R, 2·D_Z]),
 * for R replicates with K samples each from a q that is reparameterised or not.
 */
function replicateGrads(
  estimator: Estimator,
  reparam: boolean,
  r: number,
  k: number,
  seed: number,
): number[][] {
  zs.random.setSeed(seed);
  const p = model(r, k);
  const x = tf.tensor1d(X);
  const m = tf.tile(tf.tensor2d([M0]), [r, 1]);
  const rho = tf.tile(tf.tensor2d([RHO0]), [r, 1]);
  const before = tf.memory().numTensors;
  const [gm, grho] = tf.grads((mm: tf.Tensor, rr: tf.Tensor) => {
    const q = new zs.BayesianNet();
    q.normal('z', mm, { logstd: rr, groupNdims: 1, nSamples: k, isReparameterized: reparam });
    const opts = { variational: q, axis: 0 };
    let cost: tf.Tensor;
    if (estimator === 'sgvb') cost = zs.elbo(p, { x }, opts).sgvb();
    else if (estimator === 'reinforce') cost = zs.elbo(p, { x }, opts).reinforce();
    else if (estimator === 'klpq') cost = zs.klpq(p, { x }, opts).importance();
    else {
      const iw = zs.importanceWeightedObjective(p, { x }, opts);
      cost = estimator === 'vimco' ? iw.vimco() : iw.sgvb();
    }
    return tf.sum(cost);
  })([m, rho]);
  const a = gm.arraySync() as number[][];
  const b = grho.arraySync() as number[][];
  tf.dispose([gm, grho]);
  assert.equal(tf.memory().numTensors, before, `${estimator} leaked tensors`);
  tf.dispose([m, rho, x]);
  return a.map((row, i) => [...row, ...b[i]]);
}

/** Asserts every component of `est` within 5 combined standard errors of `ref`. */
function assertWithin(
  what: string,
  est: { mean: number[]; se: number[] },
  ref: { mean: number[]; se: number[] },
): void {
  est.mean.forEach((v, c) => {
    const se = Math.sqrt(est.se[c] ** 2 + ref.se[c] ** 2);
    assert.ok(
      Math.abs(v - ref.mean[c]) <= 5 * se + 1e-4,
      `${what}[${c}]: ${v.toFixed(4)} vs ${ref.mean[c].toFixed(4)} (5 se = ${(5 * se).toFixed(4)})`,
    );
  });
}

const exact = exactElboGrad();
/** −∇ELBO: the gradient of the SGVB and REINFORCE costs. */
const elboRef = { mean: [...exact.m, ...exact.rho].map((g) => -g), se: new Array(6).fill(0) };
const K = 4;
const refs = float64References(K, 200000, 99);

test('SGVB: the exact ELBO gradient (reparameterised q); a q that is not reparameterised is refused', () => {
  const est = meanSe(replicateGrads('sgvb', true, 4000, 1, 1));
  assertWithin('sgvb', est, elboRef);
  assert.throws(
    () => replicateGrads('sgvb', false, 2, 1, 1),
    /elbo\.sgvb: latent 'z' of the variational net \(Normal\) is not reparameterised.*use reinforce\(\)/,
  );
});

for (const reparam of [false, true]) {
  const kind = reparam ? 'reparameterised' : 'not reparameterised';
  test(`REINFORCE: the exact ELBO gradient in expectation (q ${kind})`, () => {
    const est = meanSe(replicateGrads('reinforce', reparam, 40000, 1, 2));
    assertWithin('reinforce', est, elboRef);
  });
}

test('IWAE (SGVB of the K-sample bound): the float64 gradient; refused for a q not reparameterised', () => {
  const est = meanSe(replicateGrads('iwSgvb', true, 4000, K, 3));
  assertWithin('iw sgvb', est, refs.iw);
  assert.throws(
    () => replicateGrads('iwSgvb', false, 2, K, 3),
    /importanceWeightedObjective\.sgvb: latent 'z' .* not reparameterised.*use vimco\(\)/,
  );
});

for (const reparam of [false, true]) {
  const kind = reparam ? 'reparameterised' : 'not reparameterised';
  test(`VIMCO: the float64 gradient of the K-sample bound in expectation (q ${kind})`, () => {
    const est = meanSe(replicateGrads('vimco', reparam, 20000, K, 4));
    assertWithin('vimco', est, refs.iw);
  });

  test(`klpq: the float64 expectation of the self-normalised estimator (q ${kind})`, () => {
    const est = meanSe(replicateGrads('klpq', reparam, 20000, K, 5));
    assertWithin('klpq', est, refs.kl);
  });
}

test('a reparameterised and a non-reparameterised q give the same score-function estimates', () => {
  // Same seed, same draws: the estimators hold the samples constant either way,
  // so the per-replicate gradients agree to float32 rounding.
  for (const estimator of ['reinforce', 'vimco', 'klpq'] as const) {
    const a = replicateGrads(estimator, true, 50, K, 6).flat();
    const b = replicateGrads(estimator, false, 50, K, 6).flat();
    a.forEach((v, i) =>
      assert.ok(Math.abs(v - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `${estimator}[${i}]`),
    );
  }
});
