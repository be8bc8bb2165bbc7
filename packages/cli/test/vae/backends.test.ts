/**
 * The real VAE (its BayesianNet model, the library's objectives, the trainer's
 * Adam) on `native` against `cpu`: the same gradients, the same 20-step
 * training curve from one seed, and no leaked tensors on native.
 * Tolerances: per variable, max |g_native - g_cpu| <= 1e-4 max |g_cpu| (float32
 * sums in another order; measured <= 1e-6, but single entries near cancellation
 * can differ by more than 1e-4 of themselves); bounds over 20 Adam steps 1e-4
 * relative, entry by entry.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadNative, useBackend } from '../../src/backend.js';
import { prepareOptimizers } from '../../src/vae/optimizer.js';
import type { Objective, RunConfig } from '@zhusuan/vae';
import { TrainingState } from '../../src/vae/trainer.js';

const CFG: RunConfig = {
  dataset: 'test',
  epochs: 1,
  batchSize: 16,
  xDim: 64,
  zDim: 4,
  hidden: 24,
  lr: 1e-3,
  lrDecay: 1,
  lrDecayEvery: 0,
  objective: 'elbo',
  particles: 1,
  seed: 5,
  validation: 0,
  sampleEvery: 0,
};

/** A fixed binary batch made in JS, so both backends see the same bytes. */
function batchValues(step: number): Float32Array {
  const v = new Float32Array(CFG.batchSize * CFG.xDim);
  let s = 0x9e3779b9 ^ step;
  for (let i = 0; i < v.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    v[i] = (s >>> 0) % 3 === 0 ? 1 : 0;
  }
  return v;
}

function config(objective: Objective): RunConfig {
  return { ...CFG, objective, particles: objective === 'elbo' ? 1 : 3 };
}

before(async () => {
  const native = await loadNative();
  assert.ok(native.available, `native backend unavailable: ${native.reason}`);
  await prepareOptimizers();
});

/** Entry by entry: |a - b| <= rtol |b|. */
function relClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string) {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= rtol * Math.abs(b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

/** As a whole: max |a - b| <= rtol max |b|. */
function scaleClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string) {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(scale > 0, `${what}: zero gradient`);
  assert.ok(err <= rtol * scale, `${what}: max error ${err} vs max |g| ${scale}`);
}

/** The cost's gradient with respect to every variable, on one backend. */
async function gradients(
  backend: string,
  objective: Objective,
): Promise<Map<string, Float32Array>> {
  await useBackend(backend as 'cpu' | 'native');
  const state = new TrainingState(config(objective), backend);
  try {
    const x = tf.tensor2d(batchValues(0), [CFG.batchSize, CFG.xDim]);
    const { grads } = tf.variableGrads(
      () => state.vae.objective(x, objective, config(objective).particles).cost as tf.Scalar,
      state.vae.weights,
    );
    const out = new Map<string, Float32Array>();
    for (const v of state.vae.weights) {
      // Names differ per model instance ("vae<n>/..."): key by the layer path.
      out.set(v.name.replace(/^vae\d+\//, ''), grads[v.name].dataSync() as Float32Array);
    }
    tf.dispose([x, ...Object.values(grads)]);
    return out;
  } finally {
    state.dispose();
  }
}

/** The bounds of `steps` training steps from one seed, on one backend. */
async function curve(backend: string, objective: Objective, steps: number): Promise<number[]> {
  await useBackend(backend as 'cpu' | 'native');
  const state = new TrainingState(config(objective), backend);
  const bounds: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const x = tf.tensor2d(batchValues(i % 4), [CFG.batchSize, CFG.xDim]);
      bounds.push(state.trainStep(x));
      x.dispose();
    }
  } finally {
    state.dispose();
  }
  return bounds;
}

for (const objective of ['elbo', 'iwae', 'vimco'] as const) {
  test(`${objective}: gradients of the cost agree between native and cpu (1e-4 of their scale)`, async () => {
    const cpu = await gradients('cpu', objective);
    const nat = await gradients('native', objective);
    assert.deepEqual([...nat.keys()], [...cpu.keys()]);
    for (const [name, g] of cpu) scaleClose(nat.get(name)!, g, 1e-4, `${objective} d/d${name}`);
  });

  test(`${objective}: 20 training steps from one seed give the same bounds on native and cpu`, async () => {
    const cpu = await curve('cpu', objective, 20);
    const nat = await curve('native', objective, 20);
    assert.ok(cpu[19] > cpu[0], `${objective}: the bound does not improve on cpu`);
    relClose(nat, cpu, 1e-4, `${objective} bounds`);
  });
}

test('native: a training step leaks no tensors or backend data', async () => {
  await useBackend('native');
  const state = new TrainingState(config('elbo'), 'native');
  const x = tf.tensor2d(batchValues(1), [CFG.batchSize, CFG.xDim]);
  state.trainStep(x);
  const before = tf.memory().numTensors;
  const ids = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) state.trainStep(x);
  assert.equal(tf.memory().numTensors, before, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), ids, 'backend data ids');
  x.dispose();
  state.dispose();
});

test('native registers every optional kernel the library looks for (zs.OPTIONAL_KERNELS)', async () => {
  await useBackend('native');
  for (const [what, name] of Object.entries(zs.OPTIONAL_KERNELS)) {
    assert.ok(zs.backendHasKernel(name), `${what}: kernel ${name} is not registered on native`);
  }
});
