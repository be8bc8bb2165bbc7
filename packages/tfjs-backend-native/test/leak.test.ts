/**
 * After a training step, tf.memory().numTensors and the backend's data ids
 * are back to where they started, and the pool serves every array (no fresh
 * allocations once warm).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { NativeBackend } from '../src/backend.js';
import { adam } from '../src/optimizer.js';
import { VaeModel, normalNoise, syntheticBatch, trainStep } from './vae_fixture.js';
import { setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

describe('memory', () => {
  for (const dense of ['plain', 'fused', 'native'] as const) {
    it(`a training step (${dense} dense) leaks no tensors, data ids or pool arrays`, async () => {
      await tf.setBackend('native');
      const backend = tf.backend() as NativeBackend;
      assert.ok(backend instanceof NativeBackend);
      const model = new VaeModel(
        { xDim: 784, hidden: 500, zDim: 40, batch: 128, dense },
        3,
        `leak_${dense}`,
      );
      const x = syntheticBatch(128, 784, 1);
      const eps = normalNoise(128, 40, 2);
      const opt = adam(1e-3);
      // The first steps create the optimizer's moments and fill the pool.
      trainStep(model, opt, x, eps);
      trainStep(model, opt, x, eps);
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      const allocated = backend.poolStats().allocated;
      for (let i = 0; i < 3; i++) {
        trainStep(model, opt, x, eps);
        assert.equal(tf.memory().numTensors, tensors, 'numTensors');
        assert.equal(backend.numDataIds(), dataIds, 'data ids');
      }
      assert.equal(
        backend.poolStats().allocated,
        allocated,
        'fresh arrays allocated by warm steps',
      );
      opt.dispose();
      model.dispose();
      tf.dispose([x, eps]);
    });
  }
});

describe('memory of the zoo kernels', () => {
  it('gradient steps through gathers, splits, tiles, convolutions, pooling and softmax leak nothing', async () => {
    await tf.setBackend('native');
    const backend = tf.backend() as NativeBackend;
    const users = tf.tensor1d([0, 3, 2, 3, 1, 0, 2], 'int32');
    const u = tf.variable(tf.randomNormal([2, 4, 3], 0, 1, 'float32', 1));
    const f = tf.variable(
      tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 2),
    ) as tf.Variable<tf.Rank.R4>;
    const x = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const g = tf.gather(u, users, 1); // GatherV2; UnsortedSegmentSum backward
          const h = tf.concat([tf.tile(g, [1, 1, 2]), tf.ones([2, 7, 1])], -1); // Tile; SplitV
          const c = tf.maxPool(tf.conv2d(x, f, 1, 'same'), 2, 2, 'valid');
          const p = tf.avgPool(c, 2, 1, 'same');
          const s = tf.softmax(tf.reshape(p, [2, -1]));
          return tf.add(
            tf.sum(tf.square(h)),
            tf.sum(
              tf.mul(
                s,
                tf.pad(p.reshape([2, -1]), [
                  [0, 0],
                  [0, 0],
                ]),
              ),
            ),
          );
        }, [u, f]);
        return Object.values(grads).map((t) => t.sum());
      });
    tf.dispose(step());
    tf.dispose(step());
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.dispose(step());
      assert.equal(tf.memory().numTensors, tensors, 'numTensors');
      assert.equal(backend.numDataIds(), dataIds, 'data ids');
    }
    tf.dispose([users, u, f, x]);
  });
});

describe('the pool', () => {
  it('a full pool makes room for the lengths in use by dropping those asked for least recently', async () => {
    await tf.setBackend('native');
    const backend = tf.backend() as NativeBackend;
    backend.setPoolLimit(0); // empty
    backend.setPoolLimit(4 * 1024 * 1024);
    try {
      // Fill the pool with 4 MiB of arrays of one length (an earlier model's).
      const old = Array.from({ length: 16 }, () => backend.allocF32(65536));
      for (const a of old) backend.releaseF32(a);
      assert.equal(backend.poolStats().freeBytes, 4 * 1024 * 1024);
      // Another length cycled as a training step would: once room is made,
      // every later request is served from the pool.
      const cycle = () => {
        const arrs = Array.from({ length: 4 }, () => backend.allocF32(100000));
        for (const a of arrs) backend.releaseF32(a);
      };
      cycle();
      const before = backend.poolStats();
      for (let i = 0; i < 5; i++) cycle();
      const after = backend.poolStats();
      assert.equal(after.allocated, before.allocated, 'fresh arrays once warm');
      assert.equal(after.reused - before.reused, 20);
      // The 4 arrays of the length in use (1.6 MB) stay; the old length made room.
      assert.ok(after.freeBytes <= 4 * 1024 * 1024, `${after.freeBytes} bytes`);
      assert.ok(after.freeBytes >= 4 * 400000, `${after.freeBytes} bytes`);
      // The length asked for most recently is never dropped for itself.
      const big = backend.allocF32(2 * 1024 * 1024); // 8 MiB: above the limit
      backend.releaseF32(big);
      assert.ok(backend.poolStats().freeBytes <= 4 * 1024 * 1024);
    } finally {
      backend.setPoolLimit(512 * 1024 * 1024);
    }
  });
});
