/**
 * The MNIST examples' bench models (`zhusuan bench --model NAME`): each
 * example's own model and cost at its full size, one optimizer step per
 * `step()` on the next batch of MNIST's training file, in a shuffled order
 * drawn up front and dynamically binarised. The PyTorch peers
 * (packages/cli/scripts/torch_zoo_bench.py) read the same images in the same
 * order (their binarisation and sampling draws are their own); the losses
 * are stochastic (sampled latents), so no initial-loss check.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
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
import { MNIST_DIM, Minibatches, mnistTrain, type MnistPart } from './common/mnist.js';
import { SBN_ADAM, SBN_HIDDEN, sbnOptimizer, sbnStepCost, sigmoidBeliefNet } from './common/sbn.js';
import { IWAE_FULL, IWAE_PARTICLES, iwaeObjective } from './iwae.js';
import { NICE_ADAM, NICE_FULL, nice, niceCost } from './nice_mnist.js';
import { SBN_RWS_FULL } from './sbn_rws.js';
import { SBN_VIMCO_FULL } from './sbn_vimco.js';
import { latentObjective } from './common/mnist_vae.js';
import { ConvVae, VAE_CONV_FULL, convVaeObjective } from './vae_conv.js';
import { VAE_NF_FULL, VAE_NF_LR, flowVae, nfFlow } from './vae_nf.js';
import {
  VAE_SSL_BETA,
  VAE_SSL_FULL,
  VAE_SSL_LR,
  labelledSubset,
  m2,
  m2StepCost,
  oneHot,
} from './vae_ssl.js';

/** MNIST's training file as a part (read once). */
let trainPart: MnistPart | undefined;

function mnistTrainPart(): MnistPart {
  trainPart ??= mnistTrain();
  return trainPart;
}

/**
 * `steps` batches of `batch` rows of `part` (MNIST's training file by
 * default) as the examples feed them ({@link Minibatches}, seeded from the
 * library's stream): one shuffled epoch, wrapping round after its last
 * batch; `next()` gives the next batch binarised (or dequantised) afresh,
 * [batch, 784], for the caller to dispose. `order` is what the peer reads.
 */
function mnistBatches(
  batch: number,
  steps: number,
  kind: 'binarized' | 'dequantized' = 'binarized',
  part = mnistTrainPart(),
): { next(): tf.Tensor2D; order: TorchArray } {
  const mb = new Minibatches(part, batch, zs.random.nextSeed());
  mb.shuffle();
  const order = new Int32Array(steps * batch);
  for (let s = 0; s < steps; s++) order.set(mb.rows(s % mb.count), s * batch);
  let s = 0;
  return {
    next: () => mb[kind](s++ % mb.count),
    order: { data: order, shape: [order.length] },
  };
}

/** A float32 array for the peer. */
export function f32(data: ArrayLike<number>, shape: number[]): TorchArray {
  return { data: Float32Array.from(data), shape };
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

const vaeConvBench: ZooBenchModel = {
  name: 'vae_conv',
  description: `conv VAE (tf.layers residual conv encoder / transposed-conv decoder, nf ${VAE_CONV_FULL.nf}, ${VAE_CONV_FULL.zDim} latents), ELBO by SGVB with 1 particle, batch ${VAE_CONV_FULL.batchSize}, Adam ${VAE_CONV_FULL.lr}`,
  torchModel: 'vae_conv',
  setup({ backend, steps }) {
    const { zDim, nf, batchSize, lr } = VAE_CONV_FULL;
    const batches = mnistBatches(batchSize, steps);
    const conv = new ConvVae(zDim, nf);
    const weights = conv.weights;
    const optimizer = makeAdam(lr, backend);
    return {
      step: minimizeStep(optimizer, weights, batches, convVaeObjective(conv)),
      variables: () => weights,
      torch: {
        args: { z_dim: zDim, nf, batch_size: batchSize, lr },
        arrays: { order: batches.order },
      },
      dispose: () => {
        optimizer.dispose();
        conv.dispose();
      },
    };
  },
};

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

/** Planar steps of vae_nf's headline posterior (two flows of 10). */
const VAE_NF_PLANAR_STEPS = 20;

const vaeNfBench: ZooBenchModel = {
  name: 'vae_nf',
  description: `the homework VAE 784-${VAE_NF_FULL.hidden}-${VAE_NF_FULL.hidden}-40 with ${VAE_NF_PLANAR_STEPS} planar flows on q (vae_nf's 2 × 10), ELBO by SGVB with 1 particle, batch ${VAE_NF_FULL.batch}, Adam ${VAE_NF_LR}`,
  torchModel: 'vae_nf',
  setup({ backend, steps }) {
    const { hidden, batch } = VAE_NF_FULL;
    const batches = mnistBatches(batch, steps);
    const seed = zs.random.nextSeed();
    const m = flowVae(hidden, seed, nfFlow('planar2x10', seed + 1000));
    const optimizer = makeAdam(VAE_NF_LR, backend);
    return {
      step: minimizeStep(optimizer, m.variables, batches, (x) =>
        latentObjective(m.vae, x, 'elbo', 1),
      ),
      variables: () => m.variables,
      torch: {
        args: {
          hidden,
          z_dim: 40,
          batch_size: batch,
          lr: VAE_NF_LR,
          flow_steps: VAE_NF_PLANAR_STEPS,
        },
        arrays: { order: batches.order },
      },
      dispose: () => {
        optimizer.dispose();
        m.dispose();
      },
    };
  },
};

const bernoulliLatentVaeBench: ZooBenchModel = {
  name: 'bernoulli_latent_vae',
  description: `VAE with 40 Bernoulli latents, MLPs 784-${BERNOULLI_LATENT_VAE_FULL.hidden}-${BERNOULLI_LATENT_VAE_FULL.hidden}, REINFORCE (1 particle, baseline net + moving average), batch ${BERNOULLI_LATENT_VAE_FULL.batch}, Adam ${BERNOULLI_LATENT_VAE_TRAINING.lr}`,
  torchModel: 'bernoulli_vae',
  setup({ backend, steps }) {
    const { hidden, batch } = BERNOULLI_LATENT_VAE_FULL;
    const { lr, decay } = BERNOULLI_LATENT_VAE_TRAINING;
    const batches = mnistBatches(batch, steps);
    const vae = bernoulliLatentVae(zs.random.nextSeed(), hidden);
    const variables = bernoulliLatentVaeVariables(vae);
    const movingAverage = new zs.MovingAverageBaseline(decay);
    const optimizer = makeAdam(lr, backend);
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
    setup({ backend, steps }) {
      const batches = mnistBatches(full.batch, steps);
      const sbn = sigmoidBeliefNet(zs.random.nextSeed(), hidden);
      const variables = [...sbn.modelVariables, ...sbn.proposalVariables];
      const optimizer = sbnOptimizer(backend);
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

const vaeSslBench: ZooBenchModel = {
  name: 'vae_ssl',
  description: `M2 semi-supervised VAE (nets ${VAE_SSL_FULL.hidden}-${VAE_SSL_FULL.hidden}, ${VAE_SSL_FULL.zDim} latents, 10 labels enumerated), 100 labelled + ${VAE_SSL_FULL.batch} unlabelled images a step, Adam ${VAE_SSL_LR}`,
  torchModel: 'm2',
  setup({ backend, steps }) {
    const { hidden, zDim, batch } = VAE_SSL_FULL;
    const seed = zs.random.nextSeed();
    const labelledPart = labelledSubset(mnistTrainPart(), 10, seed);
    const unlabelled = mnistBatches(batch, steps);
    const labelled = mnistBatches(labelledPart.n, 1, 'binarized', labelledPart);
    const yl = tf.tidy(() => oneHot(labelledPart.labels));
    const net = m2(seed, hidden, zDim);
    const optimizer = makeAdam(VAE_SSL_LR, backend);
    const xl = labelledPart.images;
    return {
      step: minimizeStep(optimizer, net.variables, unlabelled, (xu) =>
        m2StepCost(net, labelled.next(), yl, xu),
      ),
      variables: () => net.variables,
      torch: {
        args: {
          hidden,
          z_dim: zDim,
          batch_size: batch,
          lr: VAE_SSL_LR,
          eps: tf.backend().epsilon(),
          beta: VAE_SSL_BETA,
        },
        arrays: {
          order: unlabelled.order,
          xl: f32(toFloat(xl), [labelledPart.n, MNIST_DIM]),
          yl: f32(yl.dataSync(), yl.shape),
        },
      },
      dispose: () => {
        optimizer.dispose();
        tf.dispose([...net.variables, yl]);
      },
    };
  },
};

const niceMnistBench: ZooBenchModel = {
  name: 'nice_mnist',
  description: `NICE, 4 additive couplings (shift MLPs ${NICE_FULL.hidden.length}×${NICE_FULL.hidden[0]} ReLU) + scaling, maximum likelihood on dequantised MNIST, batch ${NICE_FULL.batch}, Adam ${NICE_ADAM.lr} (ε ${NICE_ADAM.epsilon})`,
  torchModel: 'nice',
  setup({ backend, steps }) {
    const { hidden, batch } = NICE_FULL;
    const batches = mnistBatches(batch, steps, 'dequantized');
    const flow = nice(hidden, zs.random.nextSeed());
    const optimizer = makeAdam(NICE_ADAM.lr, backend, { epsilon: NICE_ADAM.epsilon });
    // The first batch, drawn now: the initial loss is on it, and so is the first step.
    const first = batches.next();
    const x0 = f32(first.dataSync(), first.shape);
    const initialLoss = tf.tidy(() => niceCost(flow, first).cost.dataSync()[0]);
    first.dispose();
    let atFirst = true;
    const feed = {
      next(): tf.Tensor2D {
        if (!atFirst) return batches.next();
        atFirst = false;
        return tf.tensor2d(x0.data, [batch, MNIST_DIM]);
      },
    };
    return {
      step: minimizeStep(optimizer, flow.variables, feed, (x) => niceCost(flow, x)),
      variables: () => flow.variables,
      torch: {
        args: {
          hidden: hidden.join(','),
          batch_size: batch,
          lr: NICE_ADAM.lr,
          eps: NICE_ADAM.epsilon,
        },
        arrays: { order: batches.order, x0 },
      },
      initialLoss,
      dispose: () => {
        optimizer.dispose();
        flow.bijector.dispose();
        flow.dist.dispose();
        // The logistic base's parameters (nice() leaves them to the process).
        const base = flow.dist.base as zs.Logistic;
        tf.dispose([base.loc, base.scale]);
      },
    };
  },
};

/** The MNIST examples' bench models, in the order examples/README.md lists the examples. */
export const MNIST_BENCH_MODELS: ZooBenchModel[] = [
  vaeConvBench,
  vaeNfBench,
  iwaeBench,
  bernoulliLatentVaeBench,
  sbnBench('vimco'),
  sbnBench('rws'),
  vaeSslBench,
  niceMnistBench,
];
