/**
 * The native backend's gradients of Sum and Mean (src/gradients.ts): dy
 * broadcast by one `ZsnBroadcastTo` copy instead of a product with a tensor
 * of ones. Their values equal the cpu backend's (tfjs' own gradients) to the
 * bit, over axes, ranks, keepDims and empty tensors; second derivatives go
 * through the broadcast's gradient (a sum) and agree, above rank 4 too
 * (where tfjs' Tile has no gradient); other backends keep tfjs' gradients.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { addonCalls, rand, sameGradsOnBoth, sameManyOnBoth, setupNative } from './helpers.js';
import { ZSN_BROADCAST_TO } from '../src/kernels/BroadcastTo.js';

before(async () => {
  await setupNative();
});

/** Shapes and the axes reduced (undefined: all), with keepDims. */
const CASES: [number[], number | number[] | undefined, boolean][] = [
  [[7], undefined, false],
  [[7], 0, true],
  [[4, 6], 1, false],
  [[4, 6], 0, true],
  [[4, 6], -1, true],
  [[3, 1, 5], [0, 2], false],
  [[8, 450, 5], 2, false],
  [[2, 3, 4, 5], [1, 3], true],
  [[2, 1, 3, 2, 4, 3], [0, 4], false],
  [[0, 3], 0, false],
  [[3, 0], 1, true],
];

describe('Sum and Mean gradients on native', () => {
  for (const reduce of ['sum', 'mean'] as const) {
    it(`${reduce}: cpu's values to the bit over axes, ranks, keepDims, empty tensors`, async () => {
      for (const [k, [shape, axis, keepDims]] of CASES.entries()) {
        const op = reduce === 'sum' ? tf.sum : tf.mean;
        await sameManyOnBoth(
          () => {
            const x = rand(shape, 100 + k);
            const w = rand(op(x, axis, keepDims).shape, 200 + k);
            return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t, axis, keepDims), w)))(x)];
          },
          `${reduce} of [${shape}] over ${axis} keepDims ${keepDims}`,
          0,
          0,
        );
      }
    });
  }

  it('second derivatives through the broadcast agree, at rank 6 too', async () => {
    for (const [shape, axis] of [
      [[4, 6], 1],
      [
        [3, 4, 5],
        [0, 2],
      ],
      [
        [2, 2, 3, 2, 2, 3],
        [1, 5],
      ],
    ] as [number[], number | number[]][]) {
      await sameGradsOnBoth(
        (x) => {
          // The inner gradient sends a dy that depends on x through Sum's and
          // Mean's gradients; the outer one differentiates those.
          const inner = tf.grad((t: tf.Tensor) =>
            tf.add(tf.sum(tf.square(tf.sum(tf.mul(t, t), axis))), tf.sum(tf.exp(tf.mean(t, axis)))),
          )(x);
          return tf.sum(tf.mul(tf.square(inner), rand(x.shape, 7)));
        },
        () => [rand(shape, 300 + shape.length)],
        `rank ${shape.length}, axes ${axis}`,
        1e-5,
      );
    }
  });

  it('broadcasts natively: one tile copy, no Multiply', async () => {
    const x = rand([20, 30], 1);
    const grad = () => tf.grad((t: tf.Tensor) => tf.sum(t, 1))(x);
    assert.equal(await addonCalls('tile', grad), 1);
    const info = await tf.profile(() => tf.tidy(grad));
    assert.ok(info.kernelNames.includes(ZSN_BROADCAST_TO), `kernels run: ${info.kernelNames}`);
    assert.ok(!info.kernelNames.includes('Multiply'), `kernels run: ${info.kernelNames}`);
    (info.result as tf.Tensor).dispose();
    x.dispose();
  });

  it('leaves the cpu backend on tfjs’ own gradients', async () => {
    await tf.setBackend('cpu');
    const x = rand([20, 30], 2);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(t, 1))(x));
    (info.result as tf.Tensor).dispose();
    assert.ok(info.kernelNames.includes('Multiply'), `kernels run: ${info.kernelNames}`);
    assert.ok(!info.kernelNames.includes(ZSN_BROADCAST_TO), `kernels run: ${info.kernelNames}`);
    x.dispose();
    await tf.setBackend('native');
  });
});
