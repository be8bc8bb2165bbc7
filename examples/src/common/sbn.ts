/**
 * The sigmoid belief net of ZhuSuan's examples/sigmoid_belief_nets, trained
 * by VIMCO (`sbn_vimco.py`) or reweighted wake-sleep (`sbn_adaptive_is.py`):
 *
 *   h3 ~ Bernoulli(½)^200, h2 ~ Bernoulli(σ(W3 h3 + b3)), h1 ~ Bernoulli(σ(W2 h2 + b2)),
 *   x ~ Bernoulli(σ(W1 h1 + b1));
 *   q: h1 ~ Bernoulli(σ(V1 x + c1)), h2 ~ Bernoulli(σ(V2 h1 + c2)), h3 ~ Bernoulli(σ(V3 h2 + c3)).
 *
 * Both train with K samples of q per image (Adam lr 1e-3, ε 1e-4, batches of
 * 24, dynamic binarisation, as ZhuSuan's files); the validation split's
 * K-sample bound selects the epoch; the test set reports the K-sample bound
 * and log p(x) by importance sampling with q as proposal and 1000 samples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeAdam, type AdamLike } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import {
  MNIST_DIM,
  Minibatches,
  binarizedImages,
  denseLayers,
  fitWithValidation,
  lastQuarterGain,
  meanOverBatches,
  mnistIsModel,
  mnistTest,
  mnistTrainValid,
  testScores,
  trainEpoch,
  writeCurve,
  writeGrid,
} from './mnist.js';
import type { ExampleContext, ExampleOutcome } from './run.js';

/** Units per hidden layer. */
export const SBN_HIDDEN = 200;
const LAYERS = ['h1', 'h2', 'h3'] as const;

/** The SBN with `hidden` units per layer, its proposal q(h | x), and their bounds, from `seed`. */
export function sigmoidBeliefNet(seed: number, hidden = SBN_HIDDEN) {
  const dense = denseLayers(seed);
  const gen = {
    h2: dense('sbn/h2_logits', hidden, hidden),
    h1: dense('sbn/h1_logits', hidden, hidden),
    x: dense('sbn/x_logits', hidden, MNIST_DIM),
  };
  const rec = {
    h1: dense('q/h1_logits', MNIST_DIM, hidden),
    h2: dense('q/h2_logits', hidden, hidden),
    h3: dense('q/h3_logits', hidden, hidden),
  };
  const model = zs.metaBayesianNet((bn: zs.BayesianNet, n: number, k: number) => {
    const h3 = bn.bernoulli('h3', tf.zeros([n, hidden]), { groupNdims: 1, nSamples: k });
    const h2 = bn.bernoulli('h2', gen.h2.apply(h3), { groupNdims: 1 });
    const h1 = bn.bernoulli('h1', gen.h1.apply(h2), { groupNdims: 1 });
    bn.bernoulli('x', gen.x.apply(h1), { groupNdims: 1 });
  });
  const proposal = (x: tf.Tensor2D, k: number) => {
    const bn = new zs.BayesianNet();
    const h1 = bn.bernoulli('h1', rec.h1.apply(x), { groupNdims: 1, nSamples: k });
    const h2 = bn.bernoulli('h2', rec.h2.apply(h1), { groupNdims: 1 });
    bn.bernoulli('h3', rec.h3.apply(h2), { groupNdims: 1 });
    return bn;
  };
  const modelFn = (x: tf.Tensor2D, k: number) => (obs: Record<string, tf.Tensor>) =>
    model.observe(obs, x.shape[0], k);
  /** The K-sample importance-weighted bound with q's samples. */
  const bound = (x: tf.Tensor2D, k: number, q = proposal(x, k)) =>
    zs.importanceWeightedObjective(modelFn(x, k), { x }, { variational: q, axis: 0 });
  /** log p(x, h) − log q(h | x), [k, m]. */
  const logWeights = (x: tf.Tensor2D, k: number) => bound(x, k).logWeights;
  return {
    model,
    proposal,
    modelFn,
    bound,
    logWeights,
    modelVariables: Object.values(gen).flatMap((l) => l.variables),
    proposalVariables: Object.values(rec).flatMap((l) => l.variables),
    decode: (h1: tf.Tensor) => tf.sigmoid(gen.x.apply(h1)),
  };
}

/** One training step's cost: VIMCO for both nets, or RWS (IW bound for p, KL(p‖q) for q). */
export function sbnStepCost(
  sbn: ReturnType<typeof sigmoidBeliefNet>,
  method: 'vimco' | 'rws',
  x: tf.Tensor2D,
  k: number,
): { cost: tf.Scalar; bound: tf.Tensor } {
  const q = sbn.proposal(x, k);
  if (method === 'vimco') {
    const iw = sbn.bound(x, k, q);
    return { cost: tf.mean(iw.vimco()) as tf.Scalar, bound: iw.tensor };
  }
  // Reweighted wake-sleep, ZhuSuan's sbn_adaptive_is.py: the model ascends
  // the importance-weighted bound (q's log density held constant, so no
  // gradient reaches q from it), q descends KL(p‖q)'s self-normalised
  // importance-sampling gradient, with the same samples.
  const latent = Object.fromEntries(
    LAYERS.map((h) => [
      h,
      [q.get(h), zs.stopGradient(q.localLogProb([h]))] as [tf.Tensor, tf.Tensor],
    ]),
  );
  const iw = zs.importanceWeightedObjective(sbn.modelFn(x, k), { x }, { latent, axis: 0 });
  const kl = zs.klpq(sbn.modelFn(x, k), { x }, { variational: q, axis: 0 });
  return {
    cost: tf.add(tf.neg(tf.mean(iw.tensor)), tf.mean(kl.rws())) as tf.Scalar,
    bound: iw.tensor,
  };
}

/** Adam's learning rate and ε in ZhuSuan's SBN files. */
export const SBN_ADAM = { lr: 1e-3, epsilon: 1e-4 } as const;

/** Adam as ZhuSuan's SBN files ({@link SBN_ADAM}, default betas). */
export function sbnOptimizer(backend: string): AdamLike {
  return makeAdam(SBN_ADAM.lr, backend, { epsilon: SBN_ADAM.epsilon });
}

/** Sizes of a run. */
export interface SbnSize {
  limit?: number;
  validation: number;
  /** Units per hidden layer (default 200). */
  hidden?: number;
  epochs: number;
  batch: number;
  particles: number;
  nTest: number;
  testParticles: number;
}

/**
 * Trains and scores the SBN with `method` and K = `particles` training
 * samples; the figures of the results file.
 */
export function runSbn(
  ctx: ExampleContext,
  method: 'vimco' | 'rws',
  full: SbnSize,
): ExampleOutcome['metrics'] {
  const { quick, seed, log } = ctx;
  const size: SbnSize = quick
    ? {
        limit: 300,
        validation: 60,
        hidden: 50,
        epochs: 2,
        batch: 24,
        particles: 5,
        nTest: 60,
        testParticles: 50,
      }
    : full;
  const { train, valid } = mnistTrainValid({ ...size, seed });
  const validX = binarizedImages(valid, seed + 1);
  const sbn = sigmoidBeliefNet(seed, size.hidden);
  const variables = [...sbn.modelVariables, ...sbn.proposalVariables];
  const batches = new Minibatches(train, size.batch, seed);
  const optimizer = sbnOptimizer(ctx.backend);
  const k = size.particles;
  const meanBound = (x: Float32Array, n: number) =>
    meanOverBatches((xb) => sbn.bound(xb, k).tensor, x, n, 100);

  const { curve, bestEpoch, untrained } = fitWithValidation({
    epochs: size.epochs,
    variables,
    log,
    trainName: `${k}-sample bound`,
    validName: `${k}-sample bound`,
    validate: () => meanBound(validX, valid.n),
    epoch: () =>
      trainEpoch(batches, optimizer, variables, (b) =>
        sbnStepCost(sbn, method, batches.binarized(b), k),
      ),
  });
  optimizer.dispose();

  const test = mnistTest(size.nTest);
  const testX = binarizedImages(test);
  log(
    `test set: ${k}-sample bound and IS log-likelihood (${size.testParticles} samples) on ${test.n} images`,
  );
  const testBound = meanBound(testX, test.n);
  const scores = testScores(
    mnistIsModel((x) => sbn.bound(x, 1).tensor, sbn.logWeights),
    { x: testX, n: test.n },
    size.testParticles,
  );
  const ll = { mean: scores.ll, se: scores.llSemOverImages };
  // Ancestral samples: h3 from the prior, down to x's probabilities.
  const means = tf.tidy(() => {
    const bn = sbn.model.observe({}, 100, 1);
    return sbn.decode(tf.squeeze(bn.get('h1'), [0])).dataSync() as Float32Array;
  });
  writeGrid(ctx, 'samples', means, 100);
  writeCurve(ctx, curve);
  tf.dispose(variables);
  return {
    test_ll: ll.mean,
    test_ll_se: ll.se,
    test_bound: testBound,
    test_ll_minus_bound: ll.mean - testBound,
    untrained_valid_bound: untrained,
    particles: k,
    test_particles: size.testParticles,
    epochs: size.epochs,
    best_epoch: bestEpoch,
    valid_bound: curve[bestEpoch - 1].valid,
    valid_gain_last_quarter: lastQuarterGain(curve),
    n_test: test.n,
  };
}
