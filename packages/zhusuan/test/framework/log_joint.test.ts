/**
 * A model's own log joint (ZhuSuan's `meta_bn.log_joint = fn`), used by
 * every consumer of a model. The model is Bayesian linear regression on a
 * minibatch of m points whose likelihood the custom log joint scales by
 * N/m; the full data set is that minibatch repeated N/m times, so the
 * scaled log joint equals the full-batch one exactly, and each consumer's
 * output is checked against a float64 full-batch hand computation.
 *
 *   w ~ N(0, 1),  y_i | w ~ N(w x_i, σ²),  one w per sample/chain (shape [S]).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

const XB = [0.5, -1.2, 0.9, 1.6];
const YB = [0.7, -1.0, 1.1, 1.9];
const REPEAT = 3;
const M = XB.length;
const N = M * REPEAT;
const SIGMA = 0.8;
const XF = Array.from({ length: REPEAT }, () => XB).flat();
const YF = Array.from({ length: REPEAT }, () => YB).flat();

/** The regression over `xs` for S values of w: p(w) p(y | w). */
function regression(s: number, xs: number[]) {
  return (bn: zs.BayesianNet) => {
    const w = bn.normal('w', tf.zeros([s]), { std: 1 });
    bn.normal('y', tf.mul(tf.expandDims(w, 1), tf.tensor1d(xs)), { std: SIGMA, groupNdims: 1 });
  };
}

/** log p(w) + (N/m) log p(y_batch | w): the minibatch likelihood scaled to the data set. */
const scaled: zs.LogJointFn = (bn) =>
  tf.add(bn.localLogProb(['w']), tf.mul(bn.localLogProb(['y']), N / M));

/** The minibatch model with the scaled log joint, for S values of w. */
function minibatchModel(s: number): zs.MetaBayesianNet {
  const model = zs.metaBayesianNet(regression(s, XB));
  model.logJoint = scaled;
  return model;
}
/** The full-batch model with the default log joint. */
const fullModel = (s: number) => zs.metaBayesianNet(regression(s, XF));

/** Float64: log p(w) + Σ over all N points of log N(y_i; w x_i, σ²). */
function fullLogJoint(w: number): number {
  return XF.reduce((a, x, i) => a + normalLogPdf(YF[i], w * x, SIGMA), normalLogPdf(w, 0, 1));
}

/** Float64: log p(y) over all N points, y ~ N(0, σ²I + x xᵀ) (Sherman–Morrison). */
function exactLogEvidence(): number {
  const s2 = SIGMA ** 2;
  const xx = XF.reduce((a, x) => a + x * x, 0);
  const xy = XF.reduce((a, x, i) => a + x * YF[i], 0);
  const yy = YF.reduce((a, y) => a + y * y, 0);
  const quad = (yy - (xy * xy) / (s2 + xx)) / s2;
  const logDet = N * Math.log(s2) + Math.log(1 + xx / s2);
  return -0.5 * N * Math.log(2 * Math.PI) - 0.5 * logDet - 0.5 * quad;
}

const logMeanExp64 = (a: number[]) => {
  const mx = Math.max(...a);
  return mx + Math.log(a.reduce((s, v) => s + Math.exp(v - mx), 0) / a.length);
};

const W_SAMPLES = [0.2, 0.9, 1.3, -0.4, 0.75];
const [QM, QS] = [0.8, 0.4];
const observed = () => ({ y: tf.tensor1d(YB) });
const observedFull = () => ({ y: tf.tensor1d(YF) });

/** q(w) = N(QM, QS²) with the samples W_SAMPLES injected along axis 0. */
function injectedQ(): zs.BayesianNet {
  const q = new zs.BayesianNet({ w: tf.tensor1d(W_SAMPLES) });
  q.normal('w', QM, { std: QS, nSamples: W_SAMPLES.length });
  return q;
}
const logQ64 = W_SAMPLES.map((w) => normalLogPdf(w, QM, QS));
const logW64 = W_SAMPLES.map((w, k) => fullLogJoint(w) - logQ64[k]);

test('metaBayesianNet: a set logJoint replaces the sum of the nodes, in every net built afterwards', () => {
  const model = zs.metaBayesianNet(regression(2, XB));
  const w = tf.tensor1d([0.3, -0.7]);
  const plain = model
    .observe({ ...observed(), w })
    .logJoint()
    .arraySync() as number[];
  model.logJoint = scaled;
  const custom = model
    .observe({ ...observed(), w })
    .logJoint()
    .dataSync();
  assertClose(custom, [0.3, -0.7].map(fullLogJoint), 1e-5, 1e-4, 'scaled');
  assert.notDeepEqual(Array.from(custom), plain);
  // The option form, and a net built directly.
  const viaOption = zs.metaBayesianNet(regression(2, XB), { logJoint: scaled });
  assertClose(
    viaOption
      .observe({ ...observed(), w })
      .logJoint()
      .dataSync(),
    custom,
    0,
    0,
    'option',
  );
  const bn = new zs.BayesianNet({ ...observed(), w }, { logJoint: scaled });
  regression(2, XB)(bn);
  assertClose(bn.logJoint().dataSync(), custom, 0, 0, 'constructor');
});

test('a custom logJoint that calls bn.logJoint(), returns no tensor or is no function is refused', () => {
  const w = tf.tensor1d([0.3]);
  const selfCall = zs.metaBayesianNet(regression(1, XB), { logJoint: (bn) => bn.logJoint() });
  assert.throws(
    () => selfCall.observe({ ...observed(), w }).logJoint(),
    /the custom `logJoint` called bn\.logJoint\(\).*bn\.localLogProb\(names\)/,
  );
  const notTensor = zs.metaBayesianNet(regression(1, XB), {
    logJoint: (() => 3) as unknown as zs.LogJointFn,
  });
  assert.throws(
    () => notTensor.observe({ ...observed(), w }).logJoint(),
    /the custom `logJoint` must return a tf\.Tensor, got number/,
  );
  assert.throws(
    () => new zs.BayesianNet({}, { logJoint: 1 as unknown as zs.LogJointFn }),
    /`logJoint` must be a function of the net/,
  );
});

test('elbo, importanceWeightedObjective and klpq use the scaled log joint', () => {
  const lb = zs.elbo(minibatchModel(5), observed(), { variational: injectedQ(), axis: 0 });
  const elbo64 = logW64.reduce((a, b) => a + b) / logW64.length;
  assertClose(lb.tensor.dataSync(), [elbo64], 1e-5, 1e-4, 'elbo');
  // The same with the samples and their log q given as `latent`, and a model function.
  const fn = (obs: zs.Observed) => {
    const bn = new zs.BayesianNet(obs, { logJoint: scaled });
    regression(5, XB)(bn);
    return bn;
  };
  const latent = { w: [tf.tensor1d(W_SAMPLES), tf.tensor1d(logQ64)] as zs.LatentSample };
  assertClose(
    zs.elbo(fn, observed(), { latent, axis: 0 }).tensor.dataSync(),
    [elbo64],
    1e-5,
    1e-4,
    'latent',
  );

  const iw = zs.importanceWeightedObjective(minibatchModel(5), observed(), {
    variational: injectedQ(),
    axis: 0,
  });
  assertClose(iw.tensor.dataSync(), [logMeanExp64(logW64)], 1e-5, 1e-4, 'iw');

  const kl = zs.klpq(minibatchModel(5), observed(), { variational: injectedQ(), axis: 0 });
  const mx = Math.max(...logW64);
  const u = logW64.map((l) => Math.exp(l - mx));
  const wt = u.map((v) => v / u.reduce((a, b) => a + b));
  const kl64 = -wt.reduce((a, wk, k) => a + wk * logQ64[k], 0);
  assertClose(kl.importance().dataSync(), [kl64], 1e-5, 1e-4, 'klpq');
  [lb, iw, kl].forEach((o) => o.dispose());
});

test('isLoglikelihood uses it, with a built proposal, a proposal function or `latent`', () => {
  const want = [logMeanExp64(logW64)];
  const model = minibatchModel(5);
  const est = (opts: zs.IsLoglikelihoodOptions) =>
    zs.isLoglikelihood(model, observed(), opts).dataSync();
  assertClose(est({ proposal: injectedQ(), axis: 0 }), want, 1e-5, 1e-4, 'built');
  assertClose(est({ proposal: () => injectedQ(), axis: 0 }), want, 1e-5, 1e-4, 'function');
  const latent = { w: [tf.tensor1d(W_SAMPLES), tf.tensor1d(logQ64)] as zs.LatentSample };
  assertClose(est({ latent, axis: 0 }), want, 1e-5, 1e-4, 'latent');
});

test('ais anneals to the full-data evidence with the scaled log joint', () => {
  const K = 64;
  const prior = zs.metaBayesianNet((bn: zs.BayesianNet) => {
    bn.normal('w', tf.zeros([K]), { std: 1 });
  });
  const run = (model: zs.MetaBayesianNet, obs: zs.Observed) => {
    zs.random.setSeed(3);
    // A fixed step size: adaptation would feed float32 rounding back into every chain.
    const hmc = new zs.HMC({ stepSize: 0.1, nLeapfrogs: 5 });
    const res = zs.ais(model, obs, { proposal: prior, hmc, nTemperatures: 300 });
    hmc.dispose();
    const out = { ll: res.logLikelihood.dataSync()[0], lw: Array.from(res.logWeights.dataSync()) };
    tf.dispose([res.logWeights, res.logLikelihood, res.samples.w]);
    return out;
  };
  const custom = run(minibatchModel(K), observed());
  // The same run on the full batch gives the same chains up to float32 rounding.

  const full = run(fullModel(K), observedFull());
  assertClose(custom.ll, full.ll, 0, 1e-3, 'custom vs full batch');
  // Within 4 standard errors (s/√K for log-weights of sd s) of the exact evidence.
  const mean = custom.lw.reduce((a, b) => a + b) / K;
  const sd = Math.sqrt(custom.lw.reduce((a, v) => a + (v - mean) ** 2, 0) / (K - 1));
  assertClose(custom.ll, exactLogEvidence(), 0, Math.min(0.2, (4 * sd) / Math.sqrt(K)), 'vs exact');
});

test('HMC and SGLD take the scaled log density and its gradient', () => {
  const start = [0.1, 1.4, -0.3];
  const step = (model: zs.MetaBayesianNet, sampler: 'hmc' | 'sgld') => {
    const obs = model.logJoint === undefined ? observedFull() : observed();
    zs.random.setSeed(8);
    const w = tf.variable(tf.tensor1d(start));
    let logProb: number[];
    if (sampler === 'hmc') {
      const hmc = new zs.HMC({ stepSize: 0.05, nLeapfrogs: 3 });
      logProb = hmc.step(model, obs, { w }).logProb;
      hmc.dispose();
    } else {
      logProb = [new zs.SGLD({ learningRate: 1e-3 }).step(model, obs, { w }).logProb];
    }
    const out = { w: Array.from(w.dataSync()), logProb };
    w.dispose();
    return out;
  };
  // HMC reports the log density after the step: the hand computation at the new state.
  const hmc = step(minibatchModel(3), 'hmc');
  assertClose(hmc.logProb, hmc.w.map(fullLogJoint), 1e-5, 1e-3, 'HMC log density');
  assertClose(hmc.w, step(fullModel(3), 'hmc').w, 0, 1e-5, 'HMC state vs full batch');
  // SGLD reports the summed log density where it took the gradient: the start.
  const sgld = step(minibatchModel(3), 'sgld');
  const sum64 = start.reduce((a, w) => a + fullLogJoint(w), 0);
  assertClose(sgld.logProb, [sum64], 1e-5, 1e-3, 'SGLD log density');
  assertClose(sgld.w, step(fullModel(3), 'sgld').w, 0, 1e-5, 'SGLD state vs full batch');
});
