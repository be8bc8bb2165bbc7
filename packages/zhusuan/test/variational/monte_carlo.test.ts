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
