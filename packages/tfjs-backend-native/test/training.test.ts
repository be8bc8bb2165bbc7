/**
 * From the same seed, 20 Adam steps of the VAE-like model give the same
 * losses on native (fused native Adam) and on cpu (tf.train.adam).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { adam } from '../src/optimizer.js';
import { VaeModel, normalNoise, syntheticBatch, trainStep } from './vae_fixture.js';
import { assertClose, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

const SIZES = { xDim: 196, hidden: 64, zDim: 8, batch: 32 };

async function train(
  backend: string,
  steps: number,
  dense: 'plain' | 'native' = 'plain',
): Promise<number[]> {
  await tf.setBackend(backend);
  const model = new VaeModel({ ...SIZES, dense }, 11, `train_${backend}_${dense}`);
  const opt = adam(1e-3);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = syntheticBatch(SIZES.batch, SIZES.xDim, 1000 + (i % 5));
    const eps = normalNoise(SIZES.batch, SIZES.zDim, 2000 + i);
    losses.push(trainStep(model, opt, x, eps));
    tf.dispose([x, eps]);
  }
  opt.dispose();
  model.dispose();
  return losses;
}

describe('training, cpu vs native', () => {
  it('20 steps give the same losses', async () => {
    const cpu = await train('cpu', 20);
    const nat = await train('native', 20);
    assert.ok(cpu[19] < cpu[0], 'the loss goes down');
    assertClose(nat, cpu, 1e-4, 0, 'losses');
  });
  it('20 steps with the native dense op give the same losses', async () => {
    const cpu = await train('cpu', 20, 'native');
    const nat = await train('native', 20, 'native');
    assertClose(nat, cpu, 1e-4, 0, 'losses');
  });
});
