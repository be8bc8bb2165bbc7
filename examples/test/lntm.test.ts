/**
 * The topic-model example's parts against exact answers: the Hungarian
 * matching against brute force, the LNTM's log joint against float64, and
 * its AIS held-out log-likelihood against quadrature on a two-topic model
 * (where θ depends on η₁ − η₂ alone, so log p(x) is a 1-D integral).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import * as zs from 'zhusuan';
import { cosineSimilarity, hellinger, hungarian } from '../src/common/matching.js';
import {
  heldOutLogLikelihood,
  lntm,
  mcemTrainer,
  syntheticCorpus,
  topicRecovery,
  unigramPerWord,
  type Corpus,
} from '../src/lntm_mcem.js';

await tf.setBackend('cpu');

/** Every permutation of 0..n−1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

test('hungarian: a permuted diagonal gives the permutation back', () => {
  const perm = [3, 0, 4, 1, 2];
  const cost = perm.map((j) => Array.from({ length: 5 }, (_, c) => (c === j ? 0 : 1 + c)));
  const r = hungarian(cost);
  assert.deepEqual(r.assignment, perm);
  assert.equal(r.cost, 0);
  assert.deepEqual(
    hungarian([
      [4, 1],
      [2, 8],
    ]),
    { assignment: [1, 0], cost: 3 },
  );
});

test('hungarian: the optimum of random matrices equals brute force over all permutations', () => {
  const words = zs.random.seedWords(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 1 + (trial % 6);
    // Integer costs, with ties, and negative ones.
    const cost = Array.from({ length: n }, () =>
      Array.from({ length: n }, () => Math.floor(zs.random.uniform53(words) * 10) - 3),
    );
    const best = Math.min(...permutations(n).map((p) => p.reduce((s, j, i) => s + cost[i][j], 0)));
    const r = hungarian(cost);
    assert.equal(r.cost, best, `n = ${n}: ${JSON.stringify(cost)}`);
    assert.deepEqual(
      [...r.assignment].sort(),
      Array.from({ length: n }, (_, i) => i),
    );
  }
});

test('hungarian rejects empty, ragged and non-finite matrices by name', () => {
  assert.throws(() => hungarian([]), /hungarian: `cost` is empty/);
  assert.throws(() => hungarian([[1, 2], [3]]), /row 1 has 1 entries, expected 2/);
  assert.throws(
    () =>
      hungarian([
        [1, NaN],
        [3, 4],
      ]),
    /cost\[0\]\[1\] is NaN/,
  );
});

test('cosine similarity and Hellinger distance: exact values', () => {
  assert.ok(Math.abs(cosineSimilarity([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-15);
  assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
  assert.equal(hellinger([0.5, 0.5, 0], [0.5, 0.5, 0]), 0);
  assert.equal(hellinger([1, 0], [0, 1]), 1);
  // 1 − (√(0.25·0.5) + √(0.75·0.5)) under the root.
  const bc = Math.sqrt(0.125) + Math.sqrt(0.375);
  assert.ok(Math.abs(hellinger([0.25, 0.75], [0.5, 0.5]) - Math.sqrt(1 - bc)) < 1e-15);
});

test('topicRecovery matches permuted topics exactly and scores chance as the mean cosine', () => {
  zs.random.setSeed(3);
  const { truth } = syntheticCorpus({
    nTopics: 4,
    nVocab: 30,
    nDocs: 1,
    minWords: 5,
    maxWords: 5,
    topicConcentration: 0.2,
    etaStd: 1,
  });
  const perm = [2, 0, 3, 1];
  const learned = new Float32Array(truth.topics.length);
  perm.forEach((j, k) => learned.set(truth.topics.subarray(j * 30, (j + 1) * 30), k * 30));
  const r = topicRecovery(learned, truth.topics, 4);
  assert.deepEqual(r.assignment, perm);
  assert.ok(Math.abs(r.cosine - 1) < 1e-12, `${r.cosine}`);
  // The topics hold float32 values: the Hellinger distance of a topic to
  // itself is √(rounding of Σ p) ≈ 1e-4 at most.
  assert.ok(r.hellinger < 1e-3, `${r.hellinger}`);
  let chance = 0;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      chance +=
        cosineSimilarity(
          truth.topics.subarray(i * 30, (i + 1) * 30),
          truth.topics.subarray(j * 30, (j + 1) * 30),
        ) / 16;
    }
  }
  assert.ok(Math.abs(r.chanceCosine - chance) < 1e-12);
});

test('syntheticCorpus: topics are distributions, lengths in range, the seed repeats it', () => {
  const opts = {
    nTopics: 3,
    nVocab: 40,
    nDocs: 25,
    minWords: 10,
    maxWords: 20,
    topicConcentration: 0.1,
    etaStd: 2,
  };
  zs.random.setSeed(5);
  const a = syntheticCorpus(opts);
  zs.random.setSeed(5);
  const b = syntheticCorpus(opts);
  assert.deepEqual(a.corpus.counts, b.corpus.counts);
  for (let k = 0; k < 3; k++) {
    const row = a.truth.topics.subarray(k * 40, (k + 1) * 40);
    assert.ok(Math.abs(row.reduce((s, p) => s + p, 0) - 1) < 1e-5);
    assert.ok(row.every((p) => p > 0));
  }
  for (let d = 0; d < 25; d++) {
    const n = a.corpus.counts.subarray(d * 40, (d + 1) * 40).reduce((s, c) => s + c, 0);
    assert.ok(n >= 10 && n <= 20 && Number.isInteger(n), `document ${d}: ${n} words`);
  }
});

test('unigramPerWord: add-½ frequencies of the training words, exactly', () => {
  const train: Corpus = { counts: Float32Array.from([3, 0, 1, 1, 0, 0]), nDocs: 2, nVocab: 3 };
  const test: Corpus = { counts: Float32Array.from([1, 2, 0]), nDocs: 1, nVocab: 3 };
  // Frequencies 4.5, 0.5, 1.5 of 6.5.
  const expected = (Math.log(4.5 / 6.5) + 2 * Math.log(0.5 / 6.5)) / 3;
  assert.ok(Math.abs(unigramPerWord(train, test) - expected) < 1e-15);
});

/** Two topics over four words, three short documents, η's prior N(μ, σ²). */
const TOPICS = [
  [0.6, 0.3, 0.05, 0.05],
  [0.05, 0.1, 0.25, 0.6],
];
const DOCS = [
  [5, 2, 0, 1],
  [0, 1, 3, 6],
  [2, 2, 2, 2],
];
const MU = [0.3, -0.2];
const SIGMA = [1.2, 0.7];

/** log p(x) of each document in float64: η₁ − η₂ ~ N(μ₁ − μ₂, σ₁² + σ₂²), θ₁ = sigmoid of it. */
function exactLogEvidence(): number[] {
  const m = MU[0] - MU[1];
  const s = Math.sqrt(SIGMA[0] ** 2 + SIGMA[1] ** 2);
  const n = 40001;
  const lo = m - 12 * s;
  const h = (24 * s) / (n - 1);
  return DOCS.map((x) => {
    const terms = Array.from({ length: n }, (_, i) => {
      const u = lo + i * h;
      const t1 = 1 / (1 + Math.exp(-u));
      let l = -0.5 * ((u - m) / s) ** 2 - Math.log(s * Math.sqrt(2 * Math.PI));
      x.forEach((c, v) => (l += c * Math.log(t1 * TOPICS[0][v] + (1 - t1) * TOPICS[1][v])));
      return l + Math.log(i === 0 || i === n - 1 ? h / 2 : h);
    });
    const top = Math.max(...terms);
    return top + Math.log(terms.reduce((a, t) => a + Math.exp(t - top), 0));
  });
}

test("the LNTM's log joint is log N(η; μ, σ²) + Σ_v x_v log (θ·Φ)_v, in float64", () => {
  const eta = [
    [0.5, -1],
    [2, 0.1],
    [-0.3, 0.3],
  ];
  const before = tf.memory().numTensors;
  const lj = tf.tidy(() =>
    lntm
      .observe(
        {
          eta: tf.tensor3d([eta]),
          x: tf.tensor2d(DOCS),
          beta: tf.log(tf.tensor2d(TOPICS)),
        },
        1,
        3,
        2,
        4,
        tf.tensor1d(MU),
        tf.log(tf.tensor1d(SIGMA)),
      )
      .logJoint()
      .arraySync(),
  ) as number[][];
  assert.equal(tf.memory().numTensors, before);
  eta.forEach((e, d) => {
    const z = Math.exp(e[0]) + Math.exp(e[1]);
    const theta = e.map((v) => Math.exp(v) / z);
    let want = 0;
    e.forEach((v, k) => {
      want += -0.5 * ((v - MU[k]) / SIGMA[k]) ** 2 - Math.log(SIGMA[k] * Math.sqrt(2 * Math.PI));
    });
    DOCS[d].forEach((c, v) => {
      want += c * Math.log(theta[0] * TOPICS[0][v] + theta[1] * TOPICS[1][v]);
    });
    assert.ok(Math.abs(lj[0][d] - want) < 1e-4, `document ${d}: ${lj[0][d]} vs ${want}`);
  });
});

test('AIS held-out log-likelihood of a two-topic LNTM matches quadrature', () => {
  const exact = exactLogEvidence();
  const nWords = DOCS.flat().reduce((a, b) => a + b, 0);
  const exactPerWord = exact.reduce((a, b) => a + b, 0) / nWords;
  const corpus: Corpus = { counts: Float32Array.from(DOCS.flat()), nDocs: 3, nVocab: 4 };
  zs.random.setSeed(11);
  const before = tf.memory().numTensors;
  const r = heldOutLogLikelihood(
    corpus,
    {
      beta: Float32Array.from(TOPICS.flat(), Math.log),
      etaMean: Float32Array.from(MU),
      etaLogstd: Float32Array.from(SIGMA, Math.log),
    },
    { nChains: 64, nTemperatures: 200, nLeapfrogs: 5 },
  );
  assert.equal(tf.memory().numTensors, before, 'heldOutLogLikelihood leaked tensors');
  assert.ok(r.acceptance > 0.4 && r.acceptance < 0.9, `acceptance ${r.acceptance}`);
  // The annealing is fine enough for nearly equal weights, so the estimate's
  // own standard error is small; within 5 of them (plus float32 rounding of
  // the weights, 1e-4 per word).
  assert.ok(r.logWeightSd < 0.5, `log-weight sd ${r.logWeightSd}`);
  const tol = 5 * r.perWordSe + 1e-4;
  assert.ok(
    Math.abs(r.perWord - exactPerWord) < tol,
    `AIS ${r.perWord} vs exact ${exactPerWord} (tolerance ${tol})`,
  );
});

test('mcemTrainer.step: the batch chains move and are written back, β takes one Adam step', () => {
  const before = tf.memory().numTensors;
  zs.random.setSeed(4);
  const [K, V, N, B, C] = [2, 6, 4, 2, 2];
  const counts = Float32Array.from({ length: N * V }, (_, i) => (i * 7) % 5);
  const eta0 = Float32Array.from({ length: C * N * K }, (_, i) => Math.sin(i));
  const beta0 = Float32Array.from({ length: K * V }, (_, i) => Math.cos(i));
  const hmc = new zs.HMC({ stepSize: 0.1, nLeapfrogs: 3 });
  const lr = 0.05;
  const em = mcemTrainer(
    { counts, nDocs: N, nVocab: V },
    { nTopics: K, batchSize: B, nChains: C, numESteps: 2 },
    hmc,
    lr,
    { eta0: Float32Array.from(eta0), beta0 },
  );
  const mean = tf.tensor1d([0.1, -0.2]);
  const logstd = tf.tensor1d([0, 0.3]);
  const docs = [3, 1];
  const r = em.step(docs, mean, logstd);
  const eta = em.eta.dataSync();
  for (let c = 0; c < C; c++) {
    for (let d = 0; d < N; d++) {
      const i = docs.indexOf(d);
      for (let k = 0; k < K; k++) {
        const got = em.etaAll[(c * N + d) * K + k];
        // The batch's rows hold the E-step's chains, the others their start.
        const want = i < 0 ? eta0[(c * N + d) * K + k] : eta[(c * B + i) * K + k];
        assert.equal(got, want, `etaAll[${c}, ${d}, ${k}]`);
      }
    }
  }
  // Σ_d mean over chains of log p(x_d | η, β), in float64, at the E-step's η and the old β.
  const softmax = (a: ArrayLike<number>, at: number, n: number) => {
    const m = Math.max(...Array.from({ length: n }, (_, j) => a[at + j]));
    const e = Array.from({ length: n }, (_, j) => Math.exp(a[at + j] - m));
    const z = e.reduce((p, q) => p + q, 0);
    return e.map((v) => v / z);
  };
  const phi = [0, 1].map((k) => softmax(beta0, k * V, V));
  let want = 0;
  for (let c = 0; c < C; c++) {
    docs.forEach((d, i) => {
      const theta = softmax(eta, (c * B + i) * K, K);
      for (let v = 0; v < V; v++) {
        const p = theta[0] * phi[0][v] + theta[1] * phi[1][v];
        want += (counts[d * V + v] * Math.log(p)) / C;
      }
    });
  }
  assert.ok(Math.abs(r.logPx - want) < 1e-5 * Math.abs(want), `log p(x) ${r.logPx} vs ${want}`);
  assert.ok(r.acceptance >= 0 && r.acceptance <= 2, `summed acceptance ${r.acceptance}`);
  assert.ok(
    em.etaAll.some((v, i) => v !== eta0[i]),
    'the E-step moved no chain',
  );
  // Adam's first step moves each β by lr·g/(|g| + ε): lr wherever the gradient is not tiny.
  const beta = em.beta.dataSync();
  for (let j = 0; j < K * V; j++) {
    const moved = Math.abs(beta[j] - beta0[j]);
    assert.ok(moved <= lr * (1 + 1e-5) + 1e-6, `β[${j}] moved ${moved}`);
  }
  assert.ok(
    Array.from(beta).some((b, j) => Math.abs(Math.abs(b - beta0[j]) - lr) < 1e-5),
    'no β moved by the learning rate',
  );
  em.dispose();
  hmc.dispose();
  tf.dispose([mean, logstd]);
  assert.equal(tf.memory().numTensors, before);
});
