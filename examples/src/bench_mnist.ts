/**
 * The MNIST examples' bench models (`zhusuan bench --model NAME`): each
 * example's own model and cost at its full size, one optimizer step per
 * `step()` on the next batch of MNIST's training file, in a shuffled order
 * drawn up front and dynamically binarised. The PyTorch peers
 * (packages/cli/scripts/torch_zoo_bench.py) read the same images in the same
 * order (their binarisation and sampling draws are their own); the losses
 * are stochastic (sampled latents), so no initial-loss check.
 *
 * Not yet here: vae_conv, vae_ssl, nice_mnist.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Rng,
  binarizeBatch,
  loadDataset,
  makeAdam,
  toFloat,
  trainableVae,
  type AdamLike,
  type TorchArray,
  type ZooBenchModel,
} from '@zhusuan/cli';
import * as zs from 'zhusuan';
import {
  BERNOULLI_LATENT_VAE_FULL,
  BERNOULLI_LATENT_VAE_TRAINING,
  bernoulliLatentVae,
  bernoulliLatentVaeCost,
  bernoulliLatentVaeVariables,
} from './bernoulli_latent_vae.js';
import { MNIST_DIM } from './common/mnist.js';
import { SBN_ADAM, SBN_HIDDEN, sbnOptimizer, sbnStepCost, sigmoidBeliefNet } from './common/sbn.js';
import { IWAE_FULL, IWAE_PARTICLES, iwaeObjective } from './iwae.js';
import { SBN_RWS_FULL } from './sbn_rws.js';
import { SBN_VIMCO_FULL } from './sbn_vimco.js';

/** MNIST's training images as intensities in [0, 1] (read once). */
let trainImages: { x: Float32Array; n: number } | undefined;

function mnistTrainImages(): { x: Float32Array; n: number } {
  if (trainImages === undefined) {
    const d = loadDataset('mnist', { split: 'train' });
    if (d.rows * d.cols !== MNIST_DIM) {
      throw new Error(`mnist: training images are ${d.rows}x${d.cols}, expected 28x28`);
    }
    trainImages = { x: toFloat(d.images), n: d.n };
  }
  return trainImages;
}

/**
 * `steps` batches of `batch` rows of MNIST's training file: a shuffled order
 * (seeded from the library's stream), wrapping round after the last; `next()`
 * binarises the next batch afresh ([batch, 784], the caller disposes it).
 * `order` is what the peer reads.
 */
function mnistBatches(batch: number, steps: number): { next(): tf.Tensor2D; order: TorchArray } {
  const { x, n } = mnistTrainImages();
  const rng = new Rng(zs.random.nextSeed());
  const perm = rng.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
  const order = Int32Array.from({ length: steps * batch }, (_, i) => perm[i % n]);
  const buf = new Float32Array(batch * MNIST_DIM);
  let s = 0;
  return {
    next() {
      const at = (s++ % steps) * batch;
      binarizeBatch(x, MNIST_DIM, order.subarray(at, at + batch), rng, buf);
      return tf.tensor2d(buf, [batch, MNIST_DIM]);
    },
    order: { data: order, shape: [order.length] },
  };
}

/** One optimizer step of `cost` on the next batch over `vars`, its tensors freed. */
function minimizeStep(
  optimizer: tf.Optimizer | AdamLike,
  vars: tf.Variable[],
  batches: { next(): tf.Tensor2D },
  cost: (x: tf.Tensor2D) => { cost: tf.Scalar },
): () => void {
  return () =>
    tf.tidy(() => {
      const x = batches.next();
      optimizer.minimize(() => cost(x).cost, false, vars);
    });
}

const iwaeBench: ZooBenchModel = {
  name: 'iwae',
  description: `IWAE K = ${IWAE_PARTICLES} on the homework VAE 784-${IWAE_FULL.hidden}-${IWAE_FULL.hidden}-${IWAE_FULL.zDim}, SGVB, batch ${IWAE_FULL.batchSize}, Adam ${IWAE_FULL.lr}`,
  torchModel: 'vae',
  setup({ backend, steps }) {
    const { zDim, hidden, batchSize, lr } = IWAE_FULL;
    const batches = mnistBatches(batchSize, steps);
    const vae = trainableVae({ xDim: MNIST_DIM, zDim, hidden }, zs.random.nextSeed());
    const optimizer = makeAdam(lr, backend);
    return {
      step: minimizeStep(optimizer, vae.weights, batches, iwaeObjective(vae)),
      variables: () => vae.weights,
      torch: {
        args: {
          objective: 'iwae',
          particles: IWAE_PARTICLES,
          batch_size: batchSize,
          hidden,
          z_dim: zDim,
          lr,
        },
        arrays: { order: batches.order },
      },
      dispose: () => {
        optimizer.dispose();
        vae.dispose();
      },
    };
  },
};

const bernoulliLatentVaeBench: ZooBenchModel = {
  name: 'bernoulli_latent_vae',
  description: `VAE with 40 Bernoulli latents, MLPs 784-${BERNOULLI_LATENT_VAE_FULL.hidden}-${BERNOULLI_LATENT_VAE_FULL.hidden}, REINFORCE (1 particle, baseline net + moving average), batch ${BERNOULLI_LATENT_VAE_FULL.batch}, Adam ${BERNOULLI_LATENT_VAE_TRAINING.lr}`,
  torchModel: 'bernoulli_vae',
  setup({ steps }) {
    const { hidden, batch } = BERNOULLI_LATENT_VAE_FULL;
    const { lr, decay } = BERNOULLI_LATENT_VAE_TRAINING;
    const batches = mnistBatches(batch, steps);
    const vae = bernoulliLatentVae(zs.random.nextSeed(), hidden);
    const variables = bernoulliLatentVaeVariables(vae);
    const movingAverage = new zs.MovingAverageBaseline(decay);
    const optimizer = tf.train.adam(lr);
    return {
      step: minimizeStep(optimizer, variables, batches, (x) =>
        bernoulliLatentVaeCost(vae, x, movingAverage),
      ),
      variables: () => variables,
      torch: {
        args: { hidden, batch_size: batch, lr, decay, eps: tf.backend().epsilon() },
        arrays: { order: batches.order },
      },
      dispose: () => {
        optimizer.dispose();
        movingAverage.dispose();
        tf.dispose(variables);
      },
    };
  },
};

/** The sigmoid belief net's step by `method` at the example's full size. */
function sbnBench(method: 'vimco' | 'rws'): ZooBenchModel {
  const full = method === 'vimco' ? SBN_VIMCO_FULL : SBN_RWS_FULL;
  const k = full.particles;
  const hidden = full.hidden ?? SBN_HIDDEN;
  const how = method === 'vimco' ? 'VIMCO' : 'reweighted wake-sleep';
  return {
    name: `sbn_${method}`,
    description: `sigmoid belief net ${hidden}-${hidden}-${hidden} by ${how}, K = ${k}, batch ${full.batch}, Adam ${SBN_ADAM.lr} (ε ${SBN_ADAM.epsilon})`,
    torchModel: `sbn_${method}`,
    setup({ steps }) {
      const batches = mnistBatches(full.batch, steps);
      const sbn = sigmoidBeliefNet(zs.random.nextSeed(), hidden);
      const variables = [...sbn.modelVariables, ...sbn.proposalVariables];
      const optimizer = sbnOptimizer();
      return {
        step: minimizeStep(optimizer, variables, batches, (x) => sbnStepCost(sbn, method, x, k)),
        variables: () => variables,
        torch: {
          args: {
            hidden,
            particles: k,
            batch_size: full.batch,
            lr: SBN_ADAM.lr,
            eps: SBN_ADAM.epsilon,
          },
          arrays: { order: batches.order },
        },
        dispose: () => {
          optimizer.dispose();
          tf.dispose(variables);
        },
      };
    },
  };
}

/** The MNIST examples' bench models, in the order examples/README.md lists the examples. */
export const MNIST_BENCH_MODELS: ZooBenchModel[] = [
  iwaeBench,
  bernoulliLatentVaeBench,
  sbnBench('vimco'),
  sbnBench('rws'),
];
