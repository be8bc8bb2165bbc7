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
