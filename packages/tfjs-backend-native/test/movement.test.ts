/**
 * The splitting, stacking, slicing, tiling and padding kernels (kernels/SplitV.ts,
 * Unpack.ts, Concat.ts's Pack, StridedSlice.ts, Tile.ts, PadV2.ts) give the cpu backend's
 * values exactly (they copy), across axes, ranks and dtypes; the gradients
 * that run them (Concat's is a split, Slice's a pad, Tile's slices) agree.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  addonCalls,
  rand,
  sameGradsOnBoth,
  sameManyOnBoth,
  sameOnBoth,
  setupNative,
} from './helpers.js';

before(async () => {
  await setupNative();
});

const int32 = (shape: number[]) =>
  tf.tensor(
    Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 7 - 20),
    shape,
    'int32',
  );

describe('SplitV and Unpack', () => {
  it('split along every axis, by sizes and by count', async () => {
    for (const axis of [0, 1, 2, -1]) {
      await sameManyOnBoth(
        () => tf.split(rand([6, 3, 6], 1), 3, axis),
        `3 pieces, axis ${axis}`,
        0,
        0,
      );
    }
    await sameManyOnBoth(() => tf.split(rand([5, 7], 2), [2, -1, 1], 1), 'sizes with -1', 0, 0);
    await sameManyOnBoth(() => tf.split(rand([5, 7], 2), [0, 7], 1), 'an empty piece', 0, 0);
    await sameManyOnBoth(() => tf.split(int32([4, 6]), [1, 5], 1), 'int32', 0, 0);
    await sameManyOnBoth(() => tf.split(rand([20, 100, 51], 3), [50, 1], 2), 'the BNN split', 0, 0);
  });
  it('unstack along every axis', async () => {
    for (const axis of [0, 1, 2, -1]) {
      await sameManyOnBoth(() => tf.unstack(rand([3, 4, 2], 4), axis), `axis ${axis}`, 0, 0);
    }
    await sameManyOnBoth(() => tf.unstack(int32([3, 2]), 1), 'int32', 0, 0);
  });
  it('stack along every axis, and its gradient (an unstack)', async () => {
    for (const axis of [0, 1, 2, -1, -3]) {
      await sameOnBoth(
        () => tf.stack([rand([3, 4], 40), rand([3, 4], 41), rand([3, 4], 42)], axis),
        `stack axis ${axis}`,
        0,
        0,
      );
    }
    await sameOnBoth(() => tf.stack([rand([2, 100, 100], 43)]), 'one piece', 0, 0);
    await sameOnBoth(() => tf.stack([rand([0, 3], 44), rand([0, 3], 45)], 1), 'empty', 0, 0);
    await sameOnBoth(() => tf.stack([int32([2, 3]), int32([2, 3])], 1), 'int32 (cpu)', 0, 0);
    await sameGradsOnBoth(
      (a, b) => tf.sum(tf.mul(tf.stack([a, tf.relu(b)], 1), rand([5, 2, 4], 46))),
      () => [rand([5, 4], 47), rand([5, 4], 48)],
      'stack',
    );
  });
  it('concat and split of many rows: narrow columns and rows over the pool', async () => {
    // 40000 rows: the row loop goes over the pool for every piece, the
    // 1- and 3-column pieces by the narrow-row loop, the 60-column one by memcpy.
    await sameOnBoth(
      () => tf.concat([rand([40000, 3], 50), rand([40000, 1], 51), rand([40000, 60], 52)], 1),
      'concat of 40000 rows',
      0,
      0,
    );
    await sameManyOnBoth(() => tf.split(int32([40000, 4]), [1, 3], 1), 'int32 split', 0, 0);
    await sameManyOnBoth(
      () => tf.split(rand([40000, 64], 53), [1, 3, 60], 1),
      'split of 40000 rows',
      0,
      0,
    );
  });
  it("Concat's gradient (a split) agrees", async () => {
    await sameGradsOnBoth(
      (a, b) => tf.sum(tf.square(tf.concat([a, tf.relu(b), tf.ones([20, 100, 1])], -1))),
      () => [rand([20, 100, 13], 5), rand([20, 100, 37], 6)],
      'concat',
    );
    await sameGradsOnBoth(
      (a, b) => tf.sum(tf.mul(tf.concat([a, b], 0), rand([7, 3], 7))),
      () => [rand([3, 3], 8), rand([4, 3], 9)],
      'concat axis 0',
    );
  });
});

describe('StridedSlice', () => {
  it('slices with unit strides (native) and with other strides (cpu)', async () => {
    const x = () => rand([5, 6, 7], 10);
    await sameOnBoth(() => tf.stridedSlice(x(), [1, 2, 0], [4, 5, 7], [1, 1, 1]), 'window', 0, 0);
    await sameOnBoth(
      () => tf.stridedSlice(x(), [1, 0, 3], [2, 6, 5], [1, 1, 1], 0, 0, 0, 0, 1),
      'shrink',
      0,
      0,
    );
    await sameOnBoth(
      () => tf.stridedSlice(x(), [0, 1], [5, 3], [1, 1], 0, 0, 0, 1),
      'new axis',
      0,
      0,
    );
    await sameOnBoth(() => tf.stridedSlice(x(), [2], [4], [1]), 'along axis 0', 0, 0);
    await sameOnBoth(() => tf.stridedSlice(x(), [0, 0, 0], [5, 6, 7], [1, 2, 3]), 'strided', 0, 0);
    await sameOnBoth(() => tf.stridedSlice(x(), [0, 0, 0], [5, 6, 7], [1, 1, 1]), 'identity', 0, 0);
    await sameOnBoth(() => tf.stridedSlice(int32([4, 5]), [1, 1], [3, 4], [1, 1]), 'int32', 0, 0);
  });
});

describe('Tile', () => {
  it('ranks 1-4, repetitions including 0 and 1, every dtype', async () => {
    await sameOnBoth(() => tf.tile(rand([5], 11), [3]), 'rank 1', 0, 0);
    await sameOnBoth(() => tf.tile(rand([3, 1], 12), [2, 40]), 'a column', 0, 0);
    await sameOnBoth(() => tf.tile(rand([2, 3, 4], 13), [2, 1, 3]), 'rank 3', 0, 0);
    await sameOnBoth(() => tf.tile(rand([2, 1, 3, 2], 14), [1, 3, 2, 2]), 'rank 4', 0, 0);
    await sameOnBoth(() => tf.tile(rand([2, 3], 15), [0, 2]), 'zero repetitions', 0, 0);
    await sameOnBoth(
      () => tf.tile(tf.expandDims(rand([100, 13], 16), 0), [20, 1, 1]),
      'the BNN tile',
      0,
      0,
    );
    await sameOnBoth(() => tf.tile(int32([2, 3]), [3, 2]), 'int32', 0, 0);
    await sameOnBoth(() => tf.tile(tf.greater(rand([2, 3], 17), 0), [2, 2]), 'bool', 0, 0);
  });
  it('broadcastTo', () =>
    sameOnBoth(() => tf.broadcastTo(rand([3, 1, 4], 18), [2, 3, 5, 4]), 'broadcastTo', 0, 0));
  it("Tile's gradient agrees", () =>
    sameGradsOnBoth(
      (x) => tf.sum(tf.mul(tf.tile(x, [2, 3]), rand([6, 12], 19))),
      () => [rand([3, 4], 20)],
      'tile',
    ));
});

describe('PadV2', () => {
  it('constant padding of every rank and dtype', async () => {
    await sameOnBoth(() => tf.pad(rand([4], 21), [[2, 3]]), 'rank 1', 0, 0);
    await sameOnBoth(
      () =>
        tf.pad(
          rand([3, 4], 22),
          [
            [1, 0],
            [0, 2],
          ],
          1.5,
        ),
      'rank 2, value',
      0,
      0,
    );
    await sameOnBoth(
      () =>
        tf.pad(rand([2, 3, 4], 23), [
          [0, 0],
          [2, 2],
          [1, 1],
        ]),
      'rank 3',
      0,
      0,
    );
    await sameOnBoth(
      () =>
        tf.pad(
          rand([2, 0, 3], 24),
          [
            [1, 1],
            [1, 1],
            [0, 1],
          ],
          -2,
        ),
      'empty x',
      0,
      0,
    );
    await sameOnBoth(
      () =>
        tf.pad(
          int32([2, 3]),
          [
            [1, 1],
            [2, 0],
          ],
          7,
        ),
      'int32',
      0,
      0,
    );
  });
  it("Slice's gradient (a pad) agrees", () =>
    sameGradsOnBoth(
      (x) => tf.sum(tf.mul(tf.slice(x, [1, 2, 0], [3, 3, 4]), rand([3, 3, 4], 25))),
      () => [rand([5, 6, 4], 26)],
      'slice',
    ));
});

describe('which cases run natively', () => {
  it('splits and unstacks copy rows, unit-stride slices slice, tiles and pads run the addon', async () => {
    assert.equal(await addonCalls('copy2d', () => tf.split(rand([4, 6], 27), [2, 4], 1)), 2);
    assert.equal(await addonCalls('copy2d', () => tf.unstack(int32([3, 2]), 1)), 2);
    const concatGrad = () =>
      tf.grad((a) => tf.sum(tf.concat([a, tf.ones([3, 1])], 1)))(rand([3, 4], 28));
    assert.equal(await addonCalls('copy2d', concatGrad), 2 + 2); // concat forward, split backward
    assert.equal(
      await addonCalls('copy2d', () => tf.stack([rand([2, 3], 49), rand([2, 3], 50)], 1)),
      2,
    );
    assert.equal(
      await addonCalls('slice', () => tf.stridedSlice(rand([4, 5], 29), [1, 1], [3, 4], [1, 1])),
      1,
    );
    assert.equal(
      await addonCalls('slice', () => tf.stridedSlice(rand([4, 5], 29), [0, 0], [4, 5], [2, 2])),
      0,
    );
    assert.equal(await addonCalls('tile', () => tf.tile(rand([2, 3], 30), [2, 2])), 1);
    assert.equal(
      await addonCalls('pad', () =>
        tf.pad(rand([2, 3], 31), [
          [1, 1],
          [0, 2],
        ]),
      ),
      1,
    );
  });
});
