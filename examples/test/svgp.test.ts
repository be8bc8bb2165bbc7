/**
 * The sparse GP's pieces against float64 closed forms: the kernel, the
 * conditional, the predictive and the ELBO. With the inducing inputs at the
 * data and q the exact posterior of f there, the SVGP is the exact GP: its
 * predictive is the GP's, and every particle's ELBO term equals the exact
 * log marginal likelihood log N(y; 0, K + σ²I) (log p(y, f) − log p(f | y)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import * as zs from 'zhusuan';
import {
  gpConditional,
  inducingTerms,
  mvnLogProbCholInv,
  svgpPredictive,
} from '../src/common/gp.js';
import { cholesky, inverseSpd, matVec } from '../src/common/linalg.js';
import { lowerSoftplusDiag, sampleQ, svgpModel, svgpTrainer } from '../src/svgp.js';

await tf.setBackend('cpu');

const K_SCALE = [0.8, 2.5];
// Six inputs spread enough for a well-conditioned K (float32 Cholesky).
const X = [
  [-1.5, 0.3],
  [-0.7, -1.2],
  [0.1, 0.8],
  [0.6, -0.4],
  [1.3, 1.5],
  [2.0, -1.0],
];
const Y = [0.4, -0.9, 1.1, 0.2, -0.5, 0.7];
const X_STAR = [
  [0.0, 0.0],
  [-1.0, 1.0],
  [1.7, 0.2],
];
const NOISE = 0.5;

/** The RBF kernel in float64, row-major [a.length, b.length]. */
function kernel64(a: number[][], b: number[][]): Float64Array {
  const k = new Float64Array(a.length * b.length);
  a.forEach((u, i) =>
    b.forEach((v, j) => {
      const s = u.reduce((acc, uj, c) => acc + (uj - v[c]) ** 2 / K_SCALE[c], 0);
      k[i * b.length + j] = Math.exp(-0.5 * s);
    }),
  );
  return k;
}

/** a·b for row-major a [n, k] and b [k, m]. */
function matMul64(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number) {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++)
      for (let t = 0; t < k; t++) c[i * m + j] += a[i * k + t] * b[t * m + j];
  return c;
}

function transpose64(a: ArrayLike<number>, n: number, m: number): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = a[i * m + j];
  return t;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(
      err <= tol * Math.max(1, Math.abs(want[i])),
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

/** The exact GP posterior of f at X: mean K(K+σ²I)⁻¹y, covariance K − K(K+σ²I)⁻¹K. */
function posterior64() {
  const n = X.length;
  const k = kernel64(X, X);
  const ky = Float64Array.from(k, (v, i) => v + (i % (n + 1) === 0 ? NOISE ** 2 : 0));
  const kyInv = inverseSpd(ky, n);
  const mean = matVec(k, matVec(kyInv, Y, n), n);
  const cov = Float64Array.from(k);
  const kKyInvK = matMul64(matMul64(k, kyInv, n, n, n), k, n, n, n);
  for (let i = 0; i < n * n; i++) cov[i] -= kKyInvK[i];
  return { k, ky, kyInv, mean, cov };
}

test('rbfKernel matches the float64 kernel', () => {
  const before = tf.memory().numTensors;
  const got = tf.tidy(() =>
    zs.rbfKernel(tf.tensor2d(X), tf.tensor2d(X_STAR), tf.tensor1d(K_SCALE)).dataSync(),
  );
  assertClose(got, kernel64(X, X_STAR), 1e-6, 'K(x, x*)');
  assert.equal(tf.memory().numTensors, before);
});

test('gpConditional: mean K_xz K_zz⁻¹ fz and log std ½ log(1 − diag K_xz K_zz⁻¹ K_zx) (jitter included)', () => {
  const before = tf.memory().numTensors;
  const z = X.slice(0, 4);
  const fz = [
    [0.3, -0.2, 1.0, 0.5],
    [-1.0, 0.4, 0.0, 2.0],
  ];
  const jitter = 1e-3;
  const { mean, std } = tf.tidy(() => {
    const zt = tf.tensor2d(z);
    const k = tf.tensor1d(K_SCALE);
    const c = gpConditional(
      zt,
      inducingTerms(zt, k, jitter),
      tf.tensor2d(fz),
      tf.tensor2d(X_STAR),
      k,
    );
    return { mean: c.mean.dataSync(), std: tf.exp(c.logstd).dataSync() };
  });
  const m = z.length;
  const kzz = kernel64(z, z);
  for (let i = 0; i < m; i++) kzz[i * m + i] += jitter;
  const kzzInv = inverseSpd(kzz, m);
  const kzx = kernel64(z, X_STAR);
  const b = matMul64(kzzInv, kzx, m, m, X_STAR.length); // K_zz⁻¹ K_zx
  assertClose(mean, matMul64(fz.flat(), b, 2, m, X_STAR.length), 1e-4, 'mean');
  const want = X_STAR.map((_, j) => {
    let q = 0;
    for (let i = 0; i < m; i++) q += kzx[i * X_STAR.length + j] * b[i * X_STAR.length + j];
    return Math.sqrt(1 - q);
  });
  assertClose(std, want, 1e-4, 'std');
  assert.equal(tf.memory().numTensors, before);
});

test('mvnLogProbCholInv and sampleQ: the Gaussian log density in float64', () => {
  const before = tf.memory().numTensors;
  const n = X.length;
  const { k } = posterior64();
  const l = cholesky(k, n);
  const kInv = inverseSpd(k, n);
  const logDet = Array.from({ length: n }, (_, i) => Math.log(l[i * n + i])).reduce(
    (a, b) => a + b,
  );
  const logN = (x: ArrayLike<number>) => {
    const quad = Array.from(x).reduce((acc, xi, i) => acc + xi * matVec(kInv, x, n)[i], 0);
    return -0.5 * n * Math.log(2 * Math.PI) - logDet - 0.5 * quad;
  };
  zs.random.setSeed(3);
  const { draws, logQ, logPrior } = tf.tidy(() => {
    const lt = tf.tensor2d(Float32Array.from(l), [n, n]);
    const s = sampleQ(tf.zeros([n]) as tf.Tensor1D, lt, 4);
    const lInv = zs.triangularSolve(lt, tf.eye(n)) as tf.Tensor2D;
    return {
      draws: s.fz.arraySync(),
      logQ: s.logQ.dataSync(),
      logPrior: mvnLogProbCholInv(s.fz, lInv).dataSync(),
    };
  });
  assertClose(logQ, draws.map(logN), 1e-4, 'sampleQ log q');
  assertClose(logPrior, draws.map(logN), 1e-4, 'mvnLogProbCholInv');
  // lowerSoftplusDiag: the strict lower triangle as it is, softplus on the diagonal, 0 above.
  const s = tf.tidy(() =>
    lowerSoftplusDiag(
      tf.tensor2d([
        [0, 5],
        [-2, 1],
      ]),
    ).dataSync(),
  );
  assertClose(s, [Math.log(2), 0, -2, Math.log(1 + Math.E)], 1e-6, 'lowerSoftplusDiag');
  assert.equal(tf.memory().numTensors, before);
});

test('svgpPredictive with z = x and q the exact posterior is the exact GP predictive', () => {
  const before = tf.memory().numTensors;
  const n = X.length;
  const { kyInv, mean, cov } = posterior64();
  const got = tf.tidy(() => {
    const z = tf.tensor2d(X);
    const k = tf.tensor1d(K_SCALE);
    const p = svgpPredictive(
      z,
      inducingTerms(z, k, 0),
      tf.tensor1d(Float32Array.from(mean)),
      tf.tensor2d(Float32Array.from(cholesky(cov, n)), [n, n]),
      tf.tensor2d(X_STAR),
      k,
    );
    return { mean: p.mean.dataSync(), variance: p.variance.dataSync() };
  });
  const ksx = kernel64(X_STAR, X); // [3, n]
  const wantMean = X_STAR.map((_, i) =>
    matVec(kyInv, Y, n).reduce((a, v, j) => a + ksx[i * n + j] * v, 0),
  );
  const kxs = transpose64(ksx, X_STAR.length, n);
  const q = matMul64(
    matMul64(ksx, kyInv, X_STAR.length, n, n),
    kxs,
    X_STAR.length,
    n,
    X_STAR.length,
  );
  const wantVar = X_STAR.map((_, i) => 1 - q[i * X_STAR.length + i]);
  assertClose(got.mean, wantMean, 2e-3, 'predictive mean');
  assertClose(got.variance, wantVar, 2e-3, 'predictive variance');
  assert.equal(tf.memory().numTensors, before);
});

test('the SVGP ELBO with z = x and q the exact posterior is log N(y; 0, K + σ²I) for every particle', () => {
  const before = tf.memory().numTensors;
  const n = X.length;
  const { ky, kyInv, mean, cov } = posterior64();
  const lky = cholesky(ky, n);
  const quad = Y.reduce((a, y, i) => a + y * matVec(kyInv, Y, n)[i], 0);
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(lky[i * n + i]);
  const logML = -0.5 * n * Math.log(2 * Math.PI) - logDet - 0.5 * quad;
  zs.random.setSeed(11);
  const elbo = tf.tidy(() => {
    const z = tf.tensor2d(X);
    const x = tf.tensor2d(X);
    const kScale = tf.tensor1d(K_SCALE);
    const params = { z, kScale, terms: inducingTerms(z, kScale, 0), noiseStd: tf.scalar(NOISE) };
    const s = sampleQ(
      tf.tensor1d(Float32Array.from(mean)),
      tf.tensor2d(Float32Array.from(cholesky(cov, n)), [n, n]),
      8,
    );
    const cond = gpConditional(z, params.terms, s.fz, x, kScale);
    const fx = new zs.Normal({ mean: cond.mean, logstd: cond.logstd, groupNdims: 1 }).sample();
    const lb = zs.elbo(
      (obs) => svgpModel(n).observe(obs, params, x, 8),
      { y: tf.tensor1d(Y) },
      { latent: { fz: [s.fz, s.logQ], fx: [fx, tf.zeros([8])] } },
    );
    return lb.tensor.dataSync();
  });
  assert.equal(elbo.length, 8);
  for (const v of elbo)
    assert.ok(Math.abs(v - logML) < 5e-3, `ELBO term ${v} vs log p(y) ${logML}`);
  assert.equal(tf.memory().numTensors, before);
});

test("the model's log joint scales a minibatch's likelihood by N/m", () => {
  const before = tf.memory().numTensors;
  const nTrain = 30;
  const m = 3;
  const x = X.slice(0, m);
  const { got, fz, fx, prior } = tf.tidy(() => {
    const z = tf.tensor2d(X.slice(2));
    const kScale = tf.tensor1d(K_SCALE);
    const terms = inducingTerms(z, kScale);
    const params = { z, kScale, terms, noiseStd: tf.scalar(NOISE) };
    const fzT = tf.tensor2d([
      [0.2, -0.1, 0.5, 1.0],
      [-0.3, 0.8, 0.0, -1.2],
    ]);
    const fxT = tf.tensor2d([
      [0.1, 0.2, 0.3],
      [-0.5, 0.0, 0.9],
    ]);
    const bn = svgpModel(nTrain).observe(
      { fz: fzT, fx: fxT, y: tf.tensor1d(Y.slice(0, m)) },
      params,
      tf.tensor2d(x),
      2,
    );
    return {
      got: bn.logJoint().dataSync(),
      fz: fzT.arraySync(),
      fx: fxT.arraySync(),
      prior: new zs.MultivariateNormalCholesky({ mean: tf.zeros([4]), cholTril: terms.kzzChol })
        .logProb(fzT)
        .dataSync(),
    };
  });
  assert.equal(fz.length, 2);
  const want = fx.map((row, s) => {
    const ll = row.reduce(
      (a, f, i) =>
        a - 0.5 * Math.log(2 * Math.PI * NOISE ** 2) - (Y[i] - f) ** 2 / (2 * NOISE ** 2),
      0,
    );
    return prior[s] + (nTrain / m) * ll;
  });
  assertClose(got, want, 1e-5, 'log joint');
  assert.equal(tf.memory().numTensors, before);
});

test("svgpTrainer's exactElbo is the mean of the SGVB step's ELBO terms (within 5 SE of 20,000 draws)", () => {
  const before = tf.memory().numTensors;
  zs.random.setSeed(5);
  const nTrain = 12; // the likelihood of the 6 points scaled by 2
  const t = svgpTrainer(2, nTrain, { nZ: 4, particles: 1, lr: 0.01 });
  // Away from the start: q with a mean, correlations and a scaled diagonal.
  tf.tidy(() => {
    t.kRaw.assign(tf.tensor1d([0.3, 1.2]));
    t.noiseRaw.assign(tf.scalar(0.5));
    t.qMean.assign(tf.tensor1d([0.5, -0.3, 0.8, 0.1]));
    t.qRaw.assign(
      tf.tensor2d([
        [-1.0, 0, 0, 0],
        [0.3, -0.5, 0, 0],
        [-0.2, 0.4, -1.5, 0],
        [0.1, -0.1, 0.2, -0.8],
      ]),
    );
  });
  const nDraws = 20000;
  const { exact, terms } = tf.tidy(() => {
    const x = tf.tensor2d(X);
    const y = tf.tensor1d(Y);
    const p = t.params();
    const latent = t.latent(p, x, nDraws);
    const bn = t.model.observe({ fz: latent.fz[0], fx: latent.fx[0], y }, p, x, nDraws);
    // Each draw's log p(fz) + (N/n)·log p(y | fx) − log q(fz), as the step's objective.
    return {
      exact: t.exactElbo(x, y).dataSync()[0],
      terms: Array.from(tf.sub(bn.logJoint(), latent.fz[1]).dataSync()),
    };
  });
  const mean = terms.reduce((a, v) => a + v, 0) / nDraws;
  const sd = Math.sqrt(terms.reduce((a, v) => a + (v - mean) ** 2, 0) / (nDraws - 1));
  const se = sd / Math.sqrt(nDraws);
  assert.ok(Math.abs(mean - exact) < 5 * se, `Monte Carlo ${mean} ± ${se} vs exact ${exact}`);
  // Not trivially close: the terms vary.
  assert.ok(sd > 0.1, `sd ${sd}`);
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
});
