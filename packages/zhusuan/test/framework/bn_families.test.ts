/**
 * BayesianNet's node shorthands for every distribution family: each builds the
 * family with the given options, takes `nSamples` out of them, and its node's
 * log density is the family's own.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, useCpu } from '../helpers.js';

before(useCpu);

type Shorthand = (bn: zs.BayesianNet, nSamples?: number) => tf.Tensor;

// name → [the shorthand, the family it must build, the expected shape of one draw]
const NODES: Record<string, [Shorthand, new (...a: never[]) => zs.Distribution, number[]]> = {
  uniform: [
    (bn, n) => bn.uniform('v', { minval: 0, maxval: tf.ones([3]), nSamples: n }),
    zs.Uniform,
    [3],
  ],
  laplace: [
    (bn, n) => bn.laplace('v', { loc: tf.zeros([3]), scale: 2, nSamples: n }),
    zs.Laplace,
    [3],
  ],
  foldNormal: [
    (bn, n) => bn.foldNormal('v', { mean: tf.zeros([3]), logstd: 0, nSamples: n }),
    zs.FoldNormal,
    [3],
  ],
  gamma: [(bn, n) => bn.gamma('v', { alpha: tf.ones([3]), beta: 2, nSamples: n }), zs.Gamma, [3]],
  beta: [(bn, n) => bn.beta('v', { alpha: tf.ones([3]), beta: 2, nSamples: n }), zs.Beta, [3]],
  inverseGamma: [
    (bn, n) => bn.inverseGamma('v', { alpha: tf.fill([3], 3), beta: 2, nSamples: n }),
    zs.InverseGamma,
    [3],
  ],
  dirichlet: [
    (bn, n) => bn.dirichlet('v', { alpha: tf.ones([2, 3]), nSamples: n }),
    zs.Dirichlet,
    [2, 3],
  ],
  categorical: [
    (bn, n) => bn.categorical('v', { logits: tf.zeros([2, 4]), nSamples: n }),
    zs.Categorical,
    [2],
  ],
  onehotCategorical: [
    (bn, n) => bn.onehotCategorical('v', { probs: tf.fill([2, 4], 0.25), nSamples: n }),
    zs.OnehotCategorical,
    [2, 4],
  ],
  poisson: [(bn, n) => bn.poisson('v', { rate: tf.fill([3], 2), nSamples: n }), zs.Poisson, [3]],
  multinomial: [
    (bn, n) => bn.multinomial('v', { logits: tf.zeros([2, 3]), nTrials: 4, nSamples: n }),
    zs.Multinomial,
    [2, 3],
  ],
  multivariateNormalCholesky: [
    (bn, n) =>
      bn.multivariateNormalCholesky('v', {
        mean: tf.zeros([2, 3]),
        cholTril: tf.eye(3),
        nSamples: n,
      }),
    zs.MultivariateNormalCholesky,
    [2, 3],
  ],
  concrete: [
    (bn, n) => bn.concrete('v', { temperature: 0.5, logits: tf.zeros([2, 3]), nSamples: n }),
    zs.Concrete,
    [2, 3],
  ],
  expConcrete: [
    (bn, n) => bn.expConcrete('v', { temperature: 0.5, logits: tf.zeros([2, 3]), nSamples: n }),
    zs.ExpConcrete,
    [2, 3],
  ],
  binConcrete: [
    (bn, n) => bn.binConcrete('v', { temperature: 0.5, logits: tf.zeros([3]), nSamples: n }),
    zs.BinConcrete,
    [3],
  ],
  binomial: [
    (bn, n) => bn.binomial('v', { probs: tf.fill([3], 0.3), nTrials: 5, nSamples: n }),
    zs.Binomial,
    [3],
  ],
  exponential: [
    (bn, n) => bn.exponential('v', { rate: tf.fill([3], 2), nSamples: n }),
    zs.Exponential,
    [3],
  ],
  logistic: [
    (bn, n) => bn.logistic('v', { loc: tf.zeros([3]), scale: 2, nSamples: n }),
    zs.Logistic,
    [3],
  ],
  studentT: [
    (bn, n) => bn.studentT('v', { df: 3, loc: tf.zeros([3]), scale: 2, nSamples: n }),
    zs.StudentT,
    [3],
  ],
  matrixVariateNormalCholesky: [
    (bn, n) =>
      bn.matrixVariateNormalCholesky('v', {
        mean: tf.zeros([2, 3, 2]),
        uTril: tf.eye(3),
        vTril: tf.eye(2),
        nSamples: n,
      }),
    zs.MatrixVariateNormalCholesky,
    [2, 3, 2],
  ],
};

test('every shorthand builds its family, samples with and without nSamples, and scores its value', () => {
  zs.random.setSeed(5);
  for (const [name, [add, Family, shape]] of Object.entries(NODES)) {
    const bn = new zs.BayesianNet();
    const v = add(bn);
    assert.deepEqual(v.shape, shape, name);
    const node = bn.node('v');
    assert.ok(node.dist instanceof Family, `${name}: built ${node.dist.name}`);
    assert.equal(node.isObserved, false);
    assert.deepEqual(
      Array.from(bn.logJoint().dataSync()),
      Array.from(node.dist.logProb(v).dataSync()),
      name,
    );
    const many = add(new zs.BayesianNet(), 4);
    assert.deepEqual(many.shape, [4, ...shape], `${name} with nSamples`);
    // An observed node keeps the observation and is scored at it.
    const obs = new zs.BayesianNet({ v });
    assert.equal(add(obs), v, `${name} observed`);
    assert.equal(obs.node('v').isObserved, true);
  }
});

test('an UnnormalizedMultinomial node must be observed (it cannot be sampled)', () => {
  const logits = tf.tensor([0.2, -0.1, 0.4]);
  assert.throws(
    () => new zs.BayesianNet().unnormalizedMultinomial('w', { logits }),
    /UnnormalizedMultinomial\.sample: cannot sample/,
  );
  const counts = tf.tensor([3, 0, 2]);
  const bn = new zs.BayesianNet({ w: counts });
  assert.equal(bn.unnormalizedMultinomial('w', { logits }), counts);
  const want = new zs.UnnormalizedMultinomial({ logits }).logProb(counts).dataSync();
  assertClose(bn.logJoint().dataSync(), want, 0, 0, 'logJoint');
});

test('a model mixing the families: logJoint is the sum of the nodes (the docs/library.md example)', () => {
  const n = 4;
  const X = tf.tensor([
    [1, 0.5],
    [1, -0.3],
    [1, 2],
    [1, 0],
  ]);
  const model = zs.metaBayesianNet((bn: zs.BayesianNet, m: number) => {
    const tau = bn.gamma('tau', { alpha: 1, beta: 1 });
    const w = bn.normal('w', tf.zeros([2]), { std: 1, groupNdims: 1 });
    bn.normal('y', tf.matMul(X, tf.reshape(w, [2, 1])).reshape([m]), {
      std: tf.rsqrt(tau),
      groupNdims: 1,
    });
  });
  const y = tf.tensor([0.9, 0.2, 2.1, 0.4]);
  const w = tf.tensor([0.3, 0.8]);
  const tau = tf.scalar(2.5);
  const lj = model.observe({ y, w, tau }, n).logJoint();
  // Float64 by hand: Gamma(1, 1) at 2.5 is −2.5; two standard normals; four N(Xw, 1/2.5).
  const xw = [0.3 + 0.4, 0.3 - 0.24, 0.3 + 1.6, 0.3];
  const normal = (x: number, m: number, s: number) =>
    -0.5 * Math.log(2 * Math.PI) - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
  const want =
    -2.5 +
    normal(0.3, 0, 1) +
    normal(0.8, 0, 1) +
    [0.9, 0.2, 2.1, 0.4].reduce((s, yi, i) => s + normal(yi, xw[i], 1 / Math.sqrt(2.5)), 0);
  assertClose(lj.dataSync(), [want], 1e-5, 1e-5, 'logJoint');
});
