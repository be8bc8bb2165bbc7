/**
 * Softmax (kernels/Softmax.ts) gives the cpu backend's values within 1e-5
 * relative (exp within ~2 ulp, the rest the cpu kernel's own steps) across
 * shapes, magnitudes and special values; its gradient agrees within 1e-4.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { addonCalls, rand, sameGradsOnBoth, sameOnBoth, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

describe('Softmax', () => {
  it('over the last axis of tensors of rank 1-3', async () => {
    for (const shape of [[7], [4, 10], [20, 100, 10], [3, 1], [2, 3, 700]]) {
      await sameOnBoth(() => tf.softmax(rand(shape, 1, -5, 5)), `shape ${shape}`);
    }
    await sameOnBoth(() => tf.softmax(rand([5, 9], 2, -80, 80)), 'large magnitudes');
    await sameOnBoth(() => tf.softmax(rand([4, 6], 3), 1), 'dim given as 1');
  });
  it('NaN, ±Infinity and rows of -Infinity', () =>
    sameOnBoth(
      () =>
        tf.softmax(
          tf.tensor2d([
            [0, -Infinity, 1, 2],
            [NaN, 1, 2, 3],
            [Infinity, 1, 2, 3],
            [-Infinity, -Infinity, -Infinity, -Infinity],
            [0, -100, -104, 3],
          ]),
        ),
      'special values',
    ));
  it('its gradient agrees within 1e-4', () =>
    sameGradsOnBoth(
      (x) => tf.sum(tf.mul(tf.log(tf.softmax(x)), rand([20, 100, 10], 4))),
      () => [rand([20, 100, 10], 5, -3, 3)],
      'softmax',
    ));
  it('runs natively', async () => {
    assert.equal(await addonCalls('softmax', () => tf.softmax(rand([4, 10], 6))), 1);
  });
});
