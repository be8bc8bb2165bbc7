/**
 * GatherV2 and UnsortedSegmentSum (kernels/GatherV2.ts,
 * kernels/UnsortedSegmentSum.ts) give the cpu backend's values across axes,
 * batchDims, dtypes and shapes; gathers' gradients (which are segment sums)
 * agree within 1e-4; bad indices throw the cpu kernel's error.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from './vae_fixture.js';
import { addonCalls, rand, sameGradsOnBoth, sameOnBoth, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

/** n deterministic integers in [0, max), as an int32 tensor of `shape`. */
function ints(shape: number[], max: number, seed: number): tf.Tensor1D {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const t: tf.Tensor = tf.tensor(
    Int32Array.from({ length: n }, () => Math.floor(r() * max)),
    shape,
    'int32',
  );
  // Any rank (typed as 1-D for tf.unsortedSegmentSum, which checks nothing).
  return t as tf.Tensor1D;
}

describe('GatherV2', () => {
  it('every axis of a rank-3 tensor, with repeated and rank-2 indices', async () => {
    const shape = [4, 5, 6];
    for (let axis = -3; axis < 3; axis++) {
      const dim = shape[(axis + 3) % 3];
      await sameOnBoth(() => tf.gather(rand(shape, 1), ints([7], dim, 2), axis), `axis ${axis}`);
      await sameOnBoth(
        () => tf.gather(rand(shape, 1), ints([2, 3], dim, 3), axis),
        `axis ${axis}, indices [2, 3]`,
      );
    }
    await sameOnBoth(() => tf.gather(rand([9], 4), ints([20], 9, 5)), 'rank 1');
    await sameOnBoth(() => tf.gather(rand([9], 4), tf.scalar(3, 'int32')), 'scalar index');
  });
  it('batchDims 1 and 2', async () => {
    await sameOnBoth(
      () => tf.gather(rand([3, 5, 4], 6), ints([3, 7], 5, 7), 1, 1),
      'batchDims 1, axis 1',
    );
    await sameOnBoth(
      () => tf.gather(rand([3, 5, 4], 6), ints([3, 2], 4, 8), 2, 1),
      'batchDims 1, axis 2',
    );
    await sameOnBoth(
      () => tf.gather(rand([2, 3, 5, 4], 9), ints([2, 3, 6], 5, 10), 2, 2),
      'batchDims 2',
    );
  });
  it('int32 and bool tensors, empty indices', async () => {
    await sameOnBoth(() => tf.gather(ints([6, 3], 100, 11), ints([4], 6, 12)), 'int32');
    await sameOnBoth(() => tf.gather(tf.greater(rand([6, 3], 13), 0), ints([5], 6, 14), 0), 'bool');
    await sameOnBoth(() => tf.gather(rand([6, 3], 15), tf.tensor1d([], 'int32')), 'no indices');
  });
  it('the probabilistic matrix factorisation shapes (gather along axis 1)', async () => {
    await sameOnBoth(() => tf.gather(rand([8, 60, 5], 16), ints([360], 60, 17), 1), 'pmf');
  });
  it('rows of 1 to 9 elements, in runs the pool splits inside a block', async () => {
    // 3 × 5000 rows: above the pool's threshold for every row length here,
    // so its chunks start in the middle of a block of 5000.
    for (let s = 1; s <= 9; s++) {
      await sameOnBoth(
        () => tf.gather(rand([3, 50, s], 20 + s), ints([5000], 50, 30 + s), 1),
        `rows of ${s}`,
      );
    }
    await sameOnBoth(() => tf.gather(ints([3, 50, 3], 9, 40), ints([5000], 50, 41), 1), 'int32');
  });
  it('an index outside the axis throws the cpu error', async () => {
    for (const backend of ['cpu', 'native']) {
      await tf.setBackend(backend);
      assert.throws(
        () => tf.gather(tf.ones([4, 2]), tf.tensor1d([0, 4], 'int32')),
        /GatherV2: the index value 4 is not in \[0, 3\]/,
        backend,
      );
      assert.throws(
        () => tf.gather(tf.ones([4, 2]), tf.tensor1d([-1], 'int32')),
        /GatherV2: the index value -1 is not in \[0, 3\]/,
        backend,
      );
    }
  });
  it('gradients (UnsortedSegmentSum of dy) agree within 1e-4', async () => {
    for (const axis of [0, 1, 2]) {
      await sameGradsOnBoth(
        (x) => tf.sum(tf.mul(tf.square(tf.gather(x, ints([11], 4, 18), axis)), 0.5)),
        () => [rand([4, 4, 4], 20)],
        `gather axis ${axis}`,
      );
    }
    await sameGradsOnBoth(
      (u) => tf.sum(tf.square(tf.gather(u, ints([360], 60, 21), 1))),
      () => [rand([8, 60, 5], 22)],
      'pmf',
    );
  });
});

describe('which cases run natively', () => {
  it('float32, int32 and bool gathers, float32 segment sums with rank-1 ids', async () => {
    const gather = () => tf.gather(rand([8, 60, 5], 40), ints([360], 60, 41), 1);
    assert.equal(await addonCalls('gather', gather), 1);
    assert.equal(
      await addonCalls('gather', () => tf.gather(ints([6, 3], 9, 42), ints([4], 6, 43))),
      1,
    );
    assert.equal(
      await addonCalls('gather', () => tf.gather(tf.greater(rand([6], 44), 0), ints([4], 6, 45))),
      1,
    );
    const segSum = () => tf.unsortedSegmentSum(rand([12, 3], 46), ints([12], 4, 47), 4);
    assert.equal(await addonCalls('unsortedSegmentSum', segSum), 1);
    const gatherGrad = () =>
      tf.grad((u) => tf.sum(tf.gather(u, ints([30], 6, 48), 1)))(rand([2, 6], 49));
    assert.equal(await addonCalls('unsortedSegmentSum', gatherGrad), 1);
    const int32x = () => tf.unsortedSegmentSum(ints([6, 2], 10, 50), ints([6], 3, 51), 3);
    assert.equal(await addonCalls('unsortedSegmentSum', int32x), 0);
  });
});

describe('UnsortedSegmentSum', () => {
  it('equals the cpu kernel bit for bit (sums in double, rows in order)', async () => {
    const cases: Array<[number[], number, number]> = [
      [[10], 4, 1],
      [[10, 3], 4, 2],
      [[360, 8, 5], 60, 3],
      [[7, 2, 3, 2], 9, 4],
      [[1, 5], 1, 5],
    ];
    for (const [shape, segments, seed] of cases) {
      await sameOnBoth(
        () =>
          tf.unsortedSegmentSum(
            rand(shape, seed, -3, 3),
            ints([shape[0]], segments, seed),
            segments,
          ),
        `x ${shape}, ${segments} segments`,
        0,
        0,
      );
    }
  });
  it('drops rows whose id is negative or not below numSegments', async () => {
    const ids = tf.tensor1d([0, -1, 2, 5, 2, 1], 'int32');
    await sameOnBoth(
      () => tf.unsortedSegmentSum(rand([6, 3], 30), ids, 3),
      'ids out of range',
      0,
      0,
    );
    await tf.setBackend('native');
    const y = tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [6, 1]), ids, 3);
    // Rows 1 (id -1) and 3 (id 5) are dropped.
    assert.deepEqual(Array.from(y.dataSync()), [1, 6, 3 + 5]);
    tf.dispose([y, ids]);
  });
  it('a non-finite value stays in its own segment (cpu spreads NaN: 0·NaN)', async () => {
    await tf.setBackend('native');
    const y = tf.unsortedSegmentSum(
      tf.tensor1d([1, NaN, Infinity, 4]),
      tf.tensor1d([0, 1, 2, 0], 'int32'),
      4,
    );
    assert.deepEqual(Array.from(y.dataSync()), [5, NaN, Infinity, 0]);
    y.dispose();
  });
  it('its gradient (a gather) agrees', () =>
    sameGradsOnBoth(
      (x) => tf.sum(tf.mul(tf.unsortedSegmentSum(x, ints([12], 5, 31), 5), rand([5, 3], 32))),
      () => [rand([12, 3], 33)],
      'unsortedSegmentSum',
    ));
  it('int32 x and rank-2 segment ids run the cpu kernel (its semantics)', async () => {
    await sameOnBoth(
      () => tf.unsortedSegmentSum(ints([6, 2], 10, 34), ints([6], 3, 35), 3),
      'int32 x',
    );
    await sameOnBoth(
      () => tf.unsortedSegmentSum(rand([2, 3], 36), ints([2, 3], 3, 37), 3),
      'rank-2 ids',
    );
  });
});
