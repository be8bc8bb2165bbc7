/**
 * Gradients of the VAE-like loss with respect to every variable agree
 * between cpu and native within 1e-4 relative, for the plain (matMul + add +
 * relu) and the fused (tf.fused.matMul) dense layers.
 */
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { VaeModel, normalNoise, syntheticBatch } from './vae_fixture.js';
import { assertClose, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

async function gradsOn(
  backend: string,
  dense: 'plain' | 'fused' | 'native',
  sizes: object,
): Promise<{ loss: number; grads: Record<string, number[]> }> {
  await tf.setBackend(backend);
  const model = new VaeModel({ ...sizes, dense }, 7, `grad_${backend}_${dense}`);
  const x = syntheticBatch(model.config.batch, model.config.xDim, 3);
  const eps = normalNoise(model.config.batch, model.config.zDim, 4);
  const { value, grads } = tf.variableGrads(() => model.loss(x, eps), model.variables);
  const out: Record<string, number[]> = {};
  for (const v of model.variables) {
    // Names differ per backend only in the prefix.
    out[v.name.split('/').slice(1).join('/')] = Array.from(grads[v.name].dataSync());
  }
  const loss = value.dataSync()[0];
  tf.dispose([value, x, eps, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: out };
}

describe('gradients of the VAE loss, cpu vs native', () => {
  const configs: Array<[string, object]> = [
    ['small', { xDim: 64, hidden: 48, zDim: 6, batch: 16 }],
    ['MNIST size', { xDim: 784, hidden: 500, zDim: 40, batch: 128 }],
  ];
  for (const dense of ['plain', 'fused', 'native'] as const) {
    for (const [label, sizes] of configs) {
      it(`${dense} dense layers, ${label}`, async () => {
        const cpu = await gradsOn('cpu', dense, sizes);
        const nat = await gradsOn('native', dense, sizes);
        assertClose([nat.loss], [cpu.loss], 1e-5, 0, 'loss');
        for (const name of Object.keys(cpu.grads)) {
          const g = cpu.grads[name];
          // 1e-4 relative, with a floor of 1e-4 of the variable's largest
          // gradient entry (entries that cancel to ~0 carry absolute rounding).
          const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          assertClose(nat.grads[name], g, 1e-4, 1e-4 * scale, `d loss / d ${name}`);
        }
      });
    }
  }
});
