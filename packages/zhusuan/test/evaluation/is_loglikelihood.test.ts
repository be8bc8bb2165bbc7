import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
  const z = bn.normal('z', tf.zeros([1]), { std: 1 });
  bn.normal('x', z, { std: 1 });
});

test('isLoglikelihood approaches the exact log p(x) as particles grow, and is >= the ELBO', () => {
  // z ~ N(0,1), x|z ~ N(z,1)  =>  p(x) = N(0, 2). The proposal is deliberately off
  // the posterior N(x/2, 1/2).
  const x = 1.3;
  const truth = normalLogPdf(x, 0, Math.SQRT2);
  const n = 200; // replicates of the same x, averaged
  const xs = tf.fill([n], x);
  const proposal = (k: number) => {
    const bn = new zs.BayesianNet();
    bn.normal('z', tf.fill([n], 0.2), { std: tf.fill([n], 1.1), nSamples: k });
    return bn;
  };
  zs.random.setSeed(21);
  const errs: number[] = [];
  for (const k of [1, 10, 100, 1000]) {
    const est = tf
      .mean(zs.isLoglikelihood(model, { x: xs }, { proposal: proposal(k), axis: 0 }))
      .dataSync()[0];
    errs.push(truth - est);
  }
  const elbo = tf
    .mean(zs.elbo(model, { x: xs }, { variational: proposal(100), axis: 0 }).tensor)
    .dataSync()[0];
  // From below (Jensen), shrinking; 1000 particles within 0.01 nats on average.
  assert.ok(
    errs.every((e) => e > -0.01),
    `estimates above the truth: ${errs}`,
  );
  assert.ok(errs[3] < errs[1] && errs[1] < errs[0], `not approaching: ${errs}`);
  assert.ok(errs[3] < 0.01, `1000-particle error ${errs[3]}`);
  assert.ok(truth - errs[3] > elbo, 'IS estimate should exceed the ELBO');
});

test('isLoglikelihood keeps only its result', () => {
  const bn = new zs.BayesianNet();
  bn.normal('z', tf.zeros([3]), { std: 1, nSamples: 5 });
  const x = tf.ones([3]);
  const before = tf.memory().numTensors;
  const out = zs.isLoglikelihood(model, { x }, { proposal: bn, axis: 0 });
  assert.deepEqual(out.shape, [3]);
  assert.equal(tf.memory().numTensors, before + 1);
  out.dispose();
});
