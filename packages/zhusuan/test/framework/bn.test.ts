import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, useCpu } from '../helpers.js';

before(useCpu);

test('observed nodes take their value; unobserved nodes sample once and keep it', () => {
  const x = tf.tensor([[1, 0, 1]]);
  const bn = new zs.BayesianNet({ x });
  const z = bn.normal('z', tf.zeros([1, 2]), { std: 1, groupNdims: 1, nSamples: 4 });
  assert.deepEqual(z.shape, [4, 1, 2]);
  const logits = bn.deterministic('logits', tf.tile(tf.sum(z, -1, true), [1, 1, 3]));
  const xv = bn.bernoulli('x', logits, { groupNdims: 1 });
  assert.equal(xv, x);
  assert.equal(bn.node('x').isObserved, true);
  assert.equal(bn.node('z').isObserved, false);
  // Reading again never resamples.
  assert.equal(bn.get('z'), z);
  assert.deepEqual(bn.node('z').tensor.dataSync(), z.dataSync());
  assert.deepEqual(bn.nodes, ['z', 'logits', 'x']);
  assert.deepEqual(bn.stochasticNames, ['z', 'x']);
  assert.equal(bn.get('logits'), logits);
});

test("logJoint is the sum of the nodes' log densities", () => {
  const bn = new zs.BayesianNet({ x: tf.tensor([[0.5, -0.5]]) });
  const z = bn.normal('z', tf.zeros([1, 2]), { std: 1, groupNdims: 1 });
  bn.normal('x', z, { std: 0.5, groupNdims: 1 });
  const expected = tf.add(bn.node('z').logProb(), bn.node('x').logProb());
  assertClose(bn.logJoint().dataSync(), expected.dataSync(), 1e-6, 1e-6, 'logJoint');
  assertClose(
    bn.localLogProb(['z']).dataSync(),
    bn.node('z').logProb().dataSync(),
    1e-6,
    1e-6,
    'local',
  );
});

test('errors name the node: duplicates, shape mismatches, unknown nodes', () => {
  const bn = new zs.BayesianNet({ x: tf.zeros([3, 5]) });
  bn.normal('z', tf.zeros([3, 2]), { std: 1 });
  assert.throws(() => bn.normal('z', tf.zeros([3, 2]), { std: 1 }), /node 'z' is already defined/);
  assert.throws(() => bn.deterministic('z', tf.zeros([1])), /node 'z' is already defined/);
  assert.throws(
    () => bn.bernoulli('x', tf.zeros([3, 4])),
    /observed value of node 'x' has shape \[3,5\], which does not broadcast against the node's shape \[3,4\]/,
  );
  assert.throws(() => bn.get('y'), /no node 'y'/);
  bn.deterministic('h', tf.zeros([1]));
  assert.throws(() => bn.node('h'), /no stochastic node 'h' \(it is deterministic\)/);
  assert.throws(() => new zs.BayesianNet().logJoint(), /no stochastic nodes/);
});

test('bernoulli nodes accept probs; stochastic accepts any distribution', () => {
  const bn = new zs.BayesianNet();
  const b = bn.bernoulli('b', { probs: tf.tensor([0, 1]) });
  assert.deepEqual(Array.from(b.dataSync()), [0, 1]);
  const n = bn.stochastic('n', new zs.Normal({ mean: tf.zeros([2]), logstd: 0 }), { nSamples: 3 });
  assert.deepEqual(n.shape, [3, 2]);
});

test('metaBayesianNet re-runs one model function with other observations', () => {
  let runs = 0;
  const model = zs.metaBayesianNet((bn: zs.BayesianNet, n: number) => {
    runs++;
    const z = bn.normal('z', tf.zeros([n, 2]), { std: 1, groupNdims: 1 });
    bn.normal('x', z, { std: 1, groupNdims: 1 });
  });
  const a = model.observe({}, 3);
  assert.deepEqual(a.get('x').shape, [3, 2]);
  const z = tf.ones([3, 2]);
  const b = model.observe({ z }, 3);
  assert.equal(b.get('z'), z);
  assert.equal(runs, 2);
  // log p(z = 1) = 2 * (-0.5 log 2π - 0.5) per row.
  assertClose(
    b.node('z').logProb().dataSync(),
    [1, 1, 1].map(() => 2 * (-0.5 * Math.log(2 * Math.PI) - 0.5)),
    1e-6,
    1e-6,
    'logp z',
  );
});

test('logJoint under tf.tidy leaks nothing', () => {
  const before = tf.memory().numTensors;
  const v = tf.tidy(() => {
    const bn = new zs.BayesianNet({ x: tf.ones([2, 3]) });
    const z = bn.normal('z', tf.zeros([2, 3]), { logstd: 0, groupNdims: 1, nSamples: 2 });
    bn.bernoulli('x', z, { groupNdims: 1 });
    return bn.logJoint();
  });
  assert.equal(tf.memory().numTensors, before + 1);
  v.dispose();
});
