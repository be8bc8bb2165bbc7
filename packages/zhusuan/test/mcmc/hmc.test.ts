import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { HMC } from '../../src/mcmc/hmc.js';
import { acceptProb, energyErrors, toNumbers } from '../../src/mcmc/hamiltonian.js';
import { BayesianNet, metaBayesianNet } from '../../src/framework/bn.js';
import * as random from '../../src/random.js';
import { noLeak, useCpu } from '../helpers.js';

before(useCpu);

// A 2-D correlated Gaussian: mean MU, covariance [[1, RHO], [RHO, 1]].
const MU = [1, -1];
const RHO = 0.8;
const PREC = tf.tensor2d([
  [1 / (1 - RHO * RHO), -RHO / (1 - RHO * RHO)],
  [-RHO / (1 - RHO * RHO), 1 / (1 - RHO * RHO)],
]);
const MU_T = tf.tensor1d(MU);

/** log N(x; MU, Σ) up to a constant, for x of shape [...chains, 2]. */
function gaussian2d(v: Record<string, tf.Tensor>): tf.Tensor {
  const d = tf.sub(v.x, MU_T);
  const dp = tf.sum(tf.mul(tf.expandDims(d, -1), PREC), -2);
  return tf.mul(tf.sum(tf.mul(d, dp), -1), -0.5);
}

/** Mean and covariance (float64) of rows [x0, x1]. */
function moments(rows: number[][]): { mean: number[]; cov: number[][] } {
  const n = rows.length;
  const mean = [0, 1].map((j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const cov = [0, 1].map((i) =>
    [0, 1].map((j) => rows.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / (n - 1)),
  );
  return { mean, cov };
}

/**
 * Effective sample size of one chain by Geyer's initial monotone sequence
 * estimator, capped at n (antithetic chains would otherwise claim more).
 */
function ess(r: number[]): number {
  const n = r.length;
  const m = r.reduce((a, b) => a + b, 0) / n;
  const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / n;
  const rho = (lag: number): number => {
    let s = 0;
    for (let i = 0; i + lag < n; i++) s += (r[i] - m) * (r[i + lag] - m);
    return s / n / v;
  };
  let tau = -1;
  let prev = Infinity;
  for (let k = 0; 2 * k + 1 < n; k++) {
    const pair = Math.min(rho(2 * k) + rho(2 * k + 1), prev);
    if (pair <= 0) break;
    tau += 2 * pair;
    prev = pair;
  }
  return Math.min(n, n / tau);
}

test('HMC, one chain: a correlated 2-D Gaussian has the right mean and covariance after warm-up', () => {
  random.setSeed(1);
  const x = tf.variable(tf.zeros([2]));
  // nLeapfrogs 4: with the adapted step (~0.52) a trajectory turns each
  // principal direction by about a quarter period, so draws are nearly
  // independent. (A fixed length can resonate: with 5 steps the narrow
  // direction turns by almost a full period and mixes slowly.)
  const hmc = new HMC({ stepSize: 0.1, nLeapfrogs: 4, adaptStepSize: true });
  for (let i = 0; i < 200; i++) hmc.step(gaussian2d, {}, { x });
  hmc.stopAdaptation();
  const rows: number[][] = [];
  let acc = 0;
  const n = 600;
  for (let i = 0; i < n; i++) {
    const info = hmc.step(gaussian2d, {}, { x });
    assert.deepEqual(x.shape, [2]);
    assert.equal(info.acceptance.length, 1);
    acc += info.acceptanceRate;
    rows.push(Array.from(x.dataSync()));
  }
  const { mean, cov } = moments(rows);
  // Effective-sample-size aware: |error| < 4 standard errors, SE = sd/sqrt(ESS).
  // The ESS must exceed 100 of 600, so a stuck chain cannot pass on a large SE.
  const essMin = Math.min(...[0, 1].map((j) => ess(rows.map((r) => r[j]))));
  assert.ok(essMin > 100, `ESS ${essMin}: the chain mixes too slowly`);
  for (let j = 0; j < 2; j++) {
    const se = Math.sqrt(cov[j][j] / essMin);
    assert.ok(Math.abs(mean[j] - MU[j]) < 4 * se, `mean[${j}] ${mean[j]} vs ${MU[j]} (SE ${se})`);
  }
  // Covariance: with ESS >= 100 the sd of a variance estimate is at most
  // sqrt(2/100) ≈ 0.14 (an off-diagonal entry's less); 0.4 is ~3 sd and
  // still rules out a wrong scale or a missing correlation.
  const truth = [
    [1, RHO],
    [RHO, 1],
  ];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      assert.ok(Math.abs(cov[i][j] - truth[i][j]) < 0.4, `cov[${i}][${j}] ${cov[i][j]}`);
    }
  }
  // One chain's acceptance is noisy, so dual averaging overshoots the target
  // a little; it must still be in a sane range.
  assert.ok(acc / n > 0.6, `acceptance ${acc / n}`);
  x.dispose();
  hmc.dispose();
});

test('HMC, 40 chains: moments of a correlated Gaussian, and dual averaging reaches the target acceptance', () => {
  random.setSeed(2);
  const K = 40;
  // Start the chains far from the mode, spread out.
  const x = tf.variable(tf.mul(tf.randomNormal([K, 2], 0, 1, 'float32', 7), 3));
  const hmc = new HMC({ stepSize: 1, nLeapfrogs: 4, adaptStepSize: true });
  // 300 warm-up steps: dual averaging with t0 = 10 swings widely at first.
  for (let i = 0; i < 300; i++) hmc.step(gaussian2d, {}, { x });
  hmc.stopAdaptation();
  const eps = hmc.stepSize;
  const draws: number[][][] = Array.from({ length: K }, () => []);
  let acc = 0;
  const n = 150;
  for (let i = 0; i < n; i++) {
    const info = hmc.step(gaussian2d, {}, { x });
    assert.equal(info.stepSize, eps, 'step size fixed after stopAdaptation');
    assert.equal(info.acceptance.length, K);
    assert.equal(info.logProb.length, K);
    acc += info.acceptanceRate;
    const v = x.dataSync();
    for (let k = 0; k < K; k++) draws[k].push([v[2 * k], v[2 * k + 1]]);
  }
  // Dual averaging aims at 0.8; over 150 post-warm-up steps x 40 chains the
  // mean acceptance is estimated to ~0.01, so 0.1 leaves room only for the
  // adaptation's own imprecision.
  const rate = acc / n;
  assert.ok(Math.abs(rate - 0.8) < 0.1, `post-warm-up acceptance ${rate}`);
  const { mean, cov } = moments(draws.flat());
  // SE from the spread of the 40 per-chain means (autocorrelation included).
  for (let j = 0; j < 2; j++) {
    const cm = draws.map((d) => d.reduce((s, r) => s + r[j], 0) / d.length);
    const m = cm.reduce((s, v) => s + v, 0) / K;
    const se = Math.sqrt(cm.reduce((s, v) => s + (v - m) ** 2, 0) / (K - 1) / K);
    assert.ok(se < 0.05, `SE of mean[${j}] ${se}`);
    assert.ok(Math.abs(mean[j] - MU[j]) < 4 * se, `mean[${j}] ${mean[j]} (SE ${se})`);
  }
  // 6000 draws, ESS in the thousands: sd of a (co)variance entry ≲ 0.03; 0.1 is > 3 sd.
  const truth = [
    [1, RHO],
    [RHO, 1],
  ];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      assert.ok(Math.abs(cov[i][j] - truth[i][j]) < 0.1, `cov[${i}][${j}] ${cov[i][j]}`);
    }
  }
  x.dispose();
  hmc.dispose();
});

test('HMC on a model (BayesianNet): the conjugate posterior of z given x', () => {
  // z ~ N(0, 1), x_i | z ~ N(z, 0.5²), i = 1..4: z | x ~ N(m, 1/17), m = 4·sum(x)/17.
  random.setSeed(3);
  const K = 30;
  const xs = [0.9, 1.4, 0.6, 1.1];
  const model = metaBayesianNet((bn: BayesianNet) => {
    const z = bn.normal('z', tf.zeros([K]), { std: 1 });
    bn.normal('x', tf.tile(tf.expandDims(z, 1), [1, xs.length]), { std: 0.5, groupNdims: 1 });
  });
  const postMean = (4 * xs.reduce((a, b) => a + b, 0)) / 17;
  const postVar = 1 / 17;
  const z = tf.variable(tf.zeros([K]));
  const observed = { x: tf.tensor1d(xs) };
  const hmc = new HMC({ stepSize: 0.05, nLeapfrogs: 4, adaptStepSize: true });
  for (let i = 0; i < 60; i++) hmc.step(model, observed, { z });
  hmc.stopAdaptation();
  const draws: number[] = [];
  for (let i = 0; i < 100; i++) {
    const info = hmc.step(model, observed, { z });
    // logProb is the model's log joint at the new state.
    const lj = model.observe({ ...observed, z }).logJoint();
    const ljv = lj.dataSync();
    info.logProb.forEach((v, k) => assert.ok(Math.abs(v - ljv[k]) < 1e-4, 'logProb'));
    lj.dispose();
    draws.push(...z.dataSync());
  }
  const n = draws.length;
  const m = draws.reduce((a, b) => a + b, 0) / n;
  const v = draws.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
  // 3000 draws with ESS ≥ ~1000: sd(mean) ≤ 0.24/√1000 ≈ 0.008, sd(var) ≤ 0.059·√(2/1000) ≈ 0.003.
  assert.ok(Math.abs(m - postMean) < 0.03, `posterior mean ${m} vs ${postMean}`);
  assert.ok(Math.abs(v - postVar) < 0.012, `posterior variance ${v} vs ${postVar}`);
  z.dispose();
  hmc.dispose();
});

test('mass adaptation learns the precision of a badly scaled target and samples it', () => {
  // Independent scales 10 and 0.1: unit-mass HMC would need a step size of
  // ~0.1 and thousands of steps to cross the wide axis.
  random.setSeed(4);
  const K = 20;
  const std = tf.tensor1d([10, 0.1]);
  const model = (obs: Record<string, tf.Tensor>) => {
    const bn = new BayesianNet(obs);
    bn.normal('z', tf.zeros([K, 2]), { std, groupNdims: 1 });
    return bn;
  };
  const z = tf.variable(tf.zeros([K, 2]));
  const hmc = new HMC({
    stepSize: 0.05,
    nLeapfrogs: 5,
    adaptStepSize: true,
    adaptMass: true,
    nWarmup: 200,
  });
  for (let i = 0; i < 200; i++) hmc.step(model, {}, { z });
  assert.ok(!hmc.adaptStepSize && !hmc.adaptMass, 'adaptation ends after nWarmup steps');
  const mass = hmc.getMass()!;
  assert.deepEqual(mass.z.shape, [1, 2]);
  const mv = mass.z.dataSync();
  // The mass estimates the precision 1/σ² = [0.01, 100]; within a factor of 2.
  assert.ok(mv[0] > 0.005 && mv[0] < 0.02, `mass[0] ${mv[0]}`);
  assert.ok(mv[1] > 50 && mv[1] < 200, `mass[1] ${mv[1]}`);
  // With that mass the step size is O(1) and both axes are sampled.
  assert.ok(hmc.stepSize > 0.3, `step size ${hmc.stepSize}`);
  const d0: number[] = [];
  const d1: number[] = [];
  for (let i = 0; i < 100; i++) {
    hmc.step(model, {}, { z });
    const v = z.dataSync();
    for (let k = 0; k < K; k++) {
      d0.push(v[2 * k]);
      d1.push(v[2 * k + 1]);
    }
  }
  const sd = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  // 2000 draws, ESS ≥ several hundred: the sd's relative error is ≲ 5%; allow 20%.
  assert.ok(Math.abs(sd(d0) / 10 - 1) < 0.2, `sd[0] ${sd(d0)}`);
  assert.ok(Math.abs(sd(d1) / 0.1 - 1) < 0.2, `sd[1] ${sd(d1)}`);
  z.dispose();
  mass.z.dispose();
  hmc.dispose();
});

test('a target that is -Infinity or NaN outside a region never accepts a state there', () => {
  // Half-normal on x > 0, with a large fixed step so many proposals leave it.
  for (const outside of [-Infinity, NaN]) {
    random.setSeed(5);
    const K = 20;
    // tfjs has no gradient for tf.greater; tf.step (0 at x <= 0) has one.
    const target = (v: Record<string, tf.Tensor>) =>
      tf.where(
        tf.cast(tf.step(v.x), 'bool'),
        tf.mul(tf.square(v.x), -0.5),
        tf.fill(v.x.shape, outside),
      );
    const x = tf.variable(tf.fill([K], 0.5));
    const hmc = new HMC({ stepSize: 0.6, nLeapfrogs: 3 });
    let rejected = 0;
    let accepted = 0;
    const draws: number[] = [];
    for (let i = 0; i < 150; i++) {
      const info = hmc.step(target, {}, { x });
      const v = Array.from(x.dataSync());
      assert.ok(
        v.every((s) => s > 0),
        `a state outside the support was accepted (${outside}): ${v}`,
      );
      assert.ok(info.logProb.every(Number.isFinite));
      info.accepted.forEach((a, k) => {
        if (a) accepted++;
        else {
          rejected++;
          assert.ok(info.acceptance[k] < 1);
        }
      });
      if (i >= 30) draws.push(...v);
    }
    // Both happen often: the test exercises the rejection of outside proposals.
    assert.ok(rejected > 200 && accepted > 1000, `rejected ${rejected}, accepted ${accepted}`);
    // The chains still sample the half-normal: E[x] = sqrt(2/π) ≈ 0.798; 2400
    // draws of sd 0.6 with ESS ≥ ~500: sd(mean) ≲ 0.03; allow 0.1.
    const m = draws.reduce((a, b) => a + b, 0) / draws.length;
    assert.ok(Math.abs(m - Math.sqrt(2 / Math.PI)) < 0.1, `half-normal mean ${m}`);
    x.dispose();
    hmc.dispose();
  }
});

test('latents keep their shapes, and a step leaks no tensors (with adaptation on and off)', () => {
  random.setSeed(6);
  const a = tf.variable(tf.ones([3, 2, 2]));
  const b = tf.variable(tf.zeros([3]));
  const target = (v: Record<string, tf.Tensor>) =>
    tf.mul(tf.add(tf.sum(tf.square(v.a), [1, 2]), tf.square(v.b)), -0.5);
  const start = tf.memory().numTensors;
  // 20 warm-up steps: fast 0–2, slow 3–17 (the mass updated at its end), fast 18–19.
  const hmc = new HMC({ nLeapfrogs: 3, adaptStepSize: true, adaptMass: true, nWarmup: 20 });
  hmc.step(target, {}, { a, b }); // creates the mass variables
  const base = tf.memory().numTensors;
  for (let t = 1; t < 20; t++) {
    hmc.step(target, {}, { a, b });
    // The slow window's running moments (mean and variance of two latents)
    // live from step 3 until its end, step 17, frees them.
    const moments = t >= 3 && t < 17 ? 4 : 0;
    assert.equal(tf.memory().numTensors, base + moments, `warm-up step ${t}`);
  }
  for (let i = 0; i < 5; i++) {
    const info = noLeak(`step ${i}`, () => hmc.step(target, {}, { a, b }));
    assert.deepEqual(a.shape, [3, 2, 2]);
    assert.deepEqual(b.shape, [3]);
    assert.equal(info.acceptance.length, 3);
    assert.equal(info.accepted.length, 3);
    assert.equal(info.logProb.length, 3);
    assert.ok(info.acceptanceRate >= 0 && info.acceptanceRate <= 1);
  }
  assert.ok(!hmc.adaptStepSize, 'adaptation ends after nWarmup steps');
  // The order of the keys in `latent` does not matter.
  noLeak('keys in another order', () => hmc.step(target, {}, { b, a }));
  noLeak('stopAdaptation', () => hmc.stopAdaptation());
  noLeak('step after adaptation', () => hmc.step(target, {}, { a, b }));
  const mass = hmc.getMass()!;
  assert.deepEqual(mass.a.shape, [1, 2, 2]);
  assert.deepEqual(mass.b.shape, [1]);
  tf.dispose([mass.a, mass.b]);
  hmc.dispose();
  assert.equal(tf.memory().numTensors, start, 'dispose frees the sampler state');
  // A latent the density ignores gets a zero gradient and still works.
  const hmc2 = new HMC({ nLeapfrogs: 2 });
  const c = tf.variable(tf.zeros([3]));
  noLeak('unused latent', () => hmc2.step(target, {}, { a, b, c }));
  hmc2.dispose();
  tf.dispose([a, b, c]);
});

test('the energy error is ΔH of the leapfrog end point (float64 check), and sets acceptance and divergence', () => {
  // One leapfrog step of size ε on N(0, 1) is linear: q1 = (1 − ε²/2)q0 + εp0,
  // p1 = (1 − ε²/2)p0 − ε(1 − ε²/4)q0; an accepted move gives p0 back from q0 and q1.
  random.setSeed(8);
  const K = 50;
  const eps = 0.7;
  const target = (v: Record<string, tf.Tensor>) => tf.mul(tf.square(v.x), -0.5);
  const x = tf.variable(tf.randomNormal([K], 0, 1, 'float32', 9));
  const hmc = new HMC({ stepSize: eps, nLeapfrogs: 1 });
  let checked = 0;
  for (let i = 0; i < 20; i++) {
    const q0 = Array.from(x.dataSync());
    const info = hmc.step(target, {}, { x });
    const q1 = Array.from(x.dataSync());
    assert.deepEqual(info.nLeapfrogs, new Array(K).fill(1));
    assert.deepEqual(info.divergent, new Array(K).fill(false));
    info.energyError.forEach((dh, c) => {
      assert.ok(Math.abs(info.acceptance[c] - Math.min(1, Math.exp(-dh))) < 1e-12);
      if (!info.accepted[c]) return;
      const p0 = (q1[c] - (1 - eps ** 2 / 2) * q0[c]) / eps;
      const p1 = (1 - eps ** 2 / 2) * p0 - eps * (1 - eps ** 2 / 4) * q0[c];
      const want = 0.5 * (q1[c] ** 2 + p1 ** 2) - 0.5 * (q0[c] ** 2 + p0 ** 2);
      assert.ok(Math.abs(dh - want) < 1e-4, `chain ${c}: ΔH ${dh} vs ${want}`);
      checked++;
    });
  }
  assert.ok(checked > 500, `${checked} accepted moves checked`);
  hmc.dispose();
  // A step of 100 blows the energy up (ΔH ~ 1e7·q²): divergent, rejected.
  const wild = new HMC({ stepSize: 100, nLeapfrogs: 3 });
  const before = Array.from(x.dataSync());
  const info = wild.step(target, {}, { x });
  assert.ok(info.divergent.every((d, c) => d === !(info.energyError[c] <= 1000)));
  assert.ok(info.divergent.filter((d) => d).length > 45, `divergent ${info.divergent}`);
  info.accepted.forEach((a, c) => assert.ok(!a || !info.divergent[c]));
  assert.deepEqual(
    Array.from(x.dataSync()).filter((_, c) => info.divergent[c]),
    before.filter((_, c) => info.divergent[c]),
  );
  // A proposal outside the support: ΔH = +∞, divergent.
  const half = (v: Record<string, tf.Tensor>) =>
    tf.where(tf.cast(tf.step(v.y), 'bool'), tf.neg(v.y), tf.fill(v.y.shape, -Infinity));
  const y = tf.variable(tf.fill([4], 0.01));
  const out = new HMC({ stepSize: 1, nLeapfrogs: 5 }).step(half, {}, { y });
  assert.deepEqual(out.energyError, new Array(4).fill(Infinity));
  assert.deepEqual(out.divergent, new Array(4).fill(true));
  tf.dispose([x, y]);
  wild.dispose();
});

test("a chain moves all of its latents' elements or none, by its own Metropolis test", () => {
  // Two latents with event axes, [K, 3] and [K, 2, 2], and a step large enough
  // that some chains accept and some reject at every step.
  random.setSeed(12);
  const K = 30;
  const a = tf.variable(tf.randomNormal([K, 3], 0, 1, 'float32', 13));
  const b = tf.variable(tf.randomNormal([K, 2, 2], 0, 1, 'float32', 14));
  const target = (v: Record<string, tf.Tensor>) =>
    tf.mul(tf.add(tf.sum(tf.square(v.a), 1), tf.sum(tf.square(v.b), [1, 2])), -0.5);
  const hmc = new HMC({ stepSize: 1.2, nLeapfrogs: 2 });
  let moved = 0;
  let stayed = 0;
  for (let i = 0; i < 10; i++) {
    const [a0, b0] = [a.dataSync().slice(), b.dataSync().slice()];
    const info = hmc.step(target, {}, { a, b });
    const [a1, b1] = [a.dataSync(), b.dataSync()];
    for (let c = 0; c < K; c++) {
      const changed = (x0: ArrayLike<number>, x1: ArrayLike<number>, per: number) =>
        Array.from({ length: per }, (_, j) => x0[c * per + j] !== x1[c * per + j]);
      const flags = [...changed(a0, a1, 3), ...changed(b0, b1, 4)];
      // A proposal equal to the start in some element is possible but not in
      // these continuous draws: accepted means every element changed.
      assert.deepEqual(flags, new Array(7).fill(info.accepted[c]), `step ${i}, chain ${c}`);
      if (info.accepted[c]) moved++;
      else stayed++;
    }
  }
  assert.ok(moved > 50 && stayed > 20, `moved ${moved}, stayed ${stayed}`);
  hmc.dispose();
  tf.dispose([a, b]);
});

test('energyErrors, acceptProb and toNumbers: ΔH in float64, min(1, e^−ΔH), plain copies', () => {
  const lp0 = [-1, -2, -3, -4];
  const k0 = new Float32Array([0.5, 0.5, 0.5, 0.5]);
  const lp1 = new Float32Array([-0.5, -Infinity, NaN, -4.25]);
  const k1 = [0.25, 0.5, 0.5, Infinity];
  // Chain 3: a finite log density with an infinite kinetic energy gives ΔH = +∞.
  assert.deepEqual(energyErrors(lp0, k0, lp1, k1), [-0.75, Infinity, Infinity, Infinity]);
  assert.equal(energyErrors([], [], [], []).length, 0);
  for (const [dh, want] of [
    [-3, 1],
    [-0, 1],
    [0, 1],
    [0.5, Math.exp(-0.5)],
    [Infinity, 0],
  ] as const) {
    assert.equal(acceptProb(dh), want, `acceptProb(${dh})`);
  }
  assert.ok(Number.isNaN(acceptProb(NaN)));
  const f = new Float32Array([0.1, -2.5, 3]);
  const n = toNumbers(f);
  assert.ok(Array.isArray(n));
  assert.deepEqual(n, [f[0], f[1], f[2]]);
  assert.deepEqual(toNumbers(new Float32Array(0)), []);
});

test('step-size jitter: each step uses ε·(1 + j·u), u uniform in (−1, 1), seeded', () => {
  const run = (): number[] => {
    random.setSeed(12);
    const x = tf.variable(tf.zeros([4, 2]));
    const hmc = new HMC({ stepSize: 0.2, nLeapfrogs: 2, stepSizeJitter: 0.5 });
    const eps = Array.from({ length: 300 }, () => hmc.step(gaussian2d, {}, { x }).stepSize);
    assert.equal(hmc.stepSize, 0.2, 'the nominal step size is unchanged');
    x.dispose();
    hmc.dispose();
    return eps;
  };
  const eps = run();
  assert.deepEqual(run(), eps);
  assert.ok(
    eps.every((e) => e >= 0.1 && e <= 0.3),
    'within ε(1 ± j)',
  );
  assert.ok(Math.min(...eps) < 0.11 && Math.max(...eps) > 0.29, 'spread over the range');
  // Mean 0.2; the sd of the mean of 300 uniforms on [0.1, 0.3] is 0.0033.
  const mean = eps.reduce((a, b) => a + b, 0) / eps.length;
  assert.ok(Math.abs(mean - 0.2) < 0.015, `mean step size ${mean}`);
  assert.throws(() => new HMC({ stepSizeJitter: -0.1 }), /`stepSizeJitter` must lie in \[0, 1\)/);
});

test('equal seeds give equal chains', () => {
  const run = (): number[] => {
    random.setSeed(11);
    const x = tf.variable(tf.zeros([4, 2]));
    const hmc = new HMC({ stepSize: 0.3, nLeapfrogs: 3, adaptStepSize: true });
    for (let i = 0; i < 5; i++) hmc.step(gaussian2d, {}, { x });
    const out = [...Array.from(x.dataSync()), hmc.stepSize];
    x.dispose();
    hmc.dispose();
    return out;
  };
  const first = run();
  assert.deepEqual(run(), first);
});

test('HMC errors name the fault: missing or foreign latents, chain-shape mismatches, bad options', () => {
  const model = metaBayesianNet((bn: BayesianNet) => {
    const z = bn.normal('z', tf.zeros([3]), { std: 1 });
    const w = bn.normal('w', tf.zeros([3]), { std: 1 });
    bn.normal('x', tf.add(z, w), { std: 1 });
  });
  const z = tf.variable(tf.zeros([3]));
  const w = tf.variable(tf.zeros([3]));
  const v = tf.variable(tf.zeros([3]));
  const x = tf.zeros([3]);
  const hmc = new HMC();
  assert.throws(
    () => hmc.step(model, { x }, { z }),
    /HMC\.step: stochastic node 'w' of the model is neither observed nor in `latent`/,
  );
  assert.throws(
    () => hmc.step(model, { x }, { z, w, v }),
    /HMC\.step: latent 'v' is not a stochastic node of the model \(stochastic nodes: z, w, x\)/,
  );
  assert.throws(() => hmc.step(model, { x }, {}), /HMC\.step: `latent` is empty/);
  assert.throws(
    () => hmc.step(model, { x }, { z, w: tf.zeros([3]) as tf.Variable }),
    /latent\['w'\] must be a tf\.Variable/,
  );
  assert.throws(() => hmc.step(model, { x, z }, { z, w }), /'z' is both observed and latent/);
  // A log density whose shape does not lead the latent's shape.
  const y = tf.variable(tf.zeros([4, 2]));
  const bad = (vals: Record<string, tf.Tensor>) => tf.zeros([3]).add(tf.sum(vals.y));
  assert.throws(
    () => new HMC().step(bad, {}, { y }),
    /HMC\.step: the log density has shape \[3\] \(the chain shape\), which does not lead latent 'y' of shape \[4,2\]/,
  );
  // Later steps must keep the first step's chains.
  const h2 = new HMC({ nLeapfrogs: 1 });
  h2.step(gaussian2d, {}, { x: tf.variable(tf.zeros([2, 2])) });
  assert.throws(
    () => h2.step(gaussian2d, {}, { x: tf.variable(tf.zeros([5, 2])) }),
    /the log density has shape \[5\], but this sampler's chains have shape \[2\]/,
  );
  // A target that is not a density.
  assert.throws(
    () => new HMC().step(() => 3 as unknown as tf.Tensor, {}, { y }),
    /must return a BayesianNet or a tf\.Tensor/,
  );
  // A start outside the support.
  const lo = (vals: Record<string, tf.Tensor>) =>
    tf.where(tf.cast(tf.step(vals.z), 'bool'), tf.neg(vals.z), tf.fill([3], -Infinity));
  assert.throws(
    () => new HMC().step(lo, {}, { z }),
    /log density at the current state is -Infinity for chain 0/,
  );
  // tfjs cannot differentiate comparisons: the error says what to use instead.
  const cmp = (vals: Record<string, tf.Tensor>) =>
    tf.where(tf.greater(vals.z, 0), tf.neg(vals.z), tf.fill([3], -Infinity));
  assert.throws(
    () => new HMC().step(cmp, {}, { z }),
    /HMC\.step: cannot differentiate the log density: tfjs has no gradient for the 'Greater' kernel.*tf\.step/,
  );
  // Options.
  assert.throws(() => new HMC({ stepSize: 0 }), /HMC: `stepSize` must be a finite positive number/);
  assert.throws(() => new HMC({ nLeapfrogs: 2.5 }), /HMC: `nLeapfrogs` must be a positive integer/);
  assert.throws(
    () => new HMC({ targetAcceptanceRate: 1 }),
    /`targetAcceptanceRate` must lie in \(0, 1\)/,
  );
  assert.throws(() => new HMC({ adaptMass: true }), /`adaptMass` requires `adaptStepSize`/);
  hmc.dispose();
  assert.throws(() => hmc.step(model, { x }, { z, w }), /disposed/);
  tf.dispose([z, w, v, x, y]);
});
