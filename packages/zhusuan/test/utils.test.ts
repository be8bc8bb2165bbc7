import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { assertClose, useCpu } from './helpers.js';

before(useCpu);

function lse(a: number[]): number {
  const m = Math.max(...a);
  return m === -Infinity ? -Infinity : m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
}

test('logSumExp and logMeanExp match float64, including large magnitudes', () => {
  const rows = [
    [0, 1, 2],
    [1000, 1000, 999],
    [-1000, -1001, -1002],
    [-Infinity, -Infinity, -Infinity],
  ];
  const out = zs.logSumExp(tf.tensor(rows), 1).dataSync();
  const expected = rows.map(lse);
  assertClose(out.slice(0, 3), expected.slice(0, 3), 1e-6, 1e-4, 'lse');
  assert.equal(out[3], -Infinity);
  assertClose(
    zs.logMeanExp(tf.tensor(rows.slice(0, 3)), 1).dataSync(),
    expected.slice(0, 3).map((v) => v - Math.log(3)),
    1e-6,
    1e-4,
    'lme',
  );
  assert.deepEqual(zs.logSumExp(tf.tensor(rows.slice(0, 2)), -1, true).shape, [2, 1]);
  assert.deepEqual(zs.logMeanExp(tf.zeros([2, 3, 4]), [0, 2]).shape, [3]);
  assert.throws(() => zs.logSumExp(tf.zeros([2]), 1), /axis 1 is out of range/);
});

test('stopGradient passes values and blocks gradients', () => {
  const [g] = tf.grads((x: tf.Tensor) =>
    tf.sum(tf.add(tf.mul(x, 2), zs.stopGradient(tf.mul(x, 5)))),
  )([tf.tensor([1, 2])]);
  assert.deepEqual(Array.from(g.dataSync()), [2, 2]);
  assert.deepEqual(Array.from(zs.stopGradient(tf.tensor([3, 4])).dataSync()), [3, 4]);
});
