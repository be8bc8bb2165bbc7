/**
 * MaxPool, AvgPool and their gradients (kernels/MaxPool.ts, AvgPool.ts,
 * MaxPoolGrad.ts, AvgPoolGrad.ts; binding/pooling.cc) give the cpu
 * backend's values bit for bit (maxima are copies; sums run in double and
 * are rounded once, as on cpu) across window sizes, strides, padding and
 * rounding modes, with ties, NaN and infinities in the input.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { addonCalls, rand, sameGradsOnBoth, sameOnBoth, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number;

interface PoolCase {
  x: Shape4;
  size: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  rounding?: 'floor' | 'round' | 'ceil';
}

const CASES: PoolCase[] = [
  { x: [2, 6, 6, 3], size: 2, strides: 2, pad: 'valid' },
  { x: [2, 7, 7, 3], size: 3, strides: 1, pad: 'same' },
  { x: [2, 7, 6, 4], size: 3, strides: 2, pad: 'same' },
  { x: [1, 9, 8, 2], size: [2, 3], strides: [1, 2], pad: 'valid' },
  { x: [1, 8, 8, 2], size: 3, strides: 2, pad: 1, rounding: 'floor' },
  { x: [1, 8, 8, 2], size: 3, strides: 2, pad: 1, rounding: 'ceil' },
  { x: [1, 5, 5, 1], size: 1, strides: 2, pad: 'valid' },
  { x: [32, 28, 28, 16], size: 2, strides: 2, pad: 'valid' },
];

const label = (c: PoolCase) =>
  `x ${c.x} size ${c.size} strides ${c.strides} pad ${c.pad}${c.rounding ? ` ${c.rounding}` : ''}`;

type PoolFn = typeof tf.maxPool;
const ops: Array<[string, PoolFn]> = [
  ['maxPool', tf.maxPool],
  ['avgPool', tf.avgPool],
];

const pool = (op: PoolFn, c: PoolCase, x: tf.Tensor) =>
  op(x as tf.Tensor4D, c.size, c.strides, c.pad, c.rounding);

for (const [name, op] of ops) {
  describe(name, () => {
    for (const c of CASES) {
      it(label(c), async () => {
        await sameOnBoth(() => pool(op, c, rand(c.x, 1, -3, 3)), label(c), 0, 0);
        // Ties: values rounded to a few levels.
        await sameOnBoth(
          () => pool(op, c, tf.round(rand(c.x, 2, -2, 2))),
          `${label(c)} ties`,
          0,
          0,
        );
      });
    }
    it('NaN, ±Infinity and windows of padding only', async () => {
      const x = () =>
        tf.tensor4d(
          [NaN, 1, -Infinity, 2, NaN, NaN, Infinity, -1, 3, NaN, 0, -Infinity],
          [1, 3, 4, 1],
        );
      await sameOnBoth(() => op(x() as tf.Tensor4D, 2, 1, 'same'), 'special', 0, 0);
      await sameOnBoth(() => op(x() as tf.Tensor4D, 2, 2, 'valid'), 'special valid', 0, 0);
      await sameGradsOnBoth(
        (v) => tf.sum(tf.mul(op(v as tf.Tensor4D, 2, 1, 'same'), rand([1, 3, 4, 1], 7))),
        () => [x()],
        'special gradient',
        0,
      );
    });
    it('gradients agree', async () => {
      for (const c of CASES.slice(0, 6)) {
        const outShape = tf.tidy(() => pool(op, c, tf.zeros(c.x)).shape);
        await sameGradsOnBoth(
          (x) => tf.sum(tf.mul(pool(op, c, x), rand(outShape, 3))),
          () => [tf.round(rand(c.x, 4, -3, 3))],
          label(c),
          0,
        );
      }
    });
    it('run natively', async () => {
      const c = CASES[1];
      assert.equal(await addonCalls('pool2d', () => pool(op, c, rand(c.x, 5))), 1);
      const grad = name === 'maxPool' ? 'maxPoolGrad' : 'avgPoolGrad';
      assert.equal(
        await addonCalls(grad, () => tf.grad((x) => tf.sum(pool(op, c, x)))(rand(c.x, 6))),
        1,
      );
    });
  });
}

describe('pooling gradients by hand', () => {
  it('maxPool routes dy to the first maximum of each window', async () => {
    await tf.setBackend('native');
    // Windows of 2×2, stride 1. The first holds three 3s: its dy goes to
    // the first, (0, 0); the others' maxima are (0, 1), (1, 0), (1, 1).
    const x = tf.tensor4d([3, 3, 1, 3, 2, 1, 1, 1, 0], [1, 3, 3, 1]);
    const dx = tf.grad((v) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 1, 'valid')))(x);
    assert.deepEqual(Array.from(dx.dataSync()), [1, 1, 0, 1, 1, 0, 0, 0, 0]);
    tf.dispose([x, dx]);
  });
  it('avgPool divides dy by the full window size, padding included (as tfjs-cpu)', async () => {
    await tf.setBackend('native');
    // 'same' 3×3 windows on a 2×2 image: every window covers all 4 pixels.
    const x = tf.ones([1, 2, 2, 1]);
    const dx = tf.grad((v) => tf.sum(tf.avgPool(v as tf.Tensor4D, 3, 1, 'same')))(x);
    assert.deepEqual(Array.from(dx.dataSync()), [4 / 9, 4 / 9, 4 / 9, 4 / 9].map(Math.fround));
    tf.dispose([x, dx]);
  });
});
