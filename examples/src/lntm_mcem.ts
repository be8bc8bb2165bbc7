/**
 * The logistic-normal topic model learned by Monte-Carlo EM, scored by AIS
 * (ZhuSuan examples/topic_models/lntm_mcem.py), on a synthetic corpus drawn
 * from known topics:
 *
 *   η_d ~ N(μ, diag(σ²)) (K topics),  θ_d = softmax(η_d),
 *   β_k ~ N(0, e^(2·10) I) (flat),    φ_k = softmax(β_k),
 *   x_d ~ bag of words of θ_d · Φ    (counts over V words, no multinomial coefficient)
 *
 * E-step: HMC over the documents' η (persistent chains, one per document);
 * M-step: Adam on β with the learning rate (t0 / (t0 + epoch))², and μ, σ set
 * to the moments of the chains' η after each epoch. Evaluation: log p(x_d)
 * of held-out documents by AIS from the prior of η, for the learned model and
 * for the true one (its topics and prior, the same AIS), per word.
 *
 * Topic recovery: the learned topics are matched one-to-one to the true ones
 * by the Hungarian algorithm on 1 − cosine similarity; the metrics are the
 * matched pairs' mean cosine and Hellinger distance, and the mean cosine
 * over all pairs (what a matching by chance would score).
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeAdam, type AdamLike } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import { shuffle } from './common/bnn.js';
import { cosineSimilarity, hellinger, hungarian } from './common/matching.js';
import type { ExampleDefinition } from './common/run.js';

/**
 * log δ, the log-std of the topics' logits β (ZhuSuan's `log_delta`): 10
 * makes the prior on β flat.
 */
export const LOG_DELTA = 10;

/**
 * The LNTM as a meta net of `(nChains, nDocs, nTopics, nVocab, etaMean [K],
 * etaLogstd [K])`: `eta` [nChains, nDocs, K], `beta` [K, V], `x` [nDocs, V]
 * (word counts, float32). Its own log joint is ZhuSuan's `e_obj`,
 * log p(η) + log p(x | η, β), per chain and document ([nChains, nDocs]):
 * the flat prior of β is left out. Where β is fixed (the E-step, AIS), pass
 * the topics' word probabilities `phi` = softmax(β) [K, V], computed once,
 * as the last argument: the model then uses it rather than taking the
 * softmax at every evaluation of the log joint (the same numbers; the
 * PyTorch peer also takes it once a step). Likewise `etaMean` may come
 * already repeated over the documents, [nDocs, K], rather than be tiled at
 * every evaluation.
 */
/** η's prior mean `[K]` repeated over `nDocs` documents, `[nDocs, K]`. */
function meanOverDocs(etaMean: tf.Tensor1D, nDocs: number): tf.Tensor2D {
  return tf.tidy(() => tf.tile(tf.expandDims(etaMean, 0), [nDocs, 1]) as tf.Tensor2D);
}

export const lntm = zs.metaBayesianNet(
  (
    bn: zs.BayesianNet,
    nChains: number,
    nDocs: number,
    nTopics: number,
    nVocab: number,
    etaMean: tf.Tensor1D | tf.Tensor2D,
    etaLogstd: tf.Tensor1D,
    phi?: tf.Tensor2D,
  ) => {
    const mean = etaMean.rank === 2 ? etaMean : meanOverDocs(etaMean as tf.Tensor1D, nDocs);
    const eta = bn.normal('eta', mean, {
      logstd: etaLogstd,
      nSamples: nChains,
      groupNdims: 1,
    });
    const theta = tf.softmax(eta);
    const beta = bn.normal('beta', tf.zeros([nTopics, nVocab]), {
      logstd: LOG_DELTA,
      groupNdims: 1,
    });
    const docWord = tf.reshape(
      tf.matMul(tf.reshape(theta, [-1, nTopics]), phi ?? tf.softmax(beta)),
      [nChains, nDocs, nVocab],
    );
    bn.unnormalizedMultinomial('x', {
      probs: docWord,
      normalizeLogits: false,
      dtype: 'float32',
    });
  },
  { logJoint: (bn) => tf.add(bn.localLogProb(['eta']), bn.localLogProb(['x'])) },
);

/** A corpus of bag-of-words documents: counts [nDocs, V] row-major. */
export interface Corpus {
  counts: Float32Array;
  nDocs: number;
  nVocab: number;
}

/** The true model of the synthetic corpus. */
export interface TopicModel {
  /** The topics φ [K, V] row-major, each a distribution over the words. */
  topics: Float32Array;
  /** μ and log σ of the documents' η [K]. */
  etaMean: Float32Array;
  etaLogstd: Float32Array;
}

/**
 * Draws a synthetic corpus from the LNTM with known parameters, from the
 * library's random stream: topics φ_k ~ Dirichlet(δ·1_V) mixed with
 * `floor` of the uniform distribution (so that no word has probability 0 under
 * every topic), η_d ~ N(μ, σ²), and documents of lengths uniform in
 * [minWords, maxWords] drawn from θ_d · Φ.
 */
export function syntheticCorpus(opts: {
  nTopics: number;
  nVocab: number;
  nDocs: number;
  minWords: number;
  maxWords: number;
  topicConcentration: number;
  etaStd: number;
  floor?: number;
}): { truth: TopicModel; corpus: Corpus } {
  const { nTopics: K, nVocab: V, nDocs } = opts;
  const floor = opts.floor ?? 1e-5;
  return tf.tidy(() => {
    const dir = new zs.Dirichlet({ alpha: tf.fill([K, V], opts.topicConcentration) });
    const topics = tf.add(tf.mul(dir.sample(), 1 - floor), floor / V) as tf.Tensor2D;
    const etaMean = new Float32Array(K);
    const etaLogstd = new Float32Array(K).fill(Math.log(opts.etaStd));
    const eta = zs.seededNormal([nDocs, K], zs.random.nextSeed(), 0, opts.etaStd);
    const docWord = tf.matMul(tf.softmax(eta) as tf.Tensor2D, topics);
    const words = zs.random.seedWords(zs.random.nextSeed());
    const lengths = Float32Array.from({ length: nDocs }, () =>
      Math.floor(opts.minWords + zs.random.uniform53(words) * (opts.maxWords - opts.minWords + 1)),
    );
    const counts = new zs.Multinomial({
      probs: docWord,
      nTrials: tf.tensor1d(lengths),
      dtype: 'float32',
    }).sample();
    return {
      truth: { topics: topics.dataSync() as Float32Array, etaMean, etaLogstd },
      corpus: { counts: counts.dataSync() as Float32Array, nDocs, nVocab: V },
    };
  });
}

/** What {@link heldOutLogLikelihood} returns. */
export interface HeldOutScore {
  /** Σ_d log p̂(x_d) / Σ_d N_d: the AIS estimate per word. */
  perWord: number;
  /**
   * The estimate's standard error per word: per document the delta-method
   * SE of the log-mean-exp of the chains' weights, sd(w)/(√K · mean(w)),
   * added in quadrature over the (independent) documents.
   */
  perWordSe: number;
  /** The mean over documents of the standard deviation of the chains' log weights. */
  logWeightSd: number;
  /** Mean HMC acceptance over the annealing. */
  acceptance: number;
}

/** The parameters of an LNTM: topic logits β [K, V] row-major, and η's prior μ, log σ [K]. */
export interface LntmParams {
  beta: Float32Array;
  etaMean: Float32Array;
  etaLogstd: Float32Array;
}

/**
 * log p(x_d) of each document of `corpus` under the LNTM with parameters
 * `params`, by AIS from η's prior (ZhuSuan's evaluation: HMC with its step
 * size adapted to an acceptance of 0.6, the sigmoid schedule): `nChains`
 * importance chains per document, `nTemperatures` annealing steps of
 * `nLeapfrogs` leapfrogs (ZhuSuan: 25, 1000, 20). Leaves no tensors.
 */
export function heldOutLogLikelihood(
  corpus: Corpus,
  params: LntmParams,
  opts: { nChains: number; nTemperatures: number; nLeapfrogs: number },
): HeldOutScore {
  const { nDocs, nVocab } = corpus;
  const nTopics = params.etaMean.length;
  const x = tf.tensor2d(corpus.counts, [nDocs, nVocab]);
  const beta = tf.tensor2d(params.beta, [nTopics, nVocab]);
  const etaMean = tf.tensor1d(params.etaMean);
  const etaLogstd = tf.tensor1d(params.etaLogstd);
  const phi = tf.softmax(beta) as tf.Tensor2D;
  const meanRows = meanOverDocs(etaMean, nDocs);
  const build = (obs: zs.Observed) =>
    lntm.observe(obs, opts.nChains, nDocs, nTopics, nVocab, meanRows, etaLogstd, phi);
  const hmc = new zs.HMC({
    stepSize: 0.01,
    nLeapfrogs: opts.nLeapfrogs,
    adaptStepSize: true,
    targetAcceptanceRate: 0.6,
  });
  // The model's own net is the proposal: AIS scores q by the latent node's
  // density alone, the prior of η (ZhuSuan's `proposal_model`).
  const res = zs.ais({
    model: build,
    proposal: build,
    observed: { x, beta },
    hmc,
    nTemperatures: opts.nTemperatures,
  });
  const lw = res.logWeights.dataSync();
  const ll = res.logLikelihood.dataSync();
  tf.dispose([
    x,
    beta,
    phi,
    meanRows,
    etaMean,
    etaLogstd,
    res.logWeights,
    res.logLikelihood,
    ...Object.values(res.samples),
  ]);
  hmc.dispose();
  const K = opts.nChains;
  let total = 0;
  let variance = 0;
  let sdSum = 0;
  for (let d = 0; d < nDocs; d++) {
    total += ll[d];
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, lw[k * nDocs + d]);
    let s1 = 0;
    let s2 = 0;
    let l1 = 0;
    let l2 = 0;
    for (let k = 0; k < K; k++) {
      const w = Math.exp(lw[k * nDocs + d] - m);
      s1 += w;
      s2 += w * w;
      l1 += lw[k * nDocs + d];
      l2 += lw[k * nDocs + d] ** 2;
    }
    const mean = s1 / K;
    const sdW = Math.sqrt(Math.max(0, s2 / K - mean * mean) * (K / Math.max(1, K - 1)));
    variance += (sdW / (Math.sqrt(K) * mean)) ** 2;
    sdSum += Math.sqrt(Math.max(0, l2 / K - (l1 / K) ** 2) * (K / Math.max(1, K - 1)));
  }
  const nWords = corpus.counts.reduce((a, b) => a + b, 0);
  return {
    perWord: total / nWords,
    perWordSe: Math.sqrt(variance) / nWords,
    logWeightSd: sdSum / nDocs,
    acceptance: res.acceptanceRate,
  };
}

/**
 * The held-out log-likelihood per word of the unigram model of the training
 * counts (add-½ smoothing): the baseline a topic model must beat.
 */
export function unigramPerWord(train: Corpus, test: Corpus): number {
  const V = train.nVocab;
  const freq = new Float64Array(V).fill(0.5);
  train.counts.forEach((c, i) => (freq[i % V] += c));
  const total = freq.reduce((a, b) => a + b, 0);
  let ll = 0;
  let n = 0;
  test.counts.forEach((c, i) => {
    ll += c * Math.log(freq[i % V] / total);
    n += c;
  });
  return ll / n;
}

/**
 * Matches learned topics to true ones (rows of [K, V] row-major arrays) by
 * the Hungarian algorithm on 1 − cosine similarity. Returns the matched
 * pairs' mean cosine and Hellinger distance, the mean cosine over all K²
 * pairs (chance), and `assignment[k]`: the true topic of learned topic k.
 */
export function topicRecovery(
  learned: ArrayLike<number>,
  truth: ArrayLike<number>,
  nTopics: number,
): { cosine: number; hellinger: number; chanceCosine: number; assignment: number[] } {
  const V = truth.length / nTopics;
  const row = (a: ArrayLike<number>, k: number) =>
    Array.prototype.slice.call(a, k * V, (k + 1) * V) as number[];
  const cos = Array.from({ length: nTopics }, (_, i) =>
    Array.from({ length: nTopics }, (_, j) => cosineSimilarity(row(learned, i), row(truth, j))),
  );
  const { assignment } = hungarian(cos.map((r) => r.map((c) => 1 - c)));
  let cosine = 0;
  let hel = 0;
  assignment.forEach((j, i) => {
    cosine += cos[i][j] / nTopics;
    hel += hellinger(row(learned, i), row(truth, j)) / nTopics;
  });
  const chanceCosine = cos.flat().reduce((a, b) => a + b, 0) / nTopics ** 2;
  return { cosine, hellinger: hel, chanceCosine, assignment };
}

/**
 * The M-step's learning rate in `epoch` (from 1): lr0 · (t0 / (t0 + epoch))²
 * (ZhuSuan's schedule).
 */
export function mStepLearningRate(s: { learningRate0: number; t0: number }, epoch: number): number {
  return s.learningRate0 * (s.t0 / (s.t0 + epoch)) ** 2;
}

/** Monte-Carlo EM's state over a training corpus, and its per-batch step (see {@link mcemTrainer}). */
export interface McemTrainer {
  /** The training counts `[nDocs, V]`. */
  xTrain: tf.Tensor2D;
  /** Every document's persistent chains, η `[nChains, nDocs, K]` row-major. */
  etaAll: Float32Array;
  /** The batch's chains `[nChains, batchSize, K]` during a step. */
  eta: tf.Variable;
  /** The topics' logits β `[K, V]`. */
  beta: tf.Variable;
  /** The M-step's Adam (its learning rate can be set between steps). */
  adam: AdamLike;
  /**
   * One batch of Monte-Carlo EM on documents `docs` (`batchSize` row
   * indices): the E-step, `numESteps` iterations of `hmc` on their chains
   * (read from and written back to `etaAll`) under η's prior N(`etaMean`,
   * exp(`etaLogstd`)²) `[K]`; then the M-step, one Adam step on β ascending
   * log p(β) + Σ_d mean over chains of log p(x_d | η, β). Returns that Σ_d
   * log p(x_d | η, β) and the E-step's summed acceptance rates.
   */
  step(
    docs: ArrayLike<number>,
    etaMean: tf.Tensor1D,
    etaLogstd: tf.Tensor1D,
  ): { logPx: number; acceptance: number };
  /** Frees the counts, the chains, β and the optimizer (not `hmc`). */
  dispose(): void;
}

/**
 * Monte-Carlo EM for the LNTM on a training corpus: chains and β at 0 unless
 * given (`eta0` `[nChains, nDocs, K]`, `beta0` `[K, V]`, row-major), Adam
 * at `learningRate`, the E-step's sampler `hmc` (adapting or not; the caller
 * owns it).
 */
export function mcemTrainer(
  corpus: Corpus,
  s: { nTopics: number; batchSize: number; nChains: number; numESteps: number },
  hmc: zs.HMC,
  learningRate: number,
  init: { eta0?: Float32Array; beta0?: Float32Array } = {},
): McemTrainer {
  const { nDocs: N, nVocab: V } = corpus;
  const { nTopics: K, batchSize: B, nChains, numESteps } = s;
  const xTrain = tf.tensor2d(corpus.counts, [N, V]);
  const etaAll = init.eta0 ?? new Float32Array(nChains * N * K);
  const eta = tf.tidy(() => tf.variable(tf.zeros([nChains, B, K])));
  const beta = tf.tidy(() =>
    tf.variable(init.beta0 ? tf.tensor2d(init.beta0, [K, V]) : tf.zeros([K, V])),
  );
  const adam = makeAdam(learningRate, tf.getBackend());
  const step = (docs: ArrayLike<number>, mean: tf.Tensor1D, logstd: tf.Tensor1D) => {
    // β is fixed through the E-step: its softmax is taken once, and so is
    // the prior mean's repetition over the batch's documents.
    const phi = tf.softmax(beta) as tf.Tensor2D;
    const meanRows = meanOverDocs(mean, B);
    const model = (obs: zs.Observed) => lntm.observe(obs, nChains, B, K, V, meanRows, logstd, phi);
    const x = tf.gather(xTrain, Int32Array.from(docs));
    // The batch's persistent chains: etaAll [nChains, N, K] → eta [nChains, B, K].
    const start = new Float32Array(nChains * B * K);
    for (let c = 0; c < nChains; c++) {
      for (let i = 0; i < B; i++) {
        const d = docs[i];
        start.set(etaAll.subarray((c * N + d) * K, (c * N + d + 1) * K), (c * B + i) * K);
      }
    }
    tf.tidy(() => eta.assign(tf.tensor3d(start, [nChains, B, K])));
    // E-step.
    let acceptance = 0;
    for (let j = 0; j < numESteps; j++) {
      acceptance += hmc.step(model, { x, beta }, { eta }).acceptanceRate;
    }
    const now = eta.dataSync();
    for (let c = 0; c < nChains; c++) {
      for (let i = 0; i < B; i++) {
        const d = docs[i];
        etaAll.set(now.subarray((c * B + i) * K, (c * B + i + 1) * K), (c * N + d) * K);
      }
    }
    // M-step: ascend log p(β) + Σ_d mean over chains of log p(x_d | η, β).
    let logPx = 0;
    const cost = adam.minimize(
      () => {
        const bn = lntm.observe({ eta, x, beta }, nChains, B, K, V, mean, logstd);
        const logPBeta = tf.sum(bn.localLogProb(['beta']));
        const lp = tf.sum(tf.mean(bn.localLogProb(['x']), 0));
        logPx = lp.dataSync()[0];
        return tf.neg(tf.add(logPBeta, lp)) as tf.Scalar;
      },
      true,
      [beta],
    );
    cost?.dispose();
    tf.dispose([x, phi, meanRows]);
    return { logPx, acceptance };
  };
  return {
    xTrain,
    etaAll,
    eta,
    beta,
    adam,
    step,
    dispose: () => {
      adam.dispose();
      tf.dispose([xTrain, eta, beta]);
    },
  };
}

/**
 * The run's sizes: ZhuSuan's settings where the synthetic corpus and the
 * time allow (its NIPS run: 100 topics, 1200 documents, 100 epochs, AIS with
 * 25 chains × 1000 temperatures × 20 leapfrogs), and a quick size for the
 * tests (fewer topics and words, one batch).
 */
export function lntmSettings(quick: boolean) {
  const common = {
    minWords: 50,
    maxWords: 100,
    topicConcentration: 0.1,
    etaStd: 2,
    batchSize: 100,
    nChains: 1,
    numESteps: 5,
    eLeapfrogs: 20,
    learningRate0: 1.0,
    t0: 10,
  };
  const full = { nTopics: 10, nVocab: 500, nTrain: 400, nTest: 50, epochs: 50 };
  const ais = { aisChains: 10, aisTemperatures: 500, aisLeapfrogs: 5 };
  return quick
    ? {
        ...common,
        ...full,
        ...ais,
        nTopics: 5,
        nVocab: 200,
        nTrain: 100,
        nTest: 10,
        epochs: 6,
        aisChains: 5,
        aisTemperatures: 50,
      }
    : { ...common, ...full, ...ais };
}

/** The full run's settings. */
export const LNTM_FULL = lntmSettings(false);

export const lntmMcem: ExampleDefinition = {
  name: 'lntm_mcem',
  model: `logistic-normal topic model, K = ${LNTM_FULL.nTopics} topics over V = ${LNTM_FULL.nVocab} words`,
  inference:
    `Monte-Carlo EM, ${LNTM_FULL.epochs} epochs (E: HMC on η, ${LNTM_FULL.numESteps} × ${LNTM_FULL.eLeapfrogs} leapfrogs a batch of ${LNTM_FULL.batchSize}; ` +
    `M: Adam on β; μ, σ by moments); AIS (${LNTM_FULL.aisChains} chains, ${LNTM_FULL.aisTemperatures} temperatures, ` +
    `${LNTM_FULL.aisLeapfrogs} leapfrogs) for held-out log p(x)`,
  dataset:
    `synthetic: ${LNTM_FULL.nTrain} training + ${LNTM_FULL.nTest} held-out documents of ${LNTM_FULL.minWords}-${LNTM_FULL.maxWords} words ` +
    `from Dirichlet(${LNTM_FULL.topicConcentration}) topics, η ~ N(0, ${LNTM_FULL.etaStd}²)`,
  referenceSource:
    'the true model (its topics and prior) scored by the same AIS; exact recovery: cosine 1, Hellinger 0',
  run({ quick, log }) {
    const s = lntmSettings(quick);
    const K = s.nTopics;
    const V = s.nVocab;
    const { truth, corpus } = syntheticCorpus({ ...s, nDocs: s.nTrain + s.nTest });
    const train: Corpus = {
      counts: corpus.counts.subarray(0, s.nTrain * V),
      nDocs: s.nTrain,
      nVocab: V,
    };
    const test: Corpus = {
      counts: corpus.counts.subarray(s.nTrain * V),
      nDocs: s.nTest,
      nVocab: V,
    };
    const trainWords = train.counts.reduce((a, b) => a + b, 0);
    log(
      `corpus: ${s.nTrain} training documents (${trainWords} words), ${s.nTest} held out, V = ${V}`,
    );

    const { batchSize: B, nChains } = s;
    if (s.nTrain % B !== 0)
      throw new Error(`lntm_mcem: ${s.nTrain} documents are not whole batches`);
    let etaMean = new Float32Array(K);
    let etaLogstd = new Float32Array(K);
    const hmc = new zs.HMC({
      stepSize: 1e-3,
      nLeapfrogs: s.eLeapfrogs,
      adaptStepSize: true,
      targetAcceptanceRate: 0.6,
    });
    const em = mcemTrainer(train, s, hmc, s.learningRate0);
    const order = Uint32Array.from({ length: s.nTrain }, (_, i) => i);
    const words = zs.random.seedWords(zs.random.nextSeed());
    const t0 = performance.now();
    let perplexity = NaN;
    let acceptance = NaN;
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      // tfjs' Adam reads its learning rate at each step.
      em.adam.setLearningRate(mStepLearningRate(s, epoch));
      shuffle(order, words);
      const mean = tf.tensor1d(etaMean);
      const logstd = tf.tensor1d(etaLogstd);
      let lls = 0;
      let accs = 0;
      for (let t = 0; t < s.nTrain / B; t++) {
        const r = em.step(order.subarray(t * B, (t + 1) * B), mean, logstd);
        lls += r.logPx;
        accs += r.acceptance;
      }
      tf.dispose([mean, logstd]);
      // μ and σ: the moments of the chains' η over documents (ZhuSuan's update).
      const m = new Float64Array(K);
      const v = new Float64Array(K);
      const n = nChains * s.nTrain;
      for (let r = 0; r < n; r++) for (let k = 0; k < K; k++) m[k] += em.etaAll[r * K + k] / n;
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < K; k++) v[k] += (em.etaAll[r * K + k] - m[k]) ** 2 / n;
      }
      etaMean = Float32Array.from(m);
      etaLogstd = Float32Array.from(v, (x) => Math.log(Math.sqrt(x) + 1e-6));
      perplexity = Math.exp(-lls / trainWords);
      acceptance = accs / ((s.nTrain / B) * s.numESteps);
      if (epoch % 10 === 0 || epoch === s.epochs || quick) {
        log(
          `epoch ${epoch}/${s.epochs}: perplexity ${perplexity.toFixed(1)}, acceptance ${acceptance.toFixed(3)}, ` +
            `step ${hmc.stepSize.toExponential(2)}, eta mean ${mean1(etaMean).toFixed(2)}, logstd ${mean1(etaLogstd).toFixed(2)} ` +
            `(${((performance.now() - t0) / 1000).toFixed(0)} s)`,
        );
      }
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    hmc.dispose();
    const learnedBeta = em.beta.dataSync() as Float32Array;
    const learnedTopics = tf.tidy(() => tf.softmax(em.beta).dataSync());
    em.dispose();
    const rec = topicRecovery(learnedTopics, truth.topics, K);
    log(
      `topics: matched cosine ${rec.cosine.toFixed(3)}, Hellinger ${rec.hellinger.toFixed(3)} (chance cosine ${rec.chanceCosine.toFixed(3)})`,
    );

    const aisOpts = {
      nChains: s.aisChains,
      nTemperatures: s.aisTemperatures,
      nLeapfrogs: s.aisLeapfrogs,
    };
    const t1 = performance.now();
    const learned = heldOutLogLikelihood(test, { beta: learnedBeta, etaMean, etaLogstd }, aisOpts);
    const aisSeconds = (performance.now() - t1) / 1000;
    log(
      `held-out log-likelihood per word, learned model: ${learned.perWord.toFixed(4)} ± ${learned.perWordSe.toFixed(4)} ` +
        `(log-weight sd ${learned.logWeightSd.toFixed(3)}, acceptance ${learned.acceptance.toFixed(3)}, ${aisSeconds.toFixed(0)} s)`,
    );
    const reference = heldOutLogLikelihood(
      test,
      { ...truth, beta: truth.topics.map(Math.log) },
      aisOpts,
    );
    log(
      `held-out log-likelihood per word, true model: ${reference.perWord.toFixed(4)} ± ${reference.perWordSe.toFixed(4)} ` +
        `(log-weight sd ${reference.logWeightSd.toFixed(3)})`,
    );
    const unigram = unigramPerWord(train, test);
    log(`unigram baseline: ${unigram.toFixed(4)} per word; uniform: ${(-Math.log(V)).toFixed(4)}`);
    return {
      metrics: {
        heldout_ll_per_word: learned.perWord,
        heldout_ll_per_word_se: learned.perWordSe,
        true_model_heldout_ll_per_word_se: reference.perWordSe,
        ais_log_weight_sd: learned.logWeightSd,
        true_model_ais_log_weight_sd: reference.logWeightSd,
        ais_acceptance: learned.acceptance,
        unigram_heldout_ll_per_word: unigram,
        topic_cosine: rec.cosine,
        topic_hellinger: rec.hellinger,
        topic_cosine_chance: rec.chanceCosine,
        train_perplexity: perplexity,
        e_step_acceptance: acceptance,
        train_seconds: trainSeconds,
        ais_seconds: aisSeconds,
      },
      reference: {
        heldout_ll_per_word: reference.perWord,
        topic_cosine: 1,
        topic_hellinger: 0,
      },
    };
  },
};

function mean1(a: Float32Array): number {
  return a.reduce((x, y) => x + y, 0) / a.length;
}
