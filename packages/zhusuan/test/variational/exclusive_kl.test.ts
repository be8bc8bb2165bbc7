import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

/** p(z) p(x | z): z ~ N(0, 1), x | z ~ N(z, 1), both [n] with samples on axis 0. */
const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
  const z = bn.normal('z', tf.zeros([1]), { std: 1 });
  bn.normal('x', z, { std: 1 });
});
const prior = zs.metaBayesianNet((bn: zs.BayesianNet) => {
  bn.normal('z', tf.zeros([1]), { std: 1 });
});

function q(
  mean: tf.Tensor,
  logstd: tf.Tensor,
  n: number,
  opts: { z?: tf.Tensor; reparam?: boolean } = {},
): zs.BayesianNet {
  const bn = new zs.BayesianNet(opts.z ? { z: opts.z } : {});
  bn.normal('z', mean, { logstd, nSamples: n, isReparameterized: opts.reparam ?? true });
  return bn;
}

test('ELBO with injected samples equals log p(x, z) - log q(z) exactly', () => {
  const zVals = [0.3, -1.2, 2.0, 0.1];
  const x = 0.7;
  const [mq, sq] = [0.2, 0.9];
  const z = tf.tensor(zVals.map((v) => [v]));
  const lb = zs.elbo(
    model,
    { x: tf.tensor([x]) },
    { variational: q(tf.tensor([mq]), tf.tensor([Math.log(sq)]), 4, { z }), axis: 0 },
  );
  const w = zVals.map(
    (v) => normalLogPdf(v, 0, 1) + normalLogPdf(x, v, 1) - normalLogPdf(v, mq, sq),
  );
  assertClose(lb.tensor.dataSync(), [w.reduce((a, b) => a + b) / 4], 1e-6, 1e-6, 'elbo');
  assertClose(lb.sgvb().dataSync(), [-w.reduce((a, b) => a + b) / 4], 1e-6, 1e-6, 'sgvb value');
  // Without an axis the bound is per sample.
  const per = zs.elbo(
    model,
    { x: tf.tensor([x]) },
    { variational: q(tf.tensor([mq]), tf.tensor([Math.log(sq)]), 4, { z }) },
  );
  assertClose(per.tensor.dataSync(), w, 1e-6, 1e-6, 'per-sample');
});

test('SGVB gradient matches the analytic gradient of -KL(q || p)', () => {
  // ELBO with no data = -KL(N(m, s²) || N(0, 1)) = log s - (s² + m²)/2 + 1/2.
  // d/dm = -m, d/dlog s = 1 - s². Per-sample gradient sd: s/sqrt(n) for m.
  zs.random.setSeed(7);
  const m = tf.tensor([0.6]);
  const logs = tf.tensor([Math.log(0.8)]);
  const n = 20000;
  const [gm, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.neg(tf.mean(zs.elbo(prior, {}, { variational: q(a, b, n), axis: 0 }).sgvb())),
  )([m, logs]);
  // Tolerance: 5 sd of the estimator (0.8/sqrt(2e4) = 0.0057).
  assertClose(gm.dataSync(), [-0.6], 0, 0.03, 'd/dmean');
  assertClose(gs.dataSync(), [1 - 0.64], 0, 0.03, 'd/dlogstd');
});

test('REINFORCE gradient matches the analytic gradient in expectation', () => {
  zs.random.setSeed(8);
  const m = tf.tensor([0.6]);
  const logs = tf.tensor([Math.log(0.8)]);
  const n = 50000;
  const baseline = new zs.MovingAverageBaseline(0.8);
  const [gm, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.neg(
      tf.mean(
        zs
          .elbo(prior, {}, { variational: q(a, b, n, { reparam: false }), axis: 0 })
          .reinforce({ movingAverage: baseline }),
      ),
    ),
  )([m, logs]);
  // Score-function gradients are noisier: per-sample sd ≈ 1 here, so sd of the
  // mean ≈ 0.0045; the tolerance (0.05) is about 10 sd.
  assertClose(gm.dataSync(), [-0.6], 0, 0.05, 'd/dmean');
  assertClose(gs.dataSync(), [1 - 0.64], 0, 0.05, 'd/dlogstd');
  assert.notEqual(baseline.tensor.dataSync()[0], 0, 'the moving average moved');
  baseline.dispose();
});

test('MovingAverageBaseline frees all it made on dispose', () => {
  const before = tf.memory().numTensors;
  const baseline = new zs.MovingAverageBaseline(0.8);
  const signal = tf.tensor([1, 3]);
  baseline.update(signal);
  signal.dispose();
  // 0.8 · 0 + 0.2 · mean(signal), in float32.
  assert.equal(baseline.tensor.dataSync()[0], Math.fround(0.2 * 2));
  baseline.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('objective errors name the problem', () => {
  const qn = q(tf.tensor([0]), tf.tensor([0]), 2);
  assert.throws(
    () => zs.elbo(model, { x: tf.tensor([1]) }, { variational: qn, axis: 3 }),
    /`axis` 3 is out of range/,
  );
  const bad = new zs.BayesianNet();
  bad.normal('w', tf.zeros([1]), { std: 1 });
  assert.throws(
    () => zs.elbo(model, { x: tf.tensor([1]) }, { variational: bad }),
    /latent 'w' of the variational net is not a stochastic node of the model/,
  );
  assert.throws(
    () => zs.elbo(model, { x: tf.tensor([1]), z: tf.zeros([1]) }, { variational: qn }),
    /no latent/,
  );
});

test('elbo and sgvb under tf.tidy leak nothing', () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const lb = zs.elbo(
      model,
      { x: tf.tensor([1]) },
      { variational: q(tf.tensor([0]), tf.tensor([0]), 3), axis: 0 },
    );
    lb.sgvb();
    lb.reinforce();
    return lb.tensor;
  }).dispose();
  assert.equal(tf.memory().numTensors, before);
});
