import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ais, aisSchedule } from '../../src/evaluation/ais.js';
import { isLoglikelihood } from '../../src/evaluation/is_loglikelihood.js';
import { HMC } from '../../src/mcmc/hmc.js';
import { BayesianNet, metaBayesianNet } from '../../src/framework/bn.js';
import * as random from '../../src/random.js';
import { normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

// z ~ N(0, 1), x_i | z ~ N(z, SIGMA²), i = 1..n: x ~ N(0, SIGMA² I + 1 1ᵀ).
const SIGMA = 0.5;
const XS = [1.1, 1.6, 0.7, 1.3, 1.0, 1.4, 0.9, 1.2];

/** log p(x) in closed form (float64), via C⁻¹ = (I − 11ᵀ/(σ² + n))/σ² and det C = σ^{2n}(1 + n/σ²). */
function exactLogEvidence(xs: number[], sigma: number): number {
  const n = xs.length;
  const s2 = sigma * sigma;
  const sum = xs.reduce((a, b) => a + b, 0);
  const sumSq = xs.reduce((a, b) => a + b * b, 0);
  const quad = (sumSq - (sum * sum) / (s2 + n)) / s2;
  const logDet = n * Math.log(s2) + Math.log(1 + n / s2);
  return -0.5 * n * Math.log(2 * Math.PI) - 0.5 * logDet - 0.5 * quad;
}

/** Sample standard deviation. */
function sd(a: number[]): number {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
}

/** The prior (the proposal) and the model, with K chains along the first axis. */
function conjugate(K: number) {
  const prior = metaBayesianNet((bn: BayesianNet) => {
    bn.normal('z', tf.zeros([K]), { std: 1 });
  });
  const model = metaBayesianNet((bn: BayesianNet) => {
    const z = bn.normal('z', tf.zeros([K]), { std: 1 });
    bn.normal('x', tf.tile(tf.expandDims(z, 1), [1, XS.length]), {
      std: SIGMA,
      groupNdims: 1,
    });
  });
  return { prior, model };
}

test('AIS recovers the exact log marginal likelihood, closer than importance sampling from the prior', () => {
  const K = 64;
  const truth = exactLogEvidence(XS, SIGMA);
  const { prior, model } = conjugate(K);
  const x = tf.tensor1d(XS);
  random.setSeed(1);
  const hmc = new HMC({ stepSize: 0.5, nLeapfrogs: 5, adaptStepSize: true });
  const res = ais({ model, proposal: prior, observed: { x }, hmc, nTemperatures: 400 });
  assert.deepEqual(res.logWeights.shape, [K]);
  assert.deepEqual(res.logLikelihood.shape, []);
  assert.deepEqual(res.samples.z.shape, [K]);
  assert.ok(res.acceptanceRate > 0.5 && res.acceptanceRate <= 1, `acc ${res.acceptanceRate}`);
  const est = res.logLikelihood.dataSync()[0];
  const aisErr = Math.abs(est - truth);
  const lw = Array.from(res.logWeights.dataSync());
  const sdw = sd(lw);
  // The tolerance is the estimate's own standard error: for log-weights of
  // sd s the log-mean-exp of K of them has SE ≈ s/√K (delta method) and a
  // Jensen gap ≈ s²/(2K), negligible here. 400 temperatures keep s ≈ 0.3,
  // so 4 SE ≈ 0.15 (and at most 0.2 whatever s is); the prior alone is off
  // by ~13 nats (E_prior log p(x|z) vs log p(x)).
  assert.ok(sdw < 0.5, `log-weight sd ${sdw}: the annealing is too coarse`);
  const tol = Math.min(0.2, (4 * sdw) / Math.sqrt(K));
  assert.ok(aisErr < tol, `AIS ${est} vs exact ${truth} (tolerance ${tol})`);

  // The final states are weighted posterior samples: z | x ~ N(m, 1/33).
  const postMean = XS.reduce((a, b) => a + b, 0) / SIGMA ** 2 / (1 + XS.length / SIGMA ** 2);
  const zs = res.samples.z.dataSync();
  const maxW = Math.max(...lw);
  const w = lw.map((l) => Math.exp(l - maxW));
  const zMean = w.reduce((s, wi, i) => s + wi * zs[i], 0) / w.reduce((a, b) => a + b, 0);
  // Posterior sd 0.174; 64 roughly equally weighted draws: sd of the mean ~0.02.
  assert.ok(Math.abs(zMean - postMean) < 0.1, `posterior mean ${zMean} vs ${postMean}`);

  // Plain importance sampling with the same 64 chains from the prior: its
  // weights p(x|z) vary over orders of magnitude (relative variance ~7, so
  // its error is ~0.3 nats, mostly downwards). Compare with its mean |error|
  // over 8 replicates, as one replicate could land close by chance.
  let isErr = 0;
  let isSd = 0;
  for (let r = 0; r < 8; r++) {
    const q = prior.observe({});
    const t = isLoglikelihood(model, { x }, { proposal: q, axis: 0 });
    isErr += Math.abs(t.dataSync()[0] - truth) / 8;
    // Its log-weights, log p(x, z) − log p(z) = log p(x | z), for their spread.
    const lj = model.observe({ x, z: q.get('z') }).logJoint();
    const lq = q.localLogProb(['z']);
    isSd += sd(Array.from(tf.sub(lj, lq).dataSync())) / 8;
    tf.dispose([t, lj, lq, q.get('z')]);
  }
  assert.ok(aisErr < isErr, `AIS error ${aisErr} not below IS error ${isErr}`);
  // The reason: AIS's log-weights are far less spread than IS's.
  assert.ok(sdw < isSd / 5, `log-weight sd: AIS ${sdw}, IS ${isSd}`);
  tf.dispose([res.logWeights, res.logLikelihood, res.samples.z, x]);
  hmc.dispose();
});

test('AIS with several data points on the chain shape [K, N], a linear schedule and a fixed step size', () => {
  // One z per data point: log p(x_n) = log N(x_n; 0, 1 + σ²), one estimate each.
  const K = 64;
  const xs = [-1.5, 0.2, 2.0];
  const N = xs.length;
  const prior = (obs: Record<string, tf.Tensor>) => {
    const bn = new BayesianNet(obs);
    bn.normal('z', tf.zeros([K, N]), { std: 1 });
    return bn;
  };
  const model = (obs: Record<string, tf.Tensor>) => {
    const bn = prior(obs);
    bn.normal('x', bn.get('z'), { std: SIGMA });
    return bn;
  };
  random.setSeed(2);
  // A fixed step size: the exact AIS algorithm (no adaptation, nAdapt 0).
  const hmc = new HMC({ stepSize: 0.25, nLeapfrogs: 4 });
  const x = tf.tensor1d(xs);
  const before = tf.memory().numTensors;
  const res = ais({
    model,
    proposal: prior,
    observed: { x },
    hmc,
    nTemperatures: 100,
    schedule: 'linear',
  });
  // Only the results are left: logWeights, logLikelihood, samples.z.
  assert.equal(tf.memory().numTensors, before + 3, 'ais leaks tensors');
  assert.deepEqual(res.logWeights.shape, [K, N]);
  assert.deepEqual(res.logLikelihood.shape, [N]);
  const est = res.logLikelihood.dataSync();
  const lw = res.logWeights.arraySync() as number[][];
  // Per data point, within 4 standard errors (sd of its K log-weights / √K,
  // ~0.04 here) of the exact value, and at most 0.2.
  xs.forEach((xn, n) => {
    const exact = normalLogPdf(xn, 0, Math.sqrt(1 + SIGMA ** 2));
    const s = sd(lw.map((row) => row[n]));
    assert.ok(s < 0.6, `x=${xn}: log-weight sd ${s}`);
    const tol = Math.min(0.2, (4 * s) / Math.sqrt(K));
    assert.ok(Math.abs(est[n] - exact) < tol, `x=${xn}: ${est[n]} vs ${exact} (tolerance ${tol})`);
  });
  tf.dispose([res.logWeights, res.logLikelihood, res.samples.z, x]);
  hmc.dispose();
});

test('ais(model, observed, { proposal }) takes a built net as isLoglikelihood does', () => {
  // The proposal a built net (the prior's K draws start the chains; its node
  // scores them and draws afresh after the adaptation): the same estimate of
  // the exact evidence as from a meta net.
  const K = 64;
  const truth = exactLogEvidence(XS, SIGMA);
  const { prior, model } = conjugate(K);
  const x = tf.tensor1d(XS);
  random.setSeed(5);
  const q = prior.observe({});
  const before = tf.memory().numTensors;
  const hmc = new HMC({ stepSize: 0.5, nLeapfrogs: 5, adaptStepSize: true });
  const res = ais(model, { x }, { proposal: q, hmc, nTemperatures: 400 });
  hmc.dispose();
  assert.equal(tf.memory().numTensors, before + 3, 'ais leaks tensors');
  const lw = Array.from(res.logWeights.dataSync());
  const tol = Math.min(0.2, (4 * sd(lw)) / Math.sqrt(K));
  const est = res.logLikelihood.dataSync()[0];
  assert.ok(Math.abs(est - truth) < tol, `AIS ${est} vs exact ${truth} (tolerance ${tol})`);
  // The built net is the caller's: left alone.
  assert.equal(q.get('z').isDisposed, false);
  tf.dispose([res.logWeights, res.logLikelihood, res.samples.z, q.get('z')]);
  // Given both ways, the model and observations are refused.
  assert.throws(
    () => ais(model, { x }, { proposal: q, hmc: new HMC(), model }),
    /ais: give `model` and `observed` either as the first two arguments or in the options, not both/,
  );
  x.dispose();
});

test('aisSchedule: 0 to 1, non-decreasing; sigmoid is denser at both ends', () => {
  assert.deepEqual(aisSchedule(4, 'linear'), [0, 0.25, 0.5, 0.75, 1]);
  const s = aisSchedule(100);
  assert.equal(s.length, 101);
  assert.equal(s[0], 0);
  assert.equal(s[100], 1);
  for (let t = 1; t <= 100; t++) assert.ok(s[t] > s[t - 1], `not increasing at ${t}`);
  const gap = (t: number) => s[t] - s[t - 1];
  assert.ok(gap(1) < gap(50) / 3 && gap(100) < gap(50) / 3, 'sigmoid spacing');
  // Symmetric about the middle: β_t + β_{T−t} = 1.
  for (let t = 0; t <= 100; t++) assert.ok(Math.abs(s[t] + s[100 - t] - 1) < 1e-12);
  assert.deepEqual(aisSchedule(1), [0, 1]);
  assert.throws(() => aisSchedule(0), /aisSchedule: `nTemperatures` must be a positive integer/);
  assert.throws(
    () => aisSchedule(5, 'cubic' as 'linear'),
    /aisSchedule: `kind` must be 'sigmoid' or 'linear'/,
  );
});

test('ais errors name the fault', () => {
  const K = 4;
  const { prior, model } = conjugate(K);
  const x = tf.tensor1d(XS);
  const hmc = new HMC({ nLeapfrogs: 1 });
  const base = { model, proposal: prior, observed: { x }, hmc, nTemperatures: 2 };
  const before = tf.memory().numTensors;
  assert.throws(
    () => ais({ ...base, latent: ['w'] }),
    /ais: latent 'w' is not a stochastic node of the proposal/,
  );
  // A proposal latent the model lacks.
  const otherPrior = metaBayesianNet((bn: BayesianNet) => {
    bn.normal('u', tf.zeros([K]), { std: 1 });
  });
  assert.throws(
    () => ais({ ...base, proposal: otherPrior }),
    /ais: latent 'u' is not a stochastic node of the model/,
  );
  // Chain shapes of log p and log q that differ.
  const widePrior = metaBayesianNet((bn: BayesianNet) => {
    bn.normal('z', tf.zeros([K, 2]), { std: 1 });
  });
  assert.throws(
    () => ais({ ...base, proposal: widePrior, model: () => tf.zeros([K]) }),
    /ais: log p\(x, z\) has shape \[4\] but log q\(z\) has shape \[4,2\]/,
  );
  // One chain without a sample axis.
  const scalarPrior = metaBayesianNet((bn: BayesianNet) => {
    bn.normal('z', 0, { std: 1 });
  });
  assert.throws(
    () => ais({ ...base, proposal: scalarPrior, model: () => tf.scalar(0) }),
    /ais: the log densities are scalars; the chains need a leading importance-sample axis/,
  );
  assert.throws(
    () => ais({ ...base, schedule: [0, 0.7, 0.5, 1] }),
    /ais: a `schedule` array must be non-decreasing from 0 to 1/,
  );
  assert.throws(() => ais({ ...base, hmc: {} as HMC }), /ais: `hmc` must be an HMC instance/);
  assert.throws(() => ais({ ...base, nAdapt: -1 }), /ais: `nAdapt` must be a non-negative integer/);
  // A failed run frees its variables.
  assert.equal(tf.memory().numTensors, before, 'a failed ais leaks tensors');
  x.dispose();
  hmc.dispose();
});
