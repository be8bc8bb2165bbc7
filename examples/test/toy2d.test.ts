/**
 * The toy 2-D example's closed forms, and the library's ELBO estimate
 * against them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import * as zs from 'zhusuan';
import { elboAt, optimum } from '../src/toy2d_intractable.js';

await tf.setBackend('cpu');

test('the closed-form optimum is the maximum of the closed-form ELBO', () => {
  const o = optimum();
  assert.ok(Math.abs(elboAt(o.m1, o.m2, o.s1, o.s2) - o.elbo) < 1e-12);
  assert.ok(Math.abs(o.elbo - -0.767895686) < 1e-8, `${o.elbo}`);
  const h = 1e-3;
  for (const d of [
    [h, 0, 0, 0],
    [0, h, 0, 0],
    [0, 0, h, 0],
    [0, 0, 0, h],
  ]) {
    for (const sign of [1, -1]) {
      const [a, b, c, e] = d.map((x) => sign * x);
      assert.ok(elboAt(o.m1 + a, o.m2 + b, o.s1 + c, o.s2 + e) < o.elbo, `moved by ${d}`);
    }
  }
});

test('zs.elbo estimates the closed-form ELBO of a fixed q within 5 standard errors', () => {
  zs.random.setSeed(5);
  const [m1, m2, s1, s2] = [0.3, -0.2, 0.8, 0.5];
  const n = 100000;
  const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
    const z2 = bn.normal('z2', 0, { std: 1.35, nSamples: n });
    bn.normal('z1', 0, { logstd: z2 });
  });
  const q = new zs.BayesianNet();
  q.normal('z1', m1, { std: s1, nSamples: n });
  q.normal('z2', m2, { std: s2, nSamples: n });
  const before = tf.memory().numTensors;
  const values = tf.tidy(() => {
    // axis omitted: the per-particle log p − log q, whose mean is the estimate.
    const lb = zs.elbo((obs) => model.observe(obs), {}, { variational: q });
    return lb.tensor.dataSync() as Float32Array;
  });
  assert.equal(tf.memory().numTensors, before, 'elbo leaks tensors');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const want = elboAt(m1, m2, s1, s2);
  assert.ok(Math.abs(mean - want) < (5 * sd) / Math.sqrt(n), `${mean} vs ${want} (sd ${sd})`);
  tf.dispose([q.get('z1'), q.get('z2')]);
});
