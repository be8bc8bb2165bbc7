import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

/** z ~ N(0, 1), x | z ~ N(z, 1); batch of n replicates of the same x. */
const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
  const z = bn.normal('z', tf.zeros([1]), { std: 1 });
  bn.normal('x', z, { std: 1 });
});

function q(
  mean: tf.Tensor,
  logstd: tf.Tensor,
  k: number,
  opts: { z?: tf.Tensor; reparam?: boolean } = {},
) {
  const bn = new zs.BayesianNet(opts.z ? { z: opts.z } : {});
  bn.normal('z', mean, { logstd, nSamples: k, isReparameterized: opts.reparam ?? true });
  return bn;
}

test('the IW bound is the log-mean-exp of the log weights (injected samples)', () => {
  const zs_ = [0.5, -0.3, 1.7];
  const x = 1.1;
  const iw = zs.importanceWeightedObjective(
    model,
    { x: tf.tensor([x]) },
    {
      variational: q(tf.tensor([0]), tf.tensor([0]), 3, { z: tf.tensor(zs_.map((v) => [v])) }),
      axis: 0,
    },
  );
  const w = zs_.map((v) => normalLogPdf(v, 0, 1) + normalLogPdf(x, v, 1) - normalLogPdf(v, 0, 1));
  const m = Math.max(...w);
  const lme = m + Math.log(w.reduce((a, b) => a + Math.exp(b - m), 0) / 3);
  assertClose(iw.tensor.dataSync(), [lme], 1e-6, 1e-6, 'bound');
  assertClose(iw.sgvb().dataSync(), [-lme], 1e-6, 1e-6, 'sgvb is minus the bound');
});

test('K = 1 equals the ELBO; K > 1 is at least the ELBO on average', () => {
  const z1 = tf.tensor([[0.4]]);
  const args = { variational: q(tf.tensor([0.2]), tf.tensor([-0.5]), 1, { z: z1 }), axis: 0 };
  const iw1 = zs.importanceWeightedObjective(model, { x: tf.tensor([1]) }, args);
  const el = zs.elbo(model, { x: tf.tensor([1]) }, args);
  assertClose(iw1.tensor.dataSync(), el.tensor.dataSync(), 1e-6, 1e-6, 'K=1');
  zs.random.setSeed(3);
  // Over 2000 replicates (batch axis) the mean IW(K=10) bound exceeds the mean ELBO.
  const xs = tf.fill([2000], 1.5);
  const mean = tf.fill([2000], 0.2);
  const logstd = tf.fill([2000], -0.2);
  const iw = tf
    .mean(
      zs.importanceWeightedObjective(
        model,
        { x: xs },
        { variational: q(mean, logstd, 10), axis: 0 },
      ).tensor,
    )
    .dataSync()[0];
  const elbo = tf
    .mean(zs.elbo(model, { x: xs }, { variational: q(mean, logstd, 10), axis: 0 }).tensor)
    .dataSync()[0];
  assert.ok(iw > elbo, `IW ${iw} <= ELBO ${elbo}`);
  const truth = normalLogPdf(1.5, 0, Math.SQRT2);
  assert.ok(iw < truth + 0.01, `IW ${iw} above log p(x) ${truth}`);
});

test('VIMCO gradient agrees with the IWAE (SGVB) gradient in expectation', () => {
  // Both estimate the gradient of the same K-sample bound with respect to q's
  // parameters; average over 20000 replicates of the data point.
  const n = 20000;
  const k = 5;
  const grad = (estimator: 'sgvb' | 'vimco', seed: number) => {
    zs.random.setSeed(seed);
    const xs = tf.fill([n], 1.2);
    return tf
      .grads((m: tf.Tensor, s: tf.Tensor) => {
        const iw = zs.importanceWeightedObjective(
          model,
          { x: xs },
          {
            variational: q(tf.broadcastTo(m, [n]), tf.broadcastTo(s, [n]), k, {
              reparam: estimator === 'sgvb',
            }),
            axis: 0,
          },
        );
        return tf.mean(estimator === 'sgvb' ? iw.sgvb() : iw.vimco());
      })([tf.tensor([0.1]), tf.tensor([-0.1])])
      .map((g) => g.dataSync()[0]);
  };
  const [sm, ss] = grad('sgvb', 11);
  const [vm, vs] = grad('vimco', 12);
  // Tolerance 0.05 on gradients of size ~0.5: a few sd of the VIMCO estimator here.
  assertClose([vm, vs], [sm, ss], 0, 0.05, 'vimco vs sgvb');
});

test('VIMCO needs at least two samples; axis is required', () => {
  const iw = zs.importanceWeightedObjective(
    model,
    { x: tf.tensor([1]) },
    { variational: q(tf.tensor([0]), tf.tensor([0]), 1), axis: 0 },
  );
  assert.throws(() => iw.vimco(), /vimco: needs at least 2 samples/);
  assert.throws(
    () =>
      zs.importanceWeightedObjective(model, { x: tf.tensor([1]) }, {
        variational: q(tf.tensor([0]), tf.tensor([0]), 2),
      } as never),
    /`axis` \(the sample axis\) is required/,
  );
});

test('VIMCO: the cost and gradients of the stopGradient composite, exactly, with no backward pass of the [K, K] control variates', async () => {
  // log weights [K = 6, 4] and log q, functions of two parameters.
  const a = tf.tensor(
    Array.from({ length: 24 }, (_, i) => Math.sin(1.7 * i) * 3),
    [6, 4],
  );
  const b = tf.tensor(
    Array.from({ length: 24 }, (_, i) => Math.cos(0.9 * i) - 2),
    [6, 4],
  );
  const lwOf = (x: tf.Tensor, y: tf.Tensor) => tf.add(tf.mul(x, 1.5), y);
  const logQOf = (x: tf.Tensor, y: tf.Tensor) => tf.sub(tf.mul(y, 0.5), tf.square(x));
  const k = 6;
  // The estimator written with stopGradient: the composite it equals.
  const composite = (x: tf.Tensor, y: tf.Tensor) => {
    const logQ = logQOf(x, y);
    const lw = tf.sub(tf.add(lwOf(x, y), logQ), logQ); // log p − log q, as the library forms it
    const lwStop = zs.stopGradient(lw);
    const meanOthers = tf.div(tf.sub(tf.sum(lwStop, 0, true), lwStop), k - 1);
    const eye = tf.reshape(tf.cast(tf.eye(k), 'bool'), [k, k, 1]);
    const tiled = tf.broadcastTo(tf.expandDims(lwStop, 0), [k, k, 4]);
    const diag = tf.broadcastTo(tf.expandDims(meanOthers, 1), [k, k, 4]);
    const replaced = tf.where(tf.broadcastTo(eye, [k, k, 4]), diag, tiled);
    const control = zs.logMeanExp(replaced, 1);
    const bound = zs.logMeanExp(lw, 0);
    const signal = tf.sub(tf.expandDims(zs.stopGradient(bound), 0), control);
    const score = tf.sum(tf.mul(zs.stopGradient(signal), logQ), 0);
    return tf.sum(tf.neg(tf.add(score, bound)));
  };
  // The library's estimator on the same log weights (injected as log p − log q).
  const library = (x: tf.Tensor, y: tf.Tensor) => {
    const logQ = logQOf(x, y);
    const logP = tf.add(lwOf(x, y), logQ);
    const iw = zs.importanceWeightedObjective(
      (obs) => {
        // A node z for the latent; the log joint is the given log p.
        const bn = new zs.BayesianNet(obs, { logJoint: () => logP });
        bn.normal('z', tf.zeros([4]), { std: 1 });
        return bn;
      },
      {},
      { latent: { z: [tf.zeros([6, 4]), logQ] }, axis: 0 },
    );
    return tf.sum(iw.vimco());
  };
  const run = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(f)([a, b]);
      return [value, ...grads].map((t) => Array.from(t.dataSync()));
    });
  const want = run(composite);
  const got = run(library);
  for (let i = 0; i < 3; i++) {
    assert.equal(got[i].length, want[i].length);
    got[i].forEach((v, j) => assert.ok(v === want[i][j], `[${i}][${j}]: ${v} vs ${want[i][j]}`));
  }
  assert.ok(
    got.every((g) => g.every(Number.isFinite)),
    'finite',
  );
  // Kernels writing a [K, K, 4] tensor: in the forward pass only.
  const square = async (f: () => unknown) =>
    (await tf.profile(() => void tf.tidy(() => void f()))).kernels.filter(
      (kn) => kn.outputShapes[0]?.join() === '6,6,4',
    ).length;
  const forward = await square(() => library(a, b));
  const withGrads = await square(() => tf.valueAndGrads(library)([a, b]));
  const compositeGrads = await square(() => tf.valueAndGrads(composite)([a, b]));
  assert.ok(forward > 0);
  assert.equal(withGrads, forward, 'no [K, K] kernel in the backward pass');
  // The composite is taped: tfjs keeps copies of its [K, K] tensors for a
  // backward pass (which, behind stopGradient, then skips them).
  assert.ok(compositeGrads > forward, 'the composite has them');
  tf.dispose([a, b]);
});
