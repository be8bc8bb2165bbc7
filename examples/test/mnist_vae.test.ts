/**
 * The MNIST VAE examples' pieces: the generic IS model agrees with the
 * homework Vae's own ELBO, the tf.layers conv VAE trains without leaking
 * tensors, and its layers give the same values and gradients on the native
 * backend (which overrides Conv2D and its gradients in C++) as on cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadNative, trainableVae } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import { adamStep, latentIsModel, latentObjective } from '../src/common/mnist_vae.js';
import { ConvVae } from '../src/vae_conv.js';

const binary = (n: number, seed: number) =>
  tf.tidy(
    () =>
      tf.cast(
        tf.greater(tf.randomUniform([n, 784], 0, 1, 'float32', seed), 0.8),
        'float32',
      ) as tf.Tensor2D,
  );

test('latentIsModel of the homework Vae gives the Vae’s own ELBO (same draws)', async () => {
  await tf.setBackend('cpu');
  const vae = trainableVae({ xDim: 784, zDim: 8, hidden: 32 }, 3);
  const x = binary(5, 1);
  const generic = latentIsModel({
    xDim: 784,
    model: vae.model,
    posterior: (xb, k) => {
      const q = vae.variational(xb, k);
      return { z: q.get('z'), logQ: q.localLogProb(['z']) };
    },
  });
  zs.random.setSeed(7);
  const a = vae.elbo(x);
  zs.random.setSeed(7);
  const b = generic.elbo(x);
  assert.deepEqual(b.shape, [5]);
  const [av, bv] = [a.dataSync(), b.dataSync()];
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(av[i] - bv[i]) < 1e-3, `${av[i]} vs ${bv[i]}`);
  tf.dispose([a, b, x]);
  vae.dispose();
});

test('ConvVae: a training step changes the weights, leaks nothing, and IS ≥ ELBO shapes', async () => {
  await tf.setBackend('cpu');
  zs.random.setSeed(1);
  const m = new ConvVae(4, 2);
  const x = binary(4, 2);
  const opt = await adamStep(1e-2, 'cpu', m.weights, (b) => latentObjective(m, b, 'elbo', 1));
  const before = m.weights.map((w) => w.dataSync().slice());
  opt.step(x); // the optimizer's slots are made on the first step
  const n0 = tf.memory().numTensors;
  const bound = opt.step(x);
  assert.equal(tf.memory().numTensors, n0, 'a step leaked tensors');
  assert.ok(Number.isFinite(bound) && bound < 0);
  const moved = m.weights.filter((w, i) => w.dataSync().some((v, j) => v !== before[i][j]));
  assert.equal(moved.length, m.weights.length, 'every weight takes a step');
  const lw = latentIsModel(m).logImportanceWeights(x, 3);
  assert.deepEqual(lw.shape, [3, 4]);
  assert.ok(lw.dataSync().every(Number.isFinite));
  lw.dispose();
  opt.dispose();
  x.dispose();
  m.dispose();
});

test('ConvVae networks: native gives cpu’s values and gradients', async () => {
  const status = await loadNative();
  assert.ok(status.available, `the native backend must load here: ${status.reason ?? ''}`);
  await tf.setBackend('cpu');
  zs.random.setSeed(5);
  const m = new ConvVae(6, 3);
  const x = binary(3, 4);
  const z = tf.randomNormal([3, 6], 0, 1, 'float32', 9);
  // A deterministic function of every weight: no sampling, so both backends
  // see the same numbers.
  const f = () =>
    tf.tidy(() => {
      const [mean, logstd] = m.encoder.apply(x) as tf.Tensor[];
      const logits = m.decoder.apply(tf.add(z, mean)) as tf.Tensor;
      return tf.add(tf.sum(tf.mul(tf.sigmoid(logits), x)), tf.sum(tf.exp(logstd))) as tf.Scalar;
    });
  const run = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(f, m.weights);
      return [value.dataSync()[0], ...m.weights.map((w) => Array.from(grads[w.name].dataSync()))];
    });
  const cpu = run();
  await tf.setBackend('native');
  const native = run();
  await tf.setBackend('cpu');
  assert.ok(
    Math.abs((cpu[0] as number) - (native[0] as number)) < 1e-3 * Math.abs(cpu[0] as number),
  );
  for (let i = 1; i < cpu.length; i++) {
    const a = cpu[i] as number[];
    const b = native[i] as number[];
    const scale = a.reduce((acc, v) => Math.max(acc, Math.abs(v)), 1e-3);
    const err = a.reduce((acc, v, j) => Math.max(acc, Math.abs(v - b[j])), 0);
    assert.ok(err < 1e-3 * scale, `weight ${i - 1}: max |Δgrad| ${err} (scale ${scale})`);
  }
  tf.dispose([x, z]);
  m.dispose();
});
