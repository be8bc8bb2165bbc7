/** The VAE driver on the cpu backend: no tensor leaks, exact checkpoints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import type { RunConfig } from '@zhusuan/vae';
import { TrainingState } from '../../src/vae/trainer.js';
import { evaluate } from '../../src/vae/evaluate.js';
import {
  checkpointPath,
  loadCheckpoint,
  saveCheckpoint,
  CheckpointError,
} from '../../src/run/checkpoint.js';
import { tempDir } from '../helpers.js';

const CFG: RunConfig = {
  dataset: 'test',
  epochs: 1,
  batchSize: 8,
  xDim: 16,
  zDim: 3,
  hidden: 10,
  lr: 1e-3,
  lrDecay: 1,
  lrDecayEvery: 0,
  objective: 'elbo',
  particles: 1,
  seed: 3,
  validation: 0,
  sampleEvery: 0,
};

function batch(n: number, xDim: number, seed: number): tf.Tensor2D {
  return tf.tidy(() =>
    tf.cast(tf.greater(tf.randomUniform([n, xDim], 0, 1, 'float32', seed), 0.5), 'float32'),
  ) as tf.Tensor2D;
}

test('a training step, an eval batch and a sample call leak no tensors', async () => {
  await tf.setBackend('cpu');
  for (const objective of ['elbo', 'iwae', 'vimco'] as const) {
    const state = new TrainingState(
      { ...CFG, objective, particles: objective === 'elbo' ? 1 : 3 },
      'cpu',
    );
    const x = batch(8, 16, 1);
    state.trainStep(x); // the optimizer creates its slots on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) state.trainStep(x);
    assert.equal(tf.memory().numTensors, before, `${objective}: trainStep leaked`);
    const xs = x.dataSync() as Float32Array;
    evaluate(state.vae, xs, 8, { particles: 7, batchImages: 4, chunkRows: 8 });
    assert.equal(tf.memory().numTensors, before, 'evaluate leaked');
    state.vae.sample(5).dispose();
    state.vae.reconstruct(x).dispose();
    assert.equal(tf.memory().numTensors, before, 'sample/reconstruct leaked');
    x.dispose();
    state.dispose();
  }
});

test('training lowers the cost on a fixed batch', async () => {
  await tf.setBackend('cpu');
  const state = new TrainingState({ ...CFG, lr: 1e-2 }, 'cpu');
  const x = batch(8, 16, 2);
  const first = state.trainStep(x);
  let last = first;
  for (let i = 0; i < 100; i++) last = state.trainStep(x);
  assert.ok(last > first + 1, `bound did not improve: ${first} -> ${last}`);
  x.dispose();
  state.dispose();
});

test('chunked IS evaluation equals the unchunked estimate for the same samples', async () => {
  await tf.setBackend('cpu');
  const state = new TrainingState(CFG, 'cpu');
  const x = batch(6, 16, 4);
  const xs = x.dataSync() as Float32Array;
  const { random } = await import('zhusuan');
  random.setSeed(11);
  const whole = evaluate(state.vae, xs, 6, { particles: 12, batchImages: 6, chunkRows: 1000 });
  random.setSeed(11);
  const again = evaluate(state.vae, xs, 6, { particles: 12, batchImages: 6, chunkRows: 1000 });
  assert.equal(again.test_ll, whole.test_ll, 'same seed, same estimate');
  const chunked = evaluate(state.vae, xs, 6, { particles: 2000, batchImages: 3, chunkRows: 300 });
  // Both estimate the same log-likelihood; with 2000 particles the MC error is small.
  assert.ok(
    Math.abs(chunked.test_ll - whole.test_ll) < 0.5,
    `${chunked.test_ll} vs ${whole.test_ll}`,
  );
  assert.ok(chunked.test_ll_stderr < whole.test_ll_stderr, 'more particles, smaller MC error');
  assert.ok(chunked.test_ll >= chunked.test_elbo - 0.5);
  x.dispose();
  state.dispose();
});

test('the IS standard error matches the spread of the estimate across seeds', async () => {
  await tf.setBackend('cpu');
  const state = new TrainingState(CFG, 'cpu');
  const x = batch(50, 16, 6);
  for (let i = 0; i < 30; i++) state.trainStep(x);
  const xs = x.dataSync() as Float32Array;
  const { random } = await import('zhusuan');
  const lls: number[] = [];
  const ses: number[] = [];
  for (let seed = 0; seed < 40; seed++) {
    random.setSeed(100 + seed);
    const r = evaluate(state.vae, xs, 50, { particles: 20, batchImages: 25 });
    lls.push(r.test_ll);
    ses.push(r.test_ll_stderr);
  }
  const mean = lls.reduce((a, b) => a + b, 0) / lls.length;
  const sd = Math.sqrt(lls.reduce((a, b) => a + (b - mean) ** 2, 0) / (lls.length - 1));
  const se = ses.reduce((a, b) => a + b, 0) / ses.length;
  // 40 seeds estimate the SD within ~11 % (one standard error); allow ±3 of those.
  assert.ok(se > 0.7 * sd && se < 1.4 * sd, `reported SE ${se} vs SD across seeds ${sd}`);
  x.dispose();
  state.dispose();
});

test('checkpoints round-trip exactly, including optimizer state and RNG streams', async () => {
  await tf.setBackend('cpu');
  const dir = tempDir();
  const a = new TrainingState(CFG, 'cpu');
  const x = batch(8, 16, 5);
  for (let i = 0; i < 3; i++) a.trainStep(x);
  await a.save(checkpointPath(dir));
  const expected = [a.trainStep(x), a.trainStep(x), a.trainStep(x)];
  // The random stream is global: restoring rewinds it to the saved point.
  const b = new TrainingState(CFG, 'cpu');
  await b.restore(checkpointPath(dir));
  assert.equal(b.step, 3);
  // Same state in, same numbers out.
  assert.deepEqual([b.trainStep(x), b.trainStep(x), b.trainStep(x)], expected);
  assert.deepEqual(b.dataRng.getState(), a.dataRng.getState());
  x.dispose();
  a.dispose();
  b.dispose();
});

test('a corrupt or truncated checkpoint is rejected with the file named; a failed save keeps the old one', () => {
  const dir = tempDir();
  const file = path.join(dir, 'checkpoint.zsck');
  const ckpt = {
    epoch: 1,
    step: 2,
    state: { a: 1 },
    weights: [{ name: 'w', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
    optimizer: [],
  };
  saveCheckpoint(file, ckpt);
  assert.deepEqual(Array.from(loadCheckpoint(file).weights[0].data), [1, 2, 3, 4]);
  const good = fs.readFileSync(file);
  fs.writeFileSync(path.join(dir, 'trunc.zsck'), good.subarray(0, good.length - 4));
  assert.throws(
    () => loadCheckpoint(path.join(dir, 'trunc.zsck')),
    (e: Error) => e instanceof CheckpointError && /trunc\.zsck/.test(e.message),
  );
  fs.writeFileSync(path.join(dir, 'junk.zsck'), 'hello world, not a checkpoint');
  assert.throws(() => loadCheckpoint(path.join(dir, 'junk.zsck')), /bad magic/);
  // A save that fails half-way (shape and data disagree) leaves the good file intact.
  assert.throws(() =>
    saveCheckpoint(file, {
      ...ckpt,
      weights: [{ name: 'w', shape: [3], data: new Float32Array(2) }],
    }),
  );
  assert.deepEqual(fs.readFileSync(file), good);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['checkpoint.zsck', 'junk.zsck', 'trunc.zsck']);
});

test('the learning-rate schedule reaches the optimizer', async () => {
  await tf.setBackend('cpu');
  const state = new TrainingState({ ...CFG, lr: 1e-2, lrDecay: 0.5, lrDecayEvery: 2 }, 'cpu');
  const { learningRateAt } = await import('../../src/vae/trainer.js');
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((e) => learningRateAt(state.cfg, e)),
    [1e-2, 1e-2, 5e-3, 5e-3, 2.5e-3],
  );
  const x = batch(8, 16, 6);
  state.trainStep(x);
  state.optimizer.setLearningRate(0);
  const before = state.vae.weights.map((v) => Array.from(v.dataSync()));
  state.trainStep(x);
  assert.deepEqual(
    state.vae.weights.map((v) => Array.from(v.dataSync())),
    before,
    'lr 0 must not move the weights',
  );
  x.dispose();
  state.dispose();
});
