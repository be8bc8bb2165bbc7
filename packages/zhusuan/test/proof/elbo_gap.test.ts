/**
 * The homework's proof, checked numerically: log p(x) = ELBO(q) + KL(q || p(z|x)),
 * on a conjugate linear-Gaussian model where every term is exact:
 *
 *   z ~ N(0, I_d),  x | z ~ N(W z + b, σ² I_D),  d = 3, D = 5.
 *
 * W has orthogonal columns (norms c_i), so the posterior is diagonal:
 *   precision 1 + c_i²/σ², mean_i = (w_i · (x − b)) / (σ² + c_i²),
 * and log p(x) = log N(x; b, W Wᵀ + σ² I) has a closed form.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { meanStd, useCpu } from '../helpers.js';

before(useCpu);

const d = 3;
const D = 5;
const sigma = 0.7;
// Orthogonal columns: three rows of a scaled 5x5 Hadamard-like basis.
const U = [
  [1, 1, 1, 1, 0],
  [1, -1, 1, -1, 0],
  [1, 1, -1, -1, 0],
].map((u) => u.map((v) => v / 2)); // unit vectors
const c = [1.5, 0.8, 2.2];
const W = Array.from({ length: D }, (_, i) => Array.from({ length: d }, (_, j) => c[j] * U[j][i])); // [D, d]
const b = [0.1, -0.2, 0.3, 0.0, 0.5];
const x = [1.2, -0.4, 0.9, 0.3, 0.2];

const r = x.map((v, i) => v - b[i]);
const proj = U.map((u) => u.reduce((s, ui, i) => s + ui * r[i], 0)); // u_i · r
const postMean = proj.map((p, i) => (c[i] * p) / (sigma ** 2 + c[i] ** 2));
const postStd = c.map((ci) => 1 / Math.sqrt(1 + ci ** 2 / sigma ** 2));

/** log N(x; b, W Wᵀ + σ² I) via the eigen-decomposition given by the orthogonal columns. */
const logPx = (() => {
  const r2 = r.reduce((s, v) => s + v * v, 0);
  const projSq = proj.reduce((s, p) => s + p * p, 0);
  const quad =
    (r2 - projSq) / sigma ** 2 +
    proj.reduce((s, p, i) => s + (p * p) / (sigma ** 2 + c[i] ** 2), 0);
  const logDet =
    c.reduce((s, ci) => s + Math.log(sigma ** 2 + ci ** 2), 0) + (D - d) * Math.log(sigma ** 2);
  return -0.5 * (D * Math.log(2 * Math.PI) + logDet + quad);
})();

/** KL(N(mq, sq²) || N(mp, sp²)) summed over independent coordinates. */
function klDiag(mq: number[], sq: number[], mp: number[], sp: number[]): number {
  return mq.reduce(
    (s, _, i) =>
      s + Math.log(sp[i] / sq[i]) + (sq[i] ** 2 + (mq[i] - mp[i]) ** 2) / (2 * sp[i] ** 2) - 0.5,
    0,
  );
}

const model = zs.metaBayesianNet((bn: zs.BayesianNet, k: number) => {
  const z = bn.normal('z', tf.zeros([1, d]), { std: 1, groupNdims: 1, nSamples: k }); // [k, 1, d]
  const mean = tf.add(
    tf.reshape(tf.matMul(tf.reshape(z, [k, d]), tf.tensor2d(W), false, true), [k, 1, D]),
    tf.tensor(b),
  );
  bn.normal('x', mean, { std: sigma, groupNdims: 1 });
});

function q(mean: number[], std: number[], k: number): zs.BayesianNet {
  const bn = new zs.BayesianNet();
  bn.normal('z', tf.tensor([mean]), { std: tf.tensor([std]), groupNdims: 1, nSamples: k });
  return bn;
}

/** Per-sample log weights log p(x, z) − log q(z), shape [k]. */
function logWeights(mean: number[], std: number[], k: number): Float32Array {
  return tf.tidy(() => {
    const lb = zs.elbo(
      (obs) => model.observe(obs, k),
      { x: tf.tensor([x]) },
      { variational: q(mean, std, k) },
    );
    return lb.tensor.dataSync() as Float32Array;
  });
}

test('the exact posterior makes the ELBO equal log p(x) (the gap is zero)', () => {
  zs.random.setSeed(1);
  const lw = logWeights(postMean, postStd, 2000);
  const { mean, std } = meanStd(lw);
  // The log weight is the same constant for every z: only float32 rounding remains.
  assert.ok(std < 1e-4, `log weights vary: sd ${std}`);
  assert.ok(Math.abs(mean - logPx) < 1e-4, `ELBO ${mean} vs log p(x) ${logPx}`);
});

test('for other Gaussians q, log p(x) − ELBO = KL(q || p(z|x)) within Monte-Carlo error', () => {
  const cases: [number[], number[]][] = [
    [
      [0, 0, 0],
      [1, 1, 1],
    ], // the prior
    [
      [0.5, -0.3, 0.2],
      [0.3, 0.6, 0.2],
    ],
    [postMean.map((m) => m + 0.4), postStd.map((s) => s * 1.5)],
  ];
  zs.random.setSeed(2);
  for (const [m, s] of cases) {
    const k = 20000;
    const lw = logWeights(m, s, k);
    const { mean: elbo, std } = meanStd(lw);
    const kl = klDiag(m, s, postMean, postStd);
    const se = std / Math.sqrt(k);
    // 5 standard errors of the Monte-Carlo ELBO (plus float32 slack).
    assert.ok(
      Math.abs(logPx - elbo - kl) < 5 * se + 1e-4,
      `gap ${logPx - elbo} vs KL ${kl} (se ${se})`,
    );
    assert.ok(kl > 0 && elbo < logPx);
  }
});

test('importance sampling approaches log p(x) from below as particles grow', () => {
  zs.random.setSeed(3);
  const m = [0.5, -0.3, 0.2];
  const s = [0.5, 0.6, 0.4];
  const reps = 100;
  const estimate = (k: number) =>
    tf.tidy(() => {
      const bn = new zs.BayesianNet();
      bn.normal('z', tf.tile(tf.tensor([m]), [reps, 1]), {
        std: tf.tile(tf.tensor([s]), [reps, 1]),
        groupNdims: 1,
        nSamples: k,
      });
      const xs = tf.tile(tf.tensor([x]), [reps, 1]);
      const perRep = zs.isLoglikelihood(
        (obs) => {
          const net = new zs.BayesianNet(obs);
          const z = net.normal('z', tf.zeros([reps, d]), { std: 1, groupNdims: 1, nSamples: k });
          const mean = tf.add(
            tf.reshape(tf.matMul(tf.reshape(z, [k * reps, d]), tf.tensor2d(W), false, true), [
              k,
              reps,
              D,
            ]),
            tf.tensor(b),
          );
          net.normal('x', mean, { std: sigma, groupNdims: 1 });
          return net;
        },
        { x: xs },
        { proposal: bn, axis: 0 },
      );
      return tf.mean(perRep).dataSync()[0];
    });
  const gaps = [1, 10, 100, 1000].map((k) => logPx - estimate(k));
  assert.ok(
    gaps.every((g) => g > -0.01),
    `estimates above log p(x): ${gaps}`,
  );
  assert.ok(
    gaps[3] < gaps[2] && gaps[2] < gaps[1] && gaps[1] < gaps[0],
    `gaps do not shrink: ${gaps}`,
  );
  assert.ok(gaps[3] < 0.02, `1000 particles: gap ${gaps[3]}`);
});
