import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BayesianNet, metaBayesianNet } from '../../src/framework/bn.js';
import { setSeed } from '../../src/random.js';
import { klpq } from '../../src/variational/inclusive_kl.js';
import { assertClose, normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

/** z ~ N(0, 1), x | z ~ N(z, 1): the posterior is N(x/2, 1/2). */
const model = metaBayesianNet((bn: BayesianNet) => {
  const z = bn.normal('z', tf.zeros([1]), { std: 1 });
  bn.normal('x', z, { std: 1 });
});

function q(mean: tf.Tensor, logstd: tf.Tensor, k: number, opts: { z?: tf.Tensor } = {}) {
  const bn = new BayesianNet(opts.z ? { z: opts.z } : {});
  bn.normal('z', mean, { logstd, nSamples: k });
  return bn;
}

test('importance() is −Σ w̃ log q with self-normalised weights; its gradient is the RWS one', () => {
  const zs_ = [0.5, -0.3, 1.7, 0.9];
  const x = 1.1;
  const [m0, s0] = [0.2, -0.4];
  const mean = tf.tensor([m0]);
  const logstd = tf.tensor([s0]);
  const sd = Math.exp(s0);
  const z = tf.tensor(zs_.map((v) => [v]));
  const cost = (mu: tf.Tensor, ls: tf.Tensor) =>
    tf.sum(
      klpq(
        model,
        { x: tf.tensor([x]) },
        { variational: q(mu, ls, 4, { z }), axis: 0 },
      ).importance(),
    );
  // Float64: log w_k = log p(z_k) + log p(x | z_k) − log q(z_k); w̃ = softmax.
  const logq = zs_.map((v) => normalLogPdf(v, m0, sd));
  const lw = zs_.map((v, k) => normalLogPdf(v, 0, 1) + normalLogPdf(x, v, 1) - logq[k]);
  const mx = Math.max(...lw);
  const u = lw.map((l) => Math.exp(l - mx));
  const w = u.map((v) => v / u.reduce((a, b) => a + b, 0));
  const want = -w.reduce((a, wk, k) => a + wk * logq[k], 0);
  assertClose(cost(mean, logstd).dataSync(), [want], 1e-5, 1e-5, 'cost');
  // ∂/∂μ log q = (z − μ)/σ², ∂/∂ log σ log q = (z − μ)²/σ² − 1; the weights are constants.
  const [gm, gs] = tf.grads(cost)([mean, logstd]);
  const dm = -w.reduce((a, wk, k) => a + (wk * (zs_[k] - m0)) / sd ** 2, 0);
  const ds = -w.reduce((a, wk, k) => a + wk * ((zs_[k] - m0) ** 2 / sd ** 2 - 1), 0);
  assertClose(gm.dataSync(), [dm], 1e-4, 1e-5, 'd/dmean');
  assertClose(gs.dataSync(), [ds], 1e-4, 1e-5, 'd/dlogstd');
  // rws() is the same surrogate.
  const r = klpq(model, { x: tf.tensor([x]) }, { variational: q(mean, logstd, 4, { z }), axis: 0 });
  assertClose(r.rws().dataSync(), r.importance().dataSync(), 0, 0, 'rws');
});

test("q's samples are constants to the gradient, and the model's parameters get none", () => {
  setSeed(4);
  const mean = tf.variable(tf.tensor([0.3]));
  const logstd = tf.variable(tf.tensor([-0.2]));
  const prior = tf.variable(tf.tensor([0.1]));
  const p = (obs: Record<string, tf.Tensor>) => {
    const bn = new BayesianNet(obs);
    const z = bn.normal('z', prior, { std: 1 });
    bn.normal('x', z, { std: 1 });
    return bn;
  };
  // K = 1: w̃ = 1 and the cost is −log q(z). With z held constant its derivative in the mean
  // is −(z − μ)/σ²; through the reparameterised z = μ + σε it would be 0.
  const qn = q(mean, logstd, 1);
  const z = qn.get('z').dataSync()[0];
  const { grads } = tf.variableGrads(
    () =>
      tf.sum(
        klpq(p, { x: tf.tensor([2]) }, { variational: qn, axis: 0 }).importance(),
      ) as tf.Scalar,
    [mean, logstd, prior],
  );
  const sd = Math.exp(-0.2);
  assertClose(grads[mean.name].dataSync(), [-(z - 0.3) / sd ** 2], 1e-4, 1e-5, 'd/dmean');
  const gp = grads[prior.name];
  assert.ok(gp === undefined || gp.dataSync()[0] === 0, `model gradient ${gp?.dataSync()[0]}`);
  tf.dispose([mean, logstd, prior]);
});

test('minimising it moves q to the posterior N(x/2, 1/2) (inclusive KL matches moments)', () => {
  setSeed(11);
  const x = tf.tensor([1.6]);
  const mean = tf.variable(tf.tensor([-1]));
  const logstd = tf.variable(tf.tensor([0.5]));
  const opt = tf.train.adam(0.03);
  const means: number[] = [];
  const stds: number[] = [];
  for (let i = 0; i < 600; i++) {
    opt.minimize(
      () =>
        tf.sum(
          klpq(model, { x }, { variational: q(mean, logstd, 64), axis: 0 }).importance(),
        ) as tf.Scalar,
      false,
      [mean, logstd],
    );
    if (i >= 400) {
      means.push(mean.dataSync()[0]);
      stds.push(Math.exp(logstd.dataSync()[0]));
    }
  }
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  // Truth: mean 0.8, std 0.7071. The self-normalised weights' bias is O(1/K) and the last 200
  // Adam iterates are averaged; with seeds 1, 2, 3 and 11 the averages fell within 0.006 of
  // the truth, so 0.02 leaves three times that.
  assertClose(avg(means), 0.8, 0, 0.02, 'posterior mean');
  assertClose(avg(stds), Math.SQRT1_2, 0, 0.02, 'posterior std');
  tf.dispose([mean, logstd, x]);
  opt.dispose();
});

test('klpq: errors name what is missing or wrong; nothing leaks', () => {
  const mean = tf.tensor([0]);
  const logstd = tf.tensor([0]);
  assert.throws(
    () => klpq(model, { x: tf.tensor([1]) }, { variational: q(mean, logstd, 2) } as never),
    /klpq: `axis` \(the sample axis\) is required/,
  );
  assert.throws(
    () => klpq(model, { x: tf.tensor([1]) }, { axis: 0 } as never),
    /klpq: the `variational` net is required/,
  );
  assert.throws(
    () => klpq(model, { x: tf.tensor([1]) }, { variational: q(mean, logstd, 2), axis: 3 }),
    /klpq: `axis` 3 is out of range/,
  );
  const other = new BayesianNet();
  other.normal('w', mean, { logstd, nSamples: 2 });
  assert.throws(
    () => klpq(model, { x: tf.tensor([1]) }, { variational: other, axis: 0 }),
    /latent 'w' of the variational net is not a stochastic node of the model/,
  );
  const observedOnly = new BayesianNet({ z: tf.tensor([[1]]) });
  observedOnly.normal('z', mean, { logstd });
  assert.throws(
    () =>
      klpq(
        model,
        { x: tf.tensor([1]), z: tf.tensor([[1]]) },
        { variational: observedOnly, axis: 0 },
      ),
    /no latent \(unobserved\) stochastic nodes/,
  );
  const x = tf.tensor([1]);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    klpq(model, { x }, { variational: q(mean, logstd, 3), axis: 0 }).importance();
  });
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
});
