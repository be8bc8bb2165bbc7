/**
 * The homework VAE's training steps as zoo bench models: `zhusuan train
 * --objective elbo|iwae|vimco`'s own `TrainingState.trainStep` on real MNIST
 * batches, shuffled and dynamically binarised as the trainer feeds them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Objective, RunConfig } from '@zhusuan/vae';
import { loadDataset, toFloat } from '../data/index.js';
import { defaultRunConfig } from '../vae/config.js';
import { binarizeBatch, TrainingState } from '../vae/trainer.js';
import type { ZooBenchModel, ZooBenchStepper } from './zoo.js';

/** MNIST's training images as floats in [0, 1], read once. */
let mnist: { x: Float32Array; n: number; xDim: number } | undefined;

/** MNIST's training images, as the trainer reads them (cached). */
export function mnistTrain(): { x: Float32Array; n: number; xDim: number } {
  if (mnist === undefined) {
    const train = loadDataset('mnist', { split: 'train' });
    mnist = { x: toFloat(train.images), n: train.n, xDim: train.rows * train.cols };
  }
  return mnist;
}

/** The sizes a VAE bench step varies (the scaling sweep's axes); the rest are `zhusuan train`'s defaults. */
export interface VaeBenchSize {
  objective: Objective;
  particles: number;
  batchSize: number;
  hidden: number;
}

/** `zhusuan train`'s configuration with `size` applied. */
export function vaeBenchConfig(size: VaeBenchSize): RunConfig {
  return { ...defaultRunConfig(mnistTrain().xDim), ...size, epochs: 1 };
}

/**
 * A stepper of the trainer's step at `size`: `steps` batches of a shuffled
 * order of the training images (wrapping round), each dynamically binarised.
 * The PyTorch peer reads the same images in the same order (its binarisation
 * draws are its own).
 */
export function vaeStepper(size: VaeBenchSize, backend: string, steps: number): ZooBenchStepper {
  const { x, n, xDim } = mnistTrain();
  const cfg = vaeBenchConfig(size);
  const state = new TrainingState(cfg, backend);
  const bs = cfg.batchSize;
  const perm = state.dataRng.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
  const order = new Int32Array(steps * bs);
  for (let i = 0; i < order.length; i++) order[i] = perm[i % n];
  const buf = new Float32Array(bs * xDim);
  let s = 0;
  return {
    step() {
      const rows = order.subarray((s % steps) * bs, (s % steps) * bs + bs);
      s++;
      binarizeBatch(x, xDim, rows, state.dataRng, buf);
      tf.tidy(() => state.trainStep(tf.tensor2d(buf, [bs, xDim])));
    },
    variables: () => state.vae.weights,
    torch: {
      args: {
        objective: cfg.objective,
        particles: cfg.particles,
        batch_size: bs,
        hidden: cfg.hidden,
        z_dim: cfg.zDim,
        lr: cfg.lr,
      },
      arrays: { order: { data: order, shape: [order.length] } },
    },
    dispose: () => state.dispose(),
  };
}

/** The VAE trained by `objective` with `particles` samples of z, as `zhusuan train` does it. */
function vaeModel(objective: Objective, particles: number): ZooBenchModel {
  return {
    name: `vae_${objective}`,
    description:
      `homework VAE 784-500-500-40, batch 128, Adam; zhusuan train --objective ${objective}` +
      (objective === 'elbo' ? '' : ` --particles ${particles}`),
    torchModel: 'vae',
    setup: ({ backend, steps }) =>
      vaeStepper({ objective, particles, batchSize: 128, hidden: 500 }, backend, steps),
  };
}

/** The trainer's three objectives at `zhusuan train`'s default particles. */
export const VAE_BENCH_MODELS: ZooBenchModel[] = [
  vaeModel('elbo', 1),
  vaeModel('iwae', 5),
  vaeModel('vimco', 5),
];
