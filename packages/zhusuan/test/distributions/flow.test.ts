/**
 * FlowDistribution: exact log densities of affine flows against float64
 * oracles (a Normal and a MultivariateNormalCholesky base), shapes, the two
 * routes to log q (forward pass at its own draws, inverse elsewhere) agreeing
 * in value and gradient, the kept log densities and their memory, a base
 * that is not reparameterised, BayesianNet flow nodes, and the errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import {
  assertClose,
  assertNoGradientPath,
  meanStd,
  noLeak,
  normalLogPdf,
  read,
  useCpu,
} from '../helpers.js';
import { perturb } from '../flows/oracles.js';

before(useCpu);

/** A bijector without an inverse: a planar step whose inverse is hidden. */
class ForwardOnly extends zs.Bijector {
  constructor(readonly inner: zs.Bijector) {
    super('ForwardOnly', inner.dim);
  }
  override get hasInverse(): boolean {
    return false;
  }
  get variables(): tf.Variable[] {
    return this.inner.variables;
  }
  protected _forward(x: tf.Tensor): zs.ForwardResult {
    return this.inner.forward(x);
  }
  protected _inverse(): zs.InverseResult {
    throw new Error('unreachable');
  }
  protected _dispose(): void {
    this.inner.dispose();
  }
}

/** A standard Normal base on [...lead, d] with groupNdims 1. */
const stdNormal = (shape: number[]) =>
  new zs.Normal({ mean: tf.zeros(shape), std: 1, groupNdims: 1 });

test('an affine flow of a Normal: exact log density, moments, sampleAndLogProb', () => {
  // y = permute(x ⊙ (2, 0.5)) with x ~ N((0.5, −1), diag(1, 4)): y ~ N((−0.5, 1), diag(1, 4)).
  const flow = new zs.Sequential([
    new zs.Scaling(2, { logScale: [Math.log(2), Math.log(0.5)] }),
    new zs.Permute([1, 0]),
  ]);
  const base = new zs.Normal({ mean: tf.tensor([0.5, -1]), std: tf.tensor([1, 2]), groupNdims: 1 });
  const q = new zs.FlowDistribution({ base, bijector: flow });
  assert.deepEqual([q.batchShape, q.valueShape, q.isReparameterized], [[], [2], true]);
  const pts = [
    [0.3, -1.2],
    [2, 4],
    [-1.5, 0.1],
  ];
  const want = pts.map(([a, b]) => normalLogPdf(a, -0.5, 1) + normalLogPdf(b, 1, 2));
  const given = tf.tensor2d(pts);
  assertClose(noLeak('logProb', () => read(q.logProb(given))).data, want, 1e-6, 1e-6, 'logProb');
  zs.random.setSeed(2);
  const n = 20000;
  const y = q.sample(n);
  const cols = [0, 1].map((c) => Array.from(tf.tidy(() => tf.gather(y, c, 1).dataSync())));
  // Means within 5 standard errors.
  assertClose(meanStd(cols[0]).mean, -0.5, 0, (5 * 1) / Math.sqrt(n), 'mean y0');
  assertClose(meanStd(cols[1]).mean, 1, 0, (5 * 2) / Math.sqrt(n), 'mean y1');
  assertClose(meanStd(cols[1]).std, 2, 0.03, 0, 'std y1');
  const { sample, logProb } = q.sampleAndLogProb(4);
  const exact = Array.from(sample.arraySync() as number[][]).map(
    ([a, b]) => normalLogPdf(a, -0.5, 1) + normalLogPdf(b, 1, 2),
  );
  assertClose(logProb.dataSync(), exact, 1e-5, 1e-5, 'sampleAndLogProb');
  tf.dispose([given, y, sample, logProb]);
  flow.dispose();
});

test('a MultivariateNormalCholesky base (value shape [D]): the scaled normal', () => {
  const mean = tf.tensor([1, -2]);
  const chol = tf.tensor2d([
    [1, 0],
    [0.6, 0.8],
  ]);
  const s = [1.5, 0.25];
  const flow = new zs.Scaling(2, { logScale: s.map(Math.log) });
  const q = new zs.FlowDistribution({
    base: new zs.MultivariateNormalCholesky({ mean, cholTril: chol }),
    bijector: flow,
  });
  const direct = new zs.MultivariateNormalCholesky({
    mean: tf.mul(mean, s),
    cholTril: tf.mul(chol, tf.tensor2d([[s[0]], [s[1]]])),
  });
  const y = tf.tensor2d([
    [0.5, -0.3],
    [2, -1],
  ]);
  assertClose(q.logProb(y).dataSync(), direct.logProb(y).dataSync(), 1e-5, 1e-5, 'logProb');
  flow.dispose();
});

test('shapes: batch axes, the sample axis and groupNdims', () => {
  const flow = new zs.AffineCoupling(2, { hiddenSizes: [4], seed: 1 });
  perturb(flow, 0.3, 1);
  const q = new zs.FlowDistribution({ base: stdNormal([3, 2]), bijector: flow });
  const q1 = new zs.FlowDistribution({ base: stdNormal([3, 2]), bijector: flow, groupNdims: 1 });
  assert.deepEqual([q.batchShape, q.valueShape], [[3], [2]]);
  noLeak('shapes', () => {
    assert.deepEqual(read(q.sample()).shape, [3, 2]);
    const x = q.sample(4);
    assert.deepEqual(x.shape, [4, 3, 2]);
    assert.deepEqual(read(q.logProb(x)).shape, [4, 3]);
    assert.deepEqual(read(q1.logProb(x)).shape, [4]);
    x.dispose();
    const sl = q1.sampleAndLogProb(4);
    assert.deepEqual([sl.sample.shape, sl.logProb.shape], [[4, 3, 2], [4]]);
    tf.dispose([sl.sample, sl.logProb]);
    const one = q.sampleAndLogProb();
    assert.deepEqual([one.sample.shape, one.logProb.shape], [[3, 2], [3]]);
    tf.dispose([one.sample, one.logProb]);
  });
  flow.dispose();
});

test('log q from the forward pass equals log q through the inverse, in value and gradient', () => {
  const mean = tf.tidy(() => tf.variable(tf.tensor([0.3, -0.2, 0.5])));
  const logstd = tf.tidy(() => tf.variable(tf.tensor([0.1, -0.3, 0.2])));
  for (const flow of [
    new zs.Sequential([
      new zs.InverseAutoregressiveFlow(3, { hiddenSizes: [8], seed: 1 }),
      new zs.Reverse(3),
      new zs.PlanarFlow(3, { seed: 2 }),
    ]),
    new zs.Sequential([
      new zs.AffineCoupling(3, { hiddenSizes: [8], seed: 3 }),
      new zs.Scaling(3),
      new zs.AdditiveCoupling(3, { mask: [1, 0, 1], hiddenSizes: [8], seed: 4 }),
    ]),
  ]) {
    perturb(flow, 0.3, 5);
    const vars = [mean, logstd, ...flow.variables];
    const meanLogQ = (cacheLogProb: boolean) => {
      zs.random.setSeed(11);
      const base = new zs.Normal({ mean, logstd, groupNdims: 1 });
      const q = new zs.FlowDistribution({ base, bijector: flow, cacheLogProb });
      return tf.variableGrads(() => tf.mean(q.logProb(q.sample(50))) as tf.Scalar, vars);
    };
    const [kept, inverted] = [meanLogQ(true), meanLogQ(false)];
    assertClose(kept.value.dataSync(), inverted.value.dataSync(), 1e-5, 1e-5, 'value');
    // A variable the forward route does not reach (an additive coupling's:
    // it changes no volume) has no gradient there, and ≈ 0 through the inverse.
    const grad = (g: tf.NamedTensorMap, v: tf.Variable) =>
      g[v.name] === undefined ? new Float32Array(v.size) : g[v.name].dataSync();
    vars.forEach((v) =>
      assertClose(
        grad(kept.grads, v),
        grad(inverted.grads, v),
        1e-3,
        1e-4,
        `gradient for ${v.name}`,
      ),
    );
    tf.dispose([kept.value, inverted.value, ...Object.values(kept.grads)]);
    tf.dispose(Object.values(inverted.grads));
    flow.dispose();
  }
  tf.dispose([mean, logstd]);
});

test('kept log densities: a bijector without an inverse, the errors, the memory', () => {
  const planar = new zs.PlanarFlow(2, { seed: 3, initStd: 0.7 });
  const flow = new ForwardOnly(planar);
  const q = new zs.FlowDistribution({ base: stdNormal([2]), bijector: flow });
  assert.equal(q.cacheLogProb, true, 'the default without an inverse');
  const twin = new zs.FlowDistribution({ base: stdNormal([2]), bijector: planar });
  assert.equal(twin.cacheLogProb, false, 'the default with one');
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const z = q.sample(5);
    assertClose(q.logProb(z).dataSync(), twin.logProb(z).dataSync(), 1e-5, 1e-5, 'kept vs inverse');
    assert.throws(
      () => q.logProb(tf.zeros([5, 2])),
      /^Error: FlowDistribution: the bijector \(ForwardOnly\) has no inverse, so logProb is available only for draws/,
    );
  });
  assert.equal(tf.memory().numTensors, before, 'the tf.tidy scope freed the kept log densities');
  // Outside tf.tidy: a disposed draw's log density goes at the next draw, the rest with dispose().
  const a = q.sample(3);
  const lp = q.logProb(a);
  a.dispose();
  lp.dispose();
  const b = q.sample(2);
  assert.equal(tf.memory().numTensors, before + 2, 'the draw b and its log density');
  b.dispose();
  q.dispose();
  assert.equal(tf.memory().numTensors, before, 'dispose() freed the rest');
  assert.throws(
    () => new zs.FlowDistribution({ base: stdNormal([2]), bijector: flow, cacheLogProb: false }),
    /^Error: FlowDistribution: `cacheLogProb` false needs a bijector with an inverse; ForwardOnly has none/,
  );
  const notReparam = new zs.Normal({
    mean: 0,
    std: tf.ones([2]),
    groupNdims: 1,
    isReparameterized: false,
  });
  assert.throws(
    () => new zs.FlowDistribution({ base: notReparam, bijector: flow }),
    /^Error: FlowDistribution: a base that is not reparameterised \(Normal\) needs a bijector with an inverse/,
  );
  flow.dispose();
});

test('a base that is not reparameterised: samples without gradient, log q through the inverse', () => {
  const flow = new zs.AffineCoupling(2, { mask: [0, 1], hiddenSizes: [4], seed: 2 });
  perturb(flow, 0.5, 3);
  const base = new zs.Normal({
    mean: tf.zeros([2]),
    std: 1,
    groupNdims: 1,
    isReparameterized: false,
  });
  const q = new zs.FlowDistribution({ base, bijector: flow, cacheLogProb: true });
  assert.deepEqual([q.isReparameterized, q.cacheLogProb], [false, false]);
  assertNoGradientPath(() => tf.sum(q.sample(4)), flow.variables, 'a sample of q');
  const z = q.sample(4);
  const scoreGrads = tf.variableGrads(() => tf.sum(q.logProb(z)) as tf.Scalar, flow.variables);
  assert.ok(
    Object.values(scoreGrads.grads).some((g) => g.dataSync().some((v) => v !== 0)),
    'log q has a gradient at fixed samples',
  );
  const { sample, logProb } = q.sampleAndLogProb(3);
  assertClose(logProb.dataSync(), q.logProb(sample).dataSync(), 1e-6, 1e-6, 'sampleAndLogProb');
  flow.dispose();
});

test('bn.flow: a flow node, sampled or observed, in logJoint', () => {
  const flow = new zs.Sequential([
    new zs.PlanarFlow(2, { seed: 1, initStd: 0.5 }),
    new zs.InverseAutoregressiveFlow(2, { hiddenSizes: [4], seed: 2 }),
  ]);
  perturb(flow, 0.3, 9);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const bn = new zs.BayesianNet();
    const z = bn.flow('z', stdNormal([3, 2]), flow, { nSamples: 4, groupNdims: 1 });
    assert.deepEqual(z.shape, [4, 3, 2]);
    const node = bn.node('z');
    assert.ok(node.dist instanceof zs.FlowDistribution);
    assert.equal((node.dist as zs.FlowDistribution).cacheLogProb, true);
    const inverted = new zs.FlowDistribution({
      base: stdNormal([3, 2]),
      bijector: flow,
      groupNdims: 1,
    });
    assert.deepEqual(bn.logJoint().shape, [4]);
    assertClose(bn.logJoint().dataSync(), inverted.logProb(z).dataSync(), 1e-5, 1e-5, 'logJoint');
    const obs = new zs.BayesianNet({ z });
    assert.equal(obs.flow('z', stdNormal([3, 2]), flow, { groupNdims: 1 }), z);
    assertClose(obs.logJoint().dataSync(), inverted.logProb(z).dataSync(), 1e-6, 1e-6, 'observed');
  });
  assert.equal(tf.memory().numTensors, before, 'no tensor left');
  flow.dispose();
});

test('FlowDistribution errors name the argument', () => {
  const flow = new zs.Scaling(2);
  const [normal2, normal3] = [stdNormal([2]), stdNormal([3])];
  const bernoulli = new zs.Bernoulli({ logits: tf.zeros([2]), groupNdims: 1 });
  const ungrouped = new zs.Normal({ mean: tf.zeros([2]), std: 1 });
  const cases: [() => unknown, RegExp][] = [
    [
      () => new zs.FlowDistribution({ base: {} as zs.Distribution, bijector: flow }),
      /^Error: FlowDistribution: `base` must be a zs.Distribution/,
    ],
    [
      () =>
        new zs.FlowDistribution({
          base: normal2,
          bijector: undefined as unknown as zs.Bijector,
        }),
      /^Error: FlowDistribution: `bijector` must be a zs.Bijector/,
    ],
    [
      () => new zs.FlowDistribution({ base: bernoulli, bijector: flow }),
      /^Error: FlowDistribution: the base distribution must be continuous \(float32\), got Bernoulli/,
    ],
    [
      () => new zs.FlowDistribution({ base: ungrouped, bijector: flow }),
      /^Error: FlowDistribution: the base distribution must give one log density per vector along its last axis, but Normal has value shape \[\] and groupNdims 0: build a univariate base with groupNdims: 1/,
    ],
    [
      () => new zs.FlowDistribution({ base: normal3, bijector: flow }),
      /^Error: FlowDistribution: the base's last axis has size 3 \(shape \[3\]\) but the bijector \(Scaling\) has dim 2/,
    ],
  ];
  for (const [f, re] of cases) noLeak('rejected construction', () => assert.throws(f, re));
  flow.dispose();
});
