/**
 * Diagnostics: hand-computed small cases, a direct float64 oracle of
 * Geyer's estimator and of split R-hat, the effective sample size of
 * independent and AR(1) draws against n and n(1 − ρ)/(1 + ρ) over seeds,
 * R-hat of mixed and stuck chains, axes and errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  autocovariance,
  effectiveSampleSize,
  minEffectiveSampleSize,
  splitRHat,
} from '../../src/mcmc/diagnostics.js';
import { assertClose, noLeak, useCpu } from '../helpers.js';
import { normals } from './fixtures.js';

before(useCpu);

/** `nChains` AR(1) chains x_t = ρx_{t−1} + √(1 − ρ²)ε_t of length n (stationary start), as [n, nChains]. */
function ar1(seed: number, rho: number, n: number, nChains: number): tf.Tensor {
  const e = normals(seed, n * nChains);
  const x = new Float32Array(n * nChains);
  for (let c = 0; c < nChains; c++) {
    let v = e[c];
    x[c] = v;
    for (let t = 1; t < n; t++) {
      v = rho * v + Math.sqrt(1 - rho * rho) * e[t * nChains + c];
      x[t * nChains + c] = v;
    }
  }
  return tf.tensor2d(x, [n, nChains]);
}

/**
 * Geyer's initial monotone sequence ESS of chains (rows), by direct sums in
 * float64: γ_k per chain with divisor n, ρ_k = 1 − (W − mean γ_k)/var⁺,
 * pairs summed while positive and made non-increasing.
 */
function essOracle(chains: number[][]): number {
  const C = chains.length;
  const n = chains[0].length;
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const sampleVar = (a: number[]) => a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1);
  let W = mean(chains.map(sampleVar));
  let plus = (W * (n - 1)) / n;
  if (C > 1) plus += sampleVar(chains.map(mean));
  else W = plus;
  const gamma = (k: number) =>
    mean(
      chains.map((x) => {
        const m = mean(x);
        let s = 0;
        for (let t = 0; t + k < n; t++) s += (x[t] - m) * (x[t + k] - m);
        return s / n;
      }),
    );
  const rho = (k: number) => (k === 0 ? 1 : 1 - (W - gamma(k)) / plus);
  let sum = 0;
  let prev = Infinity;
  for (let m = 0; 2 * m + 1 < n; m++) {
    const p = Math.min(rho(2 * m) + rho(2 * m + 1), prev);
    if (p <= 0) break;
    sum += p;
    prev = p;
  }
  return (C * n) / Math.max(2 * sum - 1, 1 / Math.log10(C * n));
}

/** Split R-hat of chains (rows) by direct sums in float64. */
function rhatOracle(chains: number[][]): number {
  const n = chains[0].length;
  const h = Math.floor(n / 2);
  const halves = chains.flatMap((x) => [x.slice(0, h), x.slice(n - h)]);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const sampleVar = (a: number[]) => a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1);
  const W = mean(halves.map(sampleVar));
  const plus = (W * (h - 1)) / h + sampleVar(halves.map(mean));
  return Math.sqrt(plus / W);
}

const read = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

test('hand-computed: chains 1, 2, 3, 4 and 2, 3, 4, 5 have ESS 336/61; one has split R-hat √4.5', () => {
  // One chain: x̄ = 2.5, γ = (1.25, 0.3125, −0.375, −0.5625).
  assertClose(autocovariance([1, 2, 3, 4]), [1.25, 0.3125, -0.375, -0.5625], 1e-12, 1e-12, 'γ');
  // Two chains: W = 5/3, var⁺ = (3/4)·W + var(2.5, 3.5) = 7/4; mean γ as above;
  // ρ1 = 1 − (5/3 − 5/16)/(7/4) = 19/84, ρ2 = −1/6, ρ3 = −23/84: pairs 103/84, −37/84;
  // τ = 2·103/84 − 1 = 61/42, ESS = 8·42/61.
  const two = tf.tensor2d([
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
  ]);
  assertClose(read(effectiveSampleSize(two, { chainAxis: 1 })), [336 / 61], 1e-6, 0, 'ESS');
  assertClose(minEffectiveSampleSize(two, { chainAxis: 1 }), 336 / 61, 1e-12, 0, 'min ESS');
  // The first chain alone: τ = 2·1.25 − 1 = 1.5 is below Stan's floor 1/log10(4), so ESS = 4·log10(4).
  const x = tf.tensor1d([1, 2, 3, 4]);
  assertClose(read(effectiveSampleSize(x)), [4 * Math.log10(4)], 1e-6, 0, 'ESS, one chain');
  // Halves (1, 2) and (3, 4): W = 0.5, var⁺ = 0.5·0.5 + var(1.5, 3.5) = 2.25.
  assertClose(read(splitRHat(x)), [Math.sqrt(4.5)], 1e-6, 0, 'R-hat');
  tf.dispose([x, two]);
});

test('hand-computed: an alternating chain is antithetic, its ESS bounded by n·log10(n) as in Stan', () => {
  // 1, −1, 1, −1: γ = (1, −3/4, 1/2, −1/4), pairs 1/4, 1/4: τ = 2·(1/2) − 1 = 0,
  // raised to 1/log10(4), so ESS = 4·log10(4).
  const x = tf.tensor1d([1, -1, 1, -1]);
  assertClose(read(effectiveSampleSize(x)), [4 * Math.log10(4)], 1e-6, 0, 'ESS');
  x.dispose();
  // AR(1) with ρ = −0.9 over 4 × 1000 draws: τ ≈ 0.05 < 1/log10(4000), so the bound holds.
  const y = ar1(9, -0.9, 1000, 4);
  assertClose(
    read(effectiveSampleSize(y, { chainAxis: 1 })),
    [4000 * Math.log10(4000)],
    1e-6,
    0,
    'AR(1)',
  );
  y.dispose();
});

test('autocovariance by FFT equals the direct sums (float64) for every lag', () => {
  for (const n of [1, 2, 7, 64, 100]) {
    const x = normals(n, n).map((v, t) => v + 0.1 * t);
    const m = x.reduce((s, v) => s + v, 0) / n;
    const direct = x.map((_, k) => {
      let s = 0;
      for (let t = 0; t + k < n; t++) s += (x[t] - m) * (x[t + k] - m);
      return s / n;
    });
    assertClose(autocovariance(x), direct, 1e-10, 1e-12, `n = ${n}`);
  }
});

test('ESS and split R-hat over chains and dimensions equal the float64 oracle', () => {
  // [n = 9, chains = 3, D = 2]: odd n (split R-hat drops the middle draw), correlated draws.
  const n = 9;
  const C = 3;
  const e = normals(5, n * C * 2);
  const vals = e.map((v, i) => v + (i % 3) * 0.3 + Math.sin(i / 4));
  const samples = tf.tensor3d(vals, [n, C, 2]);
  const chains = (d: number) =>
    Array.from({ length: C }, (_, c) =>
      Array.from({ length: n }, (_, t) => vals[(t * C + c) * 2 + d]),
    );
  // The oracle reads the float32 values the tensor holds.
  const f32 = (rows: number[][]) => rows.map((r) => r.map((v) => Math.fround(v)));
  const ess = noLeak('ESS', () => read(effectiveSampleSize(samples, { chainAxis: 1 })));
  const rhat = noLeak('R-hat', () => read(splitRHat(samples, { chainAxis: 1 })));
  for (let d = 0; d < 2; d++) {
    assertClose(ess[d], essOracle(f32(chains(d))), 1e-6, 0, `ESS[${d}]`);
    assertClose(rhat[d], rhatOracle(f32(chains(d))), 1e-6, 0, `R-hat[${d}]`);
  }
  assertClose(minEffectiveSampleSize(samples, { chainAxis: 1 }), Math.min(...ess), 1e-6, 0, 'min');
  // The same draws with the axes moved: [D, chains, n], negative axes.
  const moved = tf.transpose(samples, [2, 1, 0]);
  const ess2 = read(effectiveSampleSize(moved, { sampleAxis: -1, chainAxis: 1 }));
  assertClose(ess2, ess, 1e-6, 0, 'ESS with moved axes');
  // burnIn drops leading draws of every chain.
  const late = tf.slice(samples, [3, 0, 0], [n - 3, C, 2]);
  assertClose(
    read(effectiveSampleSize(samples, { chainAxis: 1, burnIn: 3 })),
    read(effectiveSampleSize(late, { chainAxis: 1 })),
    1e-6,
    0,
    'burnIn',
  );
  tf.dispose([samples, moved, late]);
});

test('ESS of independent draws ≈ n: within 20% on each of 20 seeds, within 5% on average', () => {
  // 4 chains × 1000 draws; the estimator's spread over seeds is ~4%.
  const n = 1000;
  const C = 4;
  const ratios: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const x = ar1(seed, 0, n, C);
    const [ess] = read(effectiveSampleSize(x, { chainAxis: 1 }));
    x.dispose();
    ratios.push(ess / (n * C));
    assert.ok(Math.abs(ess / (n * C) - 1) < 0.2, `seed ${seed}: ESS ${ess} of ${n * C}`);
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  assert.ok(Math.abs(mean - 1) < 0.05, `mean ESS / n ${mean}`);
});

test('ESS of AR(1) chains ≈ n(1 − ρ)/(1 + ρ), antithetic ones included', () => {
  // Spread of ESS / truth over seeds: ~9% for ρ = 0.9 and 4 × 5000 draws, ~6% for ±0.5.
  for (const [rho, n] of [
    [0.9, 5000],
    [0.5, 2000],
    [-0.5, 2000],
  ]) {
    const C = 4;
    const truth = (n * C * (1 - rho)) / (1 + rho);
    const ratios: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const x = ar1(100 + seed, rho, n, C);
      ratios.push(read(effectiveSampleSize(x, { chainAxis: 1 }))[0] / truth);
      x.dispose();
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    assert.ok(
      ratios.every((r) => Math.abs(r - 1) < 0.35),
      `ρ = ${rho}: ESS / truth ${ratios.map((r) => r.toFixed(3))}`,
    );
    assert.ok(Math.abs(mean - 1) < 0.08, `ρ = ${rho}: mean ESS / truth ${mean}`);
  }
});

test('split R-hat ≈ 1 for mixed chains and ≫ 1 for chains stuck at different means or drifting', () => {
  const mixed = ar1(7, 0.5, 1000, 4);
  const rMixed = read(splitRHat(mixed, { chainAxis: 1 }))[0];
  assert.ok(Math.abs(rMixed - 1) < 0.01, `mixed chains: R-hat ${rMixed}`);
  // Two chains offset by +3 sd: stuck in different modes.
  const stuck = tf.add(mixed, tf.tensor1d([0, 0, 3, 3]));
  const rStuck = read(splitRHat(stuck, { chainAxis: 1 }))[0];
  assert.ok(rStuck > 1.5, `stuck chains: R-hat ${rStuck}`);
  // One chain drifting: its halves disagree, which split R-hat sees with one chain.
  const drift = tf.add(ar1(8, 0.5, 1000, 1), tf.reshape(tf.linspace(0, 4, 1000), [1000, 1]));
  const rDrift = read(splitRHat(drift, { chainAxis: 1 }))[0];
  assert.ok(rDrift > 1.3, `drifting chain: R-hat ${rDrift}`);
  tf.dispose([mixed, stuck, drift]);
});

test('diagnostics errors name the function and the argument', () => {
  const x = tf.zeros([10, 2]);
  assert.throws(
    () => effectiveSampleSize(x, { chainAxis: 0 }),
    /effectiveSampleSize: `chainAxis` and `sampleAxis` are both 0/,
  );
  assert.throws(
    () => splitRHat(x, { chainAxis: 2 }),
    /splitRHat: `chainAxis` 2 is not an axis of samples of shape \[10,2\]/,
  );
  assert.throws(
    () => effectiveSampleSize(x, { burnIn: 8 }),
    /needs at least 4 draws per chain after burn-in, got 2/,
  );
  assert.throws(
    () => effectiveSampleSize([1, 2, 3] as unknown as tf.Tensor),
    /`samples` must be a tf\.Tensor/,
  );
  // Constant draws: no variance, no ESS.
  assert.ok(Number.isNaN(read(effectiveSampleSize(x))[0]));
  assert.ok(Number.isNaN(minEffectiveSampleSize(x)));
  x.dispose();
});
