/**
 * ZhuSuan's functional flows (zhusuan/transform.py, tests/test_transform.py):
 * the updated log q is the input's minus the log |det| of an autodiff
 * Jacobian, shapes kept, the flow returned for reuse. Then the coupling
 * masks (ZhuSuan-PyTorch's get_coupling_mask) and the layers' errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, noLeak, useCpu } from '../helpers.js';
import { jacobians, logAbsDet } from './oracles.js';

before(useCpu);

// ZhuSuan's test input: one 8-dimensional sample with log q = 0.
const Z0 = [[0.1, -1.2, 1.0, -0.3, 1.2, 2, 10.0, -23.2]];

for (const [name, apply] of [
  [
    'planarNormalizingFlow',
    (z: tf.Tensor, lq: tf.Tensor, n: number | zs.Bijector) =>
      zs.planarNormalizingFlow(z, lq, n, { seed: 1 }),
  ],
  [
    'invAutoregressiveFlow',
    (z: tf.Tensor, lq: tf.Tensor, n: number | zs.Bijector) =>
      zs.invAutoregressiveFlow(z, lq, n, { seed: 1 }),
  ],
] as const) {
  test(`${name}: log q − log |det J| (ZhuSuan's test), shapes, reuse`, () => {
    const before = tf.memory().numTensors;
    const z0 = tf.tensor2d(Z0);
    const lq0 = tf.zeros([1]);
    const out = apply(z0, lq0, name === 'planarNormalizingFlow' ? 10 : 1);
    const j = jacobians((v) => out.flow.forward(v).y, z0)[0];
    assertClose(out.logQ.dataSync(), [-logAbsDet(j)], 1e-5, 1e-5, 'log q of the samples');
    // The flow applied again: the same samples and log q.
    const again = apply(z0, lq0, out.flow);
    assert.deepEqual(again.samples.dataSync(), out.samples.dataSync());
    assert.equal(again.flow, out.flow);
    // ZhuSuan's shape test: samples [2, 10, 6], log q [2, 10].
    const z = tf.randomNormal([2, 10, 6], 0, 0.05);
    const lq = tf.randomNormal([2, 10], 0, 0.05);
    const bad = tf.zeros([2, 6]);
    const big = apply(z, lq, 10);
    assert.deepEqual(
      [big.samples.shape, big.logQ.shape],
      [
        [2, 10, 6],
        [2, 10],
      ],
    );
    const layers = (big.flow as zs.Sequential).layers.map((l) => l.name);
    assert.equal(layers.length, name === 'planarNormalizingFlow' ? 10 : 20);
    if (name === 'invAutoregressiveFlow') {
      assert.deepEqual(layers.slice(0, 2), ['InverseAutoregressiveFlow', 'Reverse']);
    }
    // Seeded: the same seed builds the same flow.
    const twin = apply(z, lq, 10);
    assert.deepEqual(twin.samples.dataSync(), big.samples.dataSync());
    assert.throws(
      () => apply(z, bad, 3),
      new RegExp(
        `^Error: ${name}: \`logQ\` must have the shape of \`samples\` \\[2,10,6\\] less its last axis, \\[2,10\\], got \\[2,6\\]`,
      ),
    );
    assert.throws(
      () => apply(z, lq, 0),
      new RegExp(`^Error: ${name}: \`nIters\` must be a positive integer, got 0`),
    );
    for (const o of [out, again, big, twin]) tf.dispose([o.samples, o.logQ]);
    for (const o of [out, big, twin]) o.flow.dispose();
    tf.dispose([z0, lq0, z, lq, bad]);
    assert.equal(tf.memory().numTensors, before, 'tensors left');
  });
}

test("couplingMasks: the port's splits, alternating", () => {
  assert.deepEqual(zs.couplingMasks(10, 2)[0], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  assert.deepEqual(zs.couplingMasks(10, 2, 'Half'), [
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  ]);
  const r = zs.couplingMasks(9, 3, 'RandomHalf', 5);
  assert.deepEqual(r, zs.couplingMasks(9, 3, 'RandomHalf', 5), 'seeded');
  assert.equal(
    r[0].reduce((a, b) => a + b),
    4,
    '⌊9/2⌋ ones',
  );
  assert.deepEqual(
    r[1],
    r[0].map((m) => 1 - m),
  );
  assert.deepEqual(r[2], r[0]);
  assert.throws(
    () => zs.couplingMasks(4, 2, 'Thirds' as 'Half'),
    /^Error: couplingMasks: `split` must be 'OddEven', 'Half' or 'RandomHalf', got 'Thirds'/,
  );
  assert.throws(
    () => zs.couplingMasks(4, 0),
    /^Error: couplingMasks: `nMasks` must be a positive integer, got 0/,
  );
});

test("the layers' errors name the layer and the argument, and leak nothing", () => {
  const planar = new zs.PlanarFlow(3, { seed: 1 });
  const [x2, xi] = [tf.zeros([4, 2]), tf.zeros([4, 3], 'int32')];
  const cases: [() => unknown, RegExp][] = [
    [
      () => planar.forward(x2),
      /^Error: PlanarFlow.forward: the last axis of `x` \[4,2\] must have size 3 \(the layer's dim\)/,
    ],
    [() => planar.inverse(xi), /^Error: PlanarFlow.inverse: `y` must be float32, got int32/],
    [() => new zs.PlanarFlow(2.5), /^Error: PlanarFlow: `dim` must be a positive integer, got 2.5/],
    [
      () => new zs.PlanarFlow(2, { initStd: 0 }),
      /^Error: PlanarFlow: `initStd` must be a finite positive number, got 0/,
    ],
    [
      () => new zs.PlanarFlow(2, { seed: NaN }),
      /^Error: PlanarFlow: `seed` must be a finite number, got NaN/,
    ],
    [
      () => new zs.Sequential([]),
      /^Error: Sequential: `layers` must be a non-empty array of bijectors/,
    ],
    [
      () => new zs.Sequential([planar, new zs.Reverse(2)]),
      /^Error: Sequential: `layers\[1\]` \(Reverse\) has dim 2, but `layers\[0\]` \(PlanarFlow\) has 3/,
    ],
    [
      () => new zs.Permute([0, 2]),
      /^Error: Permute: `perm` must hold each of 0, …, 1 once, got \[0,2\]/,
    ],
    [
      () => new zs.Scaling(3, { logScale: [0, 1] }),
      /^Error: Scaling: `logScale` must be an array of 3 numbers \(dim\)/,
    ],
    [
      () => new zs.AdditiveCoupling(3, { mask: [1, 0] }),
      /^Error: AdditiveCoupling: `mask` must be an array of 3 zeros and ones \(dim\)/,
    ],
    [
      () => new zs.AffineCoupling(3, { logScaleBound: -1 }),
      /^Error: AffineCoupling: `logScaleBound` must be a finite positive number, got -1/,
    ],
    [
      () => new zs.AffineCoupling(3, { hiddenSizes: [0] }),
      /^Error: AffineCoupling: `hiddenSizes\[i\]` must be a positive integer, got 0/,
    ],
  ];
  for (const [f, re] of cases) noLeak('rejected', () => assert.throws(f, re));
  planar.dispose();
  assert.equal(planar.isDisposed, true);
  const x3 = tf.zeros([1, 3]);
  assert.throws(() => planar.forward(x3), /^Error: PlanarFlow.forward: the layer was disposed/);
  tf.dispose([x2, xi, x3]);
});
