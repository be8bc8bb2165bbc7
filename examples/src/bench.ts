/**
 * The zoo's models for `zhusuan bench --model NAME|all` (imported by the CLI
 * as `@zhusuan/examples/bench`): each example's own model and step code,
 * set up at the example's sizes, one real step per `step()` on the next
 * batch, with what its PyTorch peer (packages/cli/scripts/torch_zoo_bench.py)
 * needs to run the same computation on the same data.
 *
 * The samplers' timed step is the one after warm-up: a fixed step size (HMC)
 * and no mass adaptation, so that both sides run the same arithmetic. NUTS
 * (toy_gaussian's second sampler) and the HMC half of toy2d_intractable are
 * not benchmarked.
 *
 * To add a model: write a `ZooBenchModel` here from the example's exported
 * model and step, add it to {@link ZOO_BENCH_MODELS}, and its peer to
 * `MODELS` in torch_zoo_bench.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TorchArray, ZooBenchModel, ZooBenchStepper } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import { blr, blrProblem, BLR_NOISE } from './bayesian_linear_regression.js';
import { f32, MNIST_BENCH_MODELS } from './bench_mnist.js';
import { CHAINS, SG_BATCH, Y_LOGSTD, bnnChains, makeSampler, sgmcmcStep } from './bnn_sgmcmc.js';
import { BATCH, HIDDEN, PARTICLES, bnnViTrainer } from './bnn_vi.js';
import { shuffle, weightNames } from './common/bnn.js';
import { loadBoston, randomSplits, standardised } from './common/data.js';
import {
  ALPHA_PRED,
  PMF_CHAINS,
  PMF_D,
  PMF_FULL,
  PMF_LEAPFROGS,
  pmfModel,
  synthetic,
} from './pmf_hmc.js';
import { mixtureSampler, mixtureStart, mixtureTarget } from './gaussian_mixture_sgnht.js';
import { JITTER, VARIANCE_FLOOR } from './common/gp.js';
import {
  LNTM_FULL,
  LOG_DELTA,
  lntm,
  mcemTrainer,
  mStepLearningRate,
  syntheticCorpus,
} from './lntm_mcem.js';
import { SVGP_FULL, SVGP_NOISE_RAW0, svgpTrainer } from './svgp.js';
import { TOY_GAUSSIAN_LEAPFROGS, TOY_GAUSSIAN_STDEV, toyGaussianModel } from './toy_gaussian.js';
import { meanFieldVi, VI_PARTICLES } from './toy2d_intractable.js';

/** −Σ over chains of the log joint of the net `net()` builds (its tensors freed). */
function negLogJoint(net: () => zs.BayesianNet): number {
  return tf.tidy(() => -tf.sum(net().logJoint()).dataSync()[0]);
}

/** HMC step size of the timed (post-warm-up) steps on the Gaussian: a quarter of the smallest σ. */
const TOY_GAUSSIAN_STEP = 0.025;

const toyGaussian: ZooBenchModel = {
  name: 'toy_gaussian',
  description: `HMC on a 10-D Gaussian, 1000 chains, ${TOY_GAUSSIAN_LEAPFROGS} leapfrogs, step ${TOY_GAUSSIAN_STEP}`,
  torchModel: 'hmc_gaussian',
  setup() {
    const nChains = 1000;
    const { model, std, logstd } = toyGaussianModel(nChains);
    // Chains started in equilibrium, as after warm-up.
    const x = tf.tidy(() =>
      tf.variable(
        tf.mul(zs.seededNormal([nChains, TOY_GAUSSIAN_STDEV.length], zs.random.nextSeed()), std),
      ),
    );
    const hmc = new zs.HMC({ stepSize: TOY_GAUSSIAN_STEP, nLeapfrogs: TOY_GAUSSIAN_LEAPFROGS });
    const x0 = f32(x.dataSync(), x.shape);
    return {
      step: () => void hmc.step(model, {}, { x }),
      variables: () => [x],
      torch: {
        args: { step_size: TOY_GAUSSIAN_STEP, n_leapfrogs: TOY_GAUSSIAN_LEAPFROGS },
        arrays: { x0, std: f32(TOY_GAUSSIAN_STDEV, [TOY_GAUSSIAN_STDEV.length]) },
      },
      initialLoss: negLogJoint(() => model.observe({ x })),
      dispose: () => {
        hmc.dispose();
        tf.dispose([x, std, logstd]);
      },
    };
  },
};

const toy2dIntractable: ZooBenchModel = {
  name: 'toy2d_intractable',
  description: `mean-field VI of the 2-D funnel, SGVB with ${VI_PARTICLES} particles, Adam 0.1`,
  torchModel: 'vi_funnel',
  setup() {
    const vi = meanFieldVi();
    return {
      step: vi.step,
      variables: () => Object.values(vi.v),
      torch: { args: { particles: VI_PARTICLES, lr: 0.1 }, arrays: {} },
      dispose: vi.dispose,
    };
  },
};

const gaussianMixtureSgnht: ZooBenchModel = {
  name: 'gaussian_mixture_sgnht',
  description: 'SGNHT on a 2-component 1-D mixture, 1000 chains, first order, scalar friction',
  torchModel: 'sgnht_mixture',
  setup() {
    const x = mixtureStart(1000);
    const sampler = mixtureSampler();
    const target = mixtureTarget();
    const x0 = f32(x.dataSync(), x.shape);
    const initialLoss = tf.tidy(() => -tf.sum(target.logDensity({ x })).dataSync()[0]);
    return {
      step: () => void sampler.step(target.logDensity, {}, { x }),
      variables: () => [x],
      torch: {
        args: {
          lr: sampler.learningRate,
          variance_extra: sampler.varianceExtra,
          tune_rate: sampler.tuneRate,
        },
        arrays: { x0 },
      },
      initialLoss,
      dispose: () => {
        sampler.dispose();
        target.dispose();
        x.dispose();
      },
    };
  },
};

/** HMC step size of the timed steps on the regression's posterior (its sds are 0.05-0.1). */
const BLR_STEP = 0.01;

const bayesianLinearRegression: ZooBenchModel = {
  name: 'bayesian_linear_regression',
  description: `HMC on the 3-D Bayesian linear regression (100 points), 10 chains, 10 leapfrogs, step ${BLR_STEP}`,
  torchModel: 'hmc_blr',
  setup() {
    const p = blrProblem();
    const n = p.y.length;
    const x = tf.tensor2d(Float32Array.from(p.x), [n, 3]);
    const y = tf.tensor1d(Float32Array.from(p.y));
    const nChains = 10;
    const w = tf.tidy(() => tf.variable(tf.zeros([nChains, 3])));
    const target = (obs: zs.Observed) => blr.observe(obs, x, nChains);
    const hmc = new zs.HMC({ stepSize: BLR_STEP, nLeapfrogs: 10 });
    return {
      step: () => void hmc.step(target, { y }, { w }),
      variables: () => [w],
      torch: {
        args: { step_size: BLR_STEP, n_leapfrogs: 10, noise: BLR_NOISE },
        arrays: { x: f32(p.x, [n, 3]), y: f32(p.y, [n]), w0: f32(w.dataSync(), w.shape) },
      },
      initialLoss: negLogJoint(() => target({ w, y })),
      dispose: () => {
        hmc.dispose();
        tf.dispose([w, x, y]);
      },
    };
  },
};

/** Boston's first random split (seed 1), standardised, as the UCI examples' first split. */
function bostonSplit() {
  const data = loadBoston();
  const [split] = randomSplits(data.n, 1, 0.1, 1);
  return { train: standardised(data, split.train, split.train), d: data.d };
}

/**
 * The rows of `steps` batches of `batch`: epochs of the example's shuffle,
 * one after another (a batch may straddle two epochs).
 */
function batchSchedule(nTrain: number, batch: number, steps: number): Int32Array {
  const order = Uint32Array.from({ length: nTrain }, (_, i) => i);
  const words = zs.random.seedWords(zs.random.nextSeed());
  const out = new Int32Array(steps * batch);
  for (let i = 0; i < out.length; i++) {
    if (i % nTrain === 0) shuffle(order, words);
    out[i] = order[i % nTrain];
  }
  return out;
}

/** A feeder of the schedule's batches into `xb`/`yb`, wrapping round after the last. */
function batchFeeder(
  train: { x: Float32Array; y: Float32Array },
  d: number,
  rows: Int32Array,
  batch: number,
) {
  const xb = new Float32Array(batch * d);
  const yb = new Float32Array(batch);
  let s = 0;
  const steps = rows.length / batch;
  return {
    xb,
    yb,
    next() {
      const at = (s++ % steps) * batch;
      // Element copies: a subarray and set a row cost more than its d numbers.
      const x = train.x;
      for (let k = 0; k < batch; k++) {
        const r = rows[at + k];
        for (let j = 0, from = r * d, to = k * d; j < d; j++) xb[to + j] = x[from + j];
        yb[k] = train.y[r];
      }
    },
  };
}

/** The split's data and the schedule, as the peer reads them. */
function bostonArrays(train: { x: Float32Array; y: Float32Array }, d: number, rows: Int32Array) {
  return {
    x: f32(train.x, [train.y.length, d]),
    y: f32(train.y, [train.y.length]),
    order: { data: rows, shape: [rows.length] },
  };
}

const bnnVi: ZooBenchModel = {
  name: 'bnn_vi',
  description: `BNN 13-${HIDDEN.join('-')}-1 by mean-field VI on Boston, SGVB with ${PARTICLES} particles, batch ${BATCH}, Adam 0.01`,
  torchModel: 'bnn_vi',
  setup({ steps }) {
    const { train, d } = bostonSplit();
    const layerSizes = [d, ...HIDDEN, 1];
    const nTrain = train.y.length;
    const t = bnnViTrainer(layerSizes, nTrain);
    const rows = batchSchedule(nTrain, BATCH, steps);
    const feed = batchFeeder(train, d, rows, BATCH);
    return {
      step() {
        feed.next();
        t.step(feed.xb, feed.yb, BATCH);
      },
      variables: () => t.vars,
      torch: {
        args: { layer_sizes: layerSizes.join(','), particles: PARTICLES, batch: BATCH, lr: 0.01 },
        arrays: bostonArrays(train, d, rows),
      },
      dispose: () => {
        t.optimizer.dispose();
        tf.dispose(t.vars);
      },
    };
  },
};

const bnnSgmcmc: ZooBenchModel = {
  name: 'bnn_sgmcmc',
  description: `BNN 13-${HIDDEN.join('-')}-1 on Boston by SGHMC (second order), ${CHAINS} chains, batch ${SG_BATCH}`,
  torchModel: 'bnn_sghmc',
  setup({ steps }): ZooBenchStepper {
    const { train, d } = bostonSplit();
    const layerSizes = [d, ...HIDDEN, 1];
    const nTrain = train.y.length;
    const { latent, logstds, model } = bnnChains(layerSizes, nTrain);
    const names = weightNames(layerSizes);
    const sampler = makeSampler('sghmc') as zs.SGHMC;
    const rows = batchSchedule(nTrain, SG_BATCH, steps);
    const feed = batchFeeder(train, d, rows, SG_BATCH);
    const arrays: Record<string, TorchArray> = bostonArrays(train, d, rows);
    names.forEach((n) => (arrays[n] = f32(latent[n].dataSync(), latent[n].shape)));
    // The first batch's negative log joint at the chains' start.
    feed.next();
    const initialLoss = negLogJoint(() =>
      model.observe(
        { ...latent, y: tf.tensor1d(feed.yb) },
        tf.tensor2d(feed.xb, [SG_BATCH, d]),
        CHAINS,
      ),
    );
    let first = true;
    return {
      step() {
        if (!first) feed.next();
        first = false;
        sgmcmcStep(sampler, model, latent, feed.xb, feed.yb, SG_BATCH);
      },
      variables: () => Object.values(latent),
      torch: {
        args: {
          layer_sizes: layerSizes.join(','),
          batch: SG_BATCH,
          lr: sampler.learningRate,
          friction: sampler.friction,
          resample_every: sampler.nIterResampleV,
          y_logstd: Y_LOGSTD,
        },
        arrays,
      },
      initialLoss,
      dispose: () => {
        sampler.dispose();
        tf.dispose([...Object.values(latent), ...logstds]);
      },
    };
  },
};

/** HMC step size of the timed PMF steps: where the full run's adaptation settled (1.4e-2). */
const PMF_STEP = 0.014;

const pmfHmc: ZooBenchModel = {
  name: 'pmf_hmc',
  description: `HMC on PMF (${PMF_FULL.nUsers} users × ${PMF_FULL.nItems} items, D = ${PMF_D}), ${PMF_CHAINS} chains, ${PMF_LEAPFROGS} leapfrogs, step ${PMF_STEP}`,
  torchModel: 'hmc_pmf',
  setup() {
    const { nUsers, nItems, observed, heldOut } = PMF_FULL;
    const { train, truth } = synthetic(nUsers, nItems, observed, heldOut);
    const model = pmfModel(nUsers, nItems, PMF_CHAINS);
    const users = tf.tensor1d(train.users, 'int32');
    const items = tf.tensor1d(train.items, 'int32');
    const r = tf.tensor1d(train.rating);
    // Every chain starts at the true factors, a draw of the posterior's
    // neighbourhood (as after warm-up; the step size is the adapted one).
    const atTruth = (f: Float32Array, rows: number) =>
      tf.tidy(() => tf.variable(tf.tile(tf.tensor3d(f, [1, rows, PMF_D]), [PMF_CHAINS, 1, 1])));
    const latent = { u: atTruth(truth.u, nUsers), v: atTruth(truth.v, nItems) };
    const target = (obs: zs.Observed) => model.observe(obs, users, items);
    const hmc = new zs.HMC({ stepSize: PMF_STEP, nLeapfrogs: PMF_LEAPFROGS });
    const n = train.rating.length;
    return {
      step: () => void hmc.step(target, { r }, latent),
      variables: () => [latent.u, latent.v],
      torch: {
        args: {
          step_size: PMF_STEP,
          n_leapfrogs: PMF_LEAPFROGS,
          alpha_pred: ALPHA_PRED,
        },
        arrays: {
          users: { data: Float32Array.from(train.users), shape: [n] },
          items: { data: Float32Array.from(train.items), shape: [n] },
          r: f32(train.rating, [n]),
          u0: f32(latent.u.dataSync(), latent.u.shape),
          v0: f32(latent.v.dataSync(), latent.v.shape),
        },
      },
      initialLoss: negLogJoint(() => target({ ...latent, r })),
      dispose: () => {
        hmc.dispose();
        tf.dispose([users, items, r, latent.u, latent.v]);
      },
    };
  },
};

const svgp: ZooBenchModel = {
  name: 'svgp',
  description: `SVGP on Boston (first split), ${SVGP_FULL.nZ} inducing points, full-batch SGVB with ${SVGP_FULL.particles} particles, Adam ${SVGP_FULL.lr}`,
  torchModel: 'svgp',
  setup({ steps }) {
    const { train, d } = bostonSplit();
    const nTrain = train.y.length;
    const t = svgpTrainer(d, nTrain, SVGP_FULL);
    const z0 = f32(t.z.dataSync(), t.z.shape);
    // Full batches, the rows in a new order each step (the example's epochs).
    const rows = batchSchedule(nTrain, nTrain, steps);
    const feed = batchFeeder(train, d, rows, nTrain);
    // The ELBO in closed form at the start, on the whole training part.
    const initialLoss = tf.tidy(
      () => -t.exactElbo(tf.tensor2d(train.x, [nTrain, d]), tf.tensor1d(train.y)).dataSync()[0],
    );
    return {
      step() {
        feed.next();
        t.step(feed.xb, feed.yb, nTrain);
      },
      variables: () => t.vars,
      torch: {
        args: {
          particles: SVGP_FULL.particles,
          lr: SVGP_FULL.lr,
          jitter: JITTER,
          variance_floor: VARIANCE_FLOOR,
          noise_raw0: SVGP_NOISE_RAW0,
        },
        arrays: { ...bostonArrays(train, d, rows), z0 },
      },
      initialLoss,
      dispose: t.dispose,
    };
  },
};

/**
 * HMC step size of the timed E-steps: on this state the acceptance is 0.76
 * at 0.3 (0.87 at 0.25, 0.28 at 0.4, 0.03 at 0.5; 8 batches of 5 iterations
 * each), near the example's adaptation target of 0.6 and below the cliff.
 */
const LNTM_STEP = 0.3;

const lntmMcem: ZooBenchModel = {
  name: 'lntm_mcem',
  description:
    `Monte-Carlo EM on the LNTM (K = ${LNTM_FULL.nTopics}, V = ${LNTM_FULL.nVocab}), a batch of ${LNTM_FULL.batchSize} documents: ` +
    `E-step ${LNTM_FULL.numESteps} HMC iterations × ${LNTM_FULL.eLeapfrogs} leapfrogs (step ${LNTM_STEP}), M-step Adam on β`,
  torchModel: 'lntm_mcem',
  setup({ steps }) {
    const s = LNTM_FULL;
    const { nTopics: K, nVocab: V, nTrain: N, batchSize: B, nChains } = s;
    const { truth, corpus } = syntheticCorpus({ ...s, nDocs: N + s.nTest });
    const train = { counts: corpus.counts.subarray(0, N * V), nDocs: N, nVocab: V };
    // As at the end of training: the true topics and prior, chains drawn from
    // that prior, the last epoch's learning rate.
    const etaLogstd = new Float32Array(K).fill(Math.log(s.etaStd));
    const eta0 = tf.tidy(
      () =>
        zs
          .seededNormal([nChains, N, K], zs.random.nextSeed(), 0, s.etaStd)
          .dataSync() as Float32Array,
    );
    const beta0 = truth.topics.map(Math.log);
    const lr = mStepLearningRate(s, s.epochs);
    const hmc = new zs.HMC({ stepSize: LNTM_STEP, nLeapfrogs: s.eLeapfrogs });
    const arrays: Record<string, TorchArray> = {
      counts: f32(train.counts, [N, V]),
      eta0: f32(eta0, [nChains, N, K]),
      beta0: f32(beta0, [K, V]),
      eta_mean: f32(truth.etaMean, [K]),
      eta_logstd: f32(etaLogstd, [K]),
    };
    const em = mcemTrainer(train, s, hmc, lr, { eta0, beta0 });
    const mean = tf.tensor1d(truth.etaMean);
    const logstd = tf.tensor1d(etaLogstd);
    const rows = batchSchedule(N, B, steps);
    const nSteps = rows.length / B;
    // −Σ over chains and documents of log p(η) + log p(x | η, β) on the first batch.
    const first = rows.subarray(0, B);
    const initialLoss = negLogJoint(() =>
      lntm.observe(
        {
          eta: tf.gather(tf.tensor3d(eta0, [nChains, N, K]), first, 1),
          x: tf.gather(em.xTrain, first),
          beta: em.beta,
        },
        nChains,
        B,
        K,
        V,
        mean,
        logstd,
      ),
    );
    let at = 0;
    return {
      step() {
        const i = (at++ % nSteps) * B;
        em.step(rows.subarray(i, i + B), mean, logstd);
      },
      variables: () => [em.eta, em.beta],
      torch: {
        args: {
          batch: B,
          num_e_steps: s.numESteps,
          n_leapfrogs: s.eLeapfrogs,
          step_size: LNTM_STEP,
          lr,
          log_delta: LOG_DELTA,
        },
        arrays: { ...arrays, order: { data: rows, shape: [rows.length] } },
      },
      initialLoss,
      dispose: () => {
        hmc.dispose();
        em.dispose();
        tf.dispose([mean, logstd]);
      },
    };
  },
};

/** The examples' bench models, in the order examples/README.md lists the examples. */
export const ZOO_BENCH_MODELS: ZooBenchModel[] = [
  toyGaussian,
  toy2dIntractable,
  gaussianMixtureSgnht,
  bayesianLinearRegression,
  bnnVi,
  bnnSgmcmc,
  pmfHmc,
  svgp,
  lntmMcem,
  ...MNIST_BENCH_MODELS,
];
