/**
 * NUTS: the checkpoint indices of the iterative U-turn checks, moments of a
 * standard and a correlated Gaussian within 5 Monte-Carlo standard errors
 * (with the ESS of our own diagnostics), the tree stopping near half a
 * period, a depth-1 tree as one Metropolis-tested leapfrog step,
 * divergences, the driver, reproducibility, leaks and errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { NUTS, checkpointRange } from '../../src/mcmc/nuts.js';
import { sampleChains } from '../../src/mcmc/driver.js';
import { BayesianNet } from '../../src/framework/bn.js';
import * as random from '../../src/random.js';
import { noLeak, useCpu } from '../helpers.js';
import { assertMoments } from './fixtures.js';

before(useCpu);

/** log N(x; 0, I) up to a constant, x of shape [...chains, D]. */
const stdNormal = (v: Record<string, tf.Tensor>): tf.Tensor =>
  tf.mul(tf.sum(tf.square(v.x), -1), -0.5);

/** Reads a tensor back as numbers and disposes it. */
const read = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

test("checkpointRange matches numpyro's leaf-to-checkpoint indices and checks every balanced subtree", () => {
  // numpyro's comments: 6 → (idx_max 2, no subtree), 7 → (2, 3 subtrees), 13 → (2, 1).
  assert.deepEqual(checkpointRange(0), [1, 0]);
  assert.deepEqual(checkpointRange(1), [0, 0]);
  assert.deepEqual(checkpointRange(3), [0, 1]);
  assert.deepEqual(checkpointRange(6), [3, 2]);
  assert.deepEqual(checkpointRange(7), [0, 2]);
  assert.deepEqual(checkpointRange(13), [2, 2]);
  // Store leaf n at checkpoint max when n is even; at an odd leaf, the
  // checkpoints [min, max] must hold exactly the first leaves of the balanced
  // subtrees ending at n: n − 2^k + 1 for k = 1 … (trailing ones of n).
  for (const depth of [1, 2, 3, 4, 5, 6]) {
    const ckpt: number[] = [];
    for (let n = 0; n < 2 ** depth; n++) {
      const [lo, hi] = checkpointRange(n);
      if (n % 2 === 0) {
        ckpt[hi] = n;
        assert.ok(lo > hi, `even leaf ${n} checks nothing`);
        continue;
      }
      const starts = [];
      for (let j = hi; j >= lo; j--) starts.push(ckpt[j]);
      const want = [];
      for (let size = 2; n - size + 1 >= 0 && (n + 1) % size === 0; size *= 2) {
        want.push(n - size + 1);
      }
      assert.deepEqual(starts, want, `depth ${depth}, leaf ${n}`);
    }
  }
});

test('NUTS samples a 4-D standard Gaussian: means and variances within 5 MC standard errors', () => {
  random.setSeed(21);
  const K = 20;
  const x = tf.variable(tf.mul(tf.randomNormal([K, 4], 0, 1, 'float32', 5), 2));
  const nuts = new NUTS({ nWarmup: 150 });
  const run = sampleChains(nuts, stdNormal, {}, { x }, { nSamples: 150 });
  assert.deepEqual(run.samples.x.shape, [150, K, 4]);
  assert.equal(run.warmupInfo.length, 150);
  assert.equal(run.nDivergent, 0);
  const identity = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  assertMoments(run.samples.x, [0, 0, 0, 0], identity, 'standard Gaussian');
  // Dual averaging aims at a mean acceptance statistic of 0.8.
  const acc = run.info.reduce((s, i) => s + i.acceptanceRate, 0) / run.info.length;
  assert.ok(acc > 0.65 && acc < 0.95, `acceptance ${acc}`);
  tf.dispose([run.samples.x, x]);
  nuts.dispose();
});

test('NUTS with windowed mass adaptation samples a correlated, badly scaled 2-D Gaussian', () => {
  // Mean (1, −1), sds (1, 3), correlation 0.9.
  const MU = [1, -1];
  const SD = [1, 3];
  const RHO = 0.9;
  const cov = [
    [SD[0] ** 2, RHO * SD[0] * SD[1]],
    [RHO * SD[0] * SD[1], SD[1] ** 2],
  ];
  const det = cov[0][0] * cov[1][1] - cov[0][1] ** 2;
  const prec = tf.tensor2d([
    [cov[1][1] / det, -cov[0][1] / det],
    [-cov[1][0] / det, cov[0][0] / det],
  ]);
  const mu = tf.tensor1d(MU);
  const target = (v: Record<string, tf.Tensor>): tf.Tensor => {
    const d = tf.sub(v.x, mu);
    return tf.mul(tf.sum(tf.mul(d, tf.sum(tf.mul(tf.expandDims(d, -1), prec), -2)), -1), -0.5);
  };
  random.setSeed(22);
  const K = 20;
  const x = tf.variable(tf.zeros([K, 2]));
  const nuts = new NUTS({ nWarmup: 200, adaptMass: true });
  const run = sampleChains(nuts, target, {}, { x }, { nSamples: 150 });
  assertMoments(run.samples.x, MU, cov, 'correlated Gaussian');
  // The diagonal mass estimates 1/marginal variance (1, 1/9), from 125 draws × 20 chains.
  const mass = nuts.getMass()!;
  const m = read(mass.x);
  assert.ok(Math.abs(m[0] - 1) < 0.3 && Math.abs(m[1] * 9 - 1) < 0.3, `mass ${m}`);
  tf.dispose([run.samples.x, x, prec, mu]);
  nuts.dispose();
});

test('the tree stops at a U-turn, about half a period of a Gaussian, far below the maximum depth', () => {
  // ε = 0.1 on N(0, I_5): half a period is π, i.e. ~31 leapfrog steps, depth 5.
  random.setSeed(23);
  const x = tf.variable(tf.randomNormal([20, 5], 0, 1, 'float32', 3));
  const nuts = new NUTS({ stepSize: 0.1, adaptStepSize: false });
  const depths: number[] = [];
  for (let i = 0; i < 20; i++) {
    const info = nuts.step(stdNormal, {}, { x });
    depths.push(...info.treeDepth);
    info.treeDepth.forEach((d, c) => {
      // A tree of depth d has between 2^(d−1) and 2^d − 1 leapfrog steps.
      const n = info.nLeapfrogs[c];
      assert.ok(n >= 2 ** (d - 1) && n <= 2 ** d - 1, `depth ${d} with ${n} leapfrogs`);
    });
  }
  const atFive = depths.filter((d) => d === 5).length / depths.length;
  assert.ok(atFive > 0.6, `share of depth-5 trees ${atFive}`);
  assert.ok(Math.max(...depths) <= 8, `max depth ${Math.max(...depths)}`);
  x.dispose();
  nuts.dispose();
});

test('maxTreeDepth 1 is one leapfrog step with a Metropolis test, and still samples the target', () => {
  // The tree is the start and one leaf; the leaf is taken with probability
  // min(1, e^{−ΔH}), which is also the acceptance statistic.
  random.setSeed(24);
  const K = 40;
  const x = tf.variable(tf.zeros([K, 1]));
  const nuts = new NUTS({ stepSize: 1.2, adaptStepSize: false, maxTreeDepth: 1 });
  const draws: number[] = [];
  for (let i = 0; i < 400; i++) {
    const before = Array.from(x.dataSync());
    const info = nuts.step(stdNormal, {}, { x });
    const after = Array.from(x.dataSync());
    assert.ok(info.treeDepth.every((d) => d === 1));
    assert.ok(info.nLeapfrogs.every((n) => n === 1));
    info.accepted.forEach((moved, c) => {
      if (moved) {
        assert.ok(
          Math.abs(info.acceptance[c] - Math.min(1, Math.exp(-info.energyError[c]))) < 1e-12,
        );
        assert.ok(Math.abs(info.logProb[c] + 0.5 * after[c] ** 2) < 1e-5, 'logProb of the move');
      } else {
        assert.equal(after[c], before[c]);
        assert.equal(info.energyError[c], 0);
      }
    });
    if (i >= 50) draws.push(...after);
  }
  // 14000 draws of a reversible chain with acceptance ~0.8: ESS in the thousands.
  const m = draws.reduce((a, b) => a + b, 0) / draws.length;
  const v = draws.reduce((a, b) => a + (b - m) ** 2, 0) / draws.length;
  assert.ok(Math.abs(m) < 0.1 && Math.abs(v - 1) < 0.1, `mean ${m}, variance ${v}`);
  x.dispose();
  nuts.dispose();
});

test('a diverging trajectory is flagged and never picked', () => {
  // ε = 100 on N(0, 1): the first leapfrog step's energy error is ~1e7·z².
  random.setSeed(25);
  const K = 10;
  const x = tf.variable(tf.fill([K, 1], 0.5));
  const nuts = new NUTS({ stepSize: 100, adaptStepSize: false });
  const info = nuts.step(stdNormal, {}, { x });
  assert.deepEqual(info.divergent, new Array(K).fill(true));
  assert.deepEqual(info.accepted, new Array(K).fill(false));
  assert.deepEqual(info.treeDepth, new Array(K).fill(1));
  assert.deepEqual(Array.from(x.dataSync()), new Array(K).fill(0.5));
  // A small step does not diverge.
  const small = new NUTS({ stepSize: 0.3, adaptStepSize: false });
  const calm = small.step(stdNormal, {}, { x });
  small.dispose();
  assert.deepEqual(calm.divergent, new Array(K).fill(false));
  assert.ok(calm.energyError.every((e) => Number.isFinite(e) && Math.abs(e) < 1));
  x.dispose();
  nuts.dispose();
});

test('NUTS on a model, on several chain axes; equal seeds give equal chains', () => {
  // z ~ N(0, 1) per chain, x | z ~ N(z, 0.5²) observed 4 times: posterior N(m, 1/17).
  const xs = tf.tensor1d([0.9, 1.4, 0.6, 1.1]);
  const model = (obs: Record<string, tf.Tensor>) => {
    const bn = new BayesianNet(obs);
    const z = bn.normal('z', tf.zeros([2, 3]), { std: 1 });
    bn.normal('x', tf.tile(tf.expandDims(z, -1), [1, 1, 4]), { std: 0.5, groupNdims: 1 });
    return bn;
  };
  const run = (seed: number) => {
    random.setSeed(seed);
    const z = tf.variable(tf.zeros([2, 3]));
    const nuts = new NUTS({ nWarmup: 30, stepSizeJitter: 0.3 });
    const out = sampleChains(nuts, model, { x: xs }, { z }, { nSamples: 20 });
    assert.deepEqual(out.samples.z.shape, [20, 2, 3]);
    assert.deepEqual(out.info[0].treeDepth.length, 6);
    const draws = read(out.samples.z);
    const infos = out.info.map((i) => [i.stepSize, ...i.treeDepth, ...i.energyError]);
    z.dispose();
    nuts.dispose();
    return { draws, infos };
  };
  const a = run(31);
  assert.deepEqual(run(31), a);
  assert.notDeepEqual(run(32).draws, a.draws);
  // Jitter: step sizes vary within ±30% of the fixed post-warm-up step size.
  const eps = a.infos.map((i) => i[0]);
  assert.ok(new Set(eps).size > 15, 'jittered step sizes differ');
  assert.ok(Math.max(...eps) / Math.min(...eps) < 1.3 / 0.7 + 1e-9);
  xs.dispose();
});

test('NUTS steps leak no tensors, with and without mass adaptation; dispose frees the rest', () => {
  random.setSeed(26);
  const a = tf.variable(tf.ones([3, 2, 2]));
  const b = tf.variable(tf.zeros([3]));
  const target = (v: Record<string, tf.Tensor>) =>
    tf.mul(tf.add(tf.sum(tf.square(v.a), [1, 2]), tf.square(v.b)), -0.5);
  const start = tf.memory().numTensors;
  const plain = new NUTS({ stepSize: 0.4 });
  for (let i = 0; i < 5; i++) noLeak(`step ${i}`, () => plain.step(target, {}, { a, b }));
  plain.dispose();
  assert.equal(tf.memory().numTensors, start);
  const nuts = new NUTS({ adaptMass: true, nWarmup: 20, maxTreeDepth: 4 });
  for (let i = 0; i < 25; i++) nuts.step(target, {}, { a, b });
  noLeak('after warm-up', () => nuts.step(target, {}, { b, a }));
  nuts.dispose();
  assert.equal(tf.memory().numTensors, start, 'dispose frees the mass');
  tf.dispose([a, b]);
});

test('NUTS and sampleChains errors name the fault', () => {
  assert.throws(
    () => new NUTS({ maxTreeDepth: 0 }),
    /NUTS: `maxTreeDepth` must be a positive integer, got 0/,
  );
  assert.throws(
    () => new NUTS({ maxTreeDepth: 31 }),
    /NUTS: `maxTreeDepth` must be at most 30, got 31/,
  );
  assert.throws(
    () => new NUTS({ stepSizeJitter: 1 }),
    /NUTS: `stepSizeJitter` must lie in \[0, 1\), got 1/,
  );
  assert.throws(() => new NUTS({ adaptMass: true }), /NUTS: `adaptMass` requires `nWarmup`/);
  assert.throws(
    () => new NUTS({ adaptStepSize: false, nWarmup: 10 }),
    /NUTS: `nWarmup` sets how long adaptation runs; it requires `adaptStepSize`/,
  );
  assert.throws(() => new NUTS().step(stdNormal, {}, {}), /NUTS\.step: `latent` is empty/);
  const x = tf.variable(tf.zeros([2, 2]));
  const nuts = new NUTS({ nWarmup: 10 });
  assert.throws(
    () => sampleChains(nuts, stdNormal, {}, { x }, { nSamples: 5, nWarmup: 20 }),
    /sampleChains: `nWarmup` 20 differs from the kernel's nWarmup 10/,
  );
  assert.throws(
    () => sampleChains(nuts, stdNormal, {}, { x }, { nSamples: 0 }),
    /sampleChains: `nSamples` must be a positive integer, got 0/,
  );
  nuts.dispose();
  assert.throws(() => nuts.step(stdNormal, {}, { x }), /NUTS\.step: the sampler has been disposed/);
  x.dispose();
});
